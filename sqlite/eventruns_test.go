package sqlite_test

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
	"github.com/backchannel/backchannel/storetest"
)

func applyAll(t *testing.T, db *sqlite.DB, evs ...backchannel.Event) backchannel.ApplyResult {
	t.Helper()
	for i := range evs {
		evs[i].Line = i + 1
	}
	res, err := db.Apply(t.Context(), evs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func historyOf(t *testing.T, db *sqlite.DB, ch string) []string {
	t.Helper()
	return storetest.PageTexts(t.Context(), t, db, backchannel.HistoryQuery{Channel: ch, Hi: backchannel.MaxTS, Limit: 999})
}

// TestEventRunsMigration takes a database in the layout before migration
// 0006 (message lines as rows of events, a row's holder as key_seq)
// through it: the lines stay duplicates, a replaced line sent again is
// still one (A, B, A), history is unchanged, and seqs go on after the
// old log's.
func TestEventRunsMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")
	db := openPath(t, path)
	a := storetest.Message("C1", "U1", storetest.TS(1), "first")
	b := storetest.Message("C1", "U1", storetest.TS(2), "second")
	applyAll(t, db, storetest.Channel("C1", backchannel.KindPublic))
	if res := applyAll(t, db, a, b); res.Accepted != 2 {
		t.Fatalf("apply: %+v", res)
	}
	before := historyOf(t, db, "C1")
	// Back to the layout of 0005: the two lines (seqs 2 and 3) as rows of
	// events, each row's holder as key_seq.
	for i, ev := range []backchannel.Event{a, b} {
		if err := sqlite.ExecArgs(ctx, db, `INSERT INTO events (seq, key, type, event_ts, ingested_at, raw) VALUES (?, ?, 'message', 0, 0, ?)`,
			i+2, ev.Key[:], ev.Raw); err != nil {
			t.Fatal(err)
		}
		if err := sqlite.ExecArgs(ctx, db, `UPDATE messages SET key_seq = ? WHERE ts = ?`, i+2, int64(ev.TS)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sqlite.ExecSQL(ctx, db, `DROP TABLE event_runs; ALTER TABLE messages DROP COLUMN holder;
		DELETE FROM schema_migrations WHERE version = 6`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openPath(t, path)
	defer db.Close()
	if got := historyOf(t, db, "C1"); !slices.Equal(got, before) {
		t.Fatalf("history after the migration:\n got %q\nwant %q", got, before)
	}
	if res := applyAll(t, db, a, b); res.Accepted != 0 || res.Duplicates != 2 {
		t.Fatalf("the old lines again: %+v, want 2 duplicates", res)
	}
	a2 := storetest.Message("C1", "U2", storetest.TS(1), "first, replaced")
	if res := applyAll(t, db, a2); res.Accepted != 1 {
		t.Fatalf("a replacement of the first: %+v", res)
	}
	if res := applyAll(t, db, a); res.Accepted != 0 || res.Duplicates != 1 {
		t.Fatalf("the replaced line again: %+v, want a duplicate", res)
	}
	// A new event gets the seq after the old log's last (3) and the
	// replacement's (4): a collision would fail the insert.
	c := storetest.Message("C1", "U1", storetest.TS(3), "third")
	if res := applyAll(t, db, c); res.Accepted != 1 {
		t.Fatalf("a new line: %+v", res)
	}
	if got := historyOf(t, db, "C1"); len(got) != 3 {
		t.Fatalf("history: %d messages, want 3", len(got))
	}
	if res := applyAll(t, db, a2, c); res.Duplicates != 2 {
		t.Fatalf("the new lines again: %+v, want 2 duplicates", res)
	}
}

// TestLogOrder: the log reads back every accepted line once, in the order
// accepted, whichever table holds it — plain messages (event_runs, split
// into several runs by other events, duplicates and the run bounds) and
// every other event (events).
func TestLogOrder(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	defer db.Close()
	applyAll(t, db, storetest.Channel("C1", backchannel.KindPublic), storetest.Channel("C2", backchannel.KindPublic))
	var want []string
	var batch []backchannel.Event
	n := 0
	for i := range 9000 {
		var ev backchannel.Event
		dup := false
		switch {
		case i%7 == 3:
			ev = storetest.Reaction(true, "C1", storetest.TS(i-1), "U1", "tada", storetest.TS(i))
		case i%11 == 5:
			ev = storetest.Message("C2", "U2", storetest.TS(i), "with an id")
			ev.ID = fmt.Sprintf("id-%d", i)
			ev.Key = sha256.Sum256([]byte("id:" + ev.ID))
		case i%13 == 0 && i > 0:
			ev, dup = batch[len(batch)-1], true // a duplicate within the batch
		default:
			ev = storetest.Message("C1", "U1", storetest.TS(i), strings.Repeat("x", i%500))
		}
		batch = append(batch, ev)
		if !dup {
			want = append(want, string(ev.Raw))
		}
		if len(batch) == 3000 {
			n += applyAll(t, db, batch...).Accepted
			batch = nil
		}
	}
	// One long stretch of plain messages: several runs, bounded by bytes
	// (long lines) and by events (short ones).
	for _, size := range []int{600, 10} {
		batch = nil
		for i := range 9000 {
			ev := storetest.Message("C1", "U3", storetest.TS(100_000*size+i), strings.Repeat("y", size))
			batch = append(batch, ev)
			want = append(want, string(ev.Raw))
		}
		n += applyAll(t, db, batch...).Accepted
	}
	got, err := sqlite.LoggedLines(ctx, db, []string{backchannel.EvMessage, backchannel.EvReactionAdded})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) || !slices.Equal(got, want) {
		t.Fatalf("the log read back %d lines (%d accepted), want %d in order (equal: %v)", len(got), n, len(want), slices.Equal(got, want))
	}
	// Messages alone: only event_runs and the messages of events.
	got, err = sqlite.LoggedLines(ctx, db, []string{backchannel.EvReactionAdded})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range got {
		if !strings.Contains(l, `"reaction_added"`) {
			t.Fatalf("a line of another type: %s", l)
		}
	}
}
