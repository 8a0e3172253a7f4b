package e2e

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/server"
	"github.com/backchannel/backchannel/slackapi"
)

// activityFixture is an enterprise of two teams with an announcement
// channel whose messages were viewed, reacted to, shared and clicked
// through /ingest/events, served with a clock fixed at now so the default
// window's bounds fall exactly on messages.
type activityFixture struct {
	srv                               *testServer
	admin, plain, bot, noScope, ingst string
	now                               time.Time               // the first page's now
	clock                             atomic.Int64            // the server's now, Unix µs; a walk may move it
	visible                           []string                // announce's ts in the default window, newest first
	want                              map[string]wantActivity // every message of visible, by ts
	onBound, outside, newest          string                  // now−7d, now−7d−1µs, now
}

const (
	actEnterprise = "E0ACTENT01"
	actTeamHQ     = "T0ACTHQ001"
	actTeamEU     = "T0ACTEU001"
	actAdmin      = "W0ACTADM01"
	actPlain      = "W0ACTPLN01"
	actBot        = "U0ACTBOT01"
	actEng1       = "W0ACTENG01" // HQ, Engineering
	actEng2       = "W0ACTENG02" // HQ, Engineering
	actSales1     = "W0ACTSAL01" // HQ, Sales
	actSales2     = "W0ACTSAL02" // EU, Sales
	actNoDept     = "W0ACTNOD01" // EU, no department
	actAnnounce   = "C0ACTANN01"
	actOther      = "C0ACTOTH01"
	actPrivate    = "G0ACTPRV01"
	actIM         = "D0ACTDM001"
	actMPIM       = "G0ACTMP001"
)

// wantActivity is one message_activities entry, its fields in the seed's
// order so its JSON is the exact bytes the server must send.
type wantActivity struct {
	ChannelID string     `json:"channel_id"`
	Timestamp string     `json:"timestamp"`
	Reactions int        `json:"unique_user_reactions_count"`
	Shares    int        `json:"unique_user_shares_count"`
	Views     int        `json:"unique_user_views_count"`
	Clicks    int        `json:"unique_user_clicks_count"`
	Client    wantClient `json:"unique_views_client"`
	ByDept    []wantDept `json:"unique_stats_by_department"`
	ByOrg     []wantOrg  `json:"unique_stats_by_org"`
}

type wantClient struct {
	Desktop int `json:"desktop_views_count"`
	Mobile  int `json:"mobile_views_count"`
	Web     int `json:"web_views_count"`
}

type wantDept struct {
	Department string `json:"department"`
	wantCounts
}

type wantOrg struct {
	TeamID string `json:"team_id"`
	wantCounts
}

type wantCounts struct {
	Views     int `json:"views"`
	Reactions int `json:"reactions"`
	Shares    int `json:"shares"`
	Clicks    int `json:"clicks"`
}

func (w wantActivity) json(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newActivityFixture seeds the organisation, or skips a store kind that
// does not implement backchannel.MessageActivityStore yet.
func newActivityFixture(t *testing.T, open opener) *activityFixture {
	t.Helper()
	st := open(t)
	if _, ok := st.(backchannel.MessageActivityStore); !ok {
		st.Close()
		t.Skipf("%T does not implement backchannel.MessageActivityStore yet: "+
			"admin.analytics.messages.activity answers feature_not_enabled", st)
	}
	f := &activityFixture{now: time.Now().UTC().Truncate(time.Second), want: map[string]wantActivity{}}
	f.clock.Store(f.now.UnixMicro())
	now := func() time.Time { return time.UnixMicro(f.clock.Load()).UTC() }
	f.srv = serveStoreWith(t, st, "off", func(c *slackapi.Config, s *server.Config) { c.Now, s.Now = now, now })
	f.ingst = mintToken(t, st, actAdmin, actTeamHQ, false, backchannel.ScopeIngest)
	f.admin = mintToken(t, st, actAdmin, actTeamHQ, false, "admin.analytics:read")
	f.plain = mintToken(t, st, actPlain, actTeamHQ, false, "admin.analytics:read")
	f.bot = mintToken(t, st, actBot, actTeamHQ, true, "admin.analytics:read")
	f.noScope = mintToken(t, st, actAdmin, actTeamHQ, false, "channels:history")
	ingestLines(t, f.srv.URL, f.ingst, activityDirectory(), false)

	nowTS := backchannel.TSFromTime(f.now)
	at := func(d time.Duration) string { return (nowTS - backchannel.TS(d/time.Microsecond)).String() }
	week := 7 * 24 * time.Hour
	f.newest, f.onBound, f.outside = at(0), at(week), at(week+time.Microsecond)
	busy, quiet := at(2*time.Hour), at(3*time.Hour)
	deleted, parent := at(4*time.Hour), at(5*time.Hour)
	reply, broadcast := at(5*time.Hour-time.Second), at(5*time.Hour-2*time.Second)
	var lines [][]byte
	msg := func(ts string, extra map[string]any) {
		m := map[string]any{"type": "message", "channel": actAnnounce, "user": actAdmin, "ts": ts, "text": "announcement " + ts}
		for k, v := range extra {
			m[k] = v
		}
		lines = append(lines, line(m))
	}
	for _, ts := range []string{f.newest, busy, quiet, deleted, parent, f.onBound, f.outside} {
		msg(ts, nil)
	}
	for i := 1; i <= 5; i++ { // plain messages a day apart, nobody touched them
		msg(at(time.Duration(i)*24*time.Hour), nil)
	}
	msg(reply, map[string]any{"thread_ts": parent})
	msg(broadcast, map[string]any{"thread_ts": parent, "subtype": "thread_broadcast"})
	lines = append(lines,
		line(map[string]any{"type": "message_deleted", "channel": actAnnounce, "ts": deleted}),
		line(map[string]any{"type": "message", "channel": actOther, "user": actAdmin, "ts": busy, "text": "elsewhere"}))
	ingestLines(t, f.srv.URL, f.ingst, lines, false)

	acts := activityEvents(nowTS, busy, quiet, deleted, f.outside)
	ingestLines(t, f.srv.URL, f.ingst, acts, false)
	if accepted, _ := ingestLines(t, f.srv.URL, f.ingst, acts, true); accepted != 0 {
		t.Fatalf("replayed activity: %d events accepted again", accepted)
	}

	f.visible = []string{f.newest, busy, quiet, broadcast, parent}
	for i := 1; i <= 5; i++ {
		f.visible = append(f.visible, at(time.Duration(i)*24*time.Hour))
	}
	f.visible = append(f.visible, f.onBound)
	for _, ts := range f.visible {
		f.want[ts] = wantActivity{ChannelID: actAnnounce, Timestamp: ts, ByDept: []wantDept{}, ByOrg: []wantOrg{}}
	}
	f.want[busy], f.want[quiet] = wantBusy(busy), wantQuiet(quiet)
	return f
}

func activityDirectory() [][]byte {
	const created = 1600000000
	ev := [][]byte{
		line(map[string]any{"type": "enterprise", "id": actEnterprise, "name": "Acme Corp", "member_analytics_enabled": true}),
		line(map[string]any{"type": "team", "id": actTeamHQ, "name": "Acme HQ", "domain": "acme-hq", "enterprise_id": actEnterprise}),
		line(map[string]any{"type": "team", "id": actTeamEU, "name": "Acme EU", "domain": "acme-eu", "enterprise_id": actEnterprise}),
	}
	for _, u := range []map[string]any{
		{"id": actAdmin, "team_id": actTeamHQ, "is_admin": true, "department": "Comms"},
		{"id": actPlain, "team_id": actTeamHQ},
		{"id": actBot, "team_id": actTeamHQ, "is_bot": true},
		{"id": actEng1, "team_id": actTeamHQ, "department": "Engineering"},
		{"id": actEng2, "team_id": actTeamHQ, "department": "Engineering"},
		{"id": actSales1, "team_id": actTeamHQ, "department": "Sales"},
		{"id": actSales2, "team_id": actTeamEU, "department": "Sales"},
		{"id": actNoDept, "team_id": actTeamEU},
	} {
		u["type"], u["name"], u["date_claimed"] = "user", u["id"], created
		ev = append(ev, line(u))
	}
	for _, c := range [][3]string{{actAnnounce, "announcements", "public"}, {actOther, "random", "public"},
		{actPrivate, "secret", "private"}, {actIM, "", "im"}, {actMPIM, "mpdm-a--b--c-1", "mpim"}} {
		ev = append(ev, line(map[string]any{"type": "channel", "id": c[0], "team_id": actTeamHQ, "name": c[1], "kind": c[2], "created": created}))
		for _, u := range []string{actAdmin, actEng1, actEng2, actSales1, actSales2, actNoDept} {
			ev = append(ev, line(map[string]any{"type": "member_joined_channel", "channel": c[0], "user": u, "event_ts": created + 1}))
		}
	}
	return ev
}

// activityEvents touches busy and quiet (see wantBusy, wantQuiet), and the
// deleted and out-of-window messages, which must not show.
func activityEvents(nowTS backchannel.TS, busy, quiet, deleted, outside string) [][]byte {
	var ev [][]byte
	n := 0
	add := func(typ, ts, user string, kv ...string) {
		n++
		m := map[string]any{"type": typ, "channel": actAnnounce, "ts": ts, "user": user,
			"event_ts": (nowTS - backchannel.TS(3600e6) + backchannel.TS(n)).String()}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		ev = append(ev, line(m))
	}
	view := func(ts, user, client string) { add("message_viewed", ts, user, "client", client) }
	// busy: five people view it; repeats on the same and on other clients.
	view(busy, actEng1, "desktop")
	view(busy, actEng1, "desktop")
	view(busy, actEng1, "ios")
	view(busy, actEng2, "android")
	view(busy, actEng2, "web")
	view(busy, actSales1, "web")
	view(busy, actSales2, "desktop")
	view(busy, actNoDept, "ios")
	view(busy, actBot, "desktop") // bots are not people
	add("reaction_added", busy, actSales2, "reaction", "tada")
	add("reaction_removed", busy, actSales2, "reaction", "tada") // still reacted
	add("reaction_added", busy, actSales2, "reaction", "eyes")
	add("reaction_added", busy, actEng2, "reaction", "tada")
	add("message_shared", busy, actNoDept)
	add("message_shared", busy, actSales1)
	add("message_shared", busy, actSales1)
	add("message_clicked", busy, actEng1)
	add("message_clicked", busy, actEng1)
	add("message_clicked", busy, actNoDept)
	// quiet: a reaction taken back and a click, never viewed.
	add("reaction_added", quiet, actSales1, "reaction", "eyes")
	add("reaction_removed", quiet, actSales1, "reaction", "eyes")
	add("message_clicked", quiet, actNoDept)
	// Messages that must not appear, whatever their counts.
	view(deleted, actEng1, "desktop")
	view(outside, actEng1, "desktop")
	add("message_clicked", outside, actSales2)
	return ev
}

// wantBusy is busy's activity, counted by hand from activityEvents.
//
//	views: eng1 (desktop, ios), eng2 (android, web), sales1 (web),
//	       sales2 (desktop), nodept (ios) = 5; desktop 2, mobile 3, web 2
//	reactions: sales2, eng2 = 2; shares: nodept, sales1 = 2;
//	clicks: eng1, nodept = 2
func wantBusy(ts string) wantActivity {
	return wantActivity{ChannelID: actAnnounce, Timestamp: ts, Reactions: 2, Shares: 2, Views: 5, Clicks: 2,
		Client: wantClient{Desktop: 2, Mobile: 3, Web: 2},
		ByDept: []wantDept{ // by views, then name; nodept only in the totals
			{"Engineering", wantCounts{Views: 2, Reactions: 1, Shares: 0, Clicks: 1}},
			{"Sales", wantCounts{Views: 2, Reactions: 1, Shares: 1, Clicks: 0}},
		},
		ByOrg: []wantOrg{ // by views, then team id
			{actTeamHQ, wantCounts{Views: 3, Reactions: 1, Shares: 1, Clicks: 1}},
			{actTeamEU, wantCounts{Views: 2, Reactions: 1, Shares: 1, Clicks: 1}},
		},
	}
}

// wantQuiet: sales1 reacted (and took it back), nodept clicked.
func wantQuiet(ts string) wantActivity {
	return wantActivity{ChannelID: actAnnounce, Timestamp: ts, Reactions: 1, Clicks: 1,
		ByDept: []wantDept{{"Sales", wantCounts{Reactions: 1}}},
		ByOrg: []wantOrg{ // no views anywhere: by team id
			{actTeamEU, wantCounts{Clicks: 1}},
			{actTeamHQ, wantCounts{Reactions: 1}},
		},
	}
}
