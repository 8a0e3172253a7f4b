package sqlite_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
	"github.com/backchannel/backchannel/storetest"
)

func openTest(t testing.TB, opts ...sqlite.Option) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "test.db"), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.Migrate(t.Context()); err != nil {
		db.Close()
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

// openPath opens and migrates the database at path, closed at the test's
// end (Close may also be called before).
func openPath(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) backchannel.Store { return openTest(t) })
}

// The suite again without the page cache: SQLite alone must be right too.
func TestStoreNoCache(t *testing.T) {
	storetest.Run(t, func(t *testing.T) backchannel.Store { return openTest(t, sqlite.WithCacheBytes(0)) })
}

func TestSchemaVersion(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	have, want, err := db.SchemaVersion(ctx)
	if err != nil || have != 0 || want < 1 {
		t.Fatalf("new file: have %d want %d err %v; want 0, ≥1, nil", have, want, err)
	}
	for range 2 { // Migrate is idempotent
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	have, want2, err := db.SchemaVersion(ctx)
	if err != nil || have != want || want2 != want {
		t.Fatalf("after Migrate: have %d want %d err %v; want %d, %d", have, want2, err, want, want)
	}
}

// TestGroupCommitIsolation applies batches concurrently so that the writer
// groups them into one transaction: a failing batch must roll back alone.
func TestGroupCommitIsolation(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	defer db.Close()
	raw := []byte(`{"type":"channel","id":"C0"}`)
	if _, err := db.Apply(ctx, []backchannel.Event{{Type: backchannel.EvChannel, Raw: raw, Key: sha256.Sum256(raw),
		Channel: &backchannel.Channel{ID: "C0", Kind: backchannel.KindPublic}}}); err != nil {
		t.Fatal(err)
	}
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evs := benchMessages("C0", i*100, 100)
			if i%4 == 3 {
				evs[50].ChannelID = "C404" // this batch must fail and store nothing
			}
			_, errs[i] = db.Apply(ctx, evs)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		var ee *backchannel.EventError
		if i%4 == 3 {
			if !errors.As(err, &ee) || ee.Line != 51 {
				t.Errorf("batch %d: got %v, want an EventError on line 51", i, err)
			}
		} else if err != nil {
			t.Errorf("batch %d: %v", i, err)
		}
	}
	stored := 0
	for hi := backchannel.MaxTS; hi != 0; {
		p, err := db.History(ctx, backchannel.HistoryQuery{Channel: "C0", Hi: hi, Limit: 999})
		if err != nil {
			t.Fatal(err)
		}
		stored += len(p.Messages)
		hi = p.Next
	}
	if got, want := stored, n*100*3/4; got != want {
		t.Errorf("stored %d messages, want %d", got, want)
	}
}

// TestKeySlotCollisions gives distinct events keys that share their first 8
// bytes (the dedupe slot): none may be dropped, and replays of any of them
// must still be duplicates, within a batch and across batches.
func TestKeySlotCollisions(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	defer db.Close()
	raw := []byte(`{"type":"channel","id":"C0"}`)
	if _, err := db.Apply(ctx, []backchannel.Event{{Type: backchannel.EvChannel, Raw: raw, Key: sha256.Sum256(raw),
		Channel: &backchannel.Channel{ID: "C0", Kind: backchannel.KindPublic}}}); err != nil {
		t.Fatal(err)
	}
	evs := benchMessages("C0", 0, 12)
	for i := range evs {
		// Three groups of four sharing a slot; the last group sits at the
		// top of the int64 range, so probing wraps around.
		prefix := []byte{0x11, 0, 0, 0, 0, 0, 0, byte(i / 4)}
		if i >= 8 {
			prefix = []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}
		copy(evs[i].Key[:], prefix)
	}
	apply := func(batch []backchannel.Event, accepted, dups int) {
		t.Helper()
		res, err := db.Apply(ctx, batch)
		if err != nil || res.Accepted != accepted || res.Duplicates != dups {
			t.Fatalf("Apply: %+v, %v; want %d accepted, %d duplicates", res, err, accepted, dups)
		}
	}
	apply(evs[0:2], 2, 0)
	apply(evs[:10], 8, 2)
	apply(append(append([]backchannel.Event(nil), evs[1], evs[1]), evs[9:]...), 2, 3)
	apply(evs, 0, 12)
	p, err := db.History(ctx, backchannel.HistoryQuery{Channel: "C0", Hi: backchannel.MaxTS, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(p.Messages), len(evs); got != want {
		t.Errorf("stored %d messages, want %d", got, want)
	}
}

// TestMarks stores reactions, pins, a tombstone and a reply for messages
// that arrive later, newer than anything else in their channel, then the
// messages themselves: with the writer's marks warm (C1), below the mark (C3:
// a newer message came first) and after reopening the file (C2). Each
// message must pick up what was stored before it.
func TestMarks(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "marks.db")
	open := func() *sqlite.DB {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return db
	}
	ts := storetest.TS
	apply := func(db *sqlite.DB, evs ...backchannel.Event) {
		t.Helper()
		for i := range evs {
			evs[i].Line = i + 1
		}
		if _, err := db.Apply(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	early := func(db *sqlite.DB, ch string) {
		apply(db, storetest.Channel(ch, backchannel.KindPublic))
		apply(db, storetest.Message(ch, "W1", ts(1), "first"))
		apply(db, storetest.Reaction(true, ch, ts(5), "W2", "eyes", ts(20)))
		apply(db, storetest.Pin(true, ch, ts(9), "W2", ts(21)))
		apply(db, storetest.Deleted(ch, ts(8)))
		apply(db, storetest.Reply(ch, "W3", ts(3), ts(7), "early reply", false))
	}
	late := func(db *sqlite.DB, ch string, newer ...string) {
		for _, n := range []int{5, 7, 8, 9} {
			apply(db, storetest.Message(ch, "W1", ts(n), fmt.Sprint(n)))
		}
		p, err := db.History(ctx, backchannel.HistoryQuery{Channel: ch, Hi: backchannel.MaxTS, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range p.Messages {
			got = append(got, string(m))
		}
		want := append(newer,
			`{"type":"message","user":"W1","text":"9","ts":"`+ts(9)+`","pinned_to":["`+ch+`"]}`,
			`{"type":"message","user":"W1","text":"7","ts":"`+ts(7)+`","thread_ts":"`+ts(7)+
				`","reply_count":1,"reply_users_count":1,"latest_reply":"`+ts(3)+`","reply_users":["W3"]}`,
			`{"type":"message","user":"W1","text":"5","ts":"`+ts(5)+`","reactions":[{"name":"eyes","users":["W2"],"count":1}]}`,
			`{"type":"message","user":"W1","text":"first","ts":"`+ts(1)+`"}`,
		)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\ngot  %q\nwant %q", ch, got, want)
		}
	}
	db := open()
	early(db, "C1")
	late(db, "C1")
	early(db, "C3")
	apply(db, storetest.Message("C3", "W1", ts(100), "newest"))
	late(db, "C3", `{"type":"message","user":"W1","text":"newest","ts":"`+ts(100)+`"}`)
	early(db, "C2")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	defer db.Close()
	late(db, "C2")
}
