package slackexport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest"
)

// walker turns one conversation's records and day files into event lines.
// In check mode (the first pass) it also records what the second pass
// needs, and its directory lines are only for validation.
type walker struct {
	x     *Export
	emit  func(line []byte) error
	check bool
	// seen is, in check mode, when each user was first and last seen in
	// the conversations this walker walked (merged into Export.seen).
	seen map[string]*span

	state   chanState
	stateTS backchannel.TS
	member  map[string]bool
	hash    hash.Hash
	read    []byte // the day files' read buffer
	buf     []byte // the line being built
	id      []byte // the event_id being built
	tss     []byte // the message's ts in Slack's form
	reacts  []reaction
	compact bytes.Buffer
}

type chanState struct {
	name, topic, purpose string
	archived             bool
}

// conv emits c's events: its record as at creation and its members, every
// message in order with what it implies, then the corrections that bring
// the record and membership to the state channels.json describes.
func (w *walker) conv(ctx context.Context, b *budget, c *conv, fileDone func(messages int)) error {
	x := w.x
	// head sets the state as at creation; the check walks before it knows
	// that, from the current record.
	w.state = chanState{name: c.rec.Name, topic: string(c.rec.Topic), purpose: string(c.rec.Purpose)}
	w.member, w.hash = map[string]bool{}, sha256.New()
	if !w.check {
		if err := w.head(c); err != nil {
			return x.located(c.from, -1, err)
		}
	}
	for _, day := range c.days {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := 0
		err := x.readFileBuf(b, day, &w.read, func(d *dayReader) error {
			for i := 1; ; i++ {
				raw, off, err := d.next()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				if err := w.message(c, raw); err != nil {
					return &posError{off, fmt.Sprintf("message %d: %s", i, err)}
				}
				n++
			}
		})
		if err != nil {
			return err
		}
		fileDone(n)
	}
	if w.check {
		if err := w.head(c); err != nil {
			return x.located(c.from, -1, err)
		}
	}
	if err := w.tail(c); err != nil {
		return x.located(c.from, -1, err)
	}
	return nil
}

// at is when a conversation began: its creation time, else its first
// message.
func (c *conv) at() backchannel.TS {
	if c.rec.Created > 0 {
		return backchannel.TS(int64(c.rec.Created) * 1_000_000)
	}
	return c.first
}

func (c *conv) lastTS() backchannel.TS { return max(c.at(), c.last) }

func (w *walker) head(c *conv) error {
	w.state = chanState{name: c.rec.Name, topic: string(c.rec.Topic), purpose: string(c.rec.Purpose)}
	if c.firstOldName != "" {
		w.state.name = c.firstOldName
	}
	if c.topicChanged {
		w.state.topic = ""
	}
	if c.purposeChanged {
		w.state.purpose = ""
	}
	w.member, w.hash = map[string]bool{}, sha256.New()
	at := c.at()
	if err := w.channel(c, at, ""); err != nil {
		return err
	}
	if w.check {
		w.see(c.rec.Creator, at)
	}
	if c.rec.Members == nil {
		return nil
	}
	for _, u := range *c.rec.Members {
		if c.joinMsg[u] {
			continue // its channel_join message says when
		}
		if err := w.membership(c, backchannel.EvMemberJoined, u, at); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) tail(c *conv) error {
	last := c.lastTS()
	if c.rec.Members != nil {
		want := map[string]bool{}
		for _, u := range *c.rec.Members {
			want[u] = true
			if !w.member[u] {
				if err := w.membership(c, backchannel.EvMemberJoined, u, last); err != nil {
					return err
				}
			}
		}
		var gone []string
		for u, in := range w.member {
			if in && !want[u] {
				gone = append(gone, u)
			}
		}
		sort.Strings(gone)
		for _, u := range gone {
			if err := w.membership(c, backchannel.EvMemberLeft, u, last); err != nil {
				return err
			}
		}
	}
	// The last record is the current one; its event_id covers every record
	// before it, so a later export that changed any of them applies it again
	// and the store (last write wins) ends on the current state.
	fin := chanState{name: c.rec.Name, topic: string(c.rec.Topic), purpose: string(c.rec.Purpose), archived: c.rec.IsArchived}
	at := w.stateTS
	if fin != w.state {
		at = last
	}
	w.state = fin
	return w.channel(c, at, "export:channel:"+c.rec.ID+":"+hex.EncodeToString(w.hash.Sum(nil))[:16])
}

type channelLine struct {
	Type       string `json:"type"`
	EventID    string `json:"event_id,omitempty"`
	ID         string `json:"id"`
	TeamID     string `json:"team_id"`
	Name       string `json:"name,omitempty"`
	Kind       string `json:"kind"`
	Created    int64  `json:"created,omitempty"`
	Creator    string `json:"creator,omitempty"`
	Topic      string `json:"topic"`
	Purpose    string `json:"purpose"`
	IsArchived bool   `json:"is_archived"`
	EventTS    string `json:"event_ts,omitempty"`
}

// channel emits c's record in the walker's current state as of at.
func (w *walker) channel(c *conv, at backchannel.TS, eventID string) error {
	l := channelLine{Type: backchannel.EvChannel, EventID: eventID, ID: c.rec.ID, TeamID: w.x.team, Name: w.state.name,
		Kind: c.kind, Created: int64(c.rec.Created), Creator: c.rec.Creator, Topic: w.state.topic,
		Purpose: w.state.purpose, IsArchived: w.state.archived, EventTS: tsString(at)}
	line, err := json.Marshal(l)
	if err != nil {
		return err
	}
	w.hash.Write(line)
	w.stateTS = at
	if err := w.emit(line); err != nil {
		return fmt.Errorf("conversation %s: %s", c.rec.ID, detail(err))
	}
	return nil
}

func (w *walker) membership(c *conv, typ, user string, at backchannel.TS) error {
	line := append(append(append(w.buf[:0], `{"type":"`...), typ...), `","channel":`...)
	line = append(appendQuoted(line, c.rec.ID), `,"user":`...)
	line = appendQuoted(line, user)
	if at > 0 {
		line = append(at.AppendTo(append(line, `,"event_ts":"`...)), '"')
	}
	line = append(line, '}')
	w.buf = line
	w.member[user] = typ == backchannel.EvMemberJoined
	if w.check {
		w.see(user, at)
	}
	if err := w.emit(line); err != nil {
		return fmt.Errorf("conversation %s: member %s: %s", c.rec.ID, user, detail(err))
	}
	return nil
}

// message emits one exported message and the events it implies.
func (w *walker) message(c *conv, raw []byte) error {
	if bytes.ContainsAny(raw, "\n\r\t") { // pretty-printed: store one line
		w.compact.Reset()
		if err := json.Compact(&w.compact, raw); err != nil {
			return err
		}
		raw = w.compact.Bytes()
	}
	m := readMessage(raw)
	switch {
	case !isString(m.typ) || len(m.typ) == 2:
		return errors.New("type: required")
	case !strIs(m.typ, backchannel.EvMessage):
		return fmt.Errorf("type: %q, want \"message\"", str(m.typ))
	case m.ts == nil:
		return errors.New("ts: required")
	case isString(m.channel) && len(m.channel) > 2 && !strIs(m.channel, c.rec.ID):
		return fmt.Errorf("channel: %q, but the message is in the folder of %s", str(m.channel), c.rec.ID)
	}
	ts, err := parseTS(m.ts)
	if err != nil {
		return fmt.Errorf("ts: %w", err)
	}
	line := w.messageLine(c, &m, raw)
	if err := w.emit(line); err != nil {
		return errors.New(detail(err))
	}
	if w.check {
		c.messages++
		c.first, c.last = minTS(c.first, ts), max(c.last, ts)
		w.see(m.user, ts)
	}
	if err := w.reactions(c, &m, ts); err != nil {
		return err
	}
	if err := w.pin(c, &m, ts); err != nil {
		return err
	}
	return w.subtype(c, &m, ts)
}

// messageLine builds the line of an exported message: the element plus
// its channel, without event_id and without the fields the store computes
// from other events (ingest.Computed: reactions, pins, thread stats), which
// the decoder would drop anyway. Such a line is deduplicated through the
// message's own row (docs/sqlite.md, "Idempotency"), and it is the same in
// every export of the workspace until the message itself changes (an edit
// changes its "edited"): a later export whose reactions or replies grew
// repeats it, while a changed message replaces the stored one.
func (w *walker) messageLine(c *conv, m *messageInfo, raw []byte) []byte {
	line := append(w.buf[:0], '{')
	if !isString(m.channel) || len(m.channel) == 2 {
		line = append(append(append(line, `"channel":"`...), c.rec.ID...), `",`...)
	}
	if m.computed == 0 || m.computedTwice {
		line = append(line, raw[1:]...)
	} else {
		n := 0
		topFields(raw, func(k, v []byte) {
			if ingest.Computed(k) {
				return
			}
			if n > 0 {
				line = append(line, ',')
			}
			n++
			line = append(append(append(append(line, '"'), k...), `":`...), v...)
		})
		if n == 0 && line[len(line)-1] == ',' { // only computed fields: drop the channel's comma
			line = line[:len(line)-1]
		}
		line = append(line, '}')
	}
	w.buf = line
	return line
}

func (w *walker) reactions(c *conv, m *messageInfo, ts backchannel.TS) error {
	if len(m.reactions) == 0 || m.reactions[0] == 'n' {
		return nil
	}
	rs, err := parseReactions(m.reactions, w.reacts[:0])
	w.reacts = rs
	if err != nil {
		return fmt.Errorf("reactions: %w", err)
	}
	tss := appendTS(w.tss[:0], ts, m.ts)
	w.tss = tss
	for _, r := range rs {
		for _, u := range r.Users {
			id := append(append(append(w.id[:0], "export:react:"...), c.rec.ID...), ':')
			id = append(append(append(append(append(id, tss...), ':'), r.Name...), ':'), u...)
			w.id = id
			line := append(w.buf[:0], `{"type":"reaction_added","event_id":`...)
			line = append(append(append(appendQuotedBytes(line, id), `,"channel":"`...), c.rec.ID...), `","ts":"`...)
			line = append(append(line, tss...), `","user":`...)
			line = append(appendQuoted(line, u), `,"reaction":`...)
			line = append(appendQuoted(line, r.Name), `,"event_ts":"`...)
			line = append(append(line, tss...), `"}`...)
			w.buf = line
			if err := w.emit(line); err != nil {
				return fmt.Errorf("reactions: %s", detail(err))
			}
			if w.check {
				w.see(u, ts)
			}
		}
	}
	return nil
}

func (w *walker) pin(c *conv, m *messageInfo, ts backchannel.TS) error {
	if len(m.pinnedTo) == 0 || m.pinnedTo[0] != '[' || len(bytes.TrimSpace(m.pinnedTo[1:len(m.pinnedTo)-1])) == 0 {
		return nil
	}
	var info struct {
		PinnedBy string  `json:"pinned_by"`
		PinnedTS flexInt `json:"pinned_ts"`
	}
	if len(m.pinnedInfo) > 0 && m.pinnedInfo[0] == '{' {
		if err := json.Unmarshal(m.pinnedInfo, &info); err != nil {
			return fmt.Errorf("pinned_info: %w", err)
		}
	}
	// Exports say who pinned only in pinned_info; else the author is taken.
	by, at := firstOf(info.PinnedBy, m.user, "USLACKBOT"), ts
	if info.PinnedTS > 0 {
		at = backchannel.TS(int64(info.PinnedTS) * 1_000_000)
	}
	line := append(append(append(w.buf[:0], `{"type":"pin_added","event_id":"export:pin:`...), c.rec.ID...), ':')
	line = append(append(append(ts.AppendTo(line), `","channel":"`...), c.rec.ID...), `","ts":"`...)
	line = append(ts.AppendTo(line), `","user":`...)
	line = append(appendQuoted(line, by), `,"event_ts":"`...)
	line = append(at.AppendTo(line), `"}`...)
	w.buf = line
	if err := w.emit(line); err != nil {
		return fmt.Errorf("pinned_to: %s", detail(err))
	}
	if w.check {
		w.see(by, at)
	}
	return nil
}

// subtype applies what a system message says happened to the conversation.
func (w *walker) subtype(c *conv, m *messageInfo, ts backchannel.TS) error {
	switch m.subtype {
	case "channel_join", "group_join":
		if m.user != "" {
			if w.check {
				c.joinMsg[m.user] = true
			}
			return w.membership(c, backchannel.EvMemberJoined, m.user, ts)
		}
	case "channel_leave", "group_leave":
		if m.user != "" {
			return w.membership(c, backchannel.EvMemberLeft, m.user, ts)
		}
	case "channel_topic", "group_topic":
		if len(m.topic) > 0 && m.topic[0] == '"' {
			c.topicChanged = c.topicChanged || w.check
			w.state.topic = str(m.topic)
			return w.channel(c, ts, "")
		}
	case "channel_purpose", "group_purpose":
		if len(m.purpose) > 0 && m.purpose[0] == '"' {
			c.purposeChanged = c.purposeChanged || w.check
			w.state.purpose = str(m.purpose)
			return w.channel(c, ts, "")
		}
	case "channel_name", "group_name":
		if n := str(m.name); n != "" {
			if w.check && c.firstOldName == "" {
				c.firstOldName = firstOf(m.oldName, w.state.name)
			}
			w.state.name = n
			return w.channel(c, ts, "")
		}
	case "channel_archive", "group_archive", "channel_unarchive", "group_unarchive":
		w.state.archived = m.subtype == "channel_archive" || m.subtype == "group_archive"
		return w.channel(c, ts, "")
	}
	return nil
}

type userLine struct {
	Type                    string `json:"type"`
	EventID                 string `json:"event_id,omitempty"`
	ID                      string `json:"id"`
	TeamID                  string `json:"team_id"`
	Name                    string `json:"name"`
	RealName                string `json:"real_name"`
	Email                   string `json:"email,omitempty"`
	IsGuest                 bool   `json:"is_guest"`
	GuestType               string `json:"guest_type,omitempty"`
	IsBot                   bool   `json:"is_bot"`
	IsAdmin                 bool   `json:"is_admin"`
	IsOwner                 bool   `json:"is_owner"`
	IsPrimaryOwner          bool   `json:"is_primary_owner"`
	CanManagePublicChannels bool   `json:"can_manage_public_channels"`
	Deleted                 bool   `json:"deleted"`
	EventTS                 string `json:"event_ts,omitempty"`
}

const slackbot = "USLACKBOT"

// directoryLines emits the team and every user. A user exists from when the
// export first shows them (a message, reaction, join or pin; the export's
// start when never) and a deleted one until it last shows them: exports do
// not say when people joined or left.
func (x *Export) directoryLines(emit func([]byte) error) error {
	team, _ := json.Marshal(struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Name string `json:"name"`
	}{backchannel.EvTeam, x.team, x.opt.TeamName})
	if err := emit(team); err != nil {
		return x.located("users.json", -1, fmt.Errorf("team: %s", detail(err)))
	}
	hasBot := false
	for i, u := range x.users {
		hasBot = hasBot || u.ID == slackbot
		if err := x.userLines(u, emit); err != nil {
			return x.located("users.json", x.uoff[i], fmt.Errorf("element %d: %s", i+1, detail(err)))
		}
	}
	if !hasBot && x.seen[slackbot] != nil {
		u := userRecord{ID: slackbot, TeamID: x.team, Name: "slackbot", RealName: "Slackbot"}
		if err := x.userLines(u, emit); err != nil {
			return err
		}
	}
	return nil
}

func (x *Export) userLines(u userRecord, emit func([]byte) error) error {
	l := userLine{Type: backchannel.EvUser, ID: u.ID, TeamID: firstOf(u.TeamID, x.team), Name: u.Name,
		RealName: firstOf(u.RealName, u.Profile.RealName), Email: u.Profile.Email,
		IsGuest: u.IsRestricted || u.IsUltraRestricted, IsBot: u.IsBot || u.IsAppUser || u.ID == slackbot,
		IsAdmin: u.IsAdmin, IsOwner: u.IsOwner, IsPrimaryOwner: u.IsPrimaryOwner,
		CanManagePublicChannels: u.IsAdmin || u.IsOwner || u.IsPrimaryOwner}
	switch {
	case u.IsUltraRestricted:
		l.GuestType = "single_channel"
	case u.IsRestricted:
		l.GuestType = "multi_channel"
	}
	first, last := x.sum.First, x.sum.First
	if s := x.seen[u.ID]; s != nil {
		first, last = s.first, s.last
	}
	l.EventTS = tsString(first)
	line, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if !u.Deleted {
		return emit(line)
	}
	if err := emit(line); err != nil {
		return err
	}
	h := sha256.Sum256(line)
	l.Deleted, l.EventTS = true, tsString(last)
	l.EventID = "export:user:" + u.ID + ":" + hex.EncodeToString(h[:8])
	if line, err = json.Marshal(l); err != nil {
		return err
	}
	return emit(line)
}

// validator checks lines as ingest.Decode would and keeps nothing: the
// first pass.
type validator struct {
	n int
	d ingest.Decoder
}

func (v *validator) emit(line []byte) error {
	v.n++
	return v.d.Check(line, v.n)
}

// detail is an ingest error without its line number: the caller names the
// file and position instead.
func detail(err error) string {
	var ee *backchannel.EventError
	if errors.As(err, &ee) {
		if ee.Field == "" {
			return ee.Detail
		}
		return ee.Field + ": " + ee.Detail
	}
	return err.Error()
}

// appendQuoted appends s as encoding/json writes a string, byte for byte
// (lines without an event_id are keyed by their bytes, so they must not
// change from one import to the next).
func appendQuoted(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !safeJSON[s[i]] {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	return append(append(append(dst, '"'), s...), '"')
}

// appendQuotedBytes is appendQuoted of a []byte.
func appendQuotedBytes(dst, s []byte) []byte {
	for _, c := range s {
		if !safeJSON[c] {
			b, _ := json.Marshal(string(s))
			return append(dst, b...)
		}
	}
	return append(append(append(dst, '"'), s...), '"')
}

// safeJSON marks the bytes encoding/json writes into a string as they are:
// printable ASCII but for the quote, the backslash and the HTML characters
// it escapes.
var safeJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// isString reports whether v is a JSON string.
func isString(v []byte) bool { return len(v) >= 2 && v[0] == '"' }

// strIs reports whether the JSON value v is the string s.
func strIs(v []byte, s string) bool {
	if isString(v) && bytes.IndexByte(v, '\\') < 0 {
		return string(v[1:len(v)-1]) == s
	}
	return str(v) == s
}

// appendTS appends ts in Slack's form: raw's text when raw (its JSON value)
// already is that form, else ts formatted.
func appendTS(dst []byte, ts backchannel.TS, raw []byte) []byte {
	if len(raw) >= 2 && raw[0] == '"' && ingest.CanonicalTS(raw[1:len(raw)-1]) {
		return append(dst, raw[1:len(raw)-1]...)
	}
	return ts.AppendTo(dst)
}

// parseTS parses a timestamp value, a JSON string or number: the canonical
// "<seconds>.<6 digits>" string directly, anything else through
// backchannel.ParseTS (which gives the same result for it).
func parseTS(v []byte) (backchannel.TS, error) {
	if len(v) >= 9 && v[0] == '"' && v[len(v)-1] == '"' {
		s := v[1 : len(v)-1]
		if n := len(s) - 7; n >= 1 && n <= 12 && s[n] == '.' {
			var t int64
			ok := true
			for i, c := range s {
				if i != n {
					ok = ok && c >= '0' && c <= '9'
					t = t*10 + int64(c-'0')
				}
			}
			if ok {
				return backchannel.TS(t), nil
			}
		}
	}
	return backchannel.ParseTS(rawText(v))
}

// rawText is a JSON string's text or a number's literal.
func rawText(v []byte) string {
	if len(v) > 0 && v[0] == '"' {
		return str(v)
	}
	return string(v)
}

func tsString(ts backchannel.TS) string {
	if ts <= 0 {
		return ""
	}
	return ts.String()
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
