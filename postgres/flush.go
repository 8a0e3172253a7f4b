package postgres

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/internal/render"
	"github.com/jackc/pgx/v5"
)

// loadRows reads the rows of keys in one statement. Keys above their
// channel's mark cannot have a row and are not looked up. Keys without a row
// get an empty placeholder. With rerender set, loaded rows are marked for
// re-rendering (second pass: parents whose stats changed).
func (b *batch) loadRows(ctx context.Context, keys []msgKey, rerender bool) error {
	for _, k := range keys {
		r := b.row(k)
		r.checked = true
		r.render = r.render || rerender
	}
	keys = b.stored(keys, nil)
	if len(keys) == 0 {
		return nil
	}
	chs, tss := splitKeys(keys)
	rows, err := b.tx.Query(ctx, `SELECT m.channel_id, m.ts, m.thread_ts, coalesce(m.parent_ts, 0), m.user_id, m.subtype,
		m.present, m.deleted, m.visible, m.edited_user, m.edited_ts, m.doc, m.body
		FROM unnest($1::text[], $2::bigint[]) AS k(c, t) JOIN messages AS m ON m.channel_id = k.c AND m.ts = k.t`, chs, tss)
	if err != nil {
		return fmt.Errorf("load messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r msgRow
		var ts, threadTS, parentTS int64
		var eu, et *string
		if err := rows.Scan(&r.key.ch, &ts, &threadTS, &parentTS, &r.user, &r.subtype,
			&r.present, &r.deleted, &r.visible, &eu, &et, &r.doc, &r.body); err != nil {
			return fmt.Errorf("load messages: %w", err)
		}
		r.key.ts, r.threadTS, r.parentTS = backchannel.TS(ts), backchannel.TS(threadTS), backchannel.TS(parentTS)
		if eu != nil && et != nil {
			r.edited = &backchannel.Edited{User: *eu, TS: *et}
		}
		if r.doc == nil {
			r.doc = r.body
		}
		r.inDB, r.checked, r.render = true, true, rerender
		b.rows[r.key] = &r
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load messages: %w", err)
	}
	return nil
}

func splitKeys(keys []msgKey) ([]string, []int64) {
	chs := make([]string, len(keys))
	tss := make([]int64, len(keys))
	for i, k := range keys {
		chs[i], tss[i] = k.ch, int64(k.ts)
	}
	return chs, tss
}

func keyLess(a, b msgKey) int { return cmp.Or(cmp.Compare(a.ch, b.ch), cmp.Compare(a.ts, b.ts)) }

// flush renders every message the batch changed (or whose reactions, pins
// or replies changed) and writes the rows back.
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
	slices.SortFunc(keys, keyLess) // sequential B-tree inserts, and a deterministic batch
	d, err := b.loadDecorations(ctx, keys, parents)
	if err != nil {
		return err
	}
	var out []*msgRow
	for _, k := range keys {
		r := b.rows[k]
		body := render.Render(render.Message{Channel: k.ch, TS: k.ts, ThreadTS: r.threadTS, Doc: r.doc, Edited: r.edited},
			d.replies[k], d.reacts[k], d.pins[k])
		vis := r.isVisible()
		if r.inDB && !r.dirty && vis == r.visible && bytes.Equal(body, r.body) {
			continue
		}
		r.body, r.visible = body, vis
		out = append(out, r)
	}
	// Tombstones: a delete for a message not (yet) stored.
	var tombs []*msgRow
	for _, r := range b.rows {
		if !r.present && r.dirty {
			r.body, r.visible = []byte("{}"), false
			tombs = append(tombs, r)
		}
	}
	slices.SortFunc(tombs, func(x, y *msgRow) int { return keyLess(x.key, y.key) })
	return b.writeRows(ctx, append(out, tombs...))
}

type decorations struct {
	reacts  map[msgKey][]render.Reaction
	pins    map[msgKey]bool
	replies map[msgKey][]render.Reply
}

// loadDecorations reads, in one round trip, the reactions (in order of first
// reaction) and pins of keys and the live replies of parents. Only keys that
// may be stored (or that this batch decorated) are looked up.
func (b *batch) loadDecorations(ctx context.Context, keys, parents []msgKey) (decorations, error) {
	d := decorations{reacts: make(map[msgKey][]render.Reaction), pins: make(map[msgKey]bool), replies: make(map[msgKey][]render.Reply)}
	q := &pgx.Batch{}
	if ks := b.stored(keys, b.decorated); len(ks) > 0 {
		chs, tss := splitKeys(ks)
		q.Queue(`SELECT r.channel_id, r.ts, r.name, r.user_id FROM unnest($1::text[], $2::bigint[]) AS k(c, t)
			JOIN reactions AS r ON r.channel_id = k.c AND r.ts = k.t ORDER BY r.seq`, chs, tss).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var k msgKey
				var ts int64
				var x render.Reaction
				if err := rows.Scan(&k.ch, &ts, &x.Name, &x.User); err != nil {
					return err
				}
				k.ts = backchannel.TS(ts)
				d.reacts[k] = append(d.reacts[k], x)
			}
			return rows.Err()
		})
		q.Queue(`SELECT p.channel_id, p.ts FROM unnest($1::text[], $2::bigint[]) AS k(c, t)
			JOIN pins AS p ON p.channel_id = k.c AND p.ts = k.t`, chs, tss).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var k msgKey
				var ts int64
				if err := rows.Scan(&k.ch, &ts); err != nil {
					return err
				}
				d.pins[msgKey{k.ch, backchannel.TS(ts)}] = true
			}
			return rows.Err()
		})
	}
	// Stored replies point at a stored parent_ts, which is at most the mark.
	if ps := b.stored(parents, nil); len(ps) > 0 {
		chs, tss := splitKeys(ps)
		q.Queue(`SELECT m.channel_id, m.parent_ts, m.ts, m.user_id FROM unnest($1::text[], $2::bigint[]) AS k(c, t)
			JOIN messages AS m ON m.channel_id = k.c AND m.parent_ts = k.t
			WHERE m.parent_ts IS NOT NULL AND m.present AND NOT m.deleted`, chs, tss).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var p msgKey
				var pts, ts int64
				var x render.Reply
				if err := rows.Scan(&p.ch, &pts, &ts, &x.User); err != nil {
					return err
				}
				p.ts, x.TS = backchannel.TS(pts), backchannel.TS(ts)
				if _, mem := b.rows[msgKey{p.ch, x.TS}]; !mem { // the batch's own rows override
					d.replies[p] = append(d.replies[p], x)
				}
			}
			return rows.Err()
		})
	}
	if q.Len() > 0 {
		if err := b.tx.SendBatch(ctx, q).Close(); err != nil {
			return d, fmt.Errorf("load decorations: %w", err)
		}
	}
	if len(parents) == 0 {
		return d, nil
	}
	want := make(map[msgKey]bool, len(parents))
	for _, p := range parents {
		want[p] = true
	}
	for _, r := range b.rows {
		p := msgKey{r.key.ch, r.parentTS}
		if r.parentTS != 0 && r.present && !r.deleted && want[p] {
			d.replies[p] = append(d.replies[p], render.Reply{TS: r.key.ts, User: r.user})
		}
	}
	for p, rs := range d.replies {
		slices.SortFunc(rs, func(x, y render.Reply) int { return cmp.Compare(x.TS, y.TS) })
		d.replies[p] = rs
	}
	return d, nil
}
