package ingest

import (
	"github.com/backchannel/backchannel"
)

// dropFromDoc reports the keys never copied into a message's Doc: the ones
// only the ingest format has, and the ones the store computes (it adds them
// back from the reactions, pins, stars, edits and replies it has seen). A
// switch, not a map: it is consulted for every field of every message.
func dropFromDoc(k []byte) bool {
	switch string(k) {
	case "channel", "event_id", "event_ts", "client", "edited": // ingest-only, or read into Event.Edited
		return true
	}
	return Computed(k)
}

// Computed reports the keys of a message line that the decoder neither
// copies into the Doc nor reads anything from: the store computes them
// (reactions, pins, stars, thread stats) from other events. A line without
// them decodes to the same event, Key aside (the Slack export importer
// leaves them out, so that a later export whose reactions or replies grew
// repeats the same line).
func Computed(k []byte) bool {
	switch string(k) {
	case "reactions", "pinned_to", "is_starred", "reply_count", "reply_users_count",
		"latest_reply", "reply_users", "replies", "subscribed", "last_read":
		return true
	}
	return false
}

// changeDrop lists the keys a message_changed never replaces: the
// message's identity and author cannot change in Slack.
var changeDrop = map[string]bool{
	"type": true, "ts": true, "thread_ts": true, "user": true,
	"previous_message": true, "hidden": true, "message": true,
}

// message decodes a "message" line. Its Doc is the line's object with its
// keys in their original order minus docDrop, ts and thread_ts rewritten
// to Slack's string form, every other value copied byte for byte.
func message(r *fields, ev *backchannel.Event, doc []byte) {
	var hasChannel, hasTS bool
	doc = append(doc, '{')
	for i := range r.fs {
		f := &r.fs[i]
		null := isNull(f.val)
		switch string(f.key) {
		case "channel":
			ev.ChannelID, hasChannel = r.idVal("channel", f.val, channelID), true
		case "client":
			if !null {
				ev.Client = r.enumVal("client", f.val, clients...)
			}
		case "edited":
			if !null {
				ev.Edited = r.edited(f.val)
			}
		case "ts":
			ev.TS, hasTS = r.tsVal("ts", f.val), true
			doc = appendTS(doc, "ts", ev.TS, f.val)
			continue
		case "thread_ts":
			if !null {
				ev.ThreadTS = r.tsVal("thread_ts", f.val)
				doc = appendTS(doc, "thread_ts", ev.ThreadTS, f.val)
			}
			continue
		case "user":
			if !null {
				ev.UserID = r.idVal("user", f.val, userID)
			}
		case "bot_id":
			if !null {
				ev.BotID = r.idVal("bot_id", f.val, botID)
			}
		case "subtype":
			if !null {
				ev.Subtype = r.strVal("subtype", f.val)
			}
		default:
			ev.Files += r.content(f, null)
		}
		if !dropFromDoc(f.key) {
			doc = appendField(doc, f)
		}
	}
	ev.Doc = append(doc, '}')
	switch {
	case r.err != nil:
	case !hasChannel:
		r.fail("channel", "required")
	case !hasTS:
		r.fail("ts", "required")
	case ev.UserID == "" && ev.BotID == "" && ev.Subtype == "":
		// Real exports hold subtyped messages with neither (channel_join
		// of a deleted user, old integrations); a plain message needs one.
		r.fail("user", "required (or bot_id)")
	}
}

// content validates the type of the common content fields and returns the
// number of files a "files" value holds.
func (r *fields) content(f *field, null bool) int {
	if null {
		return 0
	}
	name := string(f.key)
	switch name {
	case "text":
		r.strVal(name, f.val)
	case "blocks", "attachments":
		r.isArray(name, f.val)
	case "files":
		if r.isArray(name, f.val) {
			n, _, _ := arrayElems(f.val, 0, 0, nil)
			return n
		}
	}
	return 0
}

// isArray checks that v (already validated JSON) is an array.
func (r *fields) isArray(name string, v []byte) bool {
	if v[0] != '[' {
		r.fail(name, "must be an array, got %s", kindOf(v))
		return false
	}
	return true
}

// enumVal validates a present string value against allowed. A match
// returns the allowed string itself, so the hot path allocates nothing.
func (r *fields) enumVal(name string, v []byte, allowed ...string) string {
	if len(v) >= 2 && v[0] == '"' {
		for _, a := range allowed {
			if string(v[1:len(v)-1]) == a {
				return a
			}
		}
	}
	s := r.strVal(name, v)
	if r.err != nil {
		return s
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	r.fail(name, "invalid value %q (want one of %s)", s, quoteList(allowed))
	return s
}

// edited decodes an edit marker {"user":"U…","ts":"…"}, its ts normalised.
func (r *fields) edited(v []byte) *backchannel.Edited {
	if v[0] != '{' {
		r.fail("edited", "must be an object, got %s", kindOf(v))
		return nil
	}
	sub := subObject(r, "edited", v)
	if sub == nil {
		return nil
	}
	e := &backchannel.Edited{User: sub.id("user", true, userID)}
	e.TS = sub.ts("ts", true).String()
	r.err = sub.err
	return e
}

// appendTS appends "key":"<ts>" to doc: raw, the value as written, when it
// already is the canonical string form (as nearly every one is), else ts
// formatted.
func appendTS(doc []byte, key string, ts backchannel.TS, raw []byte) []byte {
	if len(doc) > 1 {
		doc = append(doc, ',')
	}
	doc = append(doc, '"')
	doc = append(doc, key...)
	doc = append(doc, `":`...)
	if len(raw) >= 2 && raw[0] == '"' && CanonicalTS(raw[1:len(raw)-1]) {
		return append(doc, raw...)
	}
	doc = append(doc, '"')
	doc = ts.AppendTo(doc)
	return append(doc, '"')
}

// CanonicalTS reports whether s is a timestamp exactly as
// backchannel.TS.String writes it: seconds without leading zeros, a dot,
// six digits.
func CanonicalTS(s []byte) bool {
	n := len(s) - 7
	if n < 1 || n > 12 || s[n] != '.' || s[0] == '0' && n > 1 {
		return false
	}
	for i, c := range s {
		if i != n && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func appendField(doc []byte, f *field) []byte {
	if len(doc) > 1 {
		doc = append(doc, ',')
	}
	doc = append(doc, f.raw...)
	doc = append(doc, ':')
	return append(doc, f.val...)
}

// changed decodes a message_changed: the flat form of the ingest format, or
// Slack's Events API form, where the edited message is nested under
// "message" (and the outer ts is the event's own).
func (d *decoder) changed(r *fields, ev *backchannel.Event, doc []byte) {
	ev.ChannelID = r.id("channel", true, channelID)
	src := r
	if v, ok := r.get("message"); ok {
		if v[0] != '{' {
			r.fail("message", "must be an object, got %s", kindOf(v))
			return
		}
		d.inner, _ = splitObject(v, d.inner[:0]) // validated with the line
		if k := duplicateKey(d.inner); k != nil {
			r.fail("message."+string(k), "duplicate key")
			return
		}
		src = &fields{line: r.line, prefix: "message.", fs: d.inner, err: r.err}
	}
	ev.TS = src.ts("ts", true)
	if v, ok := src.get("edited"); ok {
		ev.Edited = src.edited(v)
	}
	doc = append(doc, '{')
	for i := range src.fs {
		f := &src.fs[i]
		k := string(f.key)
		if dropFromDoc(f.key) || changeDrop[k] || k == "subtype" && string(f.val) == `"message_changed"` {
			continue
		}
		ev.Files += src.content(f, isNull(f.val))
		doc = appendField(doc, f)
	}
	ev.Doc = append(doc, '}')
	r.err = src.err
}
