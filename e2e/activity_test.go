package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
)

const methodActivity = "admin.analytics.messages.activity"

// activityReply is a messages.activity reply with each entry kept as its
// raw bytes, so entries are compared byte for byte.
type activityReply struct {
	OK         bool              `json:"ok"`
	Error      string            `json:"error"`
	Activities []json.RawMessage `json:"message_activities"`
	Metadata   *struct {
		NextCursor string `json:"next_cursor"`
	} `json:"response_metadata"`
	raw []byte
}

// ts returns the entries' timestamps in order.
func (r activityReply) ts(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, a := range r.Activities {
		var e struct {
			Timestamp string `json:"timestamp"`
		}
		if err := json.Unmarshal(a, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Timestamp)
	}
	return out
}

// callActivity sends GET with a query string, or POST with a form or a JSON
// body (verb "form" or "json"), with a Bearer token.
func callActivity(t *testing.T, base, token, verb string, args url.Values) activityReply {
	t.Helper()
	u := base + "/api/" + methodActivity
	var req *http.Request
	switch verb {
	case "get":
		req, _ = http.NewRequest(http.MethodGet, u+"?"+args.Encode(), nil)
	case "form":
		req, _ = http.NewRequest(http.MethodPost, u, strings.NewReader(args.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case "json":
		m := map[string]string{}
		for k := range args {
			m[k] = args.Get(k)
		}
		b, _ := json.Marshal(m)
		req, _ = http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r activityReply
	if err := json.Unmarshal(raw, &r); err != nil || resp.StatusCode != 200 ||
		resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%s %v: status %d %q: %s (%v)", verb, args, resp.StatusCode, resp.Header.Get("Content-Type"), raw, err)
	}
	r.raw = raw
	return r
}

// Every count of every message in the default window, byte for byte,
// against the hand-computed expectations, through GET, form and JSON.
func TestActivityCounts(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newActivityFixture(t, open)
		var first []byte
		for _, verb := range []string{"get", "form", "json"} {
			r := callActivity(t, f.srv.URL, f.admin, verb, url.Values{"channel": {actAnnounce}, "limit": {"100"}})
			if !r.OK || r.Metadata != nil {
				t.Fatalf("%s: %s", verb, r.raw)
			}
			if got := r.ts(t); strings.Join(got, " ") != strings.Join(f.visible, " ") {
				t.Errorf("%s: messages %v\nwant %v", verb, got, f.visible)
			}
			for i, a := range r.Activities {
				if i >= len(f.visible) {
					break
				}
				if want := f.want[f.visible[i]].json(t); string(a) != want {
					t.Errorf("%s: entry %d\n got %s\nwant %s", verb, i, a, want)
				}
			}
			if first == nil {
				first = r.raw
			} else if !bytes.Equal(first, r.raw) {
				t.Errorf("%s reply differs from GET's:\n%s\n%s", verb, r.raw, first)
			}
		}
	})
}

// The seed's defaults in both directions, inclusive at both ends, through
// the real store.
func TestActivityWindowEdges(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newActivityFixture(t, open)
		get := func(args url.Values) []string {
			args.Set("channel", actAnnounce)
			args.Set("limit", "100")
			return callActivity(t, f.srv.URL, f.admin, "get", args).ts(t)
		}
		older := f.visible[1:] // all but the newest, from now−1µs down
		for _, tc := range []struct {
			name string
			args url.Values
			want []string
		}{
			{"neither: [now−7d, now]", url.Values{}, f.visible},
			{"only oldest: [oldest, oldest+7d]", url.Values{"oldest_ts": {f.outside}}, append(older[:len(older):len(older)], f.outside)},
			{"only latest: [latest−7d, latest]", url.Values{"latest_ts": {f.onBound}}, []string{f.onBound, f.outside}},
			{"both, one instant", url.Values{"oldest_ts": {f.newest}, "latest_ts": {f.newest}}, []string{f.newest}},
			{"both, one instant outside the default window", url.Values{"oldest_ts": {f.outside}, "latest_ts": {f.outside}}, []string{f.outside}},
		} {
			if got := get(tc.args); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("%s: %v\nwant %v", tc.name, got, tc.want)
			}
		}
	})
}

// A cursor walk returns each message once, newest first, and keeps its
// window while the server's clock moves; the last page has no
// response_metadata.
func TestActivityCursorWalkE2E(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newActivityFixture(t, open)
		var got []string
		cursor := ""
		pages := 0
		for ; pages < 20; pages++ {
			args := url.Values{"channel": {actAnnounce}, "limit": {"2"}}
			if cursor != "" {
				args.Set("cursor", cursor)
			}
			r := callActivity(t, f.srv.URL, f.admin, []string{"get", "form", "json"}[pages%3], args)
			if !r.OK {
				t.Fatalf("page %d: %s", pages+1, r.raw)
			}
			got = append(got, r.ts(t)...)
			if r.Metadata == nil {
				pages++
				break
			}
			cursor = r.Metadata.NextCursor
			// A day later: a fresh first page would lose the oldest message.
			f.clock.Add(int64(24 * time.Hour / time.Microsecond))
		}
		if strings.Join(got, " ") != strings.Join(f.visible, " ") || pages != (len(f.visible)+1)/2 {
			t.Errorf("%d pages: %v\nwant %v", pages, got, f.visible)
		}
	})
}

// Every error a client can provoke, as an HTTP 200 JSON reply.
func TestActivityErrorsE2E(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newActivityFixture(t, open)
		garbage := "bm90IGEgY3Vyc29y"
		for _, tc := range []struct {
			token string
			args  url.Values
			want  string
		}{
			{f.bot, url.Values{"channel": {actAnnounce}}, "not_allowed_token_type"},
			{f.noScope, url.Values{"channel": {actAnnounce}}, "missing_scope"},
			{f.plain, url.Values{"channel": {actAnnounce}}, "not_an_admin"},
			{f.admin, url.Values{}, "invalid_arguments"},
			{f.admin, url.Values{"channel": {actAnnounce}, "oldest_ts": {"last week"}}, "invalid_arguments"},
			{f.admin, url.Values{"channel": {actAnnounce}, "oldest_ts": {f.newest}, "latest_ts": {f.onBound}}, "invalid_arguments"},
			{f.admin, url.Values{"channel": {actAnnounce}, "cursor": {garbage}}, "invalid_cursor"},
			{f.admin, url.Values{"channel": {"C0NOSUCH01"}}, "channel_not_found"},
			{f.admin, url.Values{"channel": {actPrivate}}, "channel_not_found"},
			{f.admin, url.Values{"channel": {actIM}}, "channel_not_found"},
			{f.admin, url.Values{"channel": {actMPIM}}, "channel_not_found"},
		} {
			if r := callActivity(t, f.srv.URL, tc.token, "form", tc.args); r.OK || r.Error != tc.want {
				t.Errorf("%v: %s, want %s", tc.args, r.raw, tc.want)
			}
		}

		// A single workspace: no enterprise record.
		st := open(t)
		srv := serveStore(t, st, "off")
		ingest := mintToken(t, st, actAdmin, actTeamHQ, false, backchannel.ScopeIngest)
		ingestLines(t, srv.URL, ingest, [][]byte{
			line(map[string]any{"type": "team", "id": actTeamHQ, "name": "Solo", "domain": "solo"}),
			line(map[string]any{"type": "user", "id": actAdmin, "team_id": actTeamHQ, "name": "admin", "is_admin": true}),
		}, false)
		admin := mintToken(t, st, actAdmin, actTeamHQ, false, "admin.analytics:read")
		if r := callActivity(t, srv.URL, admin, "get", url.Values{"channel": {actAnnounce}}); r.Error != "not_an_enterprise" {
			t.Errorf("single workspace: %s, want not_an_enterprise", r.raw)
		}
	})
}

// TestNodeActivity runs e2e/node/activity.test.mjs: @slack/web-api's
// apiCall('admin.analytics.messages.activity', …) (POST form), paginate,
// and a plain fetch GET, against a real server per store kind.
func TestNodeActivity(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		node, dir := nodeDir(t)
		f := newActivityFixture(t, open)
		want := map[string]json.RawMessage{}
		for ts, w := range f.want {
			want[ts] = json.RawMessage(w.json(t))
		}
		expected, _ := json.Marshal(want)
		visible, _ := json.Marshal(f.visible)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "activity.test.mjs")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"BC_ACT_URL="+f.srv.APIURL(),
			"BC_ACT_TOKEN_ADMIN="+f.admin,
			"BC_ACT_TOKEN_PLAIN="+f.plain,
			"BC_ACT_TOKEN_BOT="+f.bot,
			"BC_ACT_TOKEN_NOSCOPE="+f.noScope,
			"BC_ACT_CHANNEL="+actAnnounce,
			"BC_ACT_PRIVATE="+actPrivate,
			"BC_ACT_VISIBLE="+string(visible),
			"BC_ACT_EXPECTED="+string(expected),
		)
		out, err := cmd.CombinedOutput()
		t.Logf("node --test:\n%s", out)
		if err != nil {
			t.Fatalf("node tests failed: %v", err)
		}
	})
}

// Until a store implements MessageActivityStore, the method exists and says
// so: feature_not_enabled, after the usual authentication.
func TestActivityFeatureNotEnabled(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		st := open(t)
		if _, ok := st.(backchannel.MessageActivityStore); ok {
			st.Close()
			t.Skipf("%T implements MessageActivityStore: the other activity tests cover it", st)
		}
		srv := serveStore(t, st, "off")
		admin := mintToken(t, st, actAdmin, actTeamHQ, false, "admin.analytics:read")
		ingest := mintToken(t, st, actAdmin, actTeamHQ, false, backchannel.ScopeIngest)
		ingestLines(t, srv.URL, ingest, [][]byte{
			line(map[string]any{"type": "user", "id": actAdmin, "team_id": actTeamHQ, "name": "admin", "is_admin": true}),
		}, false)
		if r := callActivity(t, srv.URL, admin, "get", url.Values{"channel": {actAnnounce}}); r.Error != "feature_not_enabled" {
			t.Errorf("%s, want feature_not_enabled", r.raw)
		}
	})
}
