package slackapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/backchannel/backchannel"
)

// Slack's rate-limit tiers, in requests per minute.
const (
	tier1 = 1
	tier2 = 20
	tier3 = 50
	tier4 = 100
)

// Token types a method may accept.
const (
	userToken = 1 << iota // xoxp
	botToken              // xoxb
	anyToken  = userToken | botToken
)

// Request is one decoded, authenticated call as a handler sees it.
type Request struct {
	Method string // "conversations.history"
	Args   Args   // query, form and JSON arguments merged; never the token
	// Token and User are the caller; zero for a method that needs no token.
	Token backchannel.Token
	User  backchannel.User
	HTTP  *http.Request

	warnings []string
	hist     historyResponse // reused by the history handler: no allocation
}

// response is what a successful (or, with an *Error, failed) handler hands
// to the envelope writer.
type response interface {
	// appendFields appends the members that follow "ok":…, each led by a comma.
	appendFields(b []byte) []byte
	// appendCursor appends response_metadata.next_cursor (unquoted, already
	// JSON-safe); it appends nothing on the last page.
	appendCursor(b []byte) []byte
}

// noCursor is embedded by responses that do not page.
type noCursor struct{}

func (noCursor) appendCursor(b []byte) []byte { return b }

type handlerFunc func(ctx context.Context, r *Request) (response, error)

// method is one row of the dispatch table.
type method struct {
	name   string
	verbs  []string // HTTP verbs accepted
	json   bool     // accepts application/json bodies
	tier   int      // requests per minute under Slack's limits
	scopes []string // any one of these lets the token call the method
	tokens int      // userToken|botToken; 0: no token needed
	handle handlerFunc

	// Precomputed header values, so replies do not allocate them.
	acceptedScopes []string
}

// methods is the one dispatch table: every supported Slack method.
func (a *API) methods() []*method {
	get := []string{http.MethodGet, http.MethodPost}
	return []*method{
		{name: "api.test", verbs: get, json: true, tier: tier4, handle: a.apiTest},
		{name: "auth.test", verbs: get, json: true, tier: tier4, tokens: anyToken, handle: a.authTest},
		{
			name: "conversations.history", verbs: get, json: true, tier: tier3, tokens: anyToken,
			scopes: []string{"channels:history", "groups:history", "im:history", "mpim:history"},
			handle: a.conversationsHistory,
		},
		{
			// Answers a gzip file, not the JSON envelope, on success.
			name: "admin.analytics.getFile", verbs: get, json: true, tier: tier2, tokens: userToken,
			scopes: []string{"admin.analytics:read"}, handle: a.analyticsGetFile,
		},
		{
			name: "admin.analytics.messages.activity", verbs: get, json: true, tier: tier2, tokens: userToken,
			scopes: []string{"admin.analytics:read"}, handle: a.messagesActivity,
		},
	}
}

func (m *method) allowsVerb(v string) bool {
	for _, x := range m.verbs {
		if x == v {
			return true
		}
	}
	return false
}

func (m *method) prepare() {
	m.acceptedScopes = []string{strings.Join(m.scopes, ",")}
}
