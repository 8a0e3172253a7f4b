package slackapi

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/backchannel/backchannel"
)

// fakeStore is a Store built from function fields (wtf-style mocks): a test
// sets the ones it needs; any other call panics through the nil embedded
// interface, which the API turns into internal_error.
type fakeStore struct {
	backchannel.Store

	TokenByHashFn func(ctx context.Context, hash string) (backchannel.Token, error)
	UserFn        func(ctx context.Context, id string) (backchannel.User, error)
	TeamFn        func(ctx context.Context, id string) (backchannel.Team, error)
	EnterpriseFn  func(ctx context.Context) (backchannel.Enterprise, error)
	ChannelFn     func(ctx context.Context, id string) (backchannel.Channel, error)
	IsMemberFn    func(ctx context.Context, channelID, userID string) (bool, error)
	HistoryFn     func(ctx context.Context, q backchannel.HistoryQuery) (backchannel.HistoryPage, error)
}

func (f *fakeStore) TokenByHash(ctx context.Context, h string) (backchannel.Token, error) {
	return f.TokenByHashFn(ctx, h)
}
func (f *fakeStore) User(ctx context.Context, id string) (backchannel.User, error) {
	return f.UserFn(ctx, id)
}
func (f *fakeStore) Team(ctx context.Context, id string) (backchannel.Team, error) {
	return f.TeamFn(ctx, id)
}
func (f *fakeStore) Enterprise(ctx context.Context) (backchannel.Enterprise, error) {
	return f.EnterpriseFn(ctx)
}
func (f *fakeStore) Channel(ctx context.Context, id string) (backchannel.Channel, error) {
	return f.ChannelFn(ctx, id)
}
func (f *fakeStore) IsMember(ctx context.Context, c, u string) (bool, error) {
	return f.IsMemberFn(ctx, c, u)
}
func (f *fakeStore) History(ctx context.Context, q backchannel.HistoryQuery) (backchannel.HistoryPage, error) {
	return f.HistoryFn(ctx, q)
}

// world is an in-memory organisation behind a fakeStore: tokens (by their
// plain text), users, channels, memberships and messages.
type world struct {
	tokens   map[string]backchannel.Token // plain token → record
	users    map[string]backchannel.User
	teams    map[string]backchannel.Team
	ent      backchannel.Enterprise
	channels map[string]backchannel.Channel
	members  map[string]bool             // channel+"/"+user
	messages map[string][]backchannel.TS // channel → ts, any order
	queries  []backchannel.HistoryQuery  // every History call, for assertions
}

// Fixture tokens.
const (
	tokUser    = "xoxp-user"    // W1, all four history scopes
	tokBot     = "xoxb-bot"     // bot user U9, all four history scopes
	tokPublic  = "xoxp-public"  // W1, channels:history only
	tokNoHist  = "xoxp-nohist"  // W1, users:read only
	tokRevoked = "xoxp-revoked" // W1, revoked
	tokGone    = "xoxp-gone"    // W2 (deleted)
)

func newWorld() *world {
	all := []string{"channels:history", "groups:history", "im:history", "mpim:history"}
	w := &world{
		tokens:   map[string]backchannel.Token{},
		users:    map[string]backchannel.User{},
		teams:    map[string]backchannel.Team{"T1": {ID: "T1", Name: "Acme", Domain: "acme", EnterpriseID: "E1"}},
		ent:      backchannel.Enterprise{ID: "E1", Name: "Acme Corp"},
		channels: map[string]backchannel.Channel{},
		members:  map[string]bool{},
		messages: map[string][]backchannel.TS{},
	}
	w.users["W1"] = backchannel.User{ID: "W1", TeamID: "T1", Name: "grace"}
	w.users["W2"] = backchannel.User{ID: "W2", TeamID: "T1", Name: "gone", Deleted: true}
	w.users["U9"] = backchannel.User{ID: "U9", TeamID: "T1", Name: "robot", IsBot: true}
	add := func(tok, user string, bot bool, scopes []string, revoked bool) {
		t := backchannel.Token{ID: backchannel.TokenID(tok), Hash: backchannel.HashToken(tok),
			UserID: user, TeamID: "T1", Bot: bot, Scopes: scopes}
		if revoked {
			t.RevokedAt = testNow
		}
		w.tokens[tok] = t
	}
	add(tokUser, "W1", false, append([]string{"users:read"}, all...), false)
	add(tokBot, "U9", true, all, false)
	add(tokPublic, "W1", false, []string{"channels:history"}, false)
	add(tokNoHist, "W1", false, []string{"users:read"}, false)
	add(tokRevoked, "W1", false, all, true)
	add(tokGone, "W2", false, all, false)
	for id, kind := range map[string]string{"C1": "public", "C2": "public", "G1": "private", "G2": "private",
		"D1": "im", "D2": "im", "M1": "mpim", "M2": "mpim"} {
		w.channels[id] = backchannel.Channel{ID: id, TeamID: "T1", Name: strings.ToLower(id), Kind: kind}
	}
	for _, c := range []string{"C1", "G1", "D1", "M1"} { // W1 and the bot are members of the *1 channels
		w.members[c+"/W1"], w.members[c+"/U9"] = true, true
	}
	return w
}

func (w *world) store() *fakeStore {
	return &fakeStore{
		TokenByHashFn: func(_ context.Context, h string) (backchannel.Token, error) {
			for _, t := range w.tokens {
				if t.Hash == h {
					return t, nil
				}
			}
			return backchannel.Token{}, backchannel.Errorf(backchannel.ETokenNotFound, "no token")
		},
		UserFn: func(_ context.Context, id string) (backchannel.User, error) {
			if u, ok := w.users[id]; ok {
				return u, nil
			}
			return backchannel.User{}, backchannel.Errorf(backchannel.EUserNotFound, "no user %s", id)
		},
		TeamFn: func(_ context.Context, id string) (backchannel.Team, error) {
			if t, ok := w.teams[id]; ok {
				return t, nil
			}
			return backchannel.Team{}, backchannel.Errorf(backchannel.ENOTFOUND, "no team %s", id)
		},
		EnterpriseFn: func(context.Context) (backchannel.Enterprise, error) { return w.ent, nil },
		ChannelFn: func(_ context.Context, id string) (backchannel.Channel, error) {
			if c, ok := w.channels[id]; ok {
				return c, nil
			}
			return backchannel.Channel{}, backchannel.Errorf(backchannel.EChannelNotFound, "no channel %s", id)
		},
		IsMemberFn: func(_ context.Context, c, u string) (bool, error) { return w.members[c+"/"+u], nil },
		HistoryFn:  w.history,
	}
}

// history implements the HistoryQuery contract over w.messages.
func (w *world) history(_ context.Context, q backchannel.HistoryQuery) (backchannel.HistoryPage, error) {
	w.queries = append(w.queries, q)
	var in []backchannel.TS
	for _, ts := range w.messages[q.Channel] {
		if ts >= q.Lo && ts <= q.Hi {
			in = append(in, ts)
		}
	}
	sort.Slice(in, func(i, j int) bool { return in[i] > in[j] }) // newest first
	var page []backchannel.TS
	var next backchannel.TS
	if q.Ascending {
		sort.Slice(in, func(i, j int) bool { return in[i] < in[j] })
		page = in[:min(q.Limit, len(in))]
		if len(in) > q.Limit {
			next = in[q.Limit]
		}
		sort.Slice(page, func(i, j int) bool { return page[i] > page[j] })
	} else {
		page = in[:min(q.Limit, len(in))]
		if len(in) > q.Limit {
			next = in[q.Limit]
		}
	}
	var p backchannel.HistoryPage
	for _, ts := range page {
		p.Messages = append(p.Messages, json.RawMessage(fmt.Sprintf(`{"type":"message","text":"m","ts":"%s"}`, ts)))
	}
	p.Next = next
	return p, nil
}
