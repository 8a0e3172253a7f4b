package sqlite

import (
	"context"
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
)

func TestDistinctRunRoundTrip(t *testing.T) {
	type pair struct {
		ch, user string
		kind     uint8
	}
	want := []pair{{"C1", "U1", 1}, {"C1", "U2", 1}, {"C1", "U1", 2}, {"", "", 1}, {"C2", string(make([]byte, 300)), 2}}
	var run []byte
	ends := map[int]bool{} // a run cut after a channel's pairs is a run
	for i, p := range want {
		if i == 0 || p.ch != want[i-1].ch {
			if i > 0 {
				run = endDistinctChannel(run)
				ends[len(run)] = true
			}
			run = appendDistinctChannel(run, p.ch)
		}
		run = appendDistinctUser(run, p.kind, p.user)
	}
	run = endDistinctChannel(run)
	var got []pair
	if err := decodeDistinct(run, func(ch []byte, kind uint8, user []byte) error {
		got = append(got, pair{string(ch), string(user), kind})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("decoded %q, want %q", got, want)
	}
	for n := 1; n < len(run); n++ { // every other cut is malformed
		if err := decodeDistinct(run[:n], func([]byte, uint8, []byte) error { return nil }); (err == nil) != ends[n] {
			t.Fatalf("a run cut at %d bytes of %d: %v", n, len(run), err)
		}
	}
}

func TestDistinctCacheUndo(t *testing.T) {
	c := newDistinctCache()
	s := &daySet{}
	c.days[1] = s
	has := func(user string) bool {
		return s.has.has(key(analytics.Viewed, intern(c.chans, "C1"), intern(c.users, user)))
	}
	if !c.add(s, 1, "C1", analytics.Viewed, "U1") || c.add(s, 1, "C1", analytics.Viewed, "U1") {
		t.Fatal("add: a new pair must be new once")
	}
	c.commit()
	m := c.mark()
	c.add(s, 1, "C1", analytics.Viewed, "U2")
	c.undoTo(m) // the request inside a savepoint failed
	if !has("U1") || has("U2") || c.size != 1 {
		t.Fatalf("after undo: U1 %v, U2 %v, size %d", has("U1"), has("U2"), c.size)
	}
	c.add(s, 1, "C1", analytics.Viewed, "U3") // earlier in the transaction
	m = c.mark()
	c.reset() // a rebuild inside the request
	c.days[2] = &daySet{}
	c.undo = append(c.undo, distinctUndo{day: 2, loaded: true})
	c.days[2].has.add(5)
	c.size++
	c.undoTo(m) // a mark from before the reset undoes everything since
	if len(c.days) != 0 || c.size != 0 || len(c.undo) != 0 {
		t.Fatalf("after undo past a reset: %d days, size %d, %d undo entries", len(c.days), c.size, len(c.undo))
	}
}

// TestDistinctCacheFollowsTheDatabase: a channel-day's viewer is counted
// once, whatever happened between: a rolled-back write, a write from
// another handle (which reads the day from the runs), another process
// deleting the rows, and a transaction that read the day after deleting
// its rows and then rolled back.
func TestDistinctCacheFollowsTheDatabase(t *testing.T) {
	ctx := t.Context()
	db, other := openTwoHandles(t)
	const day = backchannel.Day(19675)
	view := analytics.DistinctKey{Day: day, Channel: "C1", User: "U1", Kind: analytics.Viewed}
	viewers := func() int64 {
		t.Helper()
		var n int64
		err := db.rdb.QueryRowContext(ctx, `SELECT coalesce((SELECT viewers FROM channel_days WHERE channel_id = 'C1' AND day = ?), -1)`, int64(day)).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	write := func(db *DB, before func(context.Context, *writer) error, fail bool) {
		t.Helper()
		writeBatch(t, db, before, func(agg *analytics.Batch) { agg.Distinct[view] = struct{}{} }, fail)
	}
	sqlExec := func(db *DB, q string) {
		t.Helper()
		if err := db.exec(ctx, func(ctx context.Context, w *writer) error {
			_, err := w.conn.ExecContext(ctx, q)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	write(db, nil, true)
	if n := viewers(); n != -1 {
		t.Fatalf("a rolled-back write left %d viewers", n)
	}
	write(db, nil, false)
	write(db, nil, false)
	if n := viewers(); n != 1 {
		t.Fatalf("%d viewers after one viewer wrote twice (once after a rollback)", n)
	}
	write(other, nil, false) // reads the day from the runs
	if n := viewers(); n != 1 {
		t.Fatalf("%d viewers after the viewer wrote again from another handle", n)
	}
	sqlExec(other, `DELETE FROM channel_day_user_runs`)
	sqlExec(other, `DELETE FROM channel_days`)
	write(db, nil, false)
	if n := viewers(); n != 1 {
		t.Fatalf("%d viewers after another process deleted the rows and the viewer wrote again", n)
	}
	// A transaction deletes the day's rows, as a rebuild does, reads the
	// day (now without the viewer), counts the viewer and rolls back.
	write(db, func(ctx context.Context, w *writer) error {
		w.distinct.reset()
		_, err := w.conn.ExecContext(ctx, `DELETE FROM channel_day_user_runs`)
		return err
	}, true)
	write(db, nil, false)
	if n := viewers(); n != 1 {
		t.Fatalf("%d viewers after a rolled-back transaction read the day without the viewer", n)
	}
	dump, err := db.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(dump, "[distinct C1 19675 1 U1]") {
		t.Fatalf("dump: %q", dump)
	}
}
