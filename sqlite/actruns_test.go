package sqlite_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
	"github.com/backchannel/backchannel/storetest"
)

// msg1 is the ts of message 1 of actSetup's channels.
const msg1 = 1_700_000_000_000_000 + 60_000_000

// c1m1 is the activity of C1's message 1.
func c1m1(t *testing.T, db *sqlite.DB) backchannel.MessageActivity {
	t.Helper()
	as := activityPages(t, db)["C1"].Activities
	return as[len(as)-1] // newest first
}

// TestActRunsMerge: a message touched by batch after batch keeps its bits
// in runs, and once it has 16 they become one holding everything: no bit is
// counted twice, before or after, and none is lost.
func TestActRunsMerge(t *testing.T) {
	ctx := t.Context()
	db := openPath(t, filepath.Join(t.TempDir(), "test.db"))
	evs := actSetup()
	for i := range 40 { // the viewers: of two teams and three departments
		evs = append(evs, storetest.UserAt(backchannel.User{ID: fmt.Sprintf("W%02d", i), TeamID: []string{"T1", "T2"}[i%2],
			Department: fmt.Sprintf("D%d", i%3)}, 1_700_000_000_000_000))
	}
	applyAll(t, db, evs...)
	runs := func() int64 {
		n, err := sqlite.QueryInt(ctx, db, fmt.Sprintf(`SELECT count(*) FROM message_act_runs WHERE channel_id = 'C1' AND ts = %d`, msg1))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	most, prev, merged := int64(0), int64(0), false
	for i := range 40 {
		// A new viewer each batch, and U1's click again (new only the first time).
		res := applyAll(t, db, actOn(backchannel.EvMessageViewed, fmt.Sprintf("W%02d", i), "C1", 1, i, "desktop"),
			actOn(backchannel.EvMessageClicked, "U1", "C1", 1, i, ""))
		if res.Accepted != 2 {
			t.Fatalf("batch %d: %+v", i, res)
		}
		n := runs()
		if n > 16 {
			t.Fatalf("batch %d: %d runs", i, n)
		}
		if n < prev && n != 1 {
			t.Fatalf("batch %d: %d runs after a merge, want 1", i, n)
		}
		merged = merged || n < prev
		most, prev = max(most, n), n
	}
	if !merged || most != 16 {
		t.Fatalf("the runs were never merged (at most %d)", most)
	}
	a := c1m1(t, db)
	depts := map[string]int64{}
	for _, d := range a.ByDepartment {
		depts[d.Department] = d.Views
	}
	if a.Views != 40 || a.ViewsDesktop != 40 || a.Clicks != 1 || !reflect.DeepEqual(teamViews(a), map[string]int64{"T1": 20, "T2": 20}) ||
		!reflect.DeepEqual(depts, map[string]int64{"D0": 14, "D1": 13, "D2": 13}) {
		t.Fatalf("after 40 batches: %+v", a)
	}
	// Every viewer's bit survived the merges: views from all of them
	// again, and a click from one, count only the click.
	var again []backchannel.Event
	for i := range 40 {
		again = append(again, actOn(backchannel.EvMessageViewed, fmt.Sprintf("W%02d", i), "C1", 1, 100+i, "desktop"))
	}
	applyAll(t, db, append(again, actOn(backchannel.EvMessageClicked, "W07", "C1", 1, 200, ""))...)
	if b := c1m1(t, db); b.Views != 40 || b.ViewsDesktop != 40 || b.Clicks != 2 {
		t.Fatalf("after the views again: %+v", b)
	}
}

// TestLegacyActs: bits and counts stored in message_user_acts, message_acts
// and message_group_acts before migration 0013 still count, beside the
// runs: a bit held there is not new, and a message's counters (and a team
// in both) are the sum of both.
func TestLegacyActs(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")
	db := openPath(t, path)
	applyAll(t, db, append(actSetup(), storetest.UserAt(backchannel.User{ID: "U4", TeamID: "T2"}, 1_700_000_000_000_000))...)
	// The state 0012 stored after U2 (team T2) viewed C1's message 1 from
	// the desktop app.
	if err := sqlite.ExecSQL(ctx, db, fmt.Sprintf(`
		INSERT INTO message_user_acts (channel_id, ts, user_id, bits) VALUES ('C1', %[1]d, 'U2', %[2]d);
		INSERT INTO message_acts VALUES ('C1', %[1]d, 1, 0, 0, 0, 1, 0, 0);
		INSERT INTO message_group_acts VALUES ('C1', %[1]d, 2, 'T2', 1, 0, 0, 0)`,
		msg1, 1|1<<4)); err != nil { // analytics.ActViewed | analytics.ActDesktop
		t.Fatal(err)
	}
	db.Close()
	db = openPath(t, path)
	applyAll(t, db, actOn(backchannel.EvMessageViewed, "U2", "C1", 1, 2, "desktop"))
	if a := c1m1(t, db); a.Views != 1 || a.ViewsDesktop != 1 || !reflect.DeepEqual(teamViews(a), map[string]int64{"T2": 1}) {
		t.Fatalf("U2's view again counted: %+v", a)
	}
	applyAll(t, db, actOn(backchannel.EvMessageViewed, "U2", "C1", 1, 3, "web"), actOn(backchannel.EvMessageViewed, "U3", "C1", 1, 3, "desktop"),
		actOn(backchannel.EvMessageViewed, "U4", "C1", 1, 3, "ios"))
	a := c1m1(t, db)
	if a.Views != 3 || a.ViewsDesktop != 2 || a.ViewsWeb != 1 || a.ViewsMobile != 1 ||
		!reflect.DeepEqual(teamViews(a), map[string]int64{"T1": 1, "T2": 2}) {
		t.Fatalf("after U2 on the web, U3 and U4: %+v", a)
	}
	if a.ByTeam[0].TeamID != "T2" { // by views, descending
		t.Fatalf("teams out of order: %+v", a.ByTeam)
	}
}

// TestActRunMalformed: a run that does not parse fails the batch that
// reads it, with an error naming the table, and the batch changes nothing;
// a reader of it gets an error too.
func TestActRunMalformed(t *testing.T) {
	ctx := t.Context()
	db := openPath(t, filepath.Join(t.TempDir(), "test.db"))
	applyAll(t, db, actSetup()...)
	if err := sqlite.ExecSQL(ctx, db, fmt.Sprintf(`INSERT INTO message_act_runs (ts, channel_id, seq, counts, users) VALUES (%d, 'C1', 1, x'00000000000000', x'05555501')`, msg1)); err != nil {
		t.Fatal(err)
	}
	ev := actOn(backchannel.EvMessageViewed, "U2", "C1", 1, 1, "desktop")
	ev.Line = 1
	_, err := db.Apply(ctx, []backchannel.Event{ev})
	if err == nil || !strings.Contains(err.Error(), "message_act_runs") {
		t.Fatalf("Apply: %v, want a malformed run", err)
	}
	if a := c1m1(t, db); a.Views != 0 {
		t.Fatalf("after the failed batch: %+v", a)
	}
	if n, err := sqlite.QueryInt(ctx, db, `SELECT count(*) FROM message_act_runs`); err != nil || n != 1 {
		t.Fatalf("runs after the failed batch: %d, %v", n, err)
	}
	// Counts cut short, and a group of no kind. (Limits 7 and 8: pages not
	// read before, so not cached.)
	for i, counts := range []string{`x'0000'`, `x'00000000000000' || x'0900' || x'00000000'`} {
		if err := sqlite.ExecSQL(ctx, db, `UPDATE message_act_runs SET counts = `+counts); err != nil {
			t.Fatal(err)
		}
		_, err = db.MessageActivity(ctx, backchannel.MessageActivityQuery{Channel: "C1", Latest: backchannel.MaxTS, Limit: 7 + i})
		if err == nil || !strings.Contains(err.Error(), "message_act_runs") {
			t.Fatalf("MessageActivity with counts %s: %v, want a malformed run", counts, err)
		}
	}
}
