package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"slices"

	"github.com/backchannel/backchannel/internal/render"
)

// Rendering is shared with the PostgreSQL store so both answer
// byte-identical message objects.
type (
	reaction = render.Reaction
	reply    = render.Reply
)

// flush renders every message the batch changed (or whose reactions, pins
// or replies changed) and writes the rows back with multi-row upserts.
func (b *batch) flush(ctx context.Context) error {
	// Placeholders were created for parents not referenced by an event (the
	// old parent of a re-sent reply, the parent of a deleted reply).
	var late []msgKey
	for k, r := range b.rows {
		if !r.checked {
			late = append(late, k)
		}
	}
	if err := b.loadRows(ctx, late, true); err != nil {
		return err
	}

	var keys, parents []msgKey
	for k, r := range b.rows {
		if r.present && (r.render || r.dirty) {
			keys = append(keys, k)
			if r.parentTS == 0 {
				parents = append(parents, k)
			}
		}
	}
	// Key order: sequential B-tree inserts, and a deterministic batch.
	less := func(a, b msgKey) int { return cmp.Or(cmp.Compare(a.ch, b.ch), cmp.Compare(a.ts, b.ts)) }
	slices.SortFunc(keys, less)
	pins, err := b.loadPins(ctx, keys)
	if err != nil {
		return err
	}
	replies, err := b.loadReplies(ctx, parents)
	if err != nil {
		return err
	}

	var top, full []*msgRow
	for _, k := range keys {
		r := b.rows[k]
		// Without the reactions (migration 0015): history inserts them.
		body, at := render.Split(render.Message{Channel: r.key.ch, TS: r.key.ts, ThreadTS: r.threadTS, Doc: r.doc, Edited: r.edited},
			replies[k], pins[k])
		reactAt := int64(at)
		if at == len(body)-1 {
			reactAt = reactAtEnd
		}
		vis := r.isVisible()
		if r.inDB && !r.dirty && vis == r.visible && bytes.Equal(body, r.body) && reactAt == r.reactAt {
			continue
		}
		r.body, r.visible, r.reactAt = body, vis, reactAt
		if r.threadTS == 0 && r.subtype == "" && r.visible && !r.deleted && r.edited == nil && bytes.Equal(r.doc, r.body) {
			top = append(top, r)
		} else {
			full = append(full, r)
		}
	}
	// Tombstones: a delete for a message not (yet) stored.
	var tombs []*msgRow
	for _, r := range b.rows {
		if !r.present && r.dirty {
			r.body, r.visible, r.reactAt = []byte("{}"), false, reactAtEnd
			tombs = append(tombs, r)
		}
	}
	slices.SortFunc(tombs, func(a, b *msgRow) int { return less(a.key, b.key) })
	if err := b.writeRows(ctx, top, rowTop); err != nil {
		return err
	}
	return b.writeRows(ctx, append(full, tombs...), rowFull)
}

// Message rows are written per channel (a shared parameter), in three
// shapes: every argument costs a conversion and a bind, so a row binds only
// the columns that vary among rows of its shape.
const (
	upsertMessages = `INSERT INTO messages (channel_id, ts, thread_ts, parent_ts, user_id, subtype,
		present, deleted, visible, edited_user, edited_ts, doc, body, holder, react_at)`
	upsertMessagesTail = `ON CONFLICT (channel_id, ts) DO UPDATE SET thread_ts = excluded.thread_ts, parent_ts = excluded.parent_ts,
		user_id = excluded.user_id, subtype = excluded.subtype, present = excluded.present, deleted = excluded.deleted,
		visible = excluded.visible, edited_user = excluded.edited_user, edited_ts = excluded.edited_ts,
		doc = excluded.doc, body = excluded.body, holder = excluded.holder, react_at = excluded.react_at`
)

// messages.react_at (migration 0015): where a message's reactions go in
// its body. reactAtEnd is just before the body's final '}' (most rows);
// legacyReactAt is NULL, a row written before 0015 whose body holds them.
const (
	reactAtEnd    = -1
	legacyReactAt = -2
)

// rowShape is a kind of message row and its VALUES templates: tmpl with
// the channel shared by the statement's rows, mixed with the channel bound
// per row.
type rowShape struct {
	tmpl, mixed string
	per         int // arguments per row of tmpl (mixed: one more)
}

var (
	// rowTop: a plain top-level message (no thread, subtype or edit, doc
	// equal to body) — almost every row of a stream of new messages.
	// (react_at: reactAtEnd, as a top-level message's body is its doc.)
	rowTop  = rowShape{`(@,?,0,NULL,?,'',1,0,1,NULL,NULL,NULL,?,?,-1)`, `(?,?,0,NULL,?,'',1,0,1,NULL,NULL,NULL,?,?,-1)`, 4}
	rowFull = rowShape{`(@,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, `(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, 14}
)

// sharedRows is how many rows of one channel a batch writes with the
// channel shared; fewer go with the rows of other such channels, the
// channel bound per row. A batch of history has thousands of rows per
// channel; one of activity a row or two in each of thousands of channels,
// which per channel would be a statement each.
const sharedRows = 8

// writeRows upserts rows (sorted by key) of one shape.
func (b *batch) writeRows(ctx context.Context, rows []*msgRow, shape rowShape) error {
	args := make([]any, 0, min(len(rows), chunkRows)*shape.per)
	var mixed []any
	for len(rows) > 0 {
		ch := rows[0].key.ch
		n := 1
		for n < len(rows) && rows[n].key.ch == ch {
			n++
		}
		if n < sharedRows {
			for _, r := range rows[:n] {
				mixed = b.appendRowArgs(append(mixed, ch), r, shape)
			}
			rows = rows[n:]
			continue
		}
		args = args[:0]
		for _, r := range rows[:n] {
			args = b.appendRowArgs(args, r, shape)
		}
		if err := b.w.execRows(ctx, upsertMessages, shape.tmpl, upsertMessagesTail, []any{ch}, shape.per, args); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return b.w.execRows(ctx, upsertMessages, shape.mixed, upsertMessagesTail, nil, shape.per+1, mixed)
}

func (b *batch) appendRowArgs(args []any, r *msgRow, shape rowShape) []any {
	var parent any
	if r.parentTS != 0 {
		parent = int64(r.parentTS)
	}
	var holder any // seq and key, or NULL
	if r.keySeq != 0 {
		holder = b.holderOf(r)
	}
	switch shape {
	case rowTop:
		return append(args, int64(r.key.ts), r.user, r.body, holder)
	}
	var eu, et any
	if r.edited != nil {
		eu, et = r.edited.User, r.edited.TS
	}
	var doc any
	if !bytes.Equal(r.doc, r.body) {
		doc = r.doc // stored apart only when rendering added fields
	}
	return append(args, int64(r.key.ts), int64(r.threadTS), parent, r.user, r.subtype,
		boolInt(r.present), boolInt(r.deleted), boolInt(r.visible), eu, et, doc, r.body, holder, r.reactAt)
}

// holderOf encodes r's holder for messages.holder: its seq (8 bytes, big
// endian) and key, carved from the batch's arena.
func (b *batch) holderOf(r *msgRow) []byte {
	if len(b.arena)+40 > cap(b.arena) {
		b.arena = make([]byte, 0, 40*256)
	}
	n := len(b.arena)
	b.arena = append(binary.BigEndian.AppendUint64(b.arena, uint64(r.keySeq)), r.holder...)
	return b.arena[n : n+40 : n+40]
}

// What loadPins and loadReplies read (see probe); replies come in no
// particular order.
var (
	probePins = probeQuery{
		one: `SELECT p.channel_id, p.ts FROM pins AS p WHERE p.channel_id = ? AND p.ts IN (SELECT value FROM json_each(?))`,
		many: `SELECT p.channel_id, p.ts FROM json_each(?) AS j CROSS JOIN pins AS p
			ON p.channel_id = j.value->>0 AND p.ts = j.value->>1`,
	}
	probeReplies = probeQuery{
		one: `SELECT m.channel_id, m.parent_ts, m.ts, m.user_id FROM messages AS m INDEXED BY messages_replies
			WHERE m.channel_id = ? AND m.parent_ts IN (SELECT value FROM json_each(?))
			AND m.parent_ts IS NOT NULL AND m.present = 1 AND m.deleted = 0`,
		many: `SELECT m.channel_id, m.parent_ts, m.ts, m.user_id FROM json_each(?) AS j
			CROSS JOIN messages AS m INDEXED BY messages_replies ON m.channel_id = j.value->>0 AND m.parent_ts = j.value->>1
			WHERE m.parent_ts IS NOT NULL AND m.present = 1 AND m.deleted = 0`,
	}
)

// loadPins reads which of keys are pinned. (Reactions are not rendered
// into the stored body: history inserts them, see migration 0015.)
func (b *batch) loadPins(ctx context.Context, keys []msgKey) (map[msgKey]bool, error) {
	pins := make(map[msgKey]bool)
	err := b.w.probe(ctx, probePins, b.stored(keys, kindPin, b.decorated), func(rows *sql.Rows) error {
		var k msgKey
		err := rows.Scan(&k.ch, &k.ts)
		pins[k] = true
		return err
	})
	return pins, err
}

// loadReplies returns the live replies of each parent in ts order: those in
// the database, overridden by the batch's in-memory rows. Replies may be
// stored before their parent arrives; the parent picks them up here.
func (b *batch) loadReplies(ctx context.Context, parents []msgKey) (map[msgKey][]reply, error) {
	out := make(map[msgKey][]reply)
	if len(parents) == 0 {
		return out, nil
	}
	stored := b.stored(parents, kindReply, nil)
	replies := false // does the batch hold a reply?
	for _, r := range b.rows {
		if r.parentTS != 0 {
			replies = true
			break
		}
	}
	if len(stored) == 0 && !replies {
		return out, nil // a batch of new top-level messages: nothing to read or match
	}
	want := make(map[msgKey]bool, len(parents))
	for _, p := range parents {
		want[p] = true
	}
	err := b.w.probe(ctx, probeReplies, stored, func(rows *sql.Rows) error {
		var p msgKey
		var x reply
		if err := rows.Scan(&p.ch, &p.ts, &x.TS, &x.User); err != nil {
			return err
		}
		if _, mem := b.rows[msgKey{p.ch, x.TS}]; !mem {
			out[p] = append(out[p], x)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range b.rows {
		p := msgKey{r.key.ch, r.parentTS}
		if r.parentTS != 0 && r.present && !r.deleted && want[p] {
			out[p] = append(out[p], reply{TS: r.key.ts, User: r.user})
		}
	}
	for p, rs := range out {
		slices.SortFunc(rs, func(a, b reply) int { return cmp.Compare(a.TS, b.TS) })
		out[p] = rs
	}
	return out, nil
}
