package storetest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/backchannel/backchannel"
)

// The builders make Events the way ingest.Decode would: Raw is the line,
// Key the SHA-256 of Raw (no event_id), Doc the Slack message object.

func event(typ string, raw map[string]any) backchannel.Event {
	raw["type"] = typ
	b, err := json.Marshal(raw) // sorted keys: the same fields give the same line
	if err != nil {
		panic(err)
	}
	return backchannel.Event{Type: typ, Raw: b, Key: sha256.Sum256(b)}
}

func mustTS(s string) backchannel.TS {
	ts, err := backchannel.ParseTS(s)
	if err != nil {
		panic(err)
	}
	return ts
}

// TS formats n as a Slack timestamp: seconds 1700000000 plus n microseconds.
func TS(n int) string { return backchannel.TS(1_700_000_000_000_000 + int64(n)).String() }

// Channel is a channel event.
func Channel(id, kind string) backchannel.Event {
	e := event(backchannel.EvChannel, map[string]any{"id": id, "kind": kind, "name": "n-" + id})
	e.Channel = &backchannel.Channel{ID: id, TeamID: "T1", Name: "n-" + id, Kind: kind}
	return e
}

// Member is a member_joined_channel (join) or member_left_channel event.
func Member(join bool, ch, user string) backchannel.Event {
	typ := backchannel.EvMemberLeft
	if join {
		typ = backchannel.EvMemberJoined
	}
	e := event(typ, map[string]any{"channel": ch, "user": user})
	e.ChannelID, e.UserID = ch, user
	return e
}

// Message is a top-level message.
func Message(ch, user, ts, text string) backchannel.Event {
	return message(ch, user, ts, "", text, "")
}

// Reply is a thread reply; broadcast makes it a thread_broadcast.
func Reply(ch, user, ts, threadTS, text string, broadcast bool) backchannel.Event {
	sub := ""
	if broadcast {
		sub = "thread_broadcast"
	}
	return message(ch, user, ts, threadTS, text, sub)
}

func message(ch, user, ts, threadTS, text, subtype string) backchannel.Event {
	raw := map[string]any{"channel": ch, "user": user, "ts": ts, "text": text}
	doc := fmt.Sprintf(`{"type":"message","user":%q,"text":%q,"ts":%q`, user, text, ts)
	if subtype != "" {
		raw["subtype"] = subtype
		doc += fmt.Sprintf(`,"subtype":%q`, subtype)
	}
	if threadTS != "" {
		raw["thread_ts"] = threadTS
		doc += fmt.Sprintf(`,"thread_ts":%q`, threadTS)
	}
	e := event(backchannel.EvMessage, raw)
	e.ChannelID, e.UserID, e.TS, e.Subtype = ch, user, mustTS(ts), subtype
	if threadTS != "" {
		e.ThreadTS = mustTS(threadTS)
	}
	e.Doc = []byte(doc + "}")
	return e
}

// Changed is a message_changed setting text, edited by editor at editTS.
func Changed(ch, ts, text, editor, editTS string) backchannel.Event {
	e := event(backchannel.EvMessageChanged, map[string]any{"channel": ch, "ts": ts, "text": text,
		"edited": map[string]string{"user": editor, "ts": editTS}})
	e.ChannelID, e.TS = ch, mustTS(ts)
	e.Doc = []byte(fmt.Sprintf(`{"text":%q}`, text))
	e.Edited = &backchannel.Edited{User: editor, TS: editTS}
	return e
}

// Deleted is a message_deleted.
func Deleted(ch, ts string) backchannel.Event {
	e := event(backchannel.EvMessageDeleted, map[string]any{"channel": ch, "ts": ts})
	e.ChannelID, e.TS = ch, mustTS(ts)
	return e
}

// Reaction is a reaction_added (add) or reaction_removed. at is its event_ts,
// which makes otherwise equal lines distinct events.
func Reaction(add bool, ch, ts, user, name, at string) backchannel.Event {
	typ := backchannel.EvReactionRemoved
	if add {
		typ = backchannel.EvReactionAdded
	}
	e := event(typ, map[string]any{"channel": ch, "ts": ts, "user": user, "reaction": name, "event_ts": at})
	e.ChannelID, e.TS, e.UserID, e.Reaction, e.EventTS = ch, mustTS(ts), user, name, mustTS(at)
	return e
}

// Pin is a pin_added (add) or pin_removed.
func Pin(add bool, ch, ts, user, at string) backchannel.Event {
	return about(add, backchannel.EvPinAdded, backchannel.EvPinRemoved, ch, ts, user, at)
}

// Star is a star_added (add) or star_removed.
func Star(add bool, ch, ts, user, at string) backchannel.Event {
	return about(add, backchannel.EvStarAdded, backchannel.EvStarRemoved, ch, ts, user, at)
}

func about(add bool, added, removed, ch, ts, user, at string) backchannel.Event {
	typ := removed
	if add {
		typ = added
	}
	e := event(typ, map[string]any{"channel": ch, "ts": ts, "user": user, "event_ts": at})
	e.ChannelID, e.TS, e.UserID, e.EventTS = ch, mustTS(ts), user, mustTS(at)
	return e
}

// apply numbers the events' lines and applies them as one batch.
func apply(t *testing.T, s backchannel.Store, evs ...backchannel.Event) backchannel.ApplyResult {
	t.Helper()
	res, err := s.Apply(t.Context(), number(evs))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

func number(evs []backchannel.Event) []backchannel.Event {
	out := make([]backchannel.Event, len(evs))
	for i, e := range evs {
		e.Line = i + 1
		out[i] = e
	}
	return out
}

// history returns the page as strings, for readable comparisons.
func history(t *testing.T, s backchannel.Store, q backchannel.HistoryQuery) ([]string, backchannel.TS) {
	t.Helper()
	if q.Hi == 0 {
		q.Hi = backchannel.MaxTS
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	p, err := s.History(t.Context(), q)
	if err != nil {
		t.Fatalf("History(%+v): %v", q, err)
	}
	out := make([]string, len(p.Messages))
	for i, m := range p.Messages {
		out[i] = string(m)
	}
	return out, p.Next
}

// texts returns the "text" of each message of a page.
func texts(t *testing.T, msgs []string) []string {
	t.Helper()
	out := make([]string, len(msgs))
	for i, m := range msgs {
		var v struct{ Text string }
		if err := json.Unmarshal([]byte(m), &v); err != nil {
			t.Fatalf("message %d is not JSON: %v: %s", i, err, m)
		}
		out[i] = v.Text
	}
	return out
}

func doc(user, text, ts string) string {
	return fmt.Sprintf(`{"type":"message","user":%q,"text":%q,"ts":%q}`, user, text, ts)
}
