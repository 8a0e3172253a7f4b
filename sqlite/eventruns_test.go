package sqlite_test

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest"
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

// decodeLines decodes NDJSON lines as ingest does, numbering them on from
// *n.
func decodeLines(t testing.TB, n *int, lines ...string) []backchannel.Event {
	t.Helper()
	evs := make([]backchannel.Event, 0, len(lines))
	for _, l := range lines {
		*n++
		ev, err := ingest.Decode([]byte(l), *n)
		if err != nil {
			t.Fatalf("decode %s: %v", l, err)
		}
		evs = append(evs, ev)
	}
	return evs
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
		DELETE FROM schema_migrations WHERE version IN (6, 10)`); err != nil {
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
// accepted, whichever table holds it — every line in event_runs since
// migration 0010 (split into runs by duplicates and the run bounds), and
// before it plain messages there and every other line in events — and a
// type's lines alone when asked for that type.
func TestLogOrder(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	defer db.Close()
	applyAll(t, db, storetest.Channel("C1", backchannel.KindPublic), storetest.Channel("C2", backchannel.KindPublic))
	var want []string
	byType := map[string][]string{}
	var batch []backchannel.Event
	n, oldRows := 0, int64(0)
	// The first 3000 lines as before migration 0010: only plain messages in
	// runs, every other line a row of events; the rest in runs.
	sqlite.LogOnlyMessagesInRuns(true)
	defer sqlite.LogOnlyMessagesInRuns(false)
	for i := range 9000 {
		var ev backchannel.Event
		dup := false
		at := backchannel.TS(1_700_000_000_000_000 + int64(i)*1_000_000)
		switch {
		case i%5 == 2:
			ev = storetest.Act(backchannel.EvMessageViewed, "U1", at, "channel", "C1", "ts", storetest.TS(i-2), "client", "web")
		case i%17 == 1:
			ev = storetest.Act(backchannel.EvClientActive, "U2", at, "client", "ios")
		case i%19 == 4:
			ev = storetest.Act(backchannel.EvSearch, "U2", at)
			ev.ID = fmt.Sprintf("search-%d", i) // with an id: activity still
			ev.Key = sha256.Sum256([]byte("id:" + ev.ID))
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
			byType[ev.Type] = append(byType[ev.Type], string(ev.Raw))
			if i < 3000 && (ev.Type != backchannel.EvMessage || ev.ID != "") {
				oldRows++
			}
		}
		if len(batch) == 3000 {
			n += applyAll(t, db, batch...).Accepted
			batch = nil
			sqlite.LogOnlyMessagesInRuns(false)
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
			byType[ev.Type] = append(byType[ev.Type], string(ev.Raw))
		}
		n += applyAll(t, db, batch...).Accepted
	}
	got, err := sqlite.LoggedLines(ctx, db, []string{backchannel.EvMessage, backchannel.EvReactionAdded,
		backchannel.EvMessageViewed, backchannel.EvClientActive, backchannel.EvSearch})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) || !slices.Equal(got, want) {
		t.Fatalf("the log read back %d lines (%d accepted), want %d in order (equal: %v)", len(got), n, len(want), slices.Equal(got, want))
	}
	for typ, lines := range byType {
		got, err = sqlite.LoggedLines(ctx, db, []string{typ})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, lines) {
			t.Fatalf("%s alone: %d lines, want %d in order (equal: %v)", typ, len(got), len(lines), slices.Equal(got, lines))
		}
	}
	if len(byType) != 5 {
		t.Fatalf("types: %d", len(byType))
	}
	// Both layouts are in the log: the first batch's activity in events,
	// the later batches' in runs.
	if n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM events WHERE type <> 'channel'`); err != nil || n != oldRows {
		t.Fatalf("rows in events: %d (%v), want the first batch's %d", n, err, oldRows)
	}
	if n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM event_runs WHERE types IS NOT NULL`); err != nil || n == 0 {
		t.Fatalf("runs with types: %d (%v)", n, err)
	}
	// A replay: every line a duplicate, found through the runs' keys.
	evs := make([]backchannel.Event, 0, 3000)
	for i := range 3000 {
		at := backchannel.TS(1_700_000_000_000_000 + int64(i)*1_000_000)
		if i%5 == 2 {
			evs = append(evs, storetest.Act(backchannel.EvMessageViewed, "U1", at, "channel", "C1", "ts", storetest.TS(i-2), "client", "web"))
		}
	}
	if res := applyAll(t, db, evs...); res.Accepted != 0 || res.Duplicates != len(evs) {
		t.Fatalf("replay of the views: %+v, want %d duplicates", res, len(evs))
	}
}
