// Package ingest decodes and validates the NDJSON event format (DESIGN.md
// "Events", docs/events.md): one JSON object per line, each becoming one
// backchannel.Event for Store.Apply. Every importer, the demo generator and
// POST /ingest/events go through it, so what it accepts is what the server
// accepts.
package ingest

import (
	"bytes"
	"crypto/sha256"

	"github.com/backchannel/backchannel"
)

// Activity event types: the root package's, re-exported for callers of
// this package.
const (
	EvMessageViewed  = backchannel.EvMessageViewed
	EvMessageClicked = backchannel.EvMessageClicked
	EvMessageShared  = backchannel.EvMessageShared
	EvClientActive   = backchannel.EvClientActive
	EvFileAdded      = backchannel.EvFileAdded
	EvSearch         = backchannel.EvSearch
	EvAppUsed        = backchannel.EvAppUsed
	EvWorkflowUsed   = backchannel.EvWorkflowUsed
	EvCall           = backchannel.EvCall
)

// IsActivity reports whether typ is an activity event type.
func IsActivity(typ string) bool { return backchannel.IsActivity(typ) }

// Clients a message or view may name.
var clients = []string{"desktop", "ios", "android", "web"}

// Decode decodes and validates one line (surrounding whitespace and a
// trailing "\r" are ignored). lineNo is used in errors and Event.Line. Errors
// are *backchannel.EventError naming the line and, where one is at fault,
// the field. The returned event owns its memory: line may be reused.
func Decode(line []byte, lineNo int) (backchannel.Event, error) {
	var d decoder
	return d.decode(line, lineNo)
}

// Decoder decodes lines one at a time like Decode, reusing its scratch
// space from line to line: for callers that hold lines rather than a
// stream (a Reader has one inside). It is not safe for concurrent use.
type Decoder struct{ d decoder }

// Decode is the package's Decode.
func (d *Decoder) Decode(line []byte, lineNo int) (backchannel.Event, error) {
	d.d.check = false
	return d.d.decode(line, lineNo)
}

// Check validates line exactly as Decode does and returns the same error,
// but keeps nothing: no event is built, nothing of line is copied and no
// idempotency key is computed. It is how an importer checks a whole input
// before applying any of it.
func (d *Decoder) Check(line []byte, lineNo int) error {
	d.d.check = true
	_, err := d.d.decode(line, lineNo)
	return err
}

// decoder carries scratch space reused across lines by a Reader.
type decoder struct {
	fs    []field
	inner []field // a nested "message" object of Slack's message_changed
	// check validates only: nothing is copied out of scratch (where the Doc
	// is built) and no key is computed.
	check   bool
	scratch []byte
	ids     interner
}

// interner hands out one string per distinct ID (and event type) a decoder
// sees, so the IDs of a stream's events do not each allocate their own.
type interner map[string]string

// maxInterned bounds an interner: beyond it, strings are allocated as usual.
const maxInterned = 1 << 14

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if in != nil && len(in) < maxInterned {
		in[s] = s
	}
	return s
}

func (d *decoder) decode(line []byte, lineNo int) (backchannel.Event, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return backchannel.Event{}, &backchannel.EventError{Line: lineNo, Detail: "empty line"}
	}
	fs, err := splitObject(line, d.fs[:0])
	d.fs = fs
	if err != nil {
		return backchannel.Event{}, &backchannel.EventError{Line: lineNo, Detail: "invalid JSON: " + err.Error()}
	}
	if k := duplicateKey(fs); k != nil {
		return backchannel.Event{}, &backchannel.EventError{Line: lineNo, Field: string(k), Detail: "duplicate key"}
	}
	if d.ids == nil {
		d.ids = interner{}
	}
	r := &fields{line: lineNo, fs: fs, ids: d.ids}
	ev := backchannel.Event{Line: lineNo}
	ev.Type = r.reqStr("type")
	ev.ID = r.str("event_id")
	ev.EventTS = r.ts("event_ts", false)
	if r.err != nil {
		return backchannel.Event{}, r.err
	}
	// The Doc is built in scratch space; then the raw copy and the Doc
	// share one allocation of exactly their size (check mode keeps neither).
	if need := 2*len(line) + 64; cap(d.scratch) < need {
		d.scratch = make([]byte, 0, need)
	}
	ev.Raw = line
	d.dispatch(r, &ev, d.scratch[:0])
	if r.err != nil {
		return backchannel.Event{}, r.err
	}
	if d.check {
		return ev, nil
	}
	buf := make([]byte, len(line)+len(ev.Doc))
	copy(buf, line)
	ev.Raw = buf[:len(line):len(line)]
	if ev.Doc != nil {
		copy(buf[len(line):], ev.Doc)
		ev.Doc = buf[len(line):]
	}
	ev.Key = key(ev.ID, ev.Raw)
	return ev, nil
}

// key is the idempotency key: a repeated event_id, or an identical line
// when there is none, is a duplicate.
func key(id string, raw []byte) [32]byte {
	if id == "" {
		return sha256.Sum256(raw)
	}
	var b [128]byte
	return sha256.Sum256(append(append(b[:0], "id:"...), id...))
}

func (d *decoder) dispatch(r *fields, ev *backchannel.Event, doc []byte) {
	switch ev.Type {
	case backchannel.EvMessage:
		// Slack's Events API sends edits and deletions as message subtypes.
		switch sub, _ := unquote(rawOf(r, "subtype")); sub {
		case backchannel.EvMessageChanged:
			ev.Type = backchannel.EvMessageChanged
			d.changed(r, ev, doc)
		case backchannel.EvMessageDeleted:
			ev.Type = backchannel.EvMessageDeleted
			deleted(r, ev)
		default:
			message(r, ev, doc)
		}
	case backchannel.EvMessageChanged:
		d.changed(r, ev, doc)
	case backchannel.EvMessageDeleted:
		deleted(r, ev)
	case backchannel.EvReactionAdded, backchannel.EvReactionRemoved:
		aboutMessage(r, ev)
		ev.Reaction = reaction(r)
	case backchannel.EvPinAdded, backchannel.EvPinRemoved, backchannel.EvStarAdded, backchannel.EvStarRemoved:
		aboutMessage(r, ev)
	case backchannel.EvMemberJoined, backchannel.EvMemberLeft:
		ev.ChannelID = r.id("channel", true, channelID)
		ev.UserID = r.id("user", true, userID)
	case backchannel.EvEnterprise:
		ev.Enterprise = enterprise(r)
	case backchannel.EvTeam:
		ev.Team = team(r)
	case backchannel.EvUser:
		ev.User = user(r)
	case backchannel.EvChannel:
		ev.Channel = channel(r)
	default:
		if IsActivity(ev.Type) {
			activity(r, ev)
			return
		}
		r.fail("type", "unknown event type %q", ev.Type)
	}
}

func rawOf(r *fields, name string) []byte {
	v, _ := r.get(name)
	return v
}

// aboutMessage reads the channel, ts and user of an event about a message.
func aboutMessage(r *fields, ev *backchannel.Event) {
	ev.ChannelID = r.id("channel", true, channelID)
	ev.TS = r.ts("ts", true)
	ev.UserID = r.id("user", true, userID)
}

// reaction reads an emoji name as Slack writes it in reactions: without
// colons ("thumbsup", "+1", "thumbsup::skin-tone-2").
func reaction(r *fields) string {
	s := r.reqStr("reaction")
	if r.err != nil {
		return s
	}
	if len(s) > 100 || s[0] == ':' || s[len(s)-1] == ':' || bytes.ContainsAny([]byte(s), " \t\r\n") {
		r.fail("reaction", "invalid emoji name %q (want the name without colons, e.g. \"thumbsup\")", s)
	}
	return s
}

func deleted(r *fields, ev *backchannel.Event) {
	ev.ChannelID = r.id("channel", true, channelID)
	// Slack's event carries the deleted message's ts as deleted_ts and its
	// own ts as ts.
	if _, ok := r.get("deleted_ts"); ok {
		ev.TS = r.ts("deleted_ts", true)
		return
	}
	ev.TS = r.ts("ts", true)
}

func activity(r *fields, ev *backchannel.Event) {
	ev.UserID = r.id("user", true, userID)
	if ev.EventTS == 0 {
		r.fail("event_ts", "required")
	}
	switch ev.Type {
	case EvMessageViewed, EvMessageClicked, EvMessageShared:
		ev.ChannelID = r.id("channel", true, channelID)
		ev.TS = r.ts("ts", true)
		if ev.Type == EvMessageViewed {
			ev.Client = r.enum("client", true, clients...)
		}
	case EvClientActive:
		ev.Client = r.enum("client", true, clients...)
	case EvCall:
		// Subtype carries a call's kind (root Event docs).
		ev.Subtype = r.enum("kind", true, "slack", "huddle", "third_party")
	default:
		ev.ChannelID = r.id("channel", false, channelID)
	}
}
