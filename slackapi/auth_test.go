package slackapi

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/backchannel/backchannel"
)

func TestAuth(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name string
		c    call
		want string // error code, "" for ok
	}{
		{"header", call{token: tokUser}, ""},
		{"form body token (slack-go)", call{body: "token=" + tokUser, contentType: form}, ""},
		{"header and body (node)", call{token: tokUser, body: "token=" + tokUser, contentType: form}, ""},
		{"header wins over body", call{token: tokUser, body: "token=xoxp-unknown", contentType: form}, ""},
		{"not_authed", call{}, "not_authed"},
		{"not_authed: query token", call{query: "token=" + tokUser}, "not_authed"},
		{"not_authed: json token", call{body: `{"token":"` + tokUser + `"}`, contentType: "application/json; charset=utf-8"}, "not_authed"},
		{"invalid_auth", call{token: "xoxp-unknown"}, "invalid_auth"},
		{"token_revoked", call{token: tokRevoked}, "token_revoked"},
		{"account_inactive", call{token: tokGone}, "account_inactive"},
		{"args are checked before auth", call{query: "a[1]=2"}, "invalid_array_arg"},
	}
	api, _ := testAPI(t, newWorld())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			c.method = "auth.test"
			if got := do(t, api, c).errCode(t); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAuthTest(t *testing.T) {
	w := newWorld()
	api, _ := testAPI(t, w)
	tests := []struct{ tok, want string }{
		{tokUser, `{"ok":true,"url":"https:\/\/acme.slack.com\/","team":"Acme","user":"grace","team_id":"T1","user_id":"W1","enterprise_id":"E1","is_enterprise_install":false}`},
		{tokBot, `{"ok":true,"url":"https:\/\/acme.slack.com\/","team":"Acme","user":"robot","team_id":"T1","user_id":"U9","bot_id":"B9","enterprise_id":"E1","is_enterprise_install":false}`},
	}
	for _, tt := range tests {
		if got := do(t, api, call{method: "auth.test", token: tt.tok}); got.body != tt.want {
			t.Errorf("auth.test as %s:\n got %s\nwant %s", tt.tok, got.body, tt.want)
		}
	}
	// A single workspace has no enterprise_id.
	w.teams["T1"] = backchannel.Team{ID: "T1", Name: "Acme", Domain: "acme"}
	w.ent = backchannel.Enterprise{ID: "0"}
	want := `{"ok":true,"url":"https:\/\/acme.slack.com\/","team":"Acme","user":"grace","team_id":"T1","user_id":"W1","is_enterprise_install":false}`
	if got := do(t, api, call{method: "auth.test", token: tokUser}); got.body != want {
		t.Errorf("single workspace:\n got %s\nwant %s", got.body, want)
	}
}

func TestNotAllowedTokenType(t *testing.T) {
	api, _ := testAPI(t, newWorld())
	ok := func(context.Context, *Request) (response, error) { return argsResponse{&Args{}}, nil }
	for _, m := range []*method{
		{name: "test.userOnly", verbs: []string{"GET"}, tier: tier4, tokens: userToken, handle: ok},
		{name: "test.botOnly", verbs: []string{"GET"}, tier: tier4, tokens: botToken, handle: ok},
	} {
		m.prepare()
		api.table[m.name] = m
	}
	tests := []struct{ method, tok, want string }{
		{"test.userOnly", tokUser, ""},
		{"test.userOnly", tokBot, "not_allowed_token_type"},
		{"test.botOnly", tokBot, ""},
		{"test.botOnly", tokUser, "not_allowed_token_type"},
	}
	for _, tt := range tests {
		if got := do(t, api, call{method: tt.method, token: tt.tok}).errCode(t); got != tt.want {
			t.Errorf("%s as %s: error %q, want %q", tt.method, tt.tok, got, tt.want)
		}
	}
}

func TestMissingScope(t *testing.T) {
	api, _ := testAPI(t, newWorld())
	got := do(t, api, call{method: "conversations.history", query: "channel=C1", token: tokNoHist})
	want := `{"ok":false,"error":"missing_scope","needed":"channels:history,groups:history,im:history,mpim:history","provided":"users:read"}`
	if got.body != want {
		t.Errorf("got  %s\nwant %s", got.body, want)
	}
	if h := got.header.Get("X-Oauth-Scopes"); h != "users:read" {
		t.Errorf("x-oauth-scopes = %q", h)
	}
}

func TestHeaders(t *testing.T) {
	api, _ := testAPI(t, newWorld())
	a := do(t, api, call{method: "conversations.history", query: "channel=C1", token: tokPublic})
	b := do(t, api, call{method: "api.test"})
	for name, want := range map[string]string{
		"Content-Type":                  "application/json; charset=utf-8",
		"X-Oauth-Scopes":                "channels:history",
		"X-Accepted-Oauth-Scopes":       "channels:history,groups:history,im:history,mpim:history",
		"Cache-Control":                 "private, no-cache, no-store, must-revalidate",
		"Access-Control-Expose-Headers": "x-slack-req-id, retry-after",
	} {
		if got := a.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if a.status != http.StatusOK || a.header.Get("Content-Length") == "" {
		t.Errorf("status %d, content-length %q", a.status, a.header.Get("Content-Length"))
	}
	ida, idb := a.header.Get("X-Slack-Req-Id"), b.header.Get("X-Slack-Req-Id")
	if ida == "" || ida == idb {
		t.Errorf("x-slack-req-id not unique: %q, %q", ida, idb)
	}
	if got := b.header.Get("X-Oauth-Scopes"); got != "" {
		t.Errorf("unauthenticated x-oauth-scopes = %q", got)
	}
}

// Store failures and panics are internal_error with HTTP 200, never a 500.
func TestInternalError(t *testing.T) {
	w := newWorld()
	s := w.store()
	s.TokenByHashFn = func(context.Context, string) (backchannel.Token, error) {
		return backchannel.Token{}, errors.New("disk on fire")
	}
	api := New(Config{Store: s, RateLimit: RateLimitOff, Logger: discardLogger()})
	if got := do(t, api, call{method: "auth.test", token: tokUser}); got.body != `{"ok":false,"error":"internal_error"}` || got.status != 200 {
		t.Errorf("store error: %d %s", got.status, got.body)
	}
	s.TokenByHashFn = func(context.Context, string) (backchannel.Token, error) { panic("boom") }
	if got := do(t, api, call{method: "auth.test", token: tokUser}); got.body != `{"ok":false,"error":"internal_error"}` || got.status != 200 {
		t.Errorf("panic: %d %s", got.status, got.body)
	}
	// A store error carrying a code must not leak it where the caller
	// could not have caused it (the token's own team).
	delete(w.teams, "T1")
	api2, _ := testAPI(t, w)
	if got := do(t, api2, call{method: "auth.test", token: tokUser}).errCode(t); got != "internal_error" {
		t.Errorf("missing team: %q", got)
	}
}
