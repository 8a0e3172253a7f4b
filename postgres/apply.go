package postgres

import (
	"bytes"
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

// maxAttempts bounds retries of a batch that lost a race (see retryable);
// the transaction rolled back, so retrying is safe.
const maxAttempts = 8

// Apply stores a batch atomically in one transaction. It returns once the
// transaction is committed (synchronous_commit as the server has it: on by
// default, so acknowledged means durable).
//
// A batch reads which of its keys are logged only when a recent batch of
// this process met logged keys (replays), or on a retry: new events, the
// common case, go straight into the log, and a logged key fails the COPY
// with a unique violation, so the retry reads the keys and counts the
// event as a duplicate.
func (db *DB) Apply(ctx context.Context, events []backchannel.Event) (backchannel.ApplyResult, error) {
	if len(events) == 0 {
		return backchannel.ApplyResult{}, nil
	}
	for attempt := 1; ; attempt++ {
		b := newBatch(db, events)
		b.readKeys = attempt > 1 || db.replays.Load()
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			b.tx = tx
			return b.apply(ctx)
		})
		if err == nil {
			if b.readKeys {
				db.replays.Store(len(b.old) > 0)
			}
			for ch := range b.touched {
				db.known.Store(ch, struct{}{}) // committed, and validate checked it exists
			}
			return b.res, nil
		}
		var ee *backchannel.EventError
		if errors.As(err, &ee) {
			return backchannel.ApplyResult{}, err
		}
		if loggedKey(err) {
			db.replays.Store(true)
		}
		if retryable(err) && attempt < maxAttempts {
			continue
		}
		return backchannel.ApplyResult{}, fmt.Errorf("postgres: apply: %w", err)
	}
}

// retryable reports whether a batch lost a race that left nothing
// committed: a deadlock, a serialization failure, a key of its events
// already logged (the next attempt reads the key and counts the event as a
// duplicate), or a later batch of one of its channels applied first.
func retryable(err error) bool {
	if errors.Is(err, errOutOfOrder) || loggedKey(err) {
		return true
	}
	switch pgCode(err) {
	case codeDeadlockDetected, codeSerializationFailure:
		return true
	}
	return false
}

// loggedKey reports whether err is a unique violation on the event log.
func loggedKey(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation && pgErr.TableName == "events"
}

// apply runs the batch inside its transaction.
//
// Concurrency: the transaction takes advisory locks, in ascending order, on
// every channel its events are about, and on one of 256 buckets (by key) for
// each event about no channel. The channel locks serialize the
// read-modify-write of message renders (thread stats, reactions, pins) and
// keep the channel marks still, while batches for different channels run in
// parallel. Xact locks are held until commit, so what runs before them stays
// out of the critical section: the read of which keys are logged, the seq
// reservation and the COPY into the log. The channel tickets of ticket.go
// make batches of a channel take its lock in seq order, so that seq order
// stays apply order.
//
// Dedupe is exact by the unique index on events.key: a key logged after the
// read (or, when the batch does not read, one logged at all) fails the COPY
// with a unique violation, and the batch is retried, reading the keys; a key
// logged by a transaction still in flight makes the COPY wait for it, then
// fail the same way or go on if it rolled back.
func (b *batch) apply(ctx context.Context) error {
	b.plan()
	// Before the locks: which keys are logged, the seqs and the tickets;
	// then the COPY into the log.
	q := &pgx.Batch{}
	b.queueKeyRead(q)
	b.queueSeqs(q)
	b.queueTicket(q)
	if err := b.tx.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	if err := b.assignSeqs(); err != nil {
		return err
	}
	if err := b.logEvents(ctx); err != nil {
		return err
	}
	// The earlier tickets, the locks, and what is read under them.
	q = &pgx.Batch{}
	b.queueTicketWait(q)
	b.queueLocks(q)
	b.queueLocked(q)
	if err := b.tx.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if err := b.validate(); err != nil {
		return err
	}
	if err := b.checkOrder(); err != nil {
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

// plan lists, from the events alone, what the batch locks and reads: the
// lock keys, the distinct event keys, the channels to check and the
// channels' mark keys and spans.
func (b *batch) plan() {
	seenLock := make(map[int64]bool)
	seenCh := make(map[string]bool)
	chans := make(map[string]bool)
	for i := range b.events {
		ev := &b.events[i]
		name := "k:" + string(ev.Key[:1])
		if ch := channelOf(ev); ch != "" {
			name = "c:" + ch
			chans[ch] = true
		}
		if id := lockID(name); !seenLock[id] {
			seenLock[id] = true
			b.lockIDs = append(b.lockIDs, id)
		}
		if u := memberLock(ev); u != "" && !seenLock[lockID(u)] { // member counts (members.go)
			seenLock[lockID(u)] = true
			b.lockIDs = append(b.lockIDs, lockID(u))
		}
		if _, dup := b.first[ev.Key]; !dup {
			b.first[ev.Key] = i
			b.keys = append(b.keys, ev.Key[:])
		}
		if needsChannel(ev.Type) && !seenCh[ev.ChannelID] {
			seenCh[ev.ChannelID] = true
			if _, ok := b.db.known.Load(ev.ChannelID); !ok {
				b.unknown = append(b.unknown, ev.ChannelID)
			}
		}
		if isMessageEvent(ev.Type) {
			if _, ok := b.marks[ev.ChannelID]; !ok {
				b.marks[ev.ChannelID] = 0 // no versions row: nothing stored
				b.spans[ev.ChannelID] = tsRange{ev.TS, ev.TS}
			}
			r := b.spans[ev.ChannelID]
			r.lo, r.hi = min(r.lo, ev.TS), max(r.hi, ev.TS)
			if ev.Type == backchannel.EvMessage && ev.ThreadTS != 0 {
				r.lo, r.hi = min(r.lo, ev.ThreadTS), max(r.hi, ev.ThreadTS)
			}
			b.spans[ev.ChannelID] = r
		}
	}
	slices.Sort(b.lockIDs)
	b.channels = keysOf(chans)
}

// queueKeyRead queues the read of which of the batch's keys are logged,
// unless the batch goes without it (readKeys; see Apply).
func (b *batch) queueKeyRead(q *pgx.Batch) {
	if !b.readKeys {
		return
	}
	q.Queue(`SELECT key FROM events WHERE key = ANY($1)`, b.keys).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var k []byte
			if err := rows.Scan(&k); err != nil {
				return err
			}
			b.old[[32]byte(k)] = true
		}
		return rows.Err()
	})
}

// queueLocks queues the batch's locks, taken in ascending order (unnest
// yields the array in order).
func (b *batch) queueLocks(q *pgx.Batch) {
	q.Queue(`SELECT count(pg_advisory_xact_lock(x)) FROM unnest($1::bigint[]) AS x`, b.lockIDs)
}

// queueSeqs queues the reservation of the batch's seqs: one block of
// seqBlock per nextval.
func (b *batch) queueSeqs(q *pgx.Batch) {
	q.Queue(`SELECT nextval('events_seq') FROM generate_series(1, $1)`, (len(b.keys)+seqBlock-1)/seqBlock).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var s int64
			if err := rows.Scan(&s); err != nil {
				return err
			}
			b.blocks = append(b.blocks, s)
		}
		return rows.Err()
	})
}

// queueLocked queues what the batch reads under its channel locks (queued
// after the lock statement: statements of a pipeline run in order): which
// channels exist, the channels' marks and seq high-water marks (see the
// versions table), the gap probe, the analytics context and the
// messages.activity bits.
func (b *batch) queueLocked(q *pgx.Batch) {
	if len(b.unknown) > 0 {
		q.Queue(`SELECT id FROM channels WHERE id = ANY($1)`, b.unknown).Query(func(rows pgx.Rows) error {
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
	if len(b.channels) > 0 {
		keys := make([]string, len(b.channels))
		for i, ch := range b.channels {
			keys[i] = chanKey(ch)
		}
		q.Queue(`SELECT substr(key, 3), mark, seq FROM versions WHERE key = ANY($1)`, keys).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var ch string
				var m, s int64
				if err := rows.Scan(&ch, &m, &s); err != nil {
					return err
				}
				if _, ok := b.marks[ch]; ok {
					b.marks[ch] = backchannel.TS(m)
				}
				b.applied[ch] = s
			}
			return rows.Err()
		})
	}
	b.queueGapProbe(q)
	b.ru.queueContext(q, b.events)
	b.queueActOld(q)
}

// assignSeqs gives every new event its seq, in batch order (reactions are
// listed by seq), and counts the duplicates.
func (b *batch) assignSeqs() error {
	if len(b.blocks)*seqBlock < len(b.keys) {
		return fmt.Errorf("reserve: got %d seq blocks for %d events", len(b.blocks), len(b.keys))
	}
	j := 0
	for i := range b.events {
		k := b.events[i].Key
		if b.first[k] == i {
			if !b.old[k] {
				b.seq[i] = b.blocks[j/seqBlock] + int64(j%seqBlock)
				b.maxSeq = b.seq[i]
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

// queueGapProbe queues, for each channel, whether anything is stored in the
// range of keys the batch's message events name: a message row, a reply
// pointing into it, a reaction or a pin. When nothing is, no key in the range
// needs a lookup (inDB), the way keys above the channel's mark need none: a
// batch of new messages written below the mark (a backfill, or one of
// several streams into a channel) costs four range probes instead of four
// point lookups per message. It runs under the channel locks, so the answer
// holds until commit.
func (b *batch) queueGapProbe(q *pgx.Batch) {
	if len(b.spans) == 0 {
		return
	}
	chs := keysOf(b.spans)
	los, his := make([]int64, len(chs)), make([]int64, len(chs))
	for i, ch := range chs {
		los[i], his[i] = int64(b.spans[ch].lo), int64(b.spans[ch].hi)
	}
	q.Queue(`SELECT k.c FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS k(c, lo, hi)
		WHERE NOT EXISTS (SELECT FROM messages AS m WHERE m.channel_id = k.c AND m.ts BETWEEN k.lo AND k.hi)
		AND NOT EXISTS (SELECT FROM messages AS m WHERE m.channel_id = k.c AND m.parent_ts BETWEEN k.lo AND k.hi)
		AND NOT EXISTS (SELECT FROM reactions AS r WHERE r.channel_id = k.c AND r.ts BETWEEN k.lo AND k.hi)
		AND NOT EXISTS (SELECT FROM pins AS p WHERE p.channel_id = k.c AND p.ts BETWEEN k.lo AND k.hi)`,
		chs, los, his).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var ch string
			if err := rows.Scan(&ch); err != nil {
				return err
			}
			b.gaps[ch] = b.spans[ch]
		}
		return rows.Err()
	})
}

// logEvents COPYs the batch's new events into the log. A key logged already
// (not read, or logged since the read) fails the COPY, one logged by a
// transaction in flight makes it wait (see apply).
func (b *batch) logEvents(ctx context.Context) error {
	if b.res.Accepted == 0 {
		return nil
	}
	// In key order: each key goes to a random place of the unique index,
	// and sorted inserts descend through pages the previous one left in
	// cache (about a quarter less time for the COPY's index inserts, which
	// are most of it). Seqs keep batch order.
	order := make([]int, 0, b.res.Accepted)
	for i := range b.events {
		if b.seq[i] != 0 {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(x, y int) int { return bytes.Compare(b.events[x].Key[:], b.events[y].Key[:]) })
	c := newCopyBuf(0)
	for _, i := range order {
		ev := &b.events[i]
		if c.rows == 0 {
			c.b = slices.Grow(c.b, b.res.Accepted*(len(ev.Raw)+len(ev.Type)+100))
		}
		c.row(len(eventCols))
		c.int64(b.seq[i])
		c.bytes(ev.Key[:])
		c.text(ev.Type)
		c.int64(int64(ev.EventTS))
		c.int64(b.now)
		c.bytes(ev.Raw)
		// The analytics day, for rebuilds; NULL when none.
		if d, ok := eventDay(ev); ok {
			c.int32(int32(d))
		} else {
			c.null()
		}
	}
	if err := copyIn(ctx, b.tx, "events", eventCols, c); err != nil {
		return fmt.Errorf("log events: %w", err)
	}
	return nil
}

var eventCols = []string{"seq", "key", "type", "event_ts", "ingested_at", "raw", "day"}

// eventDay is the analytics day an event counts for, if any.
func eventDay(ev *backchannel.Event) (backchannel.Day, bool) {
	if !analytics.HasDay(ev.Type) {
		return 0, false
	}
	f := analytics.FactOf(ev)
	return analytics.DayOf(&f)
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
	marks, seqs := make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		if k != verDirectory {
			marks[i], seqs[i] = int64(b.newMarks[k[2:]]), b.maxSeq
		}
	}
	q.Queue(`INSERT INTO versions (key, v, mark, seq) SELECT k, 1, m, s FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(k, m, s)
		ON CONFLICT (key) DO UPDATE SET v = versions.v + 1, mark = greatest(versions.mark, excluded.mark),
		seq = greatest(versions.seq, excluded.seq)`, keys, marks, seqs)
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
