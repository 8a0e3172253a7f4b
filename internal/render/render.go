// Package render builds conversations.history message objects from a stored
// Slack message (its Doc) and the fields a store computes (edited, thread
// stats, reactions, pins, stars). It is pure: stores load the inputs with
// their own SQL and call it, so both stores render byte-identical objects.
package render

import (
	"bytes"
	"strconv"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/internal/jsonobj"
)

// Message is what a store holds of a message, minus computed fields.
type Message struct {
	Channel  string
	TS       backchannel.TS
	ThreadTS backchannel.TS // 0 when the Doc has no thread_ts
	Doc      []byte         // the Slack object as stored (Event.Doc, edits merged)
	Edited   *backchannel.Edited
}

// Reaction is one user's reaction, listed in order of reacting.
type Reaction struct {
	Name, User string
}

// Reply is a live (present, not deleted) reply of a thread.
type Reply struct {
	TS   backchannel.TS
	User string
}

// Render builds the conversations.history object: the Doc's keys in order,
// then the computed ones in Slack's order. replies must be in ts order. When
// nothing is computed it returns the Doc itself (so a store can keep one
// copy).
func Render(m Message, replies []Reply, reacts []Reaction, pinned bool) []byte {
	doc := bytes.TrimRight(m.Doc, " \t\r\n")
	if len(doc) == 0 || doc[len(doc)-1] != '}' {
		doc = []byte("{}")
	}
	if m.Edited == nil && len(replies) == 0 && len(reacts) == 0 && !pinned {
		return doc
	}
	b := make([]byte, 0, len(doc)+128)
	b = append(b, doc[:len(doc)-1]...)
	if m.Edited != nil {
		e := jsonobj.AppendString([]byte(`{"user":`), m.Edited.User)
		e = jsonobj.AppendString(append(e, `,"ts":`...), m.Edited.TS)
		b = jsonobj.AppendField(b, "edited", append(e, '}'))
	}
	if len(replies) > 0 {
		if m.ThreadTS == 0 {
			b = jsonobj.AppendField(b, "thread_ts", tsJSON(m.TS))
		}
		var users []string
		seen := make(map[string]bool)
		for _, x := range replies {
			if !seen[x.User] {
				seen[x.User] = true
				users = append(users, x.User)
			}
		}
		b = jsonobj.AppendField(b, "reply_count", strconv.AppendInt(nil, int64(len(replies)), 10))
		b = jsonobj.AppendField(b, "reply_users_count", strconv.AppendInt(nil, int64(len(users)), 10))
		b = jsonobj.AppendField(b, "latest_reply", tsJSON(replies[len(replies)-1].TS))
		b = jsonobj.AppendField(b, "reply_users", stringsJSON(users))
	}
	if len(reacts) > 0 {
		b = jsonobj.AppendField(b, "reactions", reactionsJSON(reacts))
	}
	if pinned {
		b = jsonobj.AppendField(b, "pinned_to", stringsJSON([]string{m.Channel}))
	}
	return append(b, '}')
}

// Split is Render without the reactions, and where they go: for any
// reacts, WithReactions(body, at, reacts) is Render(m, replies, reacts,
// pinned). A store that keeps reactions apart from the body (SQLite) then
// rewrites no message row when only its reactions change.
func Split(m Message, replies []Reply, pinned bool) (body []byte, at int) {
	// Reactions follow the other computed fields, before pinned_to: where
	// the body without pinned_to ends.
	body = Render(m, replies, nil, false)
	at = len(body) - 1
	if pinned {
		body = Render(m, replies, nil, true)
	}
	return body, at
}

// WithReactions returns body (from Split) with reacts inserted at at, or
// body itself when there are none.
func WithReactions(body []byte, at int, reacts []Reaction) []byte {
	if len(reacts) == 0 || at < 0 || at >= len(body) {
		return body
	}
	b := make([]byte, 0, len(body)+64*len(reacts))
	b = jsonobj.AppendField(append(b, body[:at]...), "reactions", reactionsJSON(reacts))
	if rest := body[at:]; rest[0] == '"' { // pinned_to right after the '{'
		b = append(b, ',')
	}
	return append(b, body[at:]...)
}

// Starred returns a copy of a rendered body with "is_starred":true added:
// stars are per caller, so cached bodies never carry them.
func Starred(body []byte) []byte {
	if len(body) < 2 {
		return body
	}
	b := make([]byte, 0, len(body)+20)
	b = jsonobj.AppendField(append(b, body[:len(body)-1]...), "is_starred", []byte("true"))
	return append(b, '}')
}

func tsJSON(ts backchannel.TS) []byte {
	return append(ts.AppendTo([]byte{'"'}), '"')
}

func stringsJSON(ss []string) []byte {
	b := []byte{'['}
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonobj.AppendString(b, s)
	}
	return append(b, ']')
}

// reactionsJSON groups reactions (in order of reaction) by name, names in
// order of their first reaction, users in order of reacting.
func reactionsJSON(rs []Reaction) []byte {
	var names []string
	users := make(map[string][]string)
	for _, x := range rs {
		if _, ok := users[x.Name]; !ok {
			names = append(names, x.Name)
		}
		users[x.Name] = append(users[x.Name], x.User)
	}
	b := []byte{'['}
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonobj.AppendString(append(b, `{"name":`...), n)
		b = append(append(b, `,"users":`...), stringsJSON(users[n])...)
		b = strconv.AppendInt(append(b, `,"count":`...), int64(len(users[n])), 10)
		b = append(b, '}')
	}
	return append(b, ']')
}
