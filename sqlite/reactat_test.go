package sqlite_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
	"github.com/backchannel/backchannel/storetest"
)

func historyBodies(t *testing.T, db *sqlite.DB, ch string) []string {
	return storetest.PageTexts(t.Context(), t, db, backchannel.HistoryQuery{Channel: ch, Limit: 100, Hi: backchannel.TS(1 << 62)})
}

// A database from before migration 0015 keeps the reactions of its
// messages in their bodies (react_at NULL). History serves those bodies as
// they are, and the first change of a message rewrites its row without
// them: the answers are those of a database that never had the old layout.
func TestReactionsInBodiesBefore0015(t *testing.T) {
	ctx := t.Context()
	ts := storetest.TS
	first := []backchannel.Event{
		storetest.Channel("C1", backchannel.KindPublic),
		storetest.Message("C1", "W1", ts(1), "pinned and reacted"),
		storetest.Message("C1", "W1", ts(2), "reacted"),
		storetest.Message("C1", "W2", ts(3), "plain"),
		storetest.Pin(true, "C1", ts(1), "W2", ts(10)),
		storetest.Reaction(true, "C1", ts(1), "W2", "thumbsup", ts(11)),
		storetest.Reaction(true, "C1", ts(1), "W3", "tada", ts(12)),
		storetest.Reaction(true, "C1", ts(2), "W3", "eyes", ts(13)),
		storetest.Reaction(true, "C1", ts(2), "W1", "eyes", ts(14)),
	}
	then := []backchannel.Event{
		storetest.Reaction(true, "C1", ts(1), "W1", "thumbsup", ts(20)),
		storetest.Reaction(false, "C1", ts(2), "W3", "eyes", ts(21)),
		storetest.Changed("C1", ts(3), "plain, edited", "W2", ts(22)),
	}

	path := filepath.Join(t.TempDir(), "old.db")
	db := openPath(t, path)
	applyAll(t, db, first...)
	want := historyBodies(t, db, "C1")
	if len(want) != 3 {
		t.Fatalf("history: %q", want)
	}
	// Back to before 0015: each body as it was rendered then, with its
	// reactions (what history answers now), its doc kept apart.
	for i, m := range []string{ts(3), ts(2), ts(1)} {
		at, err := backchannel.ParseTS(m)
		if err == nil {
			err = sqlite.ExecArgs(ctx, db, `UPDATE messages SET doc = coalesce(doc, body), body = ? WHERE channel_id = 'C1' AND ts = ?`,
				want[i], int64(at))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// And reactions keyed by channel first, as 0001 made it.
	if err := sqlite.ExecSQL(ctx, db, `ALTER TABLE messages DROP COLUMN react_at;
		CREATE TABLE r0 (channel_id TEXT NOT NULL, ts INTEGER NOT NULL, name TEXT NOT NULL, user_id TEXT NOT NULL,
			seq INTEGER NOT NULL, PRIMARY KEY (channel_id, ts, name, user_id)) WITHOUT ROWID;
		INSERT INTO r0 SELECT channel_id, ts, name, user_id, seq FROM reactions;
		DROP TABLE reactions; ALTER TABLE r0 RENAME TO reactions;
		DELETE FROM schema_migrations WHERE version = 15`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openPath(t, path) // migrates again: react_at NULL everywhere
	if n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM messages WHERE react_at IS NULL`); err != nil || n != 3 {
		t.Fatalf("rows with react_at NULL after migrating: %d, %v", n, err)
	}
	if n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM reactions`); err != nil || n != 4 {
		t.Fatalf("reactions after migrating: %d, %v", n, err)
	}
	if n, err := sqlite.QueryInt(ctx, db, `SELECT pk FROM pragma_table_info('reactions') WHERE name = 'ts'`); err != nil || n != 1 {
		t.Fatalf("reactions.ts is column %d of the key after migrating (%v), want the first", n, err)
	}
	if got := historyBodies(t, db, "C1"); !slices.Equal(got, want) {
		t.Fatalf("old bodies served as:\n%q\nwant\n%q", got, want)
	}
	applyAll(t, db, then...)
	got := historyBodies(t, db, "C1")

	fresh := openPath(t, filepath.Join(t.TempDir(), "new.db"))
	applyAll(t, fresh, first...)
	applyAll(t, fresh, then...)
	if want := historyBodies(t, fresh, "C1"); !slices.Equal(got, want) {
		t.Fatalf("after changes, upgraded database:\n%q\nnever upgraded:\n%q", got, want)
	}
	if n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM messages WHERE react_at IS NULL`); err != nil || n != 0 {
		t.Fatalf("rows still with react_at NULL after each message changed: %d, %v", n, err)
	}
	// The stored bodies hold no reactions any more; history adds them.
	if n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM messages WHERE body LIKE '%"reactions"%'`); err != nil || n != 0 {
		t.Fatalf("bodies holding reactions: %d, %v", n, err)
	}
}
