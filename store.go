package backchannel

import (
	"context"
	"encoding/json"
)

// Store is everything the server needs from storage. Both stores (sqlite,
// postgres) implement it and pass the one conformance suite in storetest.
//
// Not-found lookups return an *Error (EChannelNotFound, EUserNotFound,
// ETokenNotFound), never a zero value with a nil error.
type Store interface {
	// Apply stores a batch of events atomically: all of them or none. An
	// event whose idempotency key was seen before (in an earlier batch or
	// earlier in this one) is a duplicate and changes nothing. An event that
	// cannot apply (e.g. a message for an unknown channel) fails the whole
	// batch with an *EventError naming its line. Apply returns only once the
	// batch is durably committed.
	Apply(ctx context.Context, events []Event) (ApplyResult, error)

	// Empty reports whether the store holds no events at all.
	Empty(ctx context.Context) (bool, error)

	Enterprise(ctx context.Context) (Enterprise, error) // EnterpriseID "0" record when none was ingested
	Team(ctx context.Context, id string) (Team, error)
	User(ctx context.Context, id string) (User, error)
	Channel(ctx context.Context, id string) (Channel, error)
	// IsMember reports whether user is currently a member of channel.
	IsMember(ctx context.Context, channelID, userID string) (bool, error)

	// History returns one page of a conversation's visible messages.
	History(ctx context.Context, q HistoryQuery) (HistoryPage, error)

	CreateToken(ctx context.Context, t Token) error
	// TokenByHash finds a token by HashToken(token); revoked tokens are
	// returned too (the caller answers token_revoked).
	TokenByHash(ctx context.Context, hash string) (Token, error)
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken revokes the token with the given ID (ETokenNotFound if none).
	RevokeToken(ctx context.Context, id string) error

	Close() error
}

// ApplyResult counts what Apply did.
type ApplyResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// HistoryQuery selects messages of Channel with Lo ≤ ts ≤ Hi (both
// inclusive; the Slack layer turns exclusive bounds and cursors into these).
// Visible messages are those not deleted and either not a thread reply or a
// reply broadcast to the channel.
type HistoryQuery struct {
	Channel string
	Lo, Hi  TS
	Limit   int // 1..999
	// Ascending selects the Limit messages closest to Lo (Slack's "only
	// oldest given" mode) instead of those closest to Hi.
	Ascending bool
	// Caller is the user whose stars are reported as "is_starred":true.
	Caller string
}

// HistoryPage is one page of history.
type HistoryPage struct {
	// Messages, newest first, each a complete Slack message object.
	Messages []json.RawMessage
	// Next is the ts of the first message of the following page (the next
	// older one, or the next newer one in Ascending mode); 0 when there is
	// no following page.
	Next TS
}

// Migrator applies and checks schema migrations.
type Migrator interface {
	// Migrate applies all pending migrations, each in its own transaction.
	Migrate(ctx context.Context) error
	// SchemaVersion reports the applied and the required version.
	SchemaVersion(ctx context.Context) (have, want int, err error)
}
