// Package analytics holds the analytics rules of backchannel, free of any
// storage: which counters an event moves (declared once, here, and applied
// by every store in the same transaction as the event), how a batch of
// events aggregates into rollup rows, and how a day's rows become Slack's
// admin.analytics.getFile lines, gzipped and cut into chunks for storage.
// docs/analytics.md defines every metric in words.
package analytics

import (
	"github.com/backchannel/backchannel"
)

// Fact is what the rules need of one event: the fields that move counters.
// FactOf takes it from a decoded event (ingest), ParseFact from a raw line
// of the event log (rebuilds), and both agree (tested).
type Fact struct {
	Type    string
	User    string
	Channel string
	TS      backchannel.TS // the message's ts (messages, reactions, views, clicks, shares)
	EventTS backchannel.TS // 0 when not given
	Client  string         // desktop | ios | android | web | ""
	Subtype string         // message: subtype; call: kind
	BotID   string
	Files   int // message: files attached
}

// FactOf extracts the rule inputs of a decoded event.
func FactOf(ev *backchannel.Event) Fact {
	return Fact{Type: ev.Type, User: ev.UserID, Channel: ev.ChannelID, TS: ev.TS, EventTS: ev.EventTS,
		Client: ev.Client, Subtype: ev.Subtype, BotID: ev.BotID, Files: ev.Files}
}

// Context is what a store knows about an event when it applies it: the
// channel's record (as of that moment), the actor's, and whether a message
// event created a new (channel, ts) rather than replacing a stored message.
type Context struct {
	ChannelKind string // public | private | im | mpim; "" when the channel is unknown
	Shared      bool   // the channel is externally shared (Slack Connect)
	ActorBot    bool   // the actor's user record says is_bot
	NewMessage  bool   // message: no message with this (channel, ts) was stored before
}

// Flags are a member-day's booleans, OR-ed together by every merge.
type Flags uint8

const (
	FlagActive       Flags = 1 << iota // posted, viewed a message or client_active
	FlagIOS                            // the same, from the iOS app
	FlagAndroid                        // the same, from the Android app
	FlagDesktop                        // the same, from the desktop app
	FlagApps                           // app_used
	FlagWorkflows                      // workflow_used
	FlagSlackConnect                   // read or posted in an externally shared conversation
)

// Distinct kinds: a (day, channel, user) bit that counts a human once.
const (
	Viewed uint8 = 1 // members_who_viewed_count
	Posted uint8 = 2 // members_who_posted_count
)

// DayTypes lists the event types that carry a day and may move counters:
// messages and the events about them, and activity.
var DayTypes = []string{backchannel.EvMessage, backchannel.EvReactionAdded, backchannel.EvReactionRemoved,
	backchannel.EvMessageViewed, backchannel.EvMessageClicked, backchannel.EvMessageShared, backchannel.EvClientActive,
	backchannel.EvFileAdded, backchannel.EvSearch, backchannel.EvAppUsed, backchannel.EvWorkflowUsed, backchannel.EvCall}

// HasDay reports whether events of this type carry a day (DayTypes).
func HasDay(typ string) bool {
	switch typ {
	case backchannel.EvMessage, backchannel.EvReactionAdded, backchannel.EvReactionRemoved:
		return true
	}
	return backchannel.IsActivity(typ)
}

// DayOf is the UTC day an event counts for: a message's ts, any other
// event's event_ts, falling back to the message ts (a reaction without
// event_ts). ok is false for events without a day (directory, edits, pins).
func DayOf(f *Fact) (backchannel.Day, bool) {
	if !HasDay(f.Type) {
		return 0, false
	}
	switch {
	case f.Type == backchannel.EvMessage:
		return backchannel.DayOfTS(f.TS), true
	case f.EventTS != 0:
		return backchannel.DayOfTS(f.EventTS), true
	case f.TS != 0:
		return backchannel.DayOfTS(f.TS), true
	}
	return 0, false
}

// systemSubtypes are messages Slack writes on a user's behalf (joins,
// renames, topic changes): they are stored but not "posted" by anyone.
var systemSubtypes = map[string]bool{
	"channel_join": true, "channel_leave": true, "channel_topic": true, "channel_purpose": true,
	"channel_name": true, "channel_archive": true, "channel_unarchive": true,
	"group_join": true, "group_leave": true, "group_topic": true, "group_purpose": true,
	"group_name": true, "group_archive": true, "group_unarchive": true,
}

// Counts posted reports whether a message event counts as a posted message.
func countsAsPosted(f *Fact, c *Context) bool {
	return c.NewMessage && !systemSubtypes[f.Subtype]
}

// isHuman reports whether the event's actor is a person (a full member or a
// guest): not a bot user, not a message posted by an app. A user the
// directory does not know (an export's deleted user) counts as a person.
func isHuman(f *Fact, c *Context) bool {
	return f.User != "" && f.BotID == "" && f.Subtype != "bot_message" && !c.ActorBot
}

// clientFlag is the per-client activity flag; web and unknown clients count
// only toward FlagActive.
func clientFlag(client string) Flags {
	switch client {
	case "ios":
		return FlagIOS
	case "android":
		return FlagAndroid
	case "desktop":
		return FlagDesktop
	}
	return 0
}
