package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
	"github.com/backchannel/backchannel/storetest"
)

// activityLines: activity events without event_id across two hours, so
// that their slots fall in more than one region of event_keys.
func activityLines(from int) []backchannel.Event {
	var evs []backchannel.Event
	for i := from; i < from+40; i++ {
		at := backchannel.TS(1_700_000_000_000_000 + int64(i)*180_000_000) // every 3 minutes
		evs = append(evs,
			storetest.Act(backchannel.EvMessageViewed, "U1", at, "channel", "C1", "ts", storetest.TS(1), "client", "desktop"),
			storetest.Act(backchannel.EvClientActive, "U2", at, "client", "web"))
	}
	return evs
}

// TestActivitySlotsByTime: an activity line's slot starts in the region of
// its event_ts; a slot already held by another event sends it on to the
// next one, and a replay finds it there.
func TestActivitySlotsByTime(t *testing.T) {
	db := openPath(t, filepath.Join(t.TempDir(), "test.db"))
	applyAll(t, db, storetest.Channel("C1", backchannel.KindPublic))
	evs := activityLines(0)
	a, b := evs[0], evs[len(evs)-1]
	if sa, sb := sqlite.SlotOf(&a), sqlite.SlotOf(&b); sa == sqlite.KeySlot(&a.Key) || sa>>40 == sb>>40 {
		t.Fatalf("slots %x and %x: want regions by event_ts", sa, sb)
	}
	// Another event holds the first line's slot before it arrives, as on a
	// collision of the slots' hash bits.
	if res := applyAll(t, db, b); res.Accepted != 1 {
		t.Fatalf("apply: %+v", res)
	}
	if err := sqlite.ExecArgs(t.Context(), db, `INSERT INTO event_keys (slot, seq) SELECT ?, seq FROM event_keys WHERE slot = ?`, sqlite.SlotOf(&a), sqlite.SlotOf(&b)); err != nil {
		t.Fatal(err)
	}
	if res := applyAll(t, db, evs...); res.Accepted != len(evs)-1 || res.Duplicates != 1 {
		t.Fatalf("apply: %+v, want %d accepted and the one applied before a duplicate", res, len(evs)-1)
	}
	if res := applyAll(t, db, evs...); res.Accepted != 0 || res.Duplicates != len(evs) {
		t.Fatalf("replay: %+v, want %d duplicates", res, len(evs))
	}
	if n, err := sqlite.QueryInt(t.Context(), db, `SELECT seq FROM event_keys WHERE slot = `+fmt.Sprint(sqlite.SlotOf(&a)+1)); err != nil || n == 0 {
		t.Fatalf("the first line's slot: %d (%v), want the next one after the held slot", n, err)
	}
}

// TestActivitySlotsMigration takes a database whose activity lines hold the
// slots they had before migration 0008 (their keys' first 8 bytes) through
// it: those lines stay duplicates, new lines are new once.
func TestActivitySlotsMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")
	db := openPath(t, path)
	applyAll(t, db, storetest.Channel("C1", backchannel.KindPublic))
	old := activityLines(0)
	if res := applyAll(t, db, old...); res.Accepted != len(old) {
		t.Fatalf("apply: %+v", res)
	}
	// Before 0010 activity lines were rows of events, and before 0008 their
	// slots were their keys' first 8 bytes.
	for i := range old {
		seq, err := sqlite.QueryInt(ctx, db, fmt.Sprintf(`SELECT seq FROM event_keys WHERE slot = %d`, sqlite.SlotOf(&old[i])))
		if err != nil {
			t.Fatal(err)
		}
		if err := sqlite.ExecArgs(ctx, db, `INSERT INTO events (seq, key, type, event_ts, ingested_at, raw) VALUES (?, ?, ?, ?, 0, ?)`,
			seq, old[i].Key[:], old[i].Type, int64(old[i].EventTS), old[i].Raw); err != nil {
			t.Fatal(err)
		}
		if err := sqlite.ExecArgs(ctx, db, `UPDATE event_keys SET slot = ? WHERE slot = ?`, sqlite.KeySlot(&old[i].Key), sqlite.SlotOf(&old[i])); err != nil {
			t.Fatal(err)
		}
	}
	if err := sqlite.ExecSQL(ctx, db, `DELETE FROM event_runs`); err != nil {
		t.Fatal(err)
	}
	// Collisions of old slots: old[5] sits one slot on, behind a slot held
	// by another line (old[6]); fresh[0]'s old slot is held by old[7].
	fresh := activityLines(40)
	collide := func(slot int64, by backchannel.Event) {
		t.Helper()
		if err := sqlite.ExecArgs(ctx, db, `INSERT INTO event_keys (slot, seq) SELECT ?, seq FROM event_keys WHERE slot = ?`, slot, sqlite.KeySlot(&by.Key)); err != nil {
			t.Fatal(err)
		}
	}
	s5 := sqlite.KeySlot(&old[5].Key)
	if err := sqlite.ExecArgs(ctx, db, `UPDATE event_keys SET slot = ? WHERE slot = ?`, s5+1, s5); err != nil {
		t.Fatal(err)
	}
	collide(s5, old[6])
	collide(sqlite.KeySlot(&fresh[0].Key), old[7])
	if err := sqlite.ExecSQL(ctx, db, `DROP TABLE event_keys_legacy; DELETE FROM schema_migrations WHERE version = 8`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openPath(t, path)
	if n, err := sqlite.QueryInt(ctx, db, `SELECT through_seq FROM event_keys_legacy`); err != nil || n == 0 {
		t.Fatalf("event_keys_legacy after the migration: %d (%v)", n, err)
	}
	if res := applyAll(t, db, old...); res.Accepted != 0 || res.Duplicates != len(old) {
		t.Fatalf("the old lines again: %+v, want %d duplicates", res, len(old))
	}
	mixed := append(append([]backchannel.Event{}, fresh...), old[3], old[5])
	if res := applyAll(t, db, mixed...); res.Accepted != len(fresh) || res.Duplicates != 2 {
		t.Fatalf("new lines among old: %+v, want %d accepted, 2 duplicates", res, len(fresh))
	}
	if res := applyAll(t, db, mixed...); res.Accepted != 0 || res.Duplicates != len(mixed) {
		t.Fatalf("all again: %+v, want %d duplicates", res, len(mixed))
	}
	// A database created at this version keeps no legacy mark.
	db2 := openPath(t, filepath.Join(t.TempDir(), "new.db"))
	applyAll(t, db2, old...)
	if n, err := sqlite.QueryInt(ctx, db2, `SELECT count(*) FROM event_keys_legacy`); err != nil || n != 0 {
		t.Fatalf("event_keys_legacy of a new database: %d rows (%v)", n, err)
	}
}

// otherLines: reactions and stars without event_id across two hours.
func otherLines(from int) []backchannel.Event {
	var evs []backchannel.Event
	for i := from; i < from+40; i++ {
		at := backchannel.TS(1_700_000_000_000_000 + int64(i)*180_000_000).String() // every 3 minutes
		evs = append(evs, storetest.Reaction(true, "C1", storetest.TS(1), "U1", fmt.Sprintf("r%d", i), at),
			storetest.Star(true, "C1", storetest.TS(1), fmt.Sprintf("U%d", i), at))
	}
	return evs
}

// TestOtherSlotsMigration takes a database whose reactions and stars hold
// the slots they had before migration 0012 (their keys' first 8 bytes)
// through it: those lines stay duplicates, new lines are new once, and a
// database created at 0012 never looks twice.
func TestOtherSlotsMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")
	db := openPath(t, path)
	applyAll(t, db, storetest.Channel("C1", backchannel.KindPublic), storetest.Message("C1", "U1", storetest.TS(1), "hi"))
	old := otherLines(0)
	if s := sqlite.SlotOf(&old[0]); s == sqlite.KeySlot(&old[0].Key) || s>>40 == sqlite.SlotOf(&old[len(old)-1])>>40 {
		t.Fatalf("slot %x: want regions by event_ts", s)
	}
	if res := applyAll(t, db, old...); res.Accepted != len(old) {
		t.Fatalf("apply: %+v", res)
	}
	for i := range old {
		if err := sqlite.ExecArgs(ctx, db, `UPDATE event_keys SET slot = ? WHERE slot = ?`, sqlite.KeySlot(&old[i].Key), sqlite.SlotOf(&old[i])); err != nil {
			t.Fatal(err)
		}
	}
	if err := sqlite.ExecSQL(ctx, db, `DROP TABLE event_keys_moved; DELETE FROM schema_migrations WHERE version = 12`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openPath(t, path)
	if n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM event_keys_moved`); err != nil || n != 1 {
		t.Fatalf("event_keys_moved after the migration: %d rows (%v)", n, err)
	}
	if res := applyAll(t, db, old...); res.Accepted != 0 || res.Duplicates != len(old) {
		t.Fatalf("the old lines again: %+v, want %d duplicates", res, len(old))
	}
	fresh := otherLines(40)
	mixed := append(append([]backchannel.Event{}, fresh...), old[3], old[6])
	if res := applyAll(t, db, mixed...); res.Accepted != len(fresh) || res.Duplicates != 2 {
		t.Fatalf("new lines among old: %+v, want %d accepted, 2 duplicates", res, len(fresh))
	}
	if res := applyAll(t, db, mixed...); res.Accepted != 0 || res.Duplicates != len(mixed) {
		t.Fatalf("all again: %+v, want %d duplicates", res, len(mixed))
	}
	db2 := openPath(t, filepath.Join(t.TempDir(), "new.db"))
	applyAll(t, db2, storetest.Channel("C1", backchannel.KindPublic), storetest.Message("C1", "U1", storetest.TS(1), "hi"))
	applyAll(t, db2, old...)
	if n, err := sqlite.QueryInt(ctx, db2, `SELECT count(*) FROM event_keys_moved`); err != nil || n != 0 {
		t.Fatalf("event_keys_moved of a new database: %d rows (%v)", n, err)
	}
}
