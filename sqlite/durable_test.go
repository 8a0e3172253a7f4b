package sqlite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
)

// TestAckWaitsForWALSync: a batch is acknowledged only once the WAL file it
// was committed to is synced. With the WAL file gone from its path, the
// sync cannot happen, so Apply must answer with an error, never success.
func TestAckWaitsForWALSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	benchChannels(t, db, 1)
	if _, err := db.Apply(t.Context(), benchMessages("C0", 0, 10)); err != nil {
		t.Fatalf("Apply with the WAL in place: %v", err)
	}
	if err := os.Remove(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	res, err := db.Apply(t.Context(), benchMessages("C0", 10, 10))
	if err == nil || !strings.Contains(err.Error(), "WAL") {
		t.Fatalf("Apply without a WAL file to sync: %+v, %v; want an error naming the WAL", res, err)
	}
	if res != (backchannel.ApplyResult{}) {
		t.Errorf("result with the error: %+v, want none", res)
	}
}

// TestOtherProcessWrites: two stores on one file (as `serve` and a
// `backchannel import` beside it). What one writes, the other's writer and
// read cache take into account: a line the other stored is a duplicate,
// seqs do not collide, and cached pages are not served once stale.
func TestOtherProcessWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	serve, imp := openPath(t, path), openPath(t, path)
	benchChannels(t, serve, 1)
	if _, err := serve.Apply(t.Context(), benchMessages("C0", 0, 10)); err != nil {
		t.Fatal(err)
	}
	q := backchannel.HistoryQuery{Channel: "C0", Hi: backchannel.MaxTS, Limit: 100}
	if p, err := serve.History(t.Context(), q); err != nil || len(p.Messages) != 10 {
		t.Fatalf("History: %d messages, %v", len(p.Messages), err)
	}

	later := benchMessages("C0", 100, 5) // above everything serve has seen
	if res, err := imp.Apply(t.Context(), later); err != nil || res.Accepted != 5 {
		t.Fatalf("the other process: %+v, %v", res, err)
	}
	// Idle, serve notices within a poll and stops serving its cached page.
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, err := serve.History(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Messages) == 15 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve still answers %d messages after the other process wrote 5 more", len(p.Messages))
		}
		time.Sleep(50 * time.Millisecond)
	}

	more := benchMessages("C0", 200, 5)
	if _, err := imp.Apply(t.Context(), more); err != nil {
		t.Fatal(err)
	}
	// At once, without waiting for a poll: serve's next batch sees them.
	res, err := serve.Apply(t.Context(), append(more[:2:2], benchMessages("C0", 300, 3)...))
	if err != nil {
		t.Fatalf("serve after the other process wrote: %v", err)
	}
	if res != (backchannel.ApplyResult{Accepted: 3, Duplicates: 2}) {
		t.Errorf("serve resending 2 lines the other process stored, and 3 new: %+v", res)
	}
}
