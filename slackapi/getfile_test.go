package slackapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
)

// getFile fixture tokens (testNow is 2024-03-01 12:00 UTC).
const (
	tokAnalytics  = "xoxp-analytics"  // W3: admin, can manage public channels
	tokAdminNoPC  = "xoxp-admin-nopc" // W4: admin, cannot manage public channels
	tokPrimary    = "xoxp-primary"    // W5: primary owner only
	tokOwner      = "xoxp-owner"      // W6: owner, nothing else
	tokPlainUser  = "xoxp-plain"      // W1: not an admin, has the scope
	tokAdminNoSc  = "xoxp-admin-nosc" // W3 without admin.analytics:read
	tokBotAnalyst = "xoxb-analyst"    // bot U9 with the scope
)

const scopeAnalytics = "admin.analytics:read"

func day(t testing.TB, s string) backchannel.Day {
	t.Helper()
	d, err := backchannel.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// analyticsWorld adds admins and their tokens to newWorld.
func analyticsWorld() *world {
	w := newWorld()
	w.users["W3"] = backchannel.User{ID: "W3", TeamID: "T1", Name: "ada", IsAdmin: true, CanManagePublicChannels: true}
	w.users["W4"] = backchannel.User{ID: "W4", TeamID: "T1", Name: "bob", IsAdmin: true}
	w.users["W5"] = backchannel.User{ID: "W5", TeamID: "T1", Name: "cy", IsPrimaryOwner: true}
	w.users["W6"] = backchannel.User{ID: "W6", TeamID: "T1", Name: "di", IsOwner: true}
	w.ent.MemberAnalyticsEnabled = true
	add := func(tok, user string, bot bool, scopes ...string) {
		w.tokens[tok] = backchannel.Token{ID: backchannel.TokenID(tok), Hash: backchannel.HashToken(tok),
			UserID: user, TeamID: "T1", Bot: bot, Scopes: scopes}
	}
	add(tokAnalytics, "W3", false, "users:read", scopeAnalytics)
	add(tokAdminNoPC, "W4", false, scopeAnalytics)
	add(tokPrimary, "W5", false, scopeAnalytics)
	add(tokOwner, "W6", false, scopeAnalytics)
	add(tokPlainUser, "W1", false, scopeAnalytics)
	add(tokAdminNoSc, "W3", false, "users:read")
	add(tokBotAnalyst, "U9", true, scopeAnalytics)
	return w
}

// analyticsAPI serves w with a fake AnalyticsStore holding data from
// 2023-01-01: days up to 2024-02-27 closed (those the tests read), the
// three latest pending.
func analyticsAPI(t testing.TB, w *world, cfg ...func(*Config)) (*API, *analyticsFake, *clock) {
	t.Helper()
	fake := newAnalyticsFake(w.store())
	fake.status = backchannel.AnalyticsStatus{HasData: true, FirstDay: day(t, "2023-01-01"), LastDay: day(t, "2024-03-01"),
		LastClosed: day(t, "2024-02-27"),
		Pending:    []backchannel.Day{day(t, "2024-02-28"), day(t, "2024-02-29"), day(t, "2024-03-01")}}
	for _, s := range []string{"2023-01-01", "2023-01-31", "2023-02-01", "2024-01-15", "2024-02-27"} {
		fake.closed[day(t, s)] = true
	}
	c := &clock{t: testNow}
	conf := Config{Store: fake, Now: c.Now, RateLimit: RateLimitOff, Logger: discardLogger()}
	for _, f := range cfg {
		f(&conf)
	}
	return New(conf), fake, c
}

func getFile(t *testing.T, api http.Handler, tok, query string) reply {
	t.Helper()
	return do(t, api, call{method: "admin.analytics.getFile", query: query, token: tok})
}

func TestGetFileErrors(t *testing.T) {
	tests := []struct {
		name, tok, query string
		setup            func(*world, *analyticsFake, *clock)
		cfg              func(*Config)
		want             string
	}{
		{name: "no token", query: "type=member&date=2024-02-27", want: "not_authed"},
		{name: "bad token", tok: "xoxp-nope", query: "type=member&date=2024-02-27", want: "invalid_auth"},
		{name: "bot token", tok: tokBotAnalyst, query: "type=member&date=2024-02-27", want: "not_allowed_token_type"},
		{name: "scope", tok: tokAdminNoSc, query: "type=member&date=2024-02-27", want: "missing_scope"},
		{name: "not admin", tok: tokPlainUser, query: "type=member&date=2024-02-27", want: "not_an_admin"},
		{name: "no analytics store", tok: tokAnalytics, query: "type=member&date=2024-02-27", want: "feature_not_enabled",
			cfg: func(c *Config) { c.Store = c.Store.(*analyticsFake).fakeStore }},
		{name: "type missing", tok: tokAnalytics, query: "date=2024-02-27", want: "invalid_arguments"},
		{name: "type empty", tok: tokAnalytics, query: "type=&date=2024-02-27", want: "invalid_arguments"},
		{name: "type unknown", tok: tokAnalytics, query: "type=private_channel&date=2024-02-27", want: "invalid_type"},
		{name: "metadata of members", tok: tokAnalytics, query: "type=member&metadata_only=true", want: "metadata_not_available"},
		{name: "metadata with date", tok: tokAnalytics, query: "type=public_channel&metadata_only=1&date=2024-02-27",
			want: "metadata_only_does_not_support_date"},
		{name: "member without date", tok: tokAnalytics, query: "type=member", want: "invalid_arguments"},
		{name: "channel without date", tok: tokAnalytics, query: "type=public_channel&metadata_only=false", want: "invalid_arguments"},
		{name: "date not real", tok: tokAnalytics, query: "type=member&date=2024-02-30", want: "invalid_date"},
		{name: "date unpadded", tok: tokAnalytics, query: "type=member&date=2024-2-27", want: "invalid_date"},
		{name: "date garbage", tok: tokAnalytics, query: "type=member&date=yesterday", want: "invalid_date"},
		{name: "date with time", tok: tokAnalytics, query: "type=member&date=2024-02-27T00:00:00Z", want: "invalid_date"},
		{name: "channels, admin without permission", tok: tokAdminNoPC, query: "type=public_channel&date=2024-02-27",
			want: "user_cannot_manage_public_channels"},
		{name: "metadata, admin without permission", tok: tokAdminNoPC, query: "type=public_channel&metadata_only=true",
			want: "user_cannot_manage_public_channels"},
		{name: "channels, owner without permission", tok: tokOwner, query: "type=public_channel&date=2024-02-27",
			want: "user_cannot_manage_public_channels"},
		{name: "member analytics disabled", tok: tokAnalytics, query: "type=member&date=2024-02-27", want: "member_analytics_disabled",
			setup: func(w *world, _ *analyticsFake, _ *clock) { w.ent.MemberAnalyticsEnabled = false }},
		{name: "emails hidden", tok: tokAnalytics, query: "type=member&date=2024-02-27", want: "org_level_email_display_disabled",
			setup: func(w *world, _ *analyticsFake, _ *clock) { w.ent.HideEmailAddresses = true }},
		{name: "today", tok: tokAnalytics, query: "type=member&date=2024-03-01", want: "file_not_yet_available"},
		{name: "future", tok: tokAnalytics, query: "type=public_channel&date=2035-12-31", want: "file_not_yet_available"},
		{name: "yesterday within settle", tok: tokAnalytics, query: "type=member&date=2024-02-29", want: "file_not_yet_available",
			setup: func(_ *world, _ *analyticsFake, c *clock) { c.t = time.Date(2024, 3, 1, 0, 59, 59, 0, time.UTC) }},
		{name: "longer settle", tok: tokAnalytics, query: "type=member&date=2024-02-29", want: "file_not_yet_available",
			cfg: func(c *Config) { c.Settle = 13 * time.Hour }},
		{name: "before first data", tok: tokAnalytics, query: "type=member&date=2022-12-31", want: "data_not_available"},
		{name: "before analytics_start", tok: tokAnalytics, query: "type=member&date=2024-01-15", want: "data_not_available",
			setup: func(w *world, _ *analyticsFake, _ *clock) { w.ent.AnalyticsStart = "2024-02-01" }},
		{name: "no data at all", tok: tokAnalytics, query: "type=member&date=2024-02-27", want: "data_not_available",
			setup: func(_ *world, f *analyticsFake, _ *clock) { f.status = backchannel.AnalyticsStatus{LastClosed: -1} }},
		{name: "outside retention", tok: tokAnalytics, query: "type=member&date=2023-01-31", want: "file_not_found"},
		{name: "outside shorter retention", tok: tokAnalytics, query: "type=member&date=2024-01-15", want: "file_not_found",
			cfg: func(c *Config) { c.Retention, _ = ParseRetention("30d") }},
		{name: "closed day without a file", tok: tokAnalytics, query: "type=member&date=2024-02-10", want: "file_not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := analyticsWorld()
			api, fake, c := analyticsAPI(t, w, func(conf *Config) {
				if tc.cfg != nil {
					tc.cfg(conf)
				}
			})
			if tc.setup != nil {
				tc.setup(w, fake, c)
			}
			r := getFile(t, api, tc.tok, tc.query)
			if got := r.errCode(t); got != tc.want {
				t.Fatalf("error = %q, want %q\n%s", got, tc.want, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" || r.status != 200 {
				t.Errorf("status %d, Content-Type %q: every error is HTTP 200 JSON", r.status, ct)
			}
			if r.header.Get("Content-Disposition") != "" {
				t.Errorf("an error reply carries Content-Disposition %q", r.header.Get("Content-Disposition"))
			}
			if tc.want == "missing_scope" {
				m := r.obj(t)
				if m["needed"] != scopeAnalytics || m["provided"] != "users:read" {
					t.Errorf("needed/provided = %v/%v", m["needed"], m["provided"])
				}
			}
		})
	}
}

func TestGetFileServes(t *testing.T) {
	tests := []struct {
		name, tok string
		c         call
		setup     func(*world)
		body      string
		filename  string
	}{
		{"member GET", tokAnalytics, call{query: "type=member&date=2024-02-27"},
			nil, "member-gzip-bytes", `attachment; filename="Acme Corp Member Analytics 2024-02-27.json.gz"`},
		{"channels by primary owner", tokPrimary, call{query: "type=public_channel&date=2024-01-15"},
			nil, "channel-gzip-bytes", `attachment; filename="Acme Corp Public Channel Analytics 2024-01-15.json.gz"`},
		{"metadata", tokAnalytics, call{query: "type=public_channel&metadata_only=true"},
			nil, "metadata-gzip-bytes", `attachment; filename="Acme Corp Public Channel Metadata 2024-03-01.json.gz"`},
		{"owner reads members", tokOwner, call{query: "type=member&date=2023-02-01"}, // oldest day kept
			nil, "member-gzip-bytes", `attachment; filename="Acme Corp Member Analytics 2023-02-01.json.gz"`},
		// Python's async client: POST, arguments in the query string, empty body.
		{"POST query, empty body", tokAnalytics, call{verb: "POST", query: "type=member&date=2024-02-27", contentType: ctForm},
			nil, "member-gzip-bytes", `attachment; filename="Acme Corp Member Analytics 2024-02-27.json.gz"`},
		{"POST form", tokAnalytics, call{body: "type=public_channel&date=2024-02-27", contentType: ctForm},
			nil, "channel-gzip-bytes", `attachment; filename="Acme Corp Public Channel Analytics 2024-02-27.json.gz"`},
		{"POST JSON", tokAnalytics, call{body: `{"type":"public_channel","metadata_only":true}`, contentType: "application/json; charset=utf-8"},
			nil, "metadata-gzip-bytes", `attachment; filename="Acme Corp Public Channel Metadata 2024-03-01.json.gz"`},
		{"single workspace: team name", tokAnalytics, call{query: "type=member&date=2024-02-27"},
			func(w *world) { w.ent = backchannel.Enterprise{ID: "0"} }, // member analytics not "disabled" either
			"member-gzip-bytes", `attachment; filename="Acme Member Analytics 2024-02-27.json.gz"`},
		{"unicode and quotes in the name", tokAnalytics, call{query: "type=member&date=2024-02-27"},
			func(w *world) { w.ent.Name = `Café "Ø"` },
			"member-gzip-bytes", `attachment; filename="Caf_ \"_\" Member Analytics 2024-02-27.json.gz"; ` +
				`filename*=UTF-8''Caf%C3%A9%20%22%C3%98%22%20Member%20Analytics%202024-02-27.json.gz`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := analyticsWorld()
			if tc.setup != nil {
				tc.setup(w)
			}
			api, _, _ := analyticsAPI(t, w)
			tc.c.method, tc.c.token = "admin.analytics.getFile", tc.tok
			r := do(t, api, tc.c)
			if r.status != 200 || r.body != tc.body {
				t.Fatalf("status %d body %q, want 200 %q", r.status, r.body, tc.body)
			}
			if got := r.header.Values("Content-Type"); !slices.Equal(got, []string{"application/gzip"}) {
				t.Errorf("Content-Type = %q, want exactly application/gzip", got)
			}
			if got := r.header.Values("Content-Encoding"); len(got) > 0 {
				t.Errorf("Content-Encoding = %q: the Java SDK would unzip twice", got)
			}
			if got := r.header.Get("Content-Disposition"); got != tc.filename {
				t.Errorf("Content-Disposition = %s\nwant %s", got, tc.filename)
			}
			if got := r.header.Get("Content-Length"); got != "" {
				t.Errorf("Content-Length = %q on a streamed file", got)
			}
			if r.header.Get("X-Slack-Req-Id") == "" || !strings.Contains(r.header.Get("X-Oauth-Scopes"), scopeAnalytics) {
				t.Errorf("usual Slack headers missing: %v", r.header)
			}
		})
	}
}

// A day past settle that the background loop has not closed yet is closed
// by the request itself; a closed day is served without finalizing.
func TestGetFileFinalizesOnDemand(t *testing.T) {
	api, fake, c := analyticsAPI(t, analyticsWorld())
	if r := getFile(t, api, tokAnalytics, "type=member&date=2024-02-27"); r.status != 200 {
		t.Fatalf("closed day: %d %s", r.status, r.body)
	}
	if got := fake.finalizeCalls(); len(got) != 0 {
		t.Fatalf("a closed day was finalized again: %v", got)
	}
	if r := getFile(t, api, tokAnalytics, "type=public_channel&date=2024-02-29"); r.status != 200 || r.body != "channel-gzip-bytes" {
		t.Fatalf("pending day past settle: %d %s", r.status, r.body)
	}
	if got, want := fake.finalizeCalls(), []backchannel.Day{day(t, "2024-02-29")}; !slices.Equal(got, want) {
		t.Fatalf("FinalizeDays calls = %v, want %v", got, want)
	}
	// The metadata file is as of the request's day.
	c.t = time.Date(2024, 3, 2, 0, 0, 1, 0, time.UTC)
	if r := getFile(t, api, tokAnalytics, "type=public_channel&metadata_only=true"); r.status != 200 {
		t.Fatalf("metadata: %d %s", r.status, r.body)
	}
	if got := fake.metaAsOf; !slices.Equal(got, []backchannel.Day{day(t, "2024-03-02")}) {
		t.Errorf("WriteMetadataFile asOf = %v, want [2024-03-02]", got)
	}
}

// getFile is Tier 2: 20 a minute per token, then 429 with Retry-After.
func TestGetFileRateLimit(t *testing.T) {
	api, _, _ := analyticsAPI(t, analyticsWorld(), func(c *Config) { c.RateLimit = RateLimitSlack })
	for i := 0; i < tier2; i++ {
		if r := getFile(t, api, tokAnalytics, "type=member&date=2024-02-27"); r.status != 200 {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := getFile(t, api, tokAnalytics, "type=member&date=2024-02-27")
	if r.status != 429 || r.errCode(t) != "ratelimited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("request 21: %d %v %s", r.status, r.header, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("429 Content-Type = %q", ct)
	}
}
