package backchannel

// Event types of the ingest format (docs/events.md).
const (
	// Directory: upserts, last write wins.
	EvEnterprise   = "enterprise"
	EvTeam         = "team"
	EvUser         = "user"
	EvChannel      = "channel"
	EvMemberJoined = "member_joined_channel"
	EvMemberLeft   = "member_left_channel"

	// Messages.
	EvMessage         = "message"
	EvMessageChanged  = "message_changed"
	EvMessageDeleted  = "message_deleted"
	EvReactionAdded   = "reaction_added"
	EvReactionRemoved = "reaction_removed"
	EvPinAdded        = "pin_added"
	EvPinRemoved      = "pin_removed"
	EvStarAdded       = "star_added"
	EvStarRemoved     = "star_removed"

	// Activity: all carry UserID and EventTS.
	EvMessageViewed  = "message_viewed"  // ChannelID, TS, Client
	EvMessageClicked = "message_clicked" // ChannelID, TS
	EvMessageShared  = "message_shared"  // ChannelID, TS
	EvClientActive   = "client_active"   // Client
	EvFileAdded      = "file_added"      // ChannelID optional
	EvSearch         = "search"
	EvAppUsed        = "app_used"
	EvWorkflowUsed   = "workflow_used"
	EvCall           = "call" // Subtype holds the call's kind: slack | huddle | third_party
)

// IsActivity reports whether typ is an activity event type.
func IsActivity(typ string) bool {
	switch typ {
	case EvMessageViewed, EvMessageClicked, EvMessageShared, EvClientActive,
		EvFileAdded, EvSearch, EvAppUsed, EvWorkflowUsed, EvCall:
		return true
	}
	return false
}

// Event is one decoded, validated ingest line. Which fields are set depends
// on Type; ingest.Decode documents each.
type Event struct {
	Type    string
	ID      string   // event_id; "" when absent
	Key     [32]byte // idempotency key: SHA-256 of "id:"+ID, or of Raw when ID is ""
	Line    int      // 1-based line in its request or file, for error messages
	Raw     []byte   // the line as received, surrounding whitespace trimmed
	EventTS TS       // event_ts: when the change took effect; 0 when not given

	// Directory payloads (exactly one is set for a directory event).
	Enterprise *Enterprise
	Team       *Team
	User       *User
	Channel    *Channel

	ChannelID string // channel: message, reaction, pin, star and membership events
	UserID    string // user: the author, reactor, pinner, starrer or member
	TS        TS     // the message's ts (message and the events about a message)
	ThreadTS  TS     // message: thread_ts; 0 when not in a thread
	Subtype   string // message: subtype ("thread_broadcast", "bot_message", ...); call: its kind
	BotID     string // message: bot_id
	Client    string // message: desktop | ios | android | web | ""
	Reaction  string // reaction events: the emoji name
	Files     int    // message: number of files attached

	// Doc is, for a message, the Slack message object to store and return
	// from conversations.history: the line's fields minus the ingest-only
	// ones (channel, event_id, event_ts, client) and the ones the store
	// computes (reactions, pinned_to, is_starred, edited, reply_count,
	// reply_users_count, latest_reply, reply_users), with ts and thread_ts
	// normalised to Slack's string form. For message_changed it holds the
	// fields to replace (text, blocks, attachments, files, ...).
	Doc []byte
	// Edited is the edit marker of a message_changed (or of a message that
	// arrives already edited, as in an export).
	Edited *Edited
}

// Edited is who edited a message and when.
type Edited struct {
	User string `json:"user"`
	TS   string `json:"ts"`
}

// IsDirectory reports whether e upserts the directory.
func (e *Event) IsDirectory() bool {
	switch e.Type {
	case EvEnterprise, EvTeam, EvUser, EvChannel, EvMemberJoined, EvMemberLeft:
		return true
	}
	return false
}
