package slackapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
)

const methodActivity = "admin.analytics.messages.activity"

var (
	nowTS = backchannel.TSFromTime(testNow)
	week  = backchannel.TS(7 * 24 * time.Hour / time.Microsecond)
)

// activityFixture is C1's messages around testNow: on both default bounds,
// just outside them, and in between; C2 has one message of its own.
func activityFixture() []backchannel.MessageActivity {
	var acts []backchannel.MessageActivity
	for _, ts := range []backchannel.TS{nowTS + 1, nowTS, nowTS - 1, nowTS - 24*3600e6, nowTS - week, nowTS - week - 1} {
		acts = append(acts, backchannel.MessageActivity{ChannelID: "C1", TS: ts})
	}
	busy := backchannel.MessageActivity{ChannelID: "C1", TS: nowTS - 3600e6,
		ActivityCounts: backchannel.ActivityCounts{Views: 142, Reactions: 15, Shares: 8, Clicks: 23},
		ViewsDesktop:   89, ViewsMobile: 42, ViewsWeb: 11,
		ByDepartment: []backchannel.DepartmentActivity{
			{Department: "Engineering", ActivityCounts: backchannel.ActivityCounts{Views: 45, Reactions: 8, Shares: 3, Clicks: 12}},
			{Department: `R&D "Labs"/Ops`, ActivityCounts: backchannel.ActivityCounts{Views: 32, Reactions: 4, Shares: 2, Clicks: 7}},
		},
		ByTeam: []backchannel.TeamActivity{{TeamID: "T1", ActivityCounts: backchannel.ActivityCounts{Views: 98, Reactions: 12, Shares: 5, Clicks: 18}}},
	}
	return append(acts, busy, backchannel.MessageActivity{ChannelID: "C2", TS: nowTS - 2})
}

func activityAPI(t testing.TB, w *world, acts []backchannel.MessageActivity, cfg ...func(*Config)) (*API, *activityFake, *clock) {
	t.Helper()
	fake := newActivityFake(w.store(), acts)
	c := &clock{t: testNow}
	conf := Config{Store: fake, Now: c.Now, RateLimit: RateLimitOff, Logger: discardLogger()}
	for _, f := range cfg {
		f(&conf)
	}
	return New(conf), fake, c
}

func activity(t *testing.T, api http.Handler, tok, query string) reply {
	t.Helper()
	return do(t, api, call{method: methodActivity, query: query, token: tok})
}

// activityPage is a reply decoded for assertions.
type activityPage struct {
	OK         bool   `json:"ok"`
	Error      string `json:"error"`
	Activities []struct {
		ChannelID string `json:"channel_id"`
		Timestamp string `json:"timestamp"`
	} `json:"message_activities"`
	Metadata *struct {
		NextCursor string `json:"next_cursor"`
	} `json:"response_metadata"`
}

func decodePage(t *testing.T, r reply) activityPage {
	t.Helper()
	var p activityPage
	if err := json.Unmarshal([]byte(r.body), &p); err != nil || !p.OK {
		t.Fatalf("reply %s (%v)", r.body, err)
	}
	return p
}

// offsets lists the page's timestamps as microseconds from testNow.
func (p activityPage) offsets(t *testing.T) string {
	t.Helper()
	var s []string
	for _, a := range p.Activities {
		ts, err := backchannel.ParseTS(a.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		s = append(s, fmt.Sprint(int64(ts-nowTS)))
	}
	return strings.Join(s, ",")
}

func TestActivityErrors(t *testing.T) {
	other := activityCursor{channel: "C2", oldest: nowTS - week, latest: nowTS, next: nowTS - 2}.String()
	window := activityCursor{channel: "C1", oldest: nowTS - week, latest: nowTS, next: nowTS - 2}.String()
	tests := []struct {
		name, tok, query string
		setup            func(*world, *activityFake)
		cfg              func(*Config)
		want             string
	}{
		{name: "no token", query: "channel=C1", want: "not_authed"},
		{name: "bad token", tok: "xoxp-nope", query: "channel=C1", want: "invalid_auth"},
		{name: "revoked", tok: tokRevoked, query: "channel=C1", want: "token_revoked"},
		{name: "bot token", tok: tokBotAnalyst, query: "channel=C1", want: "not_allowed_token_type"},
		{name: "scope", tok: tokAdminNoSc, query: "channel=C1", want: "missing_scope"},
		{name: "no activity store", tok: tokAnalytics, query: "channel=C1", want: "feature_not_enabled",
			cfg: func(c *Config) { c.Store = c.Store.(*activityFake).fakeStore }},
		{name: "not admin", tok: tokPlainUser, query: "channel=C1", want: "not_an_admin"},
		{name: "not admin, no channel", tok: tokPlainUser, query: "", want: "not_an_admin"},
		{name: "single workspace", tok: tokAnalytics, query: "channel=C1", want: "not_an_enterprise",
			setup: func(w *world, _ *activityFake) { w.ent = backchannel.Enterprise{ID: "0"} }},
		{name: "no enterprise id", tok: tokAnalytics, query: "channel=C1", want: "not_an_enterprise",
			setup: func(w *world, _ *activityFake) { w.ent = backchannel.Enterprise{} }},
		{name: "not an enterprise before arguments", tok: tokAnalytics, query: "oldest_ts=x", want: "not_an_enterprise",
			setup: func(w *world, _ *activityFake) { w.ent = backchannel.Enterprise{ID: "0"} }},
		{name: "channel missing", tok: tokAnalytics, query: "limit=5", want: "invalid_arguments"},
		{name: "channel empty", tok: tokAnalytics, query: "channel=", want: "invalid_arguments"},
		{name: "oldest garbage", tok: tokAnalytics, query: "channel=C1&oldest_ts=yesterday", want: "invalid_arguments"},
		{name: "oldest negative", tok: tokAnalytics, query: "channel=C1&oldest_ts=-1", want: "invalid_arguments"},
		{name: "oldest exponent", tok: tokAnalytics, query: "channel=C1&oldest_ts=1e9", want: "invalid_arguments"},
		{name: "latest nanoseconds", tok: tokAnalytics, query: "channel=C1&latest_ts=1700000000.1234567", want: "invalid_arguments"},
		{name: "oldest after latest", tok: tokAnalytics, query: "channel=C1&oldest_ts=1700000000.000002&latest_ts=1700000000.000001",
			want: "invalid_arguments"},
		{name: "bad timestamp before unknown channel", tok: tokAnalytics, query: "channel=C404&latest_ts=x", want: "invalid_arguments"},
		{name: "cursor garbage", tok: tokAnalytics, query: "channel=C1&cursor=abcd", want: "invalid_cursor"},
		{name: "history cursor", tok: tokAnalytics, query: "channel=C1&cursor=" + EncodeCursor(nowTS), want: "invalid_cursor"},
		{name: "cursor of another channel", tok: tokAnalytics, query: "channel=C1&cursor=" + other, want: "invalid_cursor"},
		{name: "cursor of another window", tok: tokAnalytics, query: "channel=C1&latest_ts=1709294399&cursor=" + window,
			want: "invalid_cursor"},
		{name: "unknown channel", tok: tokAnalytics, query: "channel=C404", want: "channel_not_found"},
		{name: "private channel", tok: tokAnalytics, query: "channel=G1", want: "channel_not_found"},
		{name: "im", tok: tokAnalytics, query: "channel=D1", want: "channel_not_found"},
		{name: "mpim", tok: tokAnalytics, query: "channel=M1", want: "channel_not_found"},
		{name: "enterprise lookup fails", tok: tokAnalytics, query: "channel=C1", want: "internal_error",
			setup: func(w *world, f *activityFake) {
				f.EnterpriseFn = func(context.Context) (backchannel.Enterprise, error) {
					return backchannel.Enterprise{}, backchannel.Errorf(backchannel.ENOTFOUND, "gone")
				}
			}},
		{name: "channel lookup fails", tok: tokAnalytics, query: "channel=C1", want: "internal_error",
			setup: func(w *world, f *activityFake) {
				f.ChannelFn = func(context.Context, string) (backchannel.Channel, error) {
					return backchannel.Channel{}, errors.New("disk on fire")
				}
			}},
		{name: "store fails", tok: tokAnalytics, query: "channel=C1", want: "internal_error",
			setup: func(w *world, f *activityFake) {
				f.MessageActivityFn = func(context.Context, backchannel.MessageActivityQuery) (backchannel.MessageActivityPage, error) {
					return backchannel.MessageActivityPage{}, errors.New("disk on fire")
				}
			}},
		{name: "admin", tok: tokAnalytics, query: "channel=C1"},
		{name: "owner", tok: tokOwner, query: "channel=C1"},
		{name: "primary owner", tok: tokPrimary, query: "channel=C1"},
		{name: "archived public channel", tok: tokAnalytics, query: "channel=C1",
			setup: func(w *world, _ *activityFake) { c := w.channels["C1"]; c.IsArchived = true; w.channels["C1"] = c }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := analyticsWorld()
			var cfg []func(*Config)
			if tt.cfg != nil {
				cfg = append(cfg, tt.cfg)
			}
			api, fake, _ := activityAPI(t, w, activityFixture(), cfg...)
			if tt.setup != nil {
				tt.setup(w, fake)
			}
			r := activity(t, api, tt.tok, tt.query)
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			if got := r.errCode(t); got != tt.want {
				t.Fatalf("error %q, want %q: %s", got, tt.want, r.body)
			}
			if tt.want == "missing_scope" {
				m := r.obj(t)
				if m["needed"] != scopeAnalytics || m["provided"] != "users:read" {
					t.Errorf("needed/provided: %s", r.body)
				}
			}
		})
	}
}

func TestActivityVerbsAndBodies(t *testing.T) {
	api, fake, _ := activityAPI(t, analyticsWorld(), activityFixture())
	want := backchannel.MessageActivityQuery{Channel: "C1", Oldest: ts(0), Latest: ts(9), Limit: 7}
	for _, c := range []call{
		{query: "channel=C1&oldest_ts=1700000000&latest_ts=1700000009.000000&limit=7"},
		{verb: http.MethodPost, body: "channel=C1&oldest_ts=1700000000&latest_ts=1700000009&limit=7",
			contentType: "application/x-www-form-urlencoded"},
		{verb: http.MethodPost, body: `{"channel":"C1","oldest_ts":"1700000000","latest_ts":1700000009.0,"limit":7}`,
			contentType: "application/json; charset=utf-8"},
		{verb: http.MethodPost, query: "channel=C1&limit=7", body: "oldest_ts=1700000000&latest_ts=1700000009",
			contentType: "application/x-www-form-urlencoded"},
	} {
		c.method, c.token = methodActivity, tokAnalytics
		r := do(t, api, c)
		decodePage(t, r)
		if got := fake.lastQuery(); got != want {
			t.Errorf("%s %q %q: query %+v, want %+v", c.verb, c.query, c.body, got, want)
		}
		if got := r.header.Get("X-Accepted-Oauth-Scopes"); got != scopeAnalytics {
			t.Errorf("x-accepted-oauth-scopes %q", got)
		}
	}
}

// The seed's 7-day defaults in both directions, inclusive at both ends.
func TestActivityWindow(t *testing.T) {
	s := func(ts backchannel.TS) string { return ts.String() }
	tests := []struct {
		name, query    string
		oldest, latest backchannel.TS
		list           string // offsets from now, newest first
	}{
		{"neither", "", nowTS - week, nowTS, "0,-1,-3600000000,-86400000000,-604800000000"},
		{"only oldest", "oldest_ts=" + s(nowTS-week), nowTS - week, nowTS, "0,-1,-3600000000,-86400000000,-604800000000"},
		{"only oldest, later", "oldest_ts=" + s(nowTS-1), nowTS - 1, nowTS - 1 + week, "1,0,-1"},
		{"only latest", "latest_ts=" + s(nowTS), nowTS - week, nowTS, "0,-1,-3600000000,-86400000000,-604800000000"},
		{"only latest, earlier", "latest_ts=" + s(nowTS-week), nowTS - 2*week, nowTS - week, "-604800000000,-604800000001"},
		{"both", "oldest_ts=" + s(nowTS-1) + "&latest_ts=" + s(nowTS), nowTS - 1, nowTS, "0,-1"},
		{"one instant", "oldest_ts=" + s(nowTS) + "&latest_ts=" + s(nowTS), nowTS, nowTS, "0"},
		{"latest near the epoch", "latest_ts=100", 0, 100e6, ""},
		{"whole seconds", "oldest_ts=1709294400&latest_ts=1709294400.000001", nowTS, nowTS + 1, "1,0"},
		{"empty bounds are absent", "oldest_ts=&latest_ts=", nowTS - week, nowTS, "0,-1,-3600000000,-86400000000,-604800000000"},
	}
	api, fake, _ := activityAPI(t, analyticsWorld(), activityFixture())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decodePage(t, activity(t, api, tokAnalytics, "channel=C1&"+tt.query))
			q := fake.lastQuery()
			if q.Oldest != tt.oldest || q.Latest != tt.latest {
				t.Errorf("window [%s, %s], want [%s, %s]", q.Oldest, q.Latest, tt.oldest, tt.latest)
			}
			if got := p.offsets(t); got != tt.list {
				t.Errorf("messages %s, want %s", got, tt.list)
			}
			if p.Metadata != nil {
				t.Errorf("response_metadata on the only page: %+v", p.Metadata)
			}
		})
	}
}

func TestActivityLimit(t *testing.T) {
	api, fake, _ := activityAPI(t, analyticsWorld(), activityFixture())
	for in, want := range map[string]int{"": 50, "1": 1, "0": 1, "-5": 1, "99": 99, "100": 100, "101": 100,
		"1000000000000000000000": 100, "abc": 50, "20abc": 20, " 7": 7} {
		decodePage(t, activity(t, api, tokAnalytics, "channel=C1&limit="+url.QueryEscape(in)))
		if got := fake.lastQuery().Limit; got != want {
			t.Errorf("limit=%q: store asked for %d, want %d", in, got, want)
		}
	}
}

// A walk without bounds keeps its first page's window while the clock moves
// (the cursor carries it), returns each message once, and has no
// response_metadata on its last page — through GET, form and JSON.
func TestActivityCursorWalk(t *testing.T) {
	w := analyticsWorld()
	var acts []backchannel.MessageActivity
	for i := 0; i < 10; i++ {
		acts = append(acts, backchannel.MessageActivity{ChannelID: "C1", TS: nowTS - backchannel.TS(i)*3600e6})
	}
	for _, transport := range []string{"get", "form", "json"} {
		t.Run(transport, func(t *testing.T) {
			api, fake, clk := activityAPI(t, w, acts)
			var got []string
			cursor, pages := "", 0
			for {
				c := call{method: methodActivity, token: tokAnalytics}
				switch transport {
				case "get":
					c.query = "channel=C1&limit=3"
					if cursor != "" {
						c.query += "&cursor=" + cursor // URL-safe: no escaping needed
					}
				case "form":
					c.body, c.contentType = "channel=C1&limit=3&cursor="+url.QueryEscape(cursor), "application/x-www-form-urlencoded"
				case "json":
					c.body, c.contentType = fmt.Sprintf(`{"channel":"C1","limit":3,"cursor":%q}`, cursor), "application/json; charset=utf-8"
				}
				p := decodePage(t, do(t, api, c))
				pages++
				for _, a := range p.Activities {
					got = append(got, a.Timestamp)
				}
				if q := fake.lastQuery(); q.Oldest != nowTS-week {
					t.Fatalf("page %d: window moved to [%s, %s]", pages, q.Oldest, q.Latest)
				}
				if p.Metadata == nil {
					break
				}
				if p.Metadata.NextCursor == "" || pages > 10 {
					t.Fatalf("page %d: response_metadata %+v", pages, p.Metadata)
				}
				cursor = p.Metadata.NextCursor
				clk.Advance(2 * time.Hour) // a new first page would now start later
			}
			var want []string
			for _, a := range acts {
				want = append(want, a.TS.String())
			}
			if strings.Join(got, " ") != strings.Join(want, " ") || pages != 4 {
				t.Errorf("%d pages: %v\nwant %v", pages, got, want)
			}
		})
	}
}

// A cursor is accepted with the bounds it was made for, given again (as
// Node's paginate does), and resumes at its message, inclusive.
func TestActivityCursorWithBounds(t *testing.T) {
	api, fake, _ := activityAPI(t, analyticsWorld(), activityFixture())
	q := "channel=C1&oldest_ts=" + (nowTS - week).String() + "&limit=2"
	p := decodePage(t, activity(t, api, tokAnalytics, q))
	if p.offsets(t) != "0,-1" || p.Metadata == nil {
		t.Fatalf("first page %s %+v", p.offsets(t), p.Metadata)
	}
	p = decodePage(t, activity(t, api, tokAnalytics, q+"&cursor="+p.Metadata.NextCursor))
	if got := p.offsets(t); got != "-3600000000,-86400000000" {
		t.Errorf("second page %s", got)
	}
	if got := fake.lastQuery(); got.Oldest != nowTS-week || got.Latest != nowTS-3600e6 {
		t.Errorf("second query %+v", got)
	}
}

func TestActivityCursorCodec(t *testing.T) {
	c := activityCursor{channel: "C0ABC123", oldest: 1, latest: backchannel.TS(1<<62) + 5, next: 3}
	s := c.String()
	if strings.ContainsAny(s, "+/=") {
		t.Errorf("cursor %q needs escaping in a URL", s)
	}
	for _, variant := range []string{s, s + "==", strings.NewReplacer("-", "+", "_", "/").Replace(s)} {
		got, err := decodeActivityCursor(variant)
		if err != nil || got != c {
			t.Errorf("decode(%q) = %+v, %v; want %+v", variant, got, err, c)
		}
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, bad := range []string{
		"", "abcd", "!!!!", strings.Repeat("A", 300), EncodeCursor(5),
		enc("activity2:1:2:2:C1"), enc("activity1:1:2:2"), enc("activity1:1:2:2:"), enc("activity1:1:2:3:C1"),
		enc("activity1:3:2:2:C1"), enc("activity1:1:2:0:C1"), enc("activity1:1:2:-1:C1"), enc("activity1:+1:2:2:C1"),
		enc("activity1:1:99999999999999999999:2:C1"), enc("activity1:1:9223372036854775808:2:C1"), enc("activity1:1:x:2:C1"),
	} {
		if _, err := decodeActivityCursor(bad); backchannel.ErrorCode(err) != "invalid_cursor" {
			t.Errorf("decode(%q): %v, want invalid_cursor", bad, err)
		}
	}
}

func FuzzActivityCursor(f *testing.F) {
	f.Add(activityCursor{channel: "C1", oldest: 1, latest: 9, next: 5}.String())
	f.Add("YWN0aXZpdHkxOjE6OTo1OkMx==")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeActivityCursor(s)
		if err != nil {
			if backchannel.ErrorCode(err) != "invalid_cursor" {
				t.Fatalf("error %v", err)
			}
			return
		}
		if again, err := decodeActivityCursor(c.String()); err != nil || again != c {
			t.Fatalf("%+v re-decodes as %+v, %v", c, again, err)
		}
	})
}

// The exact bytes: field order and nesting as the seed's example, escaping
// as Slack's encoder, [] (never null) for a message nobody touched, and
// response_metadata only while more remain.
func TestActivityGolden(t *testing.T) {
	api, _, _ := activityAPI(t, analyticsWorld(), activityFixture())
	for _, tt := range []struct{ name, query string }{
		{"activity_first_page", "channel=C1&limit=2"},
		{"activity_last_page", "channel=C1&oldest_ts=1709204400&latest_ts=1709290800"},
		{"activity_empty", "channel=C1&latest_ts=1"},
		{"activity_not_an_admin", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := tokAnalytics
			if tt.query == "" {
				tok = tokPlainUser
			}
			checkGolden(t, tt.name, []byte(activity(t, api, tok, tt.query).body))
		})
	}
}

func TestActivityZeroShape(t *testing.T) {
	api, _, _ := activityAPI(t, analyticsWorld(), activityFixture())
	r := activity(t, api, tokAnalytics, "channel=C1&oldest_ts=1709294400&latest_ts=1709294400")
	var got struct {
		Activities []map[string]any `json:"message_activities"`
	}
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || len(got.Activities) != 1 {
		t.Fatalf("%s (%v)", r.body, err)
	}
	a := got.Activities[0]
	for _, k := range []string{"unique_user_reactions_count", "unique_user_shares_count", "unique_user_views_count", "unique_user_clicks_count"} {
		if a[k] != 0.0 {
			t.Errorf("%s = %v", k, a[k])
		}
	}
	if v, ok := a["unique_stats_by_department"].([]any); !ok || len(v) != 0 {
		t.Errorf("unique_stats_by_department = %#v, want []", a["unique_stats_by_department"])
	}
	if v, ok := a["unique_stats_by_org"].([]any); !ok || len(v) != 0 {
		t.Errorf("unique_stats_by_org = %#v, want []", a["unique_stats_by_org"])
	}
	if a["timestamp"] != "1709294400.000000" || a["channel_id"] != "C1" || a["ts"] != nil {
		t.Errorf("entry %v", a)
	}
}

func TestActivityRateLimit(t *testing.T) {
	api, _, _ := activityAPI(t, analyticsWorld(), activityFixture(), func(c *Config) { c.RateLimit = RateLimitSlack })
	passed, r := burst(t, api, call{method: methodActivity, token: tokAnalytics, query: "channel=C1"}, 100)
	if passed != tier2 || r.errCode(t) != "ratelimited" || r.header.Get("Retry-After") == "" {
		t.Errorf("%d calls passed, then %d %s", passed, r.status, r.body)
	}
}
