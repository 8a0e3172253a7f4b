package slackapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/backchannel/backchannel"
)

// History's limit: default 100, and "Maximum of 999"; Slack "magically
// adjusts" bad values, so they are clamped, never an error.
const (
	historyDefaultLimit = 100
	historyMaxLimit     = 999
)

// historyArgs are conversations.history's arguments, validated.
type historyArgs struct {
	channel        string
	latest, oldest string // as given, echoed back
	query          backchannel.HistoryQuery
}

// conversationsHistory implements conversations.history.
func (a *API) conversationsHistory(ctx context.Context, req *Request) (response, error) {
	h, err := a.historyArgs(req)
	if err != nil {
		return nil, err
	}
	ch, err := a.historyAccess(ctx, req, h.channel)
	if err != nil {
		return nil, err
	}
	resp := &req.hist
	resp.latest, resp.oldest, resp.pinCount = h.latest, h.oldest, ch.PinCount
	if h.query.Lo > h.query.Hi {
		return resp, nil // empty range: nothing to ask the store
	}
	page, err := a.store.History(ctx, h.query)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", h.channel, err)
	}
	resp.messages, resp.next = page.Messages, page.Next
	return resp, nil
}

// historyArgs turns the arguments into an inclusive HistoryQuery: exclusive
// bounds move by one microsecond, a cursor replaces the bound on the paging
// side (Hi, or Lo when only oldest was given) and the other bound stays.
func (a *API) historyArgs(req *Request) (historyArgs, error) {
	h := historyArgs{channel: req.Args.Value("channel")}
	if h.channel == "" {
		return h, backchannel.Errorf(backchannel.EChannelNotFound, "channel not given")
	}
	q := backchannel.HistoryQuery{Channel: h.channel, Lo: 0, Hi: backchannel.TSFromTime(a.now()), Caller: req.Token.UserID}
	inclusive := req.Args.Bool("inclusive")
	if s := req.Args.Value("latest"); s != "" {
		ts, err := backchannel.ParseTS(s)
		if err != nil {
			return h, backchannel.Errorf("invalid_ts_latest", "latest: %v", err)
		}
		h.latest, q.Hi = s, ts
		if !inclusive {
			q.Hi--
		}
	}
	if s := req.Args.Value("oldest"); s != "" {
		ts, err := backchannel.ParseTS(s)
		if err != nil {
			return h, backchannel.Errorf("invalid_ts_oldest", "oldest: %v", err)
		}
		h.oldest, q.Lo = s, ts
		if !inclusive {
			q.Lo++
		}
	}
	// Only oldest given: page forward from it (Slack returns the messages
	// closest to oldest).
	q.Ascending = h.oldest != "" && h.latest == ""
	if c := req.Args.Value("cursor"); c != "" {
		ts, err := DecodeCursor(c)
		if err != nil {
			return h, err
		}
		if q.Ascending {
			q.Lo = ts
		} else {
			q.Hi = ts
		}
	}
	q.Limit = historyDefaultLimit
	if n, ok := intArg(req.Args.Value("limit")); ok {
		q.Limit = min(max(n, 1), historyMaxLimit)
	}
	h.query = q
	return h, nil
}

// historyAccess applies Slack's visibility rules. A conversation the
// caller may not see is channel_not_found whatever the scopes, so a missing
// scope never reveals that a private conversation exists.
func (a *API) historyAccess(ctx context.Context, req *Request, id string) (backchannel.Channel, error) {
	ch, err := a.store.Channel(ctx, id)
	if err != nil {
		if backchannel.ErrorCode(err) == backchannel.ENOTFOUND {
			return ch, backchannel.Errorf(backchannel.EChannelNotFound, "no channel %s", id)
		}
		return ch, fmt.Errorf("channel %s: %w", id, err)
	}
	scope := backchannel.HistoryScope(ch.Kind)
	if scope == "" {
		return ch, internal(fmt.Errorf("channel %s has unknown kind %q", id, ch.Kind))
	}
	member := true
	if ch.Kind != backchannel.KindPublic || req.Token.Bot {
		if member, err = a.store.IsMember(ctx, id, req.Token.UserID); err != nil {
			return ch, internal(fmt.Errorf("membership of %s in %s: %w", req.Token.UserID, id, err))
		}
	}
	if !member && ch.Kind != backchannel.KindPublic {
		return ch, backchannel.Errorf(backchannel.EChannelNotFound, "%s is not a member of %s", req.Token.UserID, id)
	}
	if !req.Token.HasScope(scope) {
		return ch, missingScope(req, scope)
	}
	if !member {
		return ch, backchannel.Errorf("not_in_channel", "bot %s is not in %s", req.Token.UserID, id)
	}
	return ch, nil
}

// historyResponse renders a page straight from the store's pre-rendered
// messages; it lives in the pooled Request so a call allocates nothing.
type historyResponse struct {
	latest, oldest string
	messages       []json.RawMessage
	next           backchannel.TS
	pinCount       int
}

func (h *historyResponse) appendFields(b []byte) []byte {
	// latest and oldest parsed as timestamps: digits and a dot, JSON-safe.
	if h.oldest != "" {
		b = append(b, `,"oldest":"`...)
		b = append(b, h.oldest...)
		b = append(b, '"')
	}
	if h.latest != "" {
		b = append(b, `,"latest":"`...)
		b = append(b, h.latest...)
		b = append(b, '"')
	}
	b = append(b, `,"messages":[`...)
	for i, m := range h.messages {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m...)
	}
	b = append(b, `],"has_more":`...)
	b = strconv.AppendBool(b, h.next != 0)
	b = append(b, `,"pin_count":`...)
	b = strconv.AppendInt(b, int64(h.pinCount), 10)
	return append(b, `,"channel_actions_ts":null,"channel_actions_count":0`...)
}

func (h *historyResponse) appendCursor(b []byte) []byte {
	if h.next == 0 {
		return b
	}
	return appendCursor(b, h.next)
}
