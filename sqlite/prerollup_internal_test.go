package sqlite

import (
	"fmt"
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest"
)

// TestPrerollupHoldsOnlyWhenValid: the rules a batch ran before it was
// queued (prerollup) are taken by the writer only when they still hold. A
// batch prepared, then overtaken by a change of its user's directory
// record, by the message it posts being stored, or by its own events being
// stored, ends with the rollups the writer makes without prerollup: those
// of a second database that applied the same batches in the same order.
func TestPrerollupHoldsOnlyWhenValid(t *testing.T) {
	ctx := t.Context()
	stale, fresh := openMigrated(t), openMigrated(t)
	fresh.noPrerollup = true // the writer runs every rule
	n := 0
	decode := func(lines ...string) []backchannel.Event {
		var evs []backchannel.Event
		for _, l := range lines {
			n++
			ev, err := ingest.Decode([]byte(l), n)
			if err != nil {
				t.Fatalf("decode %s: %v", l, err)
			}
			evs = append(evs, ev)
		}
		return evs
	}
	both := func(evs []backchannel.Event) {
		t.Helper()
		for _, db := range []*DB{stale, fresh} {
			if _, err := db.Apply(ctx, evs); err != nil {
				t.Fatal(err)
			}
		}
	}
	ts := func(m int) string { return fmt.Sprintf("1700000%03d.000000", m) }
	user := func(dept string, bot bool) string {
		return fmt.Sprintf(`{"type":"user","id":"W1","team_id":"T1","department":%q,"is_bot":%t}`, dept, bot)
	}
	post := func(m int, text string) string {
		return fmt.Sprintf(`{"type":"message","channel":"C1","user":"W1","ts":%q,"text":%q}`, ts(m), text)
	}
	view := func(m int, client string) string {
		return fmt.Sprintf(`{"type":"message_viewed","channel":"C1","ts":%q,"user":"W1","client":%q,"event_ts":"1700000500"}`, ts(m), client)
	}
	active := func(client string) string {
		return fmt.Sprintf(`{"type":"client_active","user":"W1","client":%q,"event_ts":"1700000600"}`, client)
	}
	both(decode(`{"type":"team","id":"T1","name":"t"}`, user("Eng", false),
		`{"type":"user","id":"W2","team_id":"T1"}`,
		`{"type":"channel","id":"C1","team_id":"T1","name":"news","kind":"public"}`))
	both(decode(`{"type":"message","channel":"C1","user":"W2","ts":"`+ts(1)+`","text":"m1"}`, view(1, "web")))

	// staleAfter prepares evs on stale, applies between on both, then
	// queues evs on stale with the preparation of before and applies them
	// on fresh. It reports whether the writer took stale's prerollup.
	staleAfter := func(evs, between []backchannel.Event) bool {
		t.Helper()
		p := prepare(evs, stale.now().UnixMicro())
		p.pre = stale.dir.prerollup(evs, p.idx, false)
		if p.pre == nil || slices.Contains(p.pre.covered, false) {
			t.Fatalf("prerollup of %d events covers %v", len(evs), p.pre)
		}
		if between != nil {
			both(between)
		}
		r := &writeReq{ctx: ctx, events: evs, prep: p, done: make(chan struct{})}
		if err := stale.send(ctx, r); err != nil {
			t.Fatal(err)
		}
		<-r.done
		if r.err != nil {
			t.Fatal(r.err)
		}
		if _, err := fresh.Apply(ctx, evs); err != nil {
			t.Fatal(err)
		}
		return p.pre.taken
	}
	// what lists a database's rollups, then its messages' activity.
	what := func(db *DB) []string {
		t.Helper()
		rows, err := db.DumpRollups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, err := db.MessageActivity(ctx, backchannel.MessageActivityQuery{Channel: "C1", Oldest: 1, Latest: backchannel.MaxTS, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Activities {
			rows = append(rows, fmt.Sprintf("%s %+v %v", m.TS, m.ActivityCounts, m.ByDepartment))
		}
		return rows
	}
	same := func(after string) {
		t.Helper()
		if a, b := what(stale), what(fresh); !slices.Equal(a, b) {
			t.Fatalf("%s: rollups and activity\n%q\nwant\n%q", after, a, b)
		}
	}

	if !staleAfter(decode(active("ios"), view(1, "desktop"), post(2, "m2")), nil) {
		t.Fatal("a prerollup nothing overtook was not taken")
	}
	same("nothing overtaken")
	if staleAfter(decode(active("android"), view(1, "ios"), post(3, "m3")), decode(user("Eng", true))) {
		t.Error("taken after the user became a bot")
	}
	same("the user became a bot")
	both(decode(user("Sales", false)))
	both(decode(active("desktop"))) // the writer loads W1 again
	if staleAfter(decode(post(4, "m4 again"), view(4, "android")), decode(post(4, "m4"))) {
		t.Error("taken after its message was stored")
	}
	same("the message was stored")
	again := decode(active("web"), view(4, "web"), `{"type":"search","user":"W1","event_ts":"1700000700"}`)
	if staleAfter(again, again) {
		t.Error("taken after its events were stored")
	}
	same("the events were stored")
}
