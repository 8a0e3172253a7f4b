package postgres

import (
	"bytes"
	"context"
	"fmt"
)

var messageCols = []string{"channel_id", "ts", "thread_ts", "parent_ts", "user_id", "subtype",
	"present", "deleted", "visible", "edited_user", "edited_ts", "doc", "body"}

// writeRows writes the batch's rendered rows. Rows not in the database go in
// with COPY: the channel lock and the marks make it certain that no other
// writer stores them meanwhile, so no conflict handling is needed, and COPY
// is the fastest way into PostgreSQL. The rest (rewrites, tombstones turned
// into messages, re-rendered parents) are upserted in one statement.
func (b *batch) writeRows(ctx context.Context, rows []*msgRow) error {
	var fresh *copyBuf
	var old []*msgRow
	for _, r := range rows {
		if r.inDB {
			old = append(old, r)
			continue
		}
		if fresh == nil {
			fresh = newCopyBuf(len(rows) * (len(r.body) + 100))
		}
		appendRow(fresh, r)
	}
	if fresh != nil {
		if err := copyIn(ctx, b.tx, "messages", messageCols, fresh); err != nil {
			return fmt.Errorf("copy messages: %w", err)
		}
	}
	if len(old) == 0 {
		return nil
	}
	n := len(old)
	var (
		chs, users, subtypes = make([]string, n), make([]string, n), make([]string, n)
		tss, threads         = make([]int64, n), make([]int64, n)
		parents              = make([]*int64, n)
		present, del, vis    = make([]bool, n), make([]bool, n), make([]bool, n)
		eus, ets             = make([]*string, n), make([]*string, n)
		docs, bodies         = make([][]byte, n), make([][]byte, n)
	)
	for j, r := range old {
		chs[j], tss[j], threads[j], users[j], subtypes[j] = r.key.ch, int64(r.key.ts), int64(r.threadTS), r.user, r.subtype
		if r.parentTS != 0 {
			p := int64(r.parentTS)
			parents[j] = &p
		}
		present[j], del[j], vis[j] = r.present, r.deleted, r.visible
		if r.edited != nil {
			eus[j], ets[j] = &r.edited.User, &r.edited.TS
		}
		if !bytes.Equal(r.doc, r.body) {
			docs[j] = r.doc
		}
		bodies[j] = r.body
	}
	_, err := b.tx.Exec(ctx, `INSERT INTO messages (channel_id, ts, thread_ts, parent_ts, user_id, subtype,
		present, deleted, visible, edited_user, edited_ts, doc, body)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],
			$7::boolean[], $8::boolean[], $9::boolean[], $10::text[], $11::text[], $12::bytea[], $13::bytea[])
		ON CONFLICT (channel_id, ts) DO UPDATE SET thread_ts = excluded.thread_ts, parent_ts = excluded.parent_ts,
		user_id = excluded.user_id, subtype = excluded.subtype, present = excluded.present, deleted = excluded.deleted,
		visible = excluded.visible, edited_user = excluded.edited_user, edited_ts = excluded.edited_ts,
		doc = excluded.doc, body = excluded.body`,
		chs, tss, threads, parents, users, subtypes, present, del, vis, eus, ets, docs, bodies)
	if err != nil {
		return fmt.Errorf("upsert messages: %w", err)
	}
	return nil
}

// appendRow appends r's columns, in messageCols order, to c.
func appendRow(c *copyBuf, r *msgRow) {
	c.row(len(messageCols))
	c.text(r.key.ch)
	c.int64(int64(r.key.ts))
	c.int64(int64(r.threadTS))
	if r.parentTS != 0 {
		c.int64(int64(r.parentTS))
	} else {
		c.null()
	}
	c.text(r.user)
	c.text(r.subtype)
	c.bool(r.present)
	c.bool(r.deleted)
	c.bool(r.visible)
	if r.edited != nil {
		c.text(r.edited.User)
		c.text(r.edited.TS)
	} else {
		c.null()
		c.null()
	}
	if r.doc != nil && !bytes.Equal(r.doc, r.body) {
		c.bytes(r.doc) // stored apart only when rendering added fields
	} else {
		c.null()
	}
	c.bytes(r.body)
}
