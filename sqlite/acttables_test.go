package sqlite_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
	"github.com/backchannel/backchannel/storetest"
)

// The messages.activity tables as migration 0003 keyed them (channel
// first), to take a database back to before 0009.
const actTables0003 = `
CREATE TABLE mua (channel_id TEXT NOT NULL, ts INTEGER NOT NULL, user_id TEXT NOT NULL, bits INTEGER NOT NULL,
	prev INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (channel_id, ts, user_id)) WITHOUT ROWID;
INSERT INTO mua SELECT channel_id, ts, user_id, bits, prev FROM message_user_acts;
DROP TABLE message_user_acts; ALTER TABLE mua RENAME TO message_user_acts;
CREATE TABLE ma (channel_id TEXT NOT NULL, ts INTEGER NOT NULL, views INTEGER NOT NULL, reactions INTEGER NOT NULL,
	shares INTEGER NOT NULL, clicks INTEGER NOT NULL, desktop INTEGER NOT NULL, mobile INTEGER NOT NULL, web INTEGER NOT NULL,
	PRIMARY KEY (channel_id, ts)) WITHOUT ROWID;
INSERT INTO ma SELECT channel_id, ts, views, reactions, shares, clicks, desktop, mobile, web FROM message_acts;
DROP TABLE message_acts; ALTER TABLE ma RENAME TO message_acts;
CREATE TABLE mga (channel_id TEXT NOT NULL, ts INTEGER NOT NULL, kind INTEGER NOT NULL, name TEXT NOT NULL,
	views INTEGER NOT NULL, reactions INTEGER NOT NULL, shares INTEGER NOT NULL, clicks INTEGER NOT NULL,
	PRIMARY KEY (channel_id, ts, kind, name)) WITHOUT ROWID;
INSERT INTO mga SELECT channel_id, ts, kind, name, views, reactions, shares, clicks FROM message_group_acts;
DROP TABLE message_group_acts; ALTER TABLE mga RENAME TO message_group_acts;
DELETE FROM schema_migrations WHERE version = 9;`

// actSetup: two public channels with three messages each, and three users
// of two teams.
func actSetup() []backchannel.Event {
	at := backchannel.TS(1_700_000_000_000_000)
	evs := []backchannel.Event{storetest.Channel("C1", backchannel.KindPublic), storetest.Channel("C2", backchannel.KindPublic)}
	for i, team := range []string{"T1", "T2", "T1"} {
		evs = append(evs, storetest.UserAt(backchannel.User{ID: fmt.Sprintf("U%d", i+1), TeamID: team}, at))
	}
	for _, ch := range []string{"C1", "C2"} {
		for m := 1; m <= 3; m++ {
			evs = append(evs, storetest.Post(ch, "U1", "", at+backchannel.TS(m)*60_000_000, "desktop", 0, "hello"))
		}
	}
	return evs
}

// actOn: user's activity on message m (1..3) of ch, minutes after it.
func actOn(typ, user, ch string, m, minutes int, client string) backchannel.Event {
	ts := backchannel.TS(1_700_000_000_000_000 + int64(m)*60_000_000)
	kv := []string{"channel", ch, "ts", ts.String()}
	if client != "" {
		kv = append(kv, "client", client)
	}
	return storetest.Act(typ, user, ts+backchannel.TS(minutes)*60_000_000, kv...)
}

func activityPages(t *testing.T, db *sqlite.DB) map[string]backchannel.MessageActivityPage {
	t.Helper()
	out := map[string]backchannel.MessageActivityPage{}
	for _, ch := range []string{"C1", "C2"} {
		p, err := db.MessageActivity(t.Context(), backchannel.MessageActivityQuery{Channel: ch, Latest: backchannel.MaxTS, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		out[ch] = p
	}
	return out
}

// TestActivityTablesMigration takes a database whose messages.activity
// tables are keyed channel first (before 0009) through the migration: the
// tables are keyed ts first after it, every counter reads as before, a
// replay changes nothing and new activity counts once.
func TestActivityTablesMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")
	db := openPath(t, path)
	applyAll(t, db, actSetup()...)
	acts := []backchannel.Event{
		actOn(backchannel.EvMessageViewed, "U1", "C1", 1, 1, "desktop"),
		actOn(backchannel.EvMessageViewed, "U2", "C1", 1, 2, "ios"),
		actOn(backchannel.EvMessageClicked, "U2", "C1", 1, 3, ""),
		actOn(backchannel.EvMessageViewed, "U3", "C2", 1, 1, "web"),
		actOn(backchannel.EvMessageViewed, "U2", "C2", 3, 1, "desktop"),
		actOn(backchannel.EvMessageShared, "U3", "C2", 3, 2, ""),
	}
	if res := applyAll(t, db, acts...); res.Accepted != len(acts) {
		t.Fatalf("apply: %+v", res)
	}
	before := activityPages(t, db)
	if v := before["C1"].Activities[2].Views; v != 2 { // newest first: message 1 is last
		t.Fatalf("C1 message 1: %d views, want 2 (%+v)", v, before["C1"])
	}
	rows := func() []int64 {
		var n []int64
		for _, tb := range []string{"message_user_acts", "message_acts", "message_group_acts"} {
			c, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM `+tb)
			if err != nil {
				t.Fatal(err)
			}
			n = append(n, c)
		}
		return n
	}
	want := rows()
	if err := sqlite.ExecSQL(ctx, db, actTables0003); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openPath(t, path)
	for _, tb := range []string{"message_user_acts", "message_acts", "message_group_acts"} {
		n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM sqlite_schema WHERE name = '`+tb+`' AND sql LIKE '%PRIMARY KEY (ts, channel_id%'`)
		if err != nil || n != 1 {
			t.Fatalf("%s after the migration: not keyed by ts first (%v)", tb, err)
		}
	}
	if got := rows(); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows after the migration: %v, want %v", got, want)
	}
	if got := activityPages(t, db); !reflect.DeepEqual(got, before) {
		t.Fatalf("after the migration:\n%+v\nwant\n%+v", got, before)
	}
	if res := applyAll(t, db, acts...); res.Accepted != 0 || res.Duplicates != len(acts) {
		t.Fatalf("replay: %+v", res)
	}
	// U1 views C1's message 1 again (not new), U3 views it (new: a second
	// T1 viewer, a first web one).
	more := []backchannel.Event{actOn(backchannel.EvMessageViewed, "U1", "C1", 1, 9, "desktop"),
		actOn(backchannel.EvMessageViewed, "U3", "C1", 1, 9, "web")}
	if res := applyAll(t, db, more...); res.Accepted != 2 {
		t.Fatalf("apply: %+v", res)
	}
	after := activityPages(t, db)
	got, was := after["C1"].Activities[2], before["C1"].Activities[2]
	if got.Views != was.Views+1 || got.ViewsWeb != was.ViewsWeb+1 || got.ViewsDesktop != was.ViewsDesktop {
		t.Fatalf("C1 message 1 after more views: %+v, before %+v", got, was)
	}
	if !reflect.DeepEqual(after["C2"], before["C2"]) {
		t.Fatalf("C2 changed: %+v, was %+v", after["C2"], before["C2"])
	}
	if !reflect.DeepEqual(teamViews(got), map[string]int64{"T1": 2, "T2": 1}) || !reflect.DeepEqual(teamViews(was), map[string]int64{"T1": 1, "T2": 1}) {
		t.Fatalf("C1 message 1's views by team: %v, before %v", teamViews(got), teamViews(was))
	}
}

func teamViews(a backchannel.MessageActivity) map[string]int64 {
	m := map[string]int64{}
	for _, t := range a.ByTeam {
		m[t.TeamID] = t.Views
	}
	return m
}

// before0011 takes a database back to the distinct users of 0002.
const before0011 = `DELETE FROM schema_migrations WHERE version = 11;
	DROP TABLE channel_day_user_runs;
	CREATE TABLE channel_day_users (
		day        INTEGER NOT NULL,
		channel_id TEXT    NOT NULL,
		kind       INTEGER NOT NULL,
		user_id    TEXT    NOT NULL,
		PRIMARY KEY (day, channel_id, kind, user_id)
	) WITHOUT ROWID;`

// TestDistinctUsersMigration takes a database whose distinct users of
// channel-days are rows of channel_day_users (before migration 0011)
// through it: the rows become runs, the rollups read the same, and a pair
// from before is not new afterwards.
func TestDistinctUsersMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")
	db := openPath(t, path)
	applyAll(t, db, storetest.Channel("C1", backchannel.KindPublic), storetest.Channel("C2", backchannel.KindPublic))
	// Two days, two channels, both kinds; C1's day 19676 has a long id.
	long := "U" + strings.Repeat("9", 63)
	err := sqlite.ExecSQL(ctx, db, before0011+`
		INSERT INTO channel_day_users VALUES (19675, 'C1', 1, 'U1'), (19675, 'C1', 1, 'U2'), (19675, 'C1', 2, 'U1'),
			(19675, 'C2', 1, 'W3'), (19676, 'C1', 2, '`+long+`');
		INSERT INTO channel_days VALUES ('C1', 19675, 1, 1, 0, 2, 1, 0), ('C2', 19675, 0, 0, 0, 1, 0, 0)`)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openPath(t, path)
	got, err := db.DumpRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"[channel C1 19675 1 1 0 2 1 0]", "[channel C2 19675 0 0 0 1 0 0]",
		"[distinct C1 19675 1 U1]", "[distinct C1 19675 1 U2]", "[distinct C1 19675 2 U1]", "[distinct C2 19675 1 W3]",
		"[distinct C1 19676 2 " + long + "]",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rollups after the migration:\n%q\nwant\n%q", got, want)
	}
	if n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM sqlite_master WHERE name = 'channel_day_users'`); err != nil || n != 0 {
		t.Fatalf("channel_day_users after the migration: %d (%v)", n, err)
	}
	// U2 viewed C1 on 19675 before: not a new viewer. U4 is.
	at := backchannel.TS(int64(19675)*86400*1_000_000 + 3_600_000_000)
	res := applyAll(t, db, storetest.Act(backchannel.EvMessageViewed, "U2", at, "channel", "C1", "ts", at.String(), "client", "web"),
		storetest.Act(backchannel.EvMessageViewed, "U4", at, "channel", "C1", "ts", at.String(), "client", "web"))
	if res.Accepted != 2 {
		t.Fatalf("apply: %+v", res)
	}
	// Logged in a rollup run, merged into the row by compaction.
	if err := db.CompactRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := sqlite.QueryInt(ctx, db, `SELECT viewers FROM channel_days WHERE channel_id = 'C1' AND day = 19675`); err != nil || n != 3 {
		t.Fatalf("C1's viewers on 19675: %d (%v), want 3", n, err)
	}
}

// TestDistinctUsersMigrationRefuses: a row the runs cannot hold (a kind
// other than 1 or 2) stops migration 0011, and the database is as before.
func TestDistinctUsersMigrationRefuses(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")
	db := openPath(t, path)
	if err := sqlite.ExecSQL(ctx, db, before0011+`INSERT INTO channel_day_users VALUES (19675, 'C1', 1, 'U1'), (19675, 'C1', 3, 'U2')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "0011") {
		t.Fatalf("migrate: %v, want 0011 to fail", err)
	}
	if n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM channel_day_users`); err != nil || n != 2 {
		t.Fatalf("channel_day_users after the failed migration: %d rows (%v)", n, err)
	}
	if n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM sqlite_master WHERE name = 'channel_day_user_runs'`); err != nil || n != 0 {
		t.Fatalf("channel_day_user_runs after the failed migration: %d (%v)", n, err)
	}
}
