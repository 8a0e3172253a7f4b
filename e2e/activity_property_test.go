package e2e

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/server"
	"github.com/backchannel/backchannel/slackapi"
)

// actUser is what the oracle needs of a user: humans only, department (""
// for none) and home team, as activityDirectory defines them.
type actUser struct {
	id, dept, team string
	bot            bool
}

var actUsers = []actUser{
	{actAdmin, "Comms", actTeamHQ, false}, {actPlain, "", actTeamHQ, false}, {actBot, "", actTeamHQ, true},
	{actEng1, "Engineering", actTeamHQ, false}, {actEng2, "Engineering", actTeamHQ, false},
	{actSales1, "Sales", actTeamHQ, false}, {actSales2, "Sales", actTeamEU, false}, {actNoDept, "", actTeamEU, false},
}

// oracleMsg is one message's activity counted by brute force: a set of
// users per action and per client bucket.
type oracleMsg struct {
	views, reacts, shares, clicks map[string]bool
	desktop, mobile, web          map[string]bool
}

// TestActivityPropertyThroughAPI sends random views (every client),
// repeated views, reactions added and removed, shares, clicks, bots and
// whole-batch replays through /ingest/events in random batch splits, and
// checks every field of every message_activities entry — the exact bytes the
// method answers over GET, form and JSON — against distinct users counted by
// brute force from the events sent.
func TestActivityPropertyThroughAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		for seed := uint64(1); seed <= 4; seed++ {
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { activityProperty(t, open, seed) })
		}
	})
}

func activityProperty(t *testing.T, open opener, seed uint64) {
	st := open(t)
	if _, ok := st.(backchannel.MessageActivityStore); !ok {
		st.Close()
		t.Skipf("%T does not implement backchannel.MessageActivityStore", st)
	}
	srv := serveStoreWith(t, st, "off", func(*slackapi.Config, *server.Config) {})
	ingst := mintToken(t, st, actAdmin, actTeamHQ, false, backchannel.ScopeIngest)
	admin := mintToken(t, st, actAdmin, actTeamHQ, false, "admin.analytics:read")
	ingestLines(t, srv.URL, ingst, activityDirectory(), false)

	r := rand.New(rand.NewPCG(seed, 99))
	base := time.Now().Add(-24 * time.Hour).Unix()
	var msgs []string
	oracle := map[string]*oracleMsg{}
	var posts [][]byte
	for i := 0; i < 12; i++ {
		ts := fmt.Sprintf("%d.%06d", base+int64(i*60), i)
		msgs = append(msgs, ts)
		set := func() map[string]bool { return map[string]bool{} }
		oracle[ts] = &oracleMsg{set(), set(), set(), set(), set(), set(), set()}
		posts = append(posts, line(map[string]any{"type": "message", "channel": actOther, "user": actAdmin, "ts": ts, "text": "m"}))
	}
	ingestLines(t, srv.URL, ingst, posts, false)

	clients := []string{"desktop", "ios", "android", "web"}
	var events [][]byte
	for i := 0; i < 300; i++ {
		if i > 0 && r.IntN(8) == 0 { // an exact repeat: a duplicate, changes nothing
			events = append(events, events[r.IntN(len(events))])
			continue
		}
		u := actUsers[r.IntN(len(actUsers))]
		ts := msgs[r.IntN(len(msgs))]
		o := oracle[ts]
		ev := map[string]any{"channel": actOther, "ts": ts, "user": u.id, "event_ts": fmt.Sprintf("%d.%06d", base+3600, i)}
		human := !u.bot
		switch k := r.IntN(6); k {
		case 0, 1:
			c := clients[r.IntN(len(clients))]
			ev["type"], ev["client"] = "message_viewed", c
			if human {
				o.views[u.id] = true
				map[string]map[string]bool{"desktop": o.desktop, "ios": o.mobile, "android": o.mobile, "web": o.web}[c][u.id] = true
			}
		case 2:
			ev["type"], ev["reaction"] = "reaction_added", []string{"tada", "eyes"}[r.IntN(2)]
			if human {
				o.reacts[u.id] = true
			}
		case 3:
			ev["type"], ev["reaction"] = "reaction_removed", "tada" // never un-counts
		case 4:
			ev["type"] = "message_shared"
			if human {
				o.shares[u.id] = true
			}
		case 5:
			ev["type"] = "message_clicked"
			if human {
				o.clicks[u.id] = true
			}
		}
		events = append(events, line(ev))
	}
	// Random batch splits; within one request a repeated line is a
	// duplicate too. Then the whole stream again: all duplicates.
	for i := 0; i < len(events); {
		n := 1 + r.IntN(60)
		ingestLines(t, srv.URL, ingst, events[i:min(i+n, len(events))], r.IntN(2) == 0)
		i += n
	}
	if accepted, _ := ingestLines(t, srv.URL, ingst, events, false); accepted != 0 {
		t.Fatalf("replay: %d events accepted again", accepted)
	}

	args := url.Values{"channel": {actOther}, "oldest_ts": {fmt.Sprint(base - 1)}, "latest_ts": {fmt.Sprint(base + 7200)}, "limit": {"100"}}
	verb := []string{"get", "form", "json"}[seed%3]
	got := callActivity(t, srv.URL, admin, verb, args)
	if !got.OK || len(got.Activities) != len(msgs) {
		t.Fatalf("%s: ok=%v error=%q, %d entries, want %d", verb, got.OK, got.Error, len(got.Activities), len(msgs))
	}
	for i, raw := range got.Activities {
		ts := msgs[len(msgs)-1-i] // newest first
		if want := oracle[ts].want(ts); string(raw) != want {
			t.Errorf("message %s:\n got %s\nwant %s", ts, raw, want)
		}
	}
}

// want renders the oracle's counts as the exact entry the method answers.
func (o *oracleMsg) want(ts string) string {
	w := wantActivity{ChannelID: actOther, Timestamp: ts, Reactions: len(o.reacts), Shares: len(o.shares),
		Views: len(o.views), Clicks: len(o.clicks),
		Client: wantClient{Desktop: len(o.desktop), Mobile: len(o.mobile), Web: len(o.web)},
		ByDept: []wantDept{}, ByOrg: []wantOrg{}}
	depts, teams := map[string]*wantCounts{}, map[string]*wantCounts{}
	for _, u := range actUsers {
		if u.bot || !(o.views[u.id] || o.reacts[u.id] || o.shares[u.id] || o.clicks[u.id]) {
			continue
		}
		groups := []map[string]*wantCounts{teams}
		keys := []string{u.team}
		if u.dept != "" {
			groups, keys = append(groups, depts), append(keys, u.dept)
		}
		for g, m := range groups {
			c := m[keys[g]]
			if c == nil {
				c = &wantCounts{}
				m[keys[g]] = c
			}
			c.Views += b2i(o.views[u.id])
			c.Reactions += b2i(o.reacts[u.id])
			c.Shares += b2i(o.shares[u.id])
			c.Clicks += b2i(o.clicks[u.id])
		}
	}
	for d, c := range depts {
		w.ByDept = append(w.ByDept, wantDept{d, *c})
	}
	for tm, c := range teams {
		w.ByOrg = append(w.ByOrg, wantOrg{tm, *c})
	}
	slices.SortFunc(w.ByDept, func(a, b wantDept) int { return cmp.Or(b.Views-a.Views, cmp.Compare(a.Department, b.Department)) })
	slices.SortFunc(w.ByOrg, func(a, b wantOrg) int { return cmp.Or(b.Views-a.Views, cmp.Compare(a.TeamID, b.TeamID)) })
	b, err := json.Marshal(w)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
