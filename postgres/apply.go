package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxAttempts bounds retries of a batch that lost a deadlock or a
// serialization failure to another process; the transaction rolled back, so
// retrying is safe.
const maxAttempts = 5

// Apply stores a batch atomically in one transaction. It returns once the
// transaction is committed (synchronous_commit as the server has it: on by
// default, so acknowledged means durable).
func (db *DB) Apply(ctx context.Context, events []backchannel.Event) (backchannel.ApplyResult, error) {
	if len(events) == 0 {
		return backchannel.ApplyResult{}, nil
	}
	for attempt := 1; ; attempt++ {
		b := newBatch(db, events)
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			b.tx = tx
			return b.apply(ctx)
		})
		if err == nil {
			for ch := range b.touched {
				db.known.Store(ch, struct{}{}) // committed, and validate checked it exists
			}
			return b.res, nil
		}
		var ee *backchannel.EventError
		if errors.As(err, &ee) {
			return backchannel.ApplyResult{}, err
		}
		if retryable(err) && attempt < maxAttempts {
			continue
		}
		return backchannel.ApplyResult{}, fmt.Errorf("postgres: apply: %w", err)
	}
}

// retryable reports whether a batch lost a race that left nothing
// committed: a deadlock, a serialization failure, or a key of its events
// that another batch committed after this one read the log (the next
// attempt reads the key and counts the event as a duplicate).
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case codeDeadlockDetected, codeSerializationFailure:
		return true
	case codeUniqueViolation:
		return pgErr.TableName == "events"
	}
	return false
}

// apply runs the batch inside its transaction.
//
// Concurrency: the transaction reads which of its keys are logged, then
// takes advisory locks, in ascending order, on every channel its events are
// about, and on one of 256 buckets (by key) for each event about no
// channel. The read happens before the locks (xact locks are held until
// commit, so it stays out of the critical section) and dedupe is still
// exact, by the unique index on events.key: a key committed after the read
// fails the COPY with a unique violation (the batch is retried, and its
// read then sees the key); a key logged by a transaction still in flight
// makes the COPY wait for it, then fail the same way or go on if it rolled
// back. Seqs are reserved under the locks, so within a lock seq order is
// apply order. The channel locks serialize the read-modify-write of message
// renders (thread stats, reactions, pins) and keep the channel marks still,
// while batches for different channels run in parallel.
func (b *batch) apply(ctx context.Context) error {
	if err := b.prelude(ctx); err != nil {
		return err
	}
	if err := b.validate(); err != nil {
		return err
	}
	if err := b.logEvents(ctx); err != nil {
		return err
	}
	if err := b.loadRows(ctx, b.eventKeys(), false); err != nil {
		return err
	}
	side := &pgx.Batch{}
	for i := range b.events {
		if b.seq[i] == 0 {
			continue
		}
		if err := b.applyOne(side, &b.events[i], b.seq[i]); err != nil {
			return err
		}
	}
	if len(b.pinned) > 0 {
		side.Queue(`UPDATE channels AS c SET pin_count = (SELECT count(*) FROM pins AS p WHERE p.channel_id = c.id)
			WHERE c.id = ANY($1)`, keysOf(b.pinned))
	}
	if side.Len() > 0 {
		if err := b.tx.SendBatch(ctx, side).Close(); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	if err := b.flush(ctx); err != nil {
		return err
	}
	// The rollups and the versions in one round trip, last: the day rows
	// and version rows they lock are the batch's hottest.
	final := &pgx.Batch{}
	queueRollups(final, b.ru.agg, true)
	b.queueActivity(final)
	b.queueVersions(final)
	if final.Len() == 0 {
		return nil
	}
	if err := b.tx.SendBatch(ctx, final).Close(); err != nil {
		return fmt.Errorf("rollups and versions: %w", err)
	}
	return nil
}

// seqBlock is events_seq's increment: one nextval reserves that many seqs.
const seqBlock = 65536

// lockID maps a lock name to an advisory lock key. A collision only makes
// two unrelated batches take turns.
func lockID(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// channelOf returns the channel an event is about ("" for none).
func channelOf(ev *backchannel.Event) string {
	if ev.Type == backchannel.EvChannel && ev.Channel != nil {
		return ev.Channel.ID
	}
	return ev.ChannelID
}

// prelude reads which keys are in the log already, takes the batch's locks
// and reads everything else the batch needs to know before it writes, in
// one pipelined round trip: seqs for the new events, which channels exist,
// and the channels' marks (see the versions table). Statements of a
// pipeline run in order, so every read after the lock statement happens
// under the locks.
func (b *batch) prelude(ctx context.Context) error {
	var ids []int64
	seenLock := make(map[int64]bool)
	var chans, markKeys []string
	seenCh := make(map[string]bool)
	for i := range b.events {
		ev := &b.events[i]
		name := "k:" + string(ev.Key[:1])
		if ch := channelOf(ev); ch != "" {
			name = "c:" + ch
		}
		if id := lockID(name); !seenLock[id] {
			seenLock[id] = true
			ids = append(ids, id)
		}
		if u := memberLock(ev); u != "" && !seenLock[lockID(u)] { // member counts (members.go)
			seenLock[lockID(u)] = true
			ids = append(ids, lockID(u))
		}
		if _, dup := b.first[ev.Key]; !dup {
			b.first[ev.Key] = i
			b.keys = append(b.keys, ev.Key[:])
		}
		if needsChannel(ev.Type) && !seenCh[ev.ChannelID] {
			seenCh[ev.ChannelID] = true
			if _, ok := b.db.known.Load(ev.ChannelID); !ok {
				chans = append(chans, ev.ChannelID)
			}
		}
		if isMessageEvent(ev.Type) {
			if _, ok := b.marks[ev.ChannelID]; !ok {
				b.marks[ev.ChannelID] = 0 // no versions row: nothing stored
				markKeys = append(markKeys, chanKey(ev.ChannelID))
			}
		}
	}
	slices.Sort(ids)
	q := &pgx.Batch{}
	// Which keys are logged, read before the locks (see apply).
	old := make(map[[32]byte]bool)
	q.Queue(`SELECT key FROM events WHERE key = ANY($1)`, b.keys).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var k []byte
			if err := rows.Scan(&k); err != nil {
				return err
			}
			old[[32]byte(k)] = true
		}
		return rows.Err()
	})
	// unnest yields the array in order, so the locks are taken in order.
	q.Queue(`SELECT count(pg_advisory_xact_lock(x)) FROM unnest($1::bigint[]) AS x`, ids)
	var blocks []int64
	q.Queue(`SELECT nextval('events_seq') FROM generate_series(1, $1)`, (len(b.keys)+seqBlock-1)/seqBlock).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var s int64
			if err := rows.Scan(&s); err != nil {
				return err
			}
			blocks = append(blocks, s)
		}
		return rows.Err()
	})
	if len(chans) > 0 {
		q.Queue(`SELECT id FROM channels WHERE id = ANY($1)`, chans).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				b.exists[id] = true
			}
			return rows.Err()
		})
	}
	if len(markKeys) > 0 {
		q.Queue(`SELECT substr(key, 3), mark FROM versions WHERE key = ANY($1)`, markKeys).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var ch string
				var m int64
				if err := rows.Scan(&ch, &m); err != nil {
					return err
				}
				b.marks[ch] = backchannel.TS(m)
			}
			return rows.Err()
		})
	}
	b.ru.queueContext(q, b.events)
	b.queueActOld(q)
	if err := b.tx.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("prelude: %w", err)
	}
	if len(blocks)*seqBlock < len(b.keys) {
		return fmt.Errorf("prelude: got %d seq blocks for %d events", len(blocks), len(b.keys))
	}
	// Seqs follow batch order: reactions are listed by seq.
	j := 0
	for i := range b.events {
		k := b.events[i].Key
		if b.first[k] == i {
			if !old[k] {
				b.seq[i] = blocks[j/seqBlock] + int64(j%seqBlock)
			}
			j++
		}
	}
	for _, s := range b.seq {
		if s == 0 {
			b.res.Duplicates++
		} else {
			b.res.Accepted++
		}
	}
	return nil
}

// logEvents COPYs the batch's new events into the log. Their keys were not
// there when prelude read them; one logged since fails the COPY or makes it
// wait (see apply).
func (b *batch) logEvents(ctx context.Context) error {
	rows := make([][]any, 0, b.res.Accepted)
	for i := range b.events {
		if b.seq[i] == 0 {
			continue
		}
		ev := &b.events[i]
		raw := ev.Raw
		if raw == nil {
			raw = []byte{}
		}
		var day any // the analytics day, for rebuilds; NULL when none
		if analytics.HasDay(ev.Type) {
			f := analytics.FactOf(ev)
			if d, ok := analytics.DayOf(&f); ok {
				day = int32(d)
			}
		}
		rows = append(rows, []any{b.seq[i], ev.Key[:], ev.Type, int64(ev.EventTS), b.now, raw, day})
	}
	if len(rows) == 0 {
		return nil
	}
	_, err := b.tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"seq", "key", "type", "event_ts", "ingested_at", "raw", "day"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("log events: %w", err)
	}
	return nil
}

// validate checks, in batch order, that every channel an event refers to
// exists by then (in the database or created earlier in the batch).
func (b *batch) validate() error {
	for i := range b.events {
		ev := &b.events[i]
		if b.seq[i] == 0 {
			continue
		}
		if ev.Type == backchannel.EvChannel && ev.Channel != nil {
			b.exists[ev.Channel.ID] = true
			continue
		}
		if !needsChannel(ev.Type) || b.exists[ev.ChannelID] {
			continue
		}
		if _, ok := b.db.known.Load(ev.ChannelID); !ok {
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

// isMessageEvent reports whether an event changes a message's render.
func isMessageEvent(typ string) bool {
	switch typ {
	case backchannel.EvMessage, backchannel.EvMessageChanged, backchannel.EvMessageDeleted,
		backchannel.EvReactionAdded, backchannel.EvReactionRemoved,
		backchannel.EvPinAdded, backchannel.EvPinRemoved:
		return true
	}
	return false
}

// queueVersions queues the bump of the version of everything the batch
// touched, raising channel marks past every (channel, ts) the batch may
// have stored. Keys in order, so that concurrent batches lock version rows
// in the same order.
func (b *batch) queueVersions(q *pgx.Batch) {
	keys := make([]string, 0, len(b.touched)+1)
	for ch := range b.touched {
		keys = append(keys, chanKey(ch))
	}
	if b.directory {
		keys = append(keys, verDirectory)
	}
	if len(keys) == 0 {
		return
	}
	slices.Sort(keys)
	marks := make([]int64, len(keys))
	for i, k := range keys {
		if k != verDirectory {
			marks[i] = int64(b.newMarks[k[2:]])
		}
	}
	q.Queue(`INSERT INTO versions (key, v, mark) SELECT k, 1, m FROM unnest($1::text[], $2::bigint[]) AS u(k, m)
		ON CONFLICT (key) DO UPDATE SET v = versions.v + 1, mark = greatest(versions.mark, excluded.mark)`, keys, marks)
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
