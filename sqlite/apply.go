package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/backchannel/backchannel"
)

// msgRow is a message's row as the batch sees it: loaded once from the
// database, changed in memory by the batch's events in order, rendered and
// written back once at the end of the batch.
type msgRow struct {
	key      msgKey
	present  bool // a message event arrived (false: tombstone or placeholder)
	deleted  bool
	threadTS backchannel.TS
	parentTS backchannel.TS // thread_ts of a reply, 0 otherwise
	user     string
	subtype  string
	edited   *backchannel.Edited
	doc      []byte
	body     []byte
	reactAt  int64 // messages.react_at: where the reactions go (legacyReactAt: NULL, in body)
	visible  bool
	// keySeq is the row's holder: the log seq of the `message` event that
	// wrote it when that event's key is not in event_keys (0: none), and
	// holder its key (see settleMessages); stored together in
	// messages.holder.
	keySeq int64
	holder []byte

	inDB    bool // the row existed before the batch
	checked bool // looked up in the database (else a placeholder)
	dirty   bool // stored fields changed
	render  bool // body must be recomputed (reactions, pins, replies, doc)
}

func (r *msgRow) isVisible() bool {
	return r.present && !r.deleted && (r.parentTS == 0 || r.subtype == "thread_broadcast")
}

// batch is the state of one Apply request inside its savepoint.
type batch struct {
	w   *writer
	t   *touched
	seq []int64 // log seq of each event; 0 for duplicates
	// The batch's events, as prepared, and the seq before the first of it.
	events []backchannel.Event
	p      *prepared
	base   int64
	rows   map[msgKey]*msgRow
	slab   []msgRow // rows are carved from here: one allocation per slabRows
	arena  []byte   // and their holder columns from here (holderOf)
	now    int64

	snaps     map[string]*snap // per channel: what may be stored (marks.go)
	decorated map[msgKey]bool  // keys whose pins this batch wrote
	reacts    []any            // reactions added, not yet inserted (flushReactions)
	ru        rollups          // analytics deltas of the batch (rollup.go)
	covered   []bool           // events whose rules prerollup ran (nil: none)
	runKeys   []runKeys        // keys of the logged runs keyOf has read
}

func (b *batch) row(k msgKey) *msgRow {
	r := b.rows[k]
	if r == nil {
		r = b.newRow()
		r.key = k
		b.rows[k] = r
	}
	return r
}

// slabRows is how many rows newRow allocates at once.
const slabRows = 256

// newRow returns a zero row from the batch's slab.
func (b *batch) newRow() *msgRow {
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]msgRow, 0, slabRows)
	}
	b.slab = b.slab[:len(b.slab)+1]
	return &b.slab[len(b.slab)-1]
}

// apply stores one batch. It runs inside the request's savepoint; any error
// rolls the savepoint back, so the batch is all or nothing.
func (w *writer) apply(ctx context.Context, events []backchannel.Event, p *prepared, t *touched) (backchannel.ApplyResult, error) {
	var res backchannel.ApplyResult
	b := &batch{w: w, t: t, rows: make(map[msgKey]*msgRow, len(events)), now: p.now, decorated: make(map[msgKey]bool)}
	if err := b.claimKeys(ctx, events, p); err != nil {
		return res, err
	}
	if err := b.validate(ctx, events); err != nil {
		return backchannel.ApplyResult{}, err
	}
	if err := b.loadMarks(ctx, events); err != nil {
		return backchannel.ApplyResult{}, err
	}
	if err := b.loadRows(ctx, b.eventKeys(events), false); err != nil {
		return backchannel.ApplyResult{}, err
	}
	if err := b.settleMessages(ctx); err != nil {
		return backchannel.ApplyResult{}, err
	}
	if err := b.appendLog(ctx); err != nil {
		return backchannel.ApplyResult{}, err
	}
	for _, s := range b.seq {
		if s == 0 {
			res.Duplicates++
		} else {
			res.Accepted++
		}
	}
	if err := b.loadRollupContext(ctx, events); err != nil {
		return backchannel.ApplyResult{}, err
	}
	for i := range events {
		if b.seq[i] == 0 {
			continue
		}
		if err := b.applyOne(ctx, &events[i], i, b.seq[i]); err != nil {
			return backchannel.ApplyResult{}, err
		}
	}
	if err := b.flushReactions(ctx); err != nil {
		return backchannel.ApplyResult{}, err
	}
	if err := b.flush(ctx); err != nil {
		return backchannel.ApplyResult{}, err
	}
	if err := w.writeRollups(ctx, b.ru.agg, true); err != nil {
		return backchannel.ApplyResult{}, err
	}
	if err := w.writeActivity(ctx, b.ru.act); err != nil {
		return backchannel.ApplyResult{}, err
	}
	b.raiseMarks(events)
	return res, nil
}

// validate checks, in batch order, that every channel an event refers to
// exists by then (in the database or created earlier in the batch). Channels
// the writer knows exist (marks.go) are not looked up.
func (b *batch) validate(ctx context.Context, events []backchannel.Event) error {
	var ids []string
	want := map[string]bool{}
	for i := range events {
		ev := &events[i]
		if b.seq[i] != 0 && ev.ChannelID != "" && !want[ev.ChannelID] && ev.Type != backchannel.EvChannel && !b.w.known[ev.ChannelID] {
			want[ev.ChannelID] = true
			ids = append(ids, ev.ChannelID)
		}
	}
	known := make(map[string]bool, len(ids))
	if len(ids) > 0 {
		s, err := b.w.stmt(ctx, `SELECT id FROM channels WHERE id IN (SELECT value FROM json_each(?))`)
		if err != nil {
			return err
		}
		err = scanAll(ctx, s, []any{stringList(ids)}, func(rows *sql.Rows) error {
			var id string
			err := rows.Scan(&id)
			known[id] = true
			return err
		})
		if err != nil {
			return fmt.Errorf("look up channels: %w", err)
		}
	}
	for i := range events {
		ev := &events[i]
		if b.seq[i] == 0 {
			continue
		}
		if ev.Type == backchannel.EvChannel && ev.Channel != nil {
			known[ev.Channel.ID] = true
			continue
		}
		if needsChannel(ev.Type) && !known[ev.ChannelID] && !b.w.known[ev.ChannelID] {
			return &backchannel.EventError{Line: ev.Line, Field: "channel", Detail: fmt.Sprintf("unknown channel %q", ev.ChannelID)}
		}
	}
	return nil
}

func needsChannel(typ string) bool {
	switch typ {
	case backchannel.EvMemberJoined, backchannel.EvMemberLeft,
		backchannel.EvMessage, backchannel.EvMessageChanged, backchannel.EvMessageDeleted,
		backchannel.EvReactionAdded, backchannel.EvReactionRemoved,
		backchannel.EvPinAdded, backchannel.EvPinRemoved,
		backchannel.EvStarAdded, backchannel.EvStarRemoved:
		return true
	}
	return false
}

func isMessageEvent(typ string) bool {
	switch typ {
	case backchannel.EvMessage, backchannel.EvMessageChanged, backchannel.EvMessageDeleted,
		backchannel.EvReactionAdded, backchannel.EvReactionRemoved,
		backchannel.EvPinAdded, backchannel.EvPinRemoved:
		return true
	}
	return false
}

// eventKeys lists the messages the new events refer to (and the thread
// parents of replies), each once, and gives each a placeholder row.
func (b *batch) eventKeys(events []backchannel.Event) []msgKey {
	var keys []msgKey
	add := func(k msgKey) {
		if _, seen := b.rows[k]; !seen {
			b.row(k)
			keys = append(keys, k)
		}
	}
	for i := range events {
		ev := &events[i]
		if b.seq[i] == 0 || !isMessageEvent(ev.Type) {
			continue
		}
		add(msgKey{ev.ChannelID, ev.TS})
		if ev.Type == backchannel.EvMessage && ev.ThreadTS != 0 && ev.ThreadTS != ev.TS {
			add(msgKey{ev.ChannelID, ev.ThreadTS})
		}
	}
	return keys
}

// probeRows reads message rows.
var probeRows = probeQuery{
	one: `SELECT ` + rowColumns + ` FROM messages AS m WHERE m.channel_id = ? AND m.ts IN (SELECT value FROM json_each(?))`,
	many: `SELECT ` + rowColumns + ` FROM json_each(?) AS j CROSS JOIN messages AS m
		ON m.channel_id = j.value->>0 AND m.ts = j.value->>1`,
}

const rowColumns = `m.channel_id, m.ts, m.thread_ts, coalesce(m.parent_ts, 0), m.user_id, m.subtype,
	m.present, m.deleted, m.visible, m.edited_user, m.edited_ts, m.doc, m.body, m.holder, coalesce(m.react_at, -2)`

// loadRows reads the rows of keys in one statement: one round trip per
// batch, not per event. Keys without a row get an empty placeholder. With
// render set, loaded rows are marked for re-rendering (second pass: parents
// whose stats changed).
func (b *batch) loadRows(ctx context.Context, keys []msgKey, render bool) error {
	for _, k := range keys {
		r := b.row(k)
		r.checked = true
		r.render = r.render || render
	}
	keys = b.stored(keys, kindRow, nil)
	if len(keys) == 0 {
		return nil
	}
	err := b.w.probe(ctx, probeRows, keys, func(rows *sql.Rows) error {
		var r msgRow
		var eu, et sql.NullString
		var holder []byte
		if err := rows.Scan(&r.key.ch, &r.key.ts, &r.threadTS, &r.parentTS, &r.user, &r.subtype,
			&r.present, &r.deleted, &r.visible, &eu, &et, &r.doc, &r.body, &holder, &r.reactAt); err != nil {
			return err
		}
		switch len(holder) {
		case 0:
		case 8 + 32:
			r.keySeq, r.holder = int64(binary.BigEndian.Uint64(holder)), holder[8:]
		default:
			return fmt.Errorf("message %s/%s: holder of %d bytes", r.key.ch, r.key.ts, len(holder))
		}
		if eu.Valid {
			r.edited = &backchannel.Edited{User: eu.String, TS: et.String}
		}
		if r.doc == nil {
			r.doc = r.body
		}
		r.inDB, r.checked, r.render = true, true, render
		*b.row(r.key) = r
		return nil
	})
	if err != nil {
		return fmt.Errorf("load messages: %w", err)
	}
	return nil
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
