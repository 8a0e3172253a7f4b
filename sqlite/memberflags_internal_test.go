package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/backchannel/backchannel/analytics"
)

func TestFlagCacheUndo(t *testing.T) {
	c := newFlagCache()
	a, b := analytics.MemberKey{Day: 1, User: "U1"}, analytics.MemberKey{Day: 1, User: "U2"}
	if c.holds(a, 0) || c.holds(a, analytics.FlagActive) {
		t.Fatal("an empty cache holds something")
	}
	c.note(a, analytics.FlagActive)
	c.commit()
	m := c.mark()
	c.note(a, analytics.FlagApps)
	c.note(b, analytics.FlagActive)
	if !c.holds(a, analytics.FlagActive|analytics.FlagApps) || !c.holds(b, analytics.FlagActive) {
		t.Fatal("noted flags not held")
	}
	if c.holds(a, 0) {
		t.Fatal("no flags held: a row without flags would not be written")
	}
	c.undoTo(m) // the request inside a savepoint failed
	if !c.holds(a, analytics.FlagActive) || c.holds(a, analytics.FlagApps) || c.holds(b, analytics.FlagActive) {
		t.Fatalf("after undo: %v", c.known)
	}
	c.note(b, analytics.FlagWorkflows)
	c.undoTo(undoMark{}) // the transaction rolled back
	if len(c.known) != 1 || c.known[a] != analytics.FlagActive {
		t.Fatalf("after rollback: %v", c.known)
	}
	c.note(b, analytics.FlagActive)
	m = c.mark()
	c.reset() // a migration inside the request
	c.note(b, analytics.FlagApps)
	c.undoTo(m) // a mark from before the reset undoes everything since
	if len(c.known) != 0 || c.pending() {
		t.Fatalf("after undo past a reset: %v", c.known)
	}
}

// TestFlagCacheFollowsTheDatabase: a flags-only member-day row is written
// again whenever the row may not hold the flags: after the transaction that
// wrote them rolled back, after another process deleted the rows, after a
// rebuild; and not when it holds them.
func TestFlagCacheFollowsTheDatabase(t *testing.T) {
	ctx := t.Context()
	db, other := openTwoHandles(t)
	k := analytics.MemberKey{Day: 19675, User: "U1"}
	flags := func() int64 {
		t.Helper()
		var f int64
		err := db.rdb.QueryRowContext(ctx, `SELECT coalesce((SELECT flags FROM member_days WHERE user_id = ? AND day = ?), -1)`, k.User, int64(k.Day)).Scan(&f)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	write := func(db *DB, fail bool) {
		t.Helper()
		writeBatch(t, db, nil, func(agg *analytics.Batch) {
			agg.Members[k] = &analytics.MemberCounts{Flags: analytics.FlagActive}
		}, fail)
	}
	known := func() (held bool) {
		t.Helper()
		if err := db.exec(ctx, func(ctx context.Context, w *writer) error {
			held = w.flags.holds(k, analytics.FlagActive)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return held
	}
	write(db, true)
	if known() {
		t.Fatal("a rolled-back write is known")
	}
	if f := flags(); f != -1 {
		t.Fatalf("a rolled-back write left flags %d", f)
	}
	write(db, false)
	if f := flags(); f != int64(analytics.FlagActive) {
		t.Fatalf("flags %d after the write rolled back before", f)
	}
	if !known() {
		t.Fatal("the committed flags are not known")
	}
	if err := other.exec(ctx, func(ctx context.Context, w *writer) error {
		_, err := w.conn.ExecContext(ctx, `DELETE FROM member_days`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	write(db, false)
	if f := flags(); f != int64(analytics.FlagActive) {
		t.Fatalf("flags %d after another process deleted the row", f)
	}
	if err := db.RebuildDays(ctx, k.Day, k.Day); err != nil {
		t.Fatal(err)
	}
	if known() {
		t.Fatal("the rebuild's deleted row is still known")
	}
	if f := flags(); f != -1 {
		t.Fatalf("flags %d after a rebuild from a log without the row's events", f)
	}
	write(db, false)
	if f := flags(); f != int64(analytics.FlagActive) {
		t.Fatalf("flags %d after the rebuild", f)
	}
}

// openMigrated opens a new migrated database file, closed at the test's end.
func openMigrated(t *testing.T) *DB {
	t.Helper()
	return openMigratedAt(t, filepath.Join(t.TempDir(), "test.db"))
}

// openMigratedAt opens the database file at path and migrates it.
func openMigratedAt(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

// openTwoHandles opens one migrated database file twice, as two processes
// would.
func openTwoHandles(t *testing.T) (*DB, *DB) {
	path := filepath.Join(t.TempDir(), "test.db")
	return openMigratedAt(t, path), openMigratedAt(t, path)
}

// writeBatch writes, in a request of db, the rollups of the batch fill
// builds, after before (if any); with fail the request then fails, so it
// rolls back.
func writeBatch(t *testing.T, db *DB, before func(context.Context, *writer) error, fill func(*analytics.Batch), fail bool) {
	t.Helper()
	err := db.exec(t.Context(), func(ctx context.Context, w *writer) error {
		if before != nil {
			if err := before(ctx, w); err != nil {
				return err
			}
		}
		agg := analytics.NewBatch()
		fill(agg)
		if err := w.writeRollups(ctx, agg, false); err != nil {
			return err
		}
		if fail {
			return errors.New("later in the batch")
		}
		return nil
	})
	if fail != (err != nil) {
		t.Fatalf("write (fail %v): %v", fail, err)
	}
}
