package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/server"
	"github.com/backchannel/backchannel/slackapi"
)

// analyticsFixture is a small enterprise with two days of activity, served
// with a clock fixed at the test's start: day1 and day2 are past settle,
// today is not.
type analyticsFixture struct {
	srv                     *testServer
	admin, adminNoPC, plain string // xoxp tokens: admin who manages public channels, admin who does not, non-admin
	bot, noScope, ingest    string
	today, day1, day2       backchannel.Day
	members                 []string // non-bot users, in every member file
	channels                []string // public channels, in every channel file
}

const (
	anEnterprise = "E0ANALYT01"
	anTeam       = "T0ANTEAM01"
	anAdmin      = "W0ANADMIN1"
	anAdminNoPC  = "W0ANADMIN2"
	anMember1    = "W0ANMEMB01"
	anMember2    = "W0ANMEMB02"
	anBot        = "U0ANBOT001"
	anGeneral    = "C0ANGENER1"
	anRandom     = "C0ANRANDO1"
	anPrivate    = "G0ANPRIVA1"
)

// newAnalyticsFixture seeds the enterprise through /ingest/events, or skips
// a store kind that does not implement backchannel.AnalyticsStore yet.
func newAnalyticsFixture(t *testing.T, open opener) *analyticsFixture {
	t.Helper()
	st := open(t)
	if _, ok := st.(backchannel.AnalyticsStore); !ok {
		st.Close()
		t.Skipf("%T does not implement backchannel.AnalyticsStore yet", st)
	}
	now := time.Now().UTC()
	f := &analyticsFixture{today: backchannel.DayOf(now), members: []string{anAdmin, anAdminNoPC, anMember1, anMember2},
		channels: []string{anGeneral, anRandom}}
	f.day1, f.day2 = f.today-3, f.today-2
	f.srv = serveStoreWith(t, st, "off", func(c *slackapi.Config, s *server.Config) {
		c.Now, s.Now = func() time.Time { return now }, func() time.Time { return now }
	})
	f.ingest = mintToken(t, st, anAdmin, anTeam, false, backchannel.ScopeIngest)
	f.admin = mintToken(t, st, anAdmin, anTeam, false, "admin.analytics:read")
	f.adminNoPC = mintToken(t, st, anAdminNoPC, anTeam, false, "admin.analytics:read")
	f.plain = mintToken(t, st, anMember1, anTeam, false, "admin.analytics:read")
	f.bot = mintToken(t, st, anBot, anTeam, true, "admin.analytics:read")
	f.noScope = mintToken(t, st, anAdmin, anTeam, false, "channels:history")

	const created = 1600000000 // long before the activity
	ev := [][]byte{
		line(map[string]any{"type": "enterprise", "id": anEnterprise, "name": "Acme Corp", "member_analytics_enabled": true,
			"hide_email_addresses": false, "analytics_start": "2020-01-01"}),
		line(map[string]any{"type": "team", "id": anTeam, "name": "Acme HQ", "domain": "acme-hq", "enterprise_id": anEnterprise}),
	}
	for _, u := range []map[string]any{
		{"id": anAdmin, "is_admin": true, "can_manage_public_channels": true},
		{"id": anAdminNoPC, "is_admin": true},
		{"id": anMember1, "email": "m1@example.org"},
		{"id": anMember2, "email": "m2@example.org", "employee_number": "42", "department": "Sales"},
		{"id": anBot, "is_bot": true},
	} {
		u["type"], u["team_id"], u["name"], u["date_claimed"], u["event_ts"] = "user", anTeam, u["id"], created, created
		ev = append(ev, line(u))
	}
	for _, c := range [][3]string{{anGeneral, "general", "public"}, {anRandom, "random", "public"}, {anPrivate, "secret", "private"}} {
		ev = append(ev, line(map[string]any{"type": "channel", "id": c[0], "team_id": anTeam, "name": c[1], "kind": c[2],
			"created": created, "topic": "about " + c[1], "purpose": "for " + c[1], "event_ts": created}))
		for _, u := range []string{anAdmin, anMember1, anMember2, anBot} {
			ev = append(ev, line(map[string]any{"type": "member_joined_channel", "channel": c[0], "user": u, "event_ts": created + 1}))
		}
	}
	// day1: member1 posts 3 times in #general from the desktop and searches
	// twice; member2 posts in the private channel from iOS, reads #general
	// on Android and reacts; the bot posts once.
	at := func(d backchannel.Day, sec int) string {
		return fmt.Sprintf("%d.%06d", d.Start().Unix()+int64(sec), sec%1000)
	}
	for i := 0; i < 3; i++ {
		ev = append(ev, line(map[string]any{"type": "message", "channel": anGeneral, "user": anMember1, "ts": at(f.day1, 3600+i),
			"text": fmt.Sprintf("hello %d", i), "client": "desktop"}))
	}
	ev = append(ev,
		line(map[string]any{"type": "message", "channel": anGeneral, "user": anBot, "bot_id": "B0ANBOT001", "ts": at(f.day1, 3700), "text": "beep"}),
		line(map[string]any{"type": "message", "channel": anPrivate, "user": anMember2, "ts": at(f.day1, 3800), "text": "psst", "client": "ios"}),
		line(map[string]any{"type": "message_viewed", "channel": anGeneral, "ts": at(f.day1, 3600), "user": anMember2, "client": "android", "event_ts": at(f.day1, 4000)}),
		line(map[string]any{"type": "reaction_added", "channel": anGeneral, "ts": at(f.day1, 3600), "user": anMember2, "reaction": "tada", "event_ts": at(f.day1, 4001)}),
		line(map[string]any{"type": "search", "user": anMember1, "event_ts": at(f.day1, 5000)}),
		line(map[string]any{"type": "search", "user": anMember1, "event_ts": at(f.day1, 5001)}),
		line(map[string]any{"type": "call", "kind": "huddle", "user": anMember1, "event_ts": at(f.day1, 5002)}),
		// day2: one message in #random.
		line(map[string]any{"type": "message", "channel": anRandom, "user": anMember2, "ts": at(f.day2, 100), "text": "day two", "client": "web"}),
	)
	ingestLines(t, f.srv.URL, f.ingest, ev, false)
	return f
}

// fileLine is one decoded line of a getFile file.
type fileLine map[string]any

// getFileJava reads a file the way the Java SDK does: POST form with a
// Bearer token, any non-json subtype is the file, a plain GZIPInputStream
// over the body (so no Content-Encoding), line by line, each line JSON.
func getFileJava(t *testing.T, base, token string, form url.Values) (lines []fileLine, raw []byte, disposition string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/admin.analytics.getFile", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	// Go's transport, like OkHttp, asks for gzip itself and would unzip a
	// Content-Encoding: gzip reply transparently (resp.Uncompressed).
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	ct := resp.Header.Get("Content-Type")
	media, _, err := mime.ParseMediaType(ct)
	if err != nil || resp.StatusCode != 200 || strings.HasSuffix(media, "/json") {
		t.Fatalf("%v: status %d, Content-Type %q: %s", form, resp.StatusCode, ct, raw)
	}
	if ct != "application/gzip" || resp.Uncompressed || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("%v: Content-Type %q, Content-Encoding %q (uncompressed by the transport: %v)",
			form, ct, resp.Header.Get("Content-Encoding"), resp.Uncompressed)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%v: not gzip: %v", form, err)
	}
	r := bufio.NewReader(zr)
	for {
		l, err := r.ReadString('\n')
		if err == io.EOF && l == "" {
			break
		}
		if err != nil {
			t.Fatalf("%v: line %d: %q not newline-terminated: %v", form, len(lines)+1, l, err)
		}
		if strings.TrimSpace(l) == "" {
			t.Fatalf("%v: blank line %d (Java would decode it as null)", form, len(lines)+1)
		}
		var m fileLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: line %d is not JSON: %v\n%s", form, len(lines)+1, err, l)
		}
		lines = append(lines, m)
	}
	if err := zr.Close(); err != nil {
		t.Fatalf("%v: gzip trailer: %v", form, err)
	}
	return lines, raw, resp.Header.Get("Content-Disposition")
}

// byID indexes file lines by key and checks the set of keys.
func byID(t *testing.T, what string, lines []fileLine, key string, want []string) map[string]fileLine {
	t.Helper()
	m := map[string]fileLine{}
	for _, l := range lines {
		id, _ := l[key].(string)
		m[id] = l
	}
	if len(m) != len(want) || len(lines) != len(want) {
		t.Fatalf("%s: %d lines with %s %v, want exactly %v", what, len(lines), key, keys(m), want)
	}
	for _, id := range want {
		if m[id] == nil {
			t.Fatalf("%s: no line for %s (have %v)", what, id, keys(m))
		}
	}
	return m
}

func keys(m map[string]fileLine) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestAnalyticsGetFileJavaStyle(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newAnalyticsFixture(t, open)
		base := f.srv.URL
		d1 := f.day1.String()

		lines, raw, disp := getFileJava(t, base, f.admin, url.Values{"type": {"member"}, "date": {d1}})
		if want := `attachment; filename="Acme Corp Member Analytics ` + d1 + `.json.gz"`; disp != want {
			t.Errorf("Content-Disposition %s, want %s", disp, want)
		}
		m := byID(t, "member "+d1, lines, "user_id", f.members)
		if m[anMember1]["messages_posted_count"] != 3.0 || m[anMember1]["search_count"] != 2.0 || m[anMember1]["is_active_desktop"] != true {
			t.Errorf("member1 on %s: %v", d1, m[anMember1])
		}
		if m[anMember2]["is_active_android"] != true || m[anMember2]["reactions_added_count"] != 1.0 ||
			m[anMember2]["channel_messages_posted_count"] != 1.0 || m[anMember2]["enterprise_employee_number"] != "42" {
			t.Errorf("member2 on %s: %v", d1, m[anMember2])
		}
		for _, l := range lines {
			if l["date"] != d1 || l["enterprise_id"] != anEnterprise {
				t.Errorf("line %v: want date %s, enterprise %s", l, d1, anEnterprise)
			}
		}

		chans, _, _ := getFileJava(t, base, f.admin, url.Values{"type": {"public_channel"}, "date": {d1}})
		c := byID(t, "public_channel "+d1, chans, "channel_id", f.channels)
		if c[anGeneral]["messages_posted_count"] != 4.0 || c[anGeneral]["messages_posted_by_members_count"] != 3.0 {
			t.Errorf("#general on %s: %v", d1, c[anGeneral])
		}

		meta, _, disp := getFileJava(t, base, f.admin, url.Values{"type": {"public_channel"}, "metadata_only": {"1"}})
		md := byID(t, "metadata", meta, "channel_id", f.channels)
		if md[anGeneral]["name"] != "general" || md[anGeneral]["date"] != f.today.String() {
			t.Errorf("metadata of #general: %v", md[anGeneral])
		}
		if !strings.Contains(disp, "Acme Corp Public Channel Metadata "+f.today.String()+".json.gz") {
			t.Errorf("metadata Content-Disposition %s", disp)
		}

		// A closed day is served byte-identical, even after a late event.
		ingestLines(t, base, f.ingest, [][]byte{line(map[string]any{"type": "search", "user": anMember2,
			"event_ts": fmt.Sprintf("%d.000000", f.day1.Start().Unix()+7000)})}, false)
		if _, again, _ := getFileJava(t, base, f.admin, url.Values{"type": {"member"}, "date": {d1}}); !bytes.Equal(raw, again) {
			t.Errorf("the member file of closed day %s changed", d1)
		}
	})
}

// Every error a client can provoke is an HTTP 200 JSON reply.
func TestAnalyticsGetFileErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newAnalyticsFixture(t, open)
		old := (f.today - 500).String() // after analytics_start, outside 13 months
		for _, tc := range []struct{ token, query, want string }{
			{f.bot, "type=member&date=" + f.day1.String(), "not_allowed_token_type"},
			{f.noScope, "type=member&date=" + f.day1.String(), "missing_scope"},
			{f.plain, "type=member&date=" + f.day1.String(), "not_an_admin"},
			{f.admin, "date=" + f.day1.String(), "invalid_arguments"},
			{f.admin, "type=member", "invalid_arguments"},
			{f.admin, "type=channels&date=" + f.day1.String(), "invalid_type"},
			{f.admin, "type=member&metadata_only=true", "metadata_not_available"},
			{f.admin, "type=public_channel&metadata_only=true&date=" + f.day1.String(), "metadata_only_does_not_support_date"},
			{f.admin, "type=member&date=2023-02-29", "invalid_date"},
			{f.adminNoPC, "type=public_channel&date=" + f.day1.String(), "user_cannot_manage_public_channels"},
			{f.admin, "type=member&date=" + f.today.String(), "file_not_yet_available"},
			{f.admin, "type=member&date=2035-12-31", "file_not_yet_available"},
			{f.admin, "type=member&date=2019-12-31", "data_not_available"},
			{f.admin, "type=member&date=" + old, "file_not_found"},
		} {
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/admin.analytics.getFile?"+tc.query, nil)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // Python async: args in the query, empty body
			req.Header.Set("Authorization", "Bearer "+tc.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				OK    *bool  `json:"ok"`
				Error string `json:"error"`
			}
			err = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || got.OK == nil || *got.OK || got.Error != tc.want ||
				resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("%s: status %d %q, %+v (%v); want %s", tc.query, resp.StatusCode, resp.Header.Get("Content-Type"), got, err, tc.want)
			}
		}
	})
}
