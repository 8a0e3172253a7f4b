package postgres

import (
	"context"
	"fmt"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
	"github.com/jackc/pgx/v5"
)

// rebuildWindow is how many days one rebuild transaction covers: it holds
// each day's lock exclusively (PostgreSQL's lock table is shared and
// sized at max_locks_per_transaction per connection) and reads the log of
// its days once.
const rebuildWindow = 32

// rebuildFlush bounds the memory of a rebuild: the aggregated batch is
// written every so many events (writes merge, so flushing early is exact).
const rebuildFlush = 50_000

// RebuildDays recomputes the rollups of the days in [from, to] that have
// any row (data or a watermark) from the raw event log, in log order,
// through the same rules as ingest (member counts from the membership log,
// first, in a transaction of their own), then rewrites the files of the
// closed ones. Each window of days is one transaction holding the days' locks
// exclusively, so no batch writes their rollups meanwhile: a batch that
// waited applies its events on top of the rebuilt rows, as it would have.
func (db *DB) RebuildDays(ctx context.Context, from, to backchannel.Day) error {
	var lo, hi *int32
	if err := db.pool.QueryRow(ctx, `SELECT min(day), max(day) FROM analytics_days`).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("postgres: rebuild: %w", err)
	}
	if lo == nil {
		return nil
	}
	from, to = max(from, backchannel.Day(*lo)), min(to, backchannel.Day(*hi))
	if from > to {
		return nil
	}
	if err := db.rebuildMembership(ctx, from, to); err != nil {
		return fmt.Errorf("postgres: rebuild member counts: %w", err)
	}
	for start := from; start <= to; start += rebuildWindow {
		end := min(to, start+rebuildWindow-1)
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return db.rebuild(ctx, tx, start, end) })
		if err != nil {
			return fmt.Errorf("postgres: rebuild %s..%s: %w", start, end, err)
		}
	}
	return nil
}

func (db *DB) rebuild(ctx context.Context, tx pgx.Tx, from, to backchannel.Day) error {
	// Ascending, as Apply takes them (unnest keeps the order).
	if _, err := tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock(`+dayLockKey+`, d)) FROM generate_series($1::integer, $2::integer) AS d`,
		int32(from), int32(to)); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	for _, t := range []string{"member_days", "channel_days", "channel_day_users"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE day BETWEEN $1 AND $2`, int32(from), int32(to)); err != nil {
			return fmt.Errorf("delete %s: %w", t, err)
		}
	}
	ru := newRollups()
	known := map[string]bool{} // channels and users whose record was looked up
	seen := map[msgKey]bool{}  // messages met so far: only the first event of a (channel, ts) posts
	var page []analytics.Fact  // the facts of one fetched page, before their context is loaded
	n := 0
	flushPage := func() error {
		var chs, users []string
		for i := range page {
			f := &page[i]
			if f.Channel != "" && !known["c:"+f.Channel] {
				known["c:"+f.Channel] = true
				chs = append(chs, f.Channel)
			}
			if f.User != "" && !known["u:"+f.User] {
				known["u:"+f.User] = true
				users = append(users, f.User)
			}
		}
		if len(chs)+len(users) > 0 {
			q := &pgx.Batch{}
			ru.queueContextKeys(q, chs, users)
			if err := tx.SendBatch(ctx, q).Close(); err != nil {
				return fmt.Errorf("load context: %w", err)
			}
		}
		for i := range page {
			f := &page[i]
			ci := ru.chans[f.Channel]
			c := analytics.Context{ChannelKind: ci.kind, Shared: ci.shared, ActorBot: ru.bots[f.User]}
			if f.Type == backchannel.EvMessage {
				k := msgKey{f.Channel, f.TS}
				c.NewMessage = !seen[k]
				seen[k] = true
			}
			ru.agg.Add(f, &c)
			if n++; n%rebuildFlush == 0 {
				if err := writeRollups(ctx, tx, ru.agg); err != nil {
					return err
				}
				ru.agg = analytics.NewBatch()
			}
		}
		page = page[:0]
		return nil
	}
	err := eachFetched(ctx, tx, `SELECT raw FROM events WHERE day BETWEEN $1 AND $2 ORDER BY seq`, []any{int32(from), int32(to)},
		func(rows pgx.Rows, f *analytics.Fact) error {
			var raw []byte
			if err := rows.Scan(&raw); err != nil {
				return err
			}
			var err error
			*f, err = analytics.ParseFact(raw)
			return err
		},
		func(f *analytics.Fact) error {
			page = append(page, *f)
			if len(page) == fetchRows {
				return flushPage()
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if err := flushPage(); err != nil {
		return err
	}
	if err := writeRollups(ctx, tx, ru.agg); err != nil {
		return err
	}
	for d := from; d <= to; d++ {
		if _, err := db.closeDay(ctx, tx, nil, d, true); err != nil {
			return fmt.Errorf("rewrite %s files: %w", d, err)
		}
	}
	return nil
}
