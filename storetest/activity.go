package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
)

// The messages.activity property test: random activity against an oracle
// that counts distinct people by brute force from the raw events, the way
// docs/analytics.md defines the counts, sharing no code with the stores'
// rules (analytics/activity.go).

// activityStore returns s as a MessageActivityStore, or skips.
func activityStore(t *testing.T, s backchannel.Store) backchannel.MessageActivityStore {
	t.Helper()
	as, ok := s.(backchannel.MessageActivityStore)
	if !ok {
		t.Skipf("%T does not implement backchannel.MessageActivityStore", s)
	}
	return as
}

// userEvent is a user record with its department in the line, so a change
// of department is a new line (UserAt leaves department out).
func userEvent(u backchannel.User, at backchannel.TS) backchannel.Event {
	e := event(backchannel.EvUser, withTS(map[string]any{"id": u.ID, "team_id": u.TeamID, "department": u.Department,
		"is_bot": u.IsBot, "date_claimed": u.DateClaimed}, at))
	e.User, e.EventTS = &u, at
	return e
}

// actOracle counts what docs/analytics.md says, from the events in the
// order the store applied them.
type actOracle struct {
	seen    map[[32]byte]bool // keys applied: a repeated line is a duplicate
	users   map[string]backchannel.User
	first   map[oracleKey]backchannel.User // the user as of the first time they did it
	posted  map[backchannel.TS]bool        // visible if it were not deleted
	deleted map[backchannel.TS]bool
}

// oracleKey is one person doing one thing to one message: "view",
// "desktop", "mobile", "web", "react", "share" or "click".
type oracleKey struct {
	ts     backchannel.TS
	user   string
	action string
}

func newActOracle() *actOracle {
	return &actOracle{seen: map[[32]byte]bool{}, users: map[string]backchannel.User{},
		first: map[oracleKey]backchannel.User{}, posted: map[backchannel.TS]bool{}, deleted: map[backchannel.TS]bool{}}
}

var oracleClients = map[string]string{"desktop": "desktop", "ios": "mobile", "android": "mobile", "web": "web"}

func (o *actOracle) apply(evs []backchannel.Event) {
	for i := range evs {
		ev := &evs[i]
		if o.seen[ev.Key] {
			continue
		}
		o.seen[ev.Key] = true
		var actions []string
		switch ev.Type {
		case backchannel.EvUser:
			o.users[ev.User.ID] = *ev.User
		case backchannel.EvMessage:
			o.posted[ev.TS] = ev.ThreadTS == 0 || ev.ThreadTS == ev.TS || ev.Subtype == "thread_broadcast"
		case backchannel.EvMessageDeleted:
			o.deleted[ev.TS] = true
		case backchannel.EvMessageViewed:
			actions = []string{"view"}
			if c := oracleClients[ev.Client]; c != "" {
				actions = append(actions, c)
			}
		case backchannel.EvReactionAdded:
			actions = []string{"react"}
		case backchannel.EvMessageShared:
			actions = []string{"share"}
		case backchannel.EvMessageClicked:
			actions = []string{"click"}
		}
		u, known := o.users[ev.UserID]
		if !known {
			u = backchannel.User{ID: ev.UserID} // a person the directory does not know
		}
		if u.IsBot {
			continue
		}
		for _, a := range actions {
			k := oracleKey{ev.TS, ev.UserID, a}
			if _, ok := o.first[k]; !ok {
				o.first[k] = u
			}
		}
	}
}

// want is every visible message's activity, newest first.
func (o *actOracle) want(ch string) []backchannel.MessageActivity {
	var out []backchannel.MessageActivity
	for ts, vis := range o.posted {
		if vis && !o.deleted[ts] {
			out = append(out, backchannel.MessageActivity{ChannelID: ch, TS: ts,
				ByDepartment: []backchannel.DepartmentActivity{}, ByTeam: []backchannel.TeamActivity{}})
		}
	}
	slices.SortFunc(out, func(a, b backchannel.MessageActivity) int { return cmp.Compare(b.TS, a.TS) })
	type group struct {
		ts   backchannel.TS
		name string
	}
	depts := map[group]*backchannel.ActivityCounts{}
	teams := map[group]*backchannel.ActivityCounts{}
	counter := func(c *backchannel.ActivityCounts, action string) *int64 {
		return map[string]*int64{"view": &c.Views, "react": &c.Reactions, "share": &c.Shares, "click": &c.Clicks}[action]
	}
	bump := func(m map[group]*backchannel.ActivityCounts, g group, action string) {
		if m[g] == nil {
			m[g] = &backchannel.ActivityCounts{}
		}
		*counter(m[g], action)++
	}
	for i := range out {
		m := &out[i]
		for k, u := range o.first {
			if k.ts != m.TS {
				continue
			}
			switch k.action {
			case "desktop":
				m.ViewsDesktop++
			case "mobile":
				m.ViewsMobile++
			case "web":
				m.ViewsWeb++
			default:
				*counter(&m.ActivityCounts, k.action)++
				if u.Department != "" {
					bump(depts, group{k.ts, u.Department}, k.action)
				}
				if u.TeamID != "" {
					bump(teams, group{k.ts, u.TeamID}, k.action)
				}
			}
		}
		for g, c := range depts {
			if g.ts == m.TS {
				m.ByDepartment = append(m.ByDepartment, backchannel.DepartmentActivity{Department: g.name, ActivityCounts: *c})
			}
		}
		for g, c := range teams {
			if g.ts == m.TS {
				m.ByTeam = append(m.ByTeam, backchannel.TeamActivity{TeamID: g.name, ActivityCounts: *c})
			}
		}
		slices.SortFunc(m.ByDepartment, func(a, b backchannel.DepartmentActivity) int {
			return cmp.Or(cmp.Compare(b.Views, a.Views), cmp.Compare(a.Department, b.Department))
		})
		slices.SortFunc(m.ByTeam, func(a, b backchannel.TeamActivity) int {
			return cmp.Or(cmp.Compare(b.Views, a.Views), cmp.Compare(a.TeamID, b.TeamID))
		})
	}
	return out
}

// randomActivity is one seed's events, cut into batches: a directory of
// people in and out of departments across three teams, two bots and a user
// the directory never hears of; messages (some deleted, replies with and
// without broadcast, some arriving after their activity); views on every
// client, repeated (the same line, and new lines), reactions added and
// removed, shares, clicks, departments changing midway.
func randomActivity(r *rand.Rand, ch string) [][]backchannel.Event {
	at := func(n int) backchannel.TS { return sec(d1s) + backchannel.TS(n) }
	depts := []string{"Engineering", "Sales", "Support", ""}
	var users []backchannel.User
	dir := []backchannel.Event{ChannelAt(backchannel.Channel{ID: ch, TeamID: "T1", Name: "a-" + ch, Kind: backchannel.KindPublic}, at(0))}
	for i := range 12 {
		u := backchannel.User{ID: fmt.Sprintf("W%s%02d", ch, i), TeamID: fmt.Sprintf("T%d", 1+i%3),
			Department: depts[r.IntN(len(depts))], IsBot: i >= 10, DateClaimed: jan}
		users = append(users, u)
		dir = append(dir, userEvent(u, at(0)))
	}
	ids := []string{"U" + ch + "ghost"} // never in the directory: a person
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	var msgs []backchannel.TS
	for i := range 15 {
		msgs = append(msgs, at(1000+100*i))
	}
	post := func(i int) backchannel.Event {
		ts := tsStr(msgs[i])
		switch i % 7 {
		case 3:
			return Reply(ch, users[0].ID, ts, tsStr(msgs[i-1]), "reply", false)
		case 4:
			return Reply(ch, users[0].ID, ts, tsStr(msgs[i-2]), "broadcast", true)
		}
		return Message(ch, users[0].ID, ts, "post "+ts)
	}
	var all []backchannel.Event
	late := map[int]bool{}
	for i := range msgs {
		if r.IntN(5) == 0 {
			late[i] = true // posted after its activity, below
			continue
		}
		all = append(all, post(i))
	}
	clients := []string{"desktop", "ios", "android", "web", ""}
	for n := range 200 + r.IntN(200) {
		ts, user, when := tsStr(msgs[r.IntN(len(msgs))]), ids[r.IntN(len(ids))], tsStr(at(5000+n))
		var e backchannel.Event
		switch k := r.IntN(20); {
		case k < 9:
			c := clients[r.IntN(len(clients))]
			e = Act(backchannel.EvMessageViewed, user, at(5000+n), "channel", ch, "ts", ts, "client", c)
		case k < 12:
			e = Reaction(true, ch, ts, user, []string{"tada", "eyes"}[r.IntN(2)], when)
		case k < 14:
			e = Reaction(false, ch, ts, user, []string{"tada", "eyes"}[r.IntN(2)], when)
		case k < 16:
			e = Act(backchannel.EvMessageShared, user, at(5000+n), "channel", ch, "ts", ts)
		case k < 18:
			e = Act(backchannel.EvMessageClicked, user, at(5000+n), "channel", ch, "ts", ts)
		case k < 19 && len(all) > 0:
			e = all[r.IntN(len(all))] // the same line again: a duplicate
		default:
			u := users[r.IntN(10)] // people change departments and teams
			u.Department, u.TeamID = depts[r.IntN(len(depts))], fmt.Sprintf("T%d", 1+r.IntN(3))
			e = userEvent(u, at(5000+n))
		}
		all = append(all, e)
	}
	for i := range msgs {
		if late[i] {
			all = append(all, post(i))
		}
	}
	all = append(all, Deleted(ch, tsStr(msgs[r.IntN(len(msgs))])))
	batches := [][]backchannel.Event{dir}
	for len(all) > 0 {
		n := min(len(all), 1+r.IntN(60))
		batches = append(batches, all[:n])
		all = all[n:]
		if r.IntN(4) == 0 {
			batches = append(batches, batches[1+r.IntN(len(batches)-1)]) // a replay
		}
	}
	return batches
}

func testActivityProperty(t *testing.T, s backchannel.Store) {
	as := activityStore(t, s)
	apply(t, s, EnterpriseAt("E1", "Acme"), TeamAt("T1", "one", "E1"), TeamAt("T2", "two", "E1"), TeamAt("T3", "three", "E1"))
	for seed := range uint64(20) {
		ch := fmt.Sprintf("C%02d", seed)
		r := rand.New(rand.NewPCG(seed, 5))
		o := newActOracle()
		for _, b := range randomActivity(r, ch) {
			o.apply(b)
			apply(t, s, b...)
		}
		want := o.want(ch)
		got := activityWalk(t, as, ch, 0, backchannel.MaxTS, 1+r.IntN(7))
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d messages, want %d", seed, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("seed %d, message %s:\n got %+v\nwant %+v", seed, want[i].TS, got[i], want[i])
			}
		}
	}
}

// activityWalk reads every page of [oldest, latest] with limit, following
// Next the way the API's cursor does.
func activityWalk(t *testing.T, as backchannel.MessageActivityStore, ch string, oldest, latest backchannel.TS, limit int) []backchannel.MessageActivity {
	t.Helper()
	var out []backchannel.MessageActivity
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
		p, err := as.MessageActivity(t.Context(), backchannel.MessageActivityQuery{Channel: ch, Oldest: oldest, Latest: latest, Limit: limit})
		if err != nil {
			t.Fatalf("MessageActivity: %v", err)
		}
		if len(p.Activities) > limit {
			t.Fatalf("page of %d, limit %d", len(p.Activities), limit)
		}
		out = append(out, p.Activities...)
		if p.Next == 0 {
			return out
		}
		latest = p.Next
	}
}
