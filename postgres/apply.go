package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/backchannel/backchannel"
	"github.com/jackc/pgx/v5"
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
		if c := pgCode(err); (c == codeDeadlockDetected || c == codeSerializationFailure) && attempt < maxAttempts {
			continue
		}
		return backchannel.ApplyResult{}, fmt.Errorf("postgres: apply: %w", err)
	}
}

// apply runs the batch inside its transaction.
//
// Concurrency: before anything else the transaction takes advisory locks,
// in ascending order, on every channel its events are about, and on one of
// 256 buckets (by key) for each event about no channel. Two batches that
// share a key share a lock, so the second waits for the first to commit
// before it inserts a single key: dedupe never waits on an uncommitted key,
// and no two batches deadlock. Per-channel locks also serialize the
// read-modify-write of message renders (thread stats, reactions, pins),
// while batches for different channels run in parallel.
func (b *batch) apply(ctx context.Context) error {
	if err := b.lock(ctx); err != nil {
		return err
	}
	if err := b.logEvents(ctx); err != nil {
		return err
	}
	if err := b.validate(ctx); err != nil {
		return err
	}
	if err := b.loadMarks(ctx); err != nil {
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
	return b.bumpVersions(ctx)
}

// lockID maps a lock name to an advisory lock key. A collision only makes
// two unrelated batches take turns.
func lockID(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

func (b *batch) lock(ctx context.Context) error {
	seen := make(map[int64]bool)
	var ids []int64
	for i := range b.events {
		ev := &b.events[i]
		name := "k:" + string(ev.Key[:1])
		if ch := channelOf(ev); ch != "" {
			name = "c:" + ch
		}
		if id := lockID(name); !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	// unnest yields the array in order, so the locks are taken in order.
	if _, err := b.tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock(x)) FROM unnest($1::bigint[]) AS x`, ids); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}

// channelOf returns the channel an event is about ("" for none).
func channelOf(ev *backchannel.Event) string {
	if ev.Type == backchannel.EvChannel && ev.Channel != nil {
		return ev.Channel.ID
	}
	return ev.ChannelID
}

// logEvents appends the batch's new events to the log in one statement and
// marks the duplicates (b.seq[i] == 0): keys earlier in the batch, or
// already in the log (the unique index decides, exactly, across processes).
func (b *batch) logEvents(ctx context.Context) error {
	seen := make(map[[32]byte]int, len(b.events))
	keys := make([][]byte, 0, len(b.events))
	types := make([]string, 0, len(b.events))
	ets := make([]int64, 0, len(b.events))
	raws := make([][]byte, 0, len(b.events))
	for i := range b.events {
		ev := &b.events[i]
		if _, dup := seen[ev.Key]; dup {
			continue
		}
		seen[ev.Key] = i
		keys = append(keys, ev.Key[:])
		types = append(types, ev.Type)
		ets = append(ets, int64(ev.EventTS))
		raw := ev.Raw
		if raw == nil {
			raw = []byte{}
		}
		raws = append(raws, raw)
	}
	rows, err := b.tx.Query(ctx, `INSERT INTO events (key, type, event_ts, ingested_at, raw)
		SELECT k, t, e, $5, r FROM unnest($1::bytea[], $2::text[], $3::bigint[], $4::bytea[]) WITH ORDINALITY AS u(k, t, e, r, n)
		ORDER BY n ON CONFLICT (key) DO NOTHING RETURNING key, seq`, keys, types, ets, raws, b.now)
	if err != nil {
		return fmt.Errorf("log events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k []byte
		var seq int64
		if err := rows.Scan(&k, &seq); err != nil {
			return fmt.Errorf("log events: %w", err)
		}
		b.seq[seen[[32]byte(k)]] = seq
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("log events: %w", err)
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

// validate checks, in batch order, that every channel an event refers to
// exists by then (in the database or created earlier in the batch).
func (b *batch) validate(ctx context.Context) error {
	var ids []string
	want := map[string]bool{}
	for i := range b.events {
		ev := &b.events[i]
		if b.seq[i] == 0 || !needsChannel(ev.Type) || want[ev.ChannelID] {
			continue
		}
		if _, ok := b.db.known.Load(ev.ChannelID); !ok {
			want[ev.ChannelID] = true
			ids = append(ids, ev.ChannelID)
		}
	}
	known := make(map[string]bool, len(ids))
	if len(ids) > 0 {
		rows, err := b.tx.Query(ctx, `SELECT id FROM channels WHERE id = ANY($1)`, ids)
		if err != nil {
			return fmt.Errorf("look up channels: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("look up channels: %w", err)
			}
			known[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("look up channels: %w", err)
		}
	}
	for i := range b.events {
		ev := &b.events[i]
		if b.seq[i] == 0 {
			continue
		}
		if ev.Type == backchannel.EvChannel && ev.Channel != nil {
			known[ev.Channel.ID] = true
			continue
		}
		if !needsChannel(ev.Type) || known[ev.ChannelID] {
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

// loadMarks reads the high-water marks (see the versions table) of the
// channels of the batch's new message events. The channel locks keep them
// from moving until the commit.
func (b *batch) loadMarks(ctx context.Context) error {
	var keys []string
	for i := range b.events {
		ev := &b.events[i]
		if b.seq[i] == 0 || !isMessageEvent(ev.Type) {
			continue
		}
		if _, ok := b.marks[ev.ChannelID]; !ok {
			b.marks[ev.ChannelID] = 0 // no versions row: nothing stored
			keys = append(keys, chanKey(ev.ChannelID))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	rows, err := b.tx.Query(ctx, `SELECT substr(key, 3), mark FROM versions WHERE key = ANY($1)`, keys)
	if err != nil {
		return fmt.Errorf("load marks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ch string
		var m int64
		if err := rows.Scan(&ch, &m); err != nil {
			return fmt.Errorf("load marks: %w", err)
		}
		b.marks[ch] = backchannel.TS(m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load marks: %w", err)
	}
	return nil
}

// bumpVersions bumps the version of everything the batch touched, raising
// channel marks past every (channel, ts) the batch may have stored. Keys in
// order, so that concurrent batches lock version rows in the same order.
func (b *batch) bumpVersions(ctx context.Context) error {
	keys := make([]string, 0, len(b.touched)+1)
	for ch := range b.touched {
		keys = append(keys, chanKey(ch))
	}
	if b.directory {
		keys = append(keys, verDirectory)
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	marks := make([]int64, len(keys))
	for i, k := range keys {
		if k != verDirectory {
			marks[i] = int64(b.newMarks[k[2:]])
		}
	}
	_, err := b.tx.Exec(ctx, `INSERT INTO versions (key, v, mark) SELECT k, 1, m FROM unnest($1::text[], $2::bigint[]) AS u(k, m)
		ON CONFLICT (key) DO UPDATE SET v = versions.v + 1, mark = greatest(versions.mark, excluded.mark)`, keys, marks)
	if err != nil {
		return fmt.Errorf("bump versions: %w", err)
	}
	return nil
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
