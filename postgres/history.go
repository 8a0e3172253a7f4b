package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/internal/render"
	"github.com/jackc/pgx/v5"
)

const (
	// Both read the primary key (channel_id, ts) as one range; Limit+1 rows,
	// the extra one giving Next.
	historyDesc = `SELECT ts, body FROM messages WHERE channel_id = $1 AND ts >= $2 AND ts <= $3 AND visible
		ORDER BY ts DESC LIMIT $4`
	historyAsc = `SELECT ts, body FROM messages WHERE channel_id = $1 AND ts >= $2 AND ts <= $3 AND visible
		ORDER BY ts ASC LIMIT $4`
	newestVisible = `SELECT coalesce((SELECT ts FROM messages WHERE channel_id = $1 AND visible ORDER BY ts DESC LIMIT 1), 0)`
	starsOf       = `SELECT ts FROM stars WHERE channel_id = $1 AND user_id = $2`
)

// History returns one page of visible messages, newest first. A cache hit
// costs one round trip (the channel's version); a miss one more, in which
// the page, the newest visible ts and the caller's stars are read in one
// pipelined batch. The caller's stars are patched into a copy at the end, so
// cached pages are shared by all callers.
func (db *DB) History(ctx context.Context, q backchannel.HistoryQuery) (backchannel.HistoryPage, error) {
	if q.Limit < 1 {
		return backchannel.HistoryPage{}, backchannel.Errorf(backchannel.EInvalidArguments, "limit %d", q.Limit)
	}
	c := db.cache
	var r historyRead
	if c.pages.Enabled() {
		ver, err := db.version(ctx, chanKey(q.Channel))
		if err != nil {
			return backchannel.HistoryPage{}, err
		}
		r.ver = ver
		if newest, _, ok := lookup(c, c.maxVis, q.Channel, ver); ok {
			r.newest, r.haveNewest = newest, true
			r.key = pageKeyOf(q, newest)
			r.page, r.havePage = c.pages.Get(r.key, ver)
		}
	}
	if q.Caller != "" {
		r.stars, _, r.haveStars = lookup(c, c.stars, [2]string{q.Caller, q.Channel}, r.ver)
		r.haveStars = r.haveStars && c.pages.Enabled()
	} else {
		r.haveStars = true
	}
	if !r.havePage || !r.haveStars {
		if err := db.readHistory(ctx, q, &r); err != nil {
			return backchannel.HistoryPage{}, err
		}
	}
	out := backchannel.HistoryPage{Messages: make([]json.RawMessage, len(r.page.bodies)), Next: r.page.next}
	for i, body := range r.page.bodies {
		if r.stars[r.page.ts[i]] {
			body = render.Starred(body)
		}
		out.Messages[i] = body
	}
	return out, nil
}

// historyRead is what History has from the cache and still needs.
type historyRead struct {
	ver                             int64
	key                             pageKey
	newest                          backchannel.TS
	page                            page
	stars                           map[backchannel.TS]bool
	haveNewest, havePage, haveStars bool
}

func pageKeyOf(q backchannel.HistoryQuery, newest backchannel.TS) pageKey {
	k := pageKey{channel: q.Channel, lo: q.Lo, hi: q.Hi, limit: q.Limit, ascending: q.Ascending}
	if q.Hi >= newest {
		k.hi, k.openHi = 0, true
	}
	return k
}

// readHistory reads what r lacks in one round trip and caches it under
// r.ver, which was read before: an entry is never tagged newer than its data.
func (db *DB) readHistory(ctx context.Context, q backchannel.HistoryQuery, r *historyRead) error {
	c := db.cache
	cached := c.pages.Enabled()
	b := &pgx.Batch{}
	if !r.havePage {
		query := historyDesc
		if q.Ascending {
			query = historyAsc
		}
		b.Queue(query, q.Channel, int64(q.Lo), int64(q.Hi), q.Limit+1).Query(func(rows pgx.Rows) error {
			var p page
			for rows.Next() {
				var ts int64
				var body []byte
				if err := rows.Scan(&ts, &body); err != nil {
					return err
				}
				p.ts = append(p.ts, backchannel.TS(ts))
				p.bodies = append(p.bodies, body)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if len(p.ts) > q.Limit {
				p.next = p.ts[q.Limit]
				p.ts, p.bodies = p.ts[:q.Limit], p.bodies[:q.Limit]
			}
			if q.Ascending {
				slices.Reverse(p.ts)
				slices.Reverse(p.bodies)
			}
			r.page = p
			return nil
		})
		if cached && !r.haveNewest {
			b.Queue(newestVisible, q.Channel).QueryRow(func(row pgx.Row) error {
				var ts int64
				err := row.Scan(&ts)
				r.newest = backchannel.TS(ts)
				return err
			})
		}
	}
	if !r.haveStars {
		b.Queue(starsOf, q.Channel, q.Caller).Query(func(rows pgx.Rows) error {
			m := make(map[backchannel.TS]bool)
			for rows.Next() {
				var ts int64
				if err := rows.Scan(&ts); err != nil {
					return err
				}
				m[backchannel.TS(ts)] = true
			}
			r.stars = m
			return rows.Err()
		})
	}
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: history: %w", err)
	}
	if !cached {
		return nil
	}
	if !r.havePage {
		if !r.haveNewest {
			store(c, c.maxVis, q.Channel, r.ver, r.newest, nil)
		}
		c.pages.Put(pageKeyOf(q, r.newest), r.ver, r.page)
	}
	if !r.haveStars {
		store(c, c.stars, [2]string{q.Caller, q.Channel}, r.ver, r.stars, nil)
	}
	return nil
}
