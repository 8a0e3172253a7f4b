package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/internal/render"
)

const (
	historyDesc = `SELECT ts, body, coalesce(react_at, -2) FROM messages WHERE channel_id = ? AND ts >= ? AND ts <= ? AND visible = 1
		ORDER BY ts DESC LIMIT ?`
	historyAsc = `SELECT ts, body, coalesce(react_at, -2) FROM messages WHERE channel_id = ? AND ts >= ? AND ts <= ? AND visible = 1
		ORDER BY ts ASC LIMIT ?`
	// The reactions of a page's messages, in order of reacting per message:
	// a seek per message in reactions, keyed by ts first (migration 0015);
	// first, one seek for whether the page's span holds any reaction at all.
	anyReactions  = `SELECT EXISTS (SELECT 1 FROM reactions WHERE ts >= ? AND ts <= ?)`
	pageReactions = `SELECT r.ts, r.name, r.user_id FROM reactions AS r
		WHERE r.ts IN (SELECT value FROM json_each(?)) AND r.channel_id = ? ORDER BY r.ts, r.seq`
	newestVisible = `SELECT ts FROM messages WHERE channel_id = ? AND visible = 1 ORDER BY ts DESC LIMIT 1`
)

// History returns one page of visible messages, newest first. Pages come
// from the read cache when they can (see cache.go); the caller's stars are
// patched into a copy at the end, so cached pages are shared by all callers.
func (db *DB) History(ctx context.Context, q backchannel.HistoryQuery) (backchannel.HistoryPage, error) {
	if q.Limit < 1 {
		return backchannel.HistoryPage{}, backchannel.Errorf(backchannel.EInvalidArguments, "limit %d", q.Limit)
	}
	c := db.cache
	ver := c.channelVersion(q.Channel)
	var p page
	var err error
	if c.pages.Enabled() {
		newest, err := db.newestVisible(ctx, q.Channel)
		if err != nil {
			return backchannel.HistoryPage{}, err
		}
		k := pageKey{channel: q.Channel, lo: q.Lo, hi: q.Hi, limit: q.Limit, ascending: q.Ascending}
		if q.Hi >= newest {
			k.hi, k.openHi = 0, true
		}
		var hit bool
		if p, hit = c.pages.Get(k, int64(ver)); !hit {
			if p, err = db.queryPage(ctx, q); err != nil {
				return backchannel.HistoryPage{}, err
			}
			c.pages.Put(k, int64(ver), p)
		}
	} else if p, err = db.queryPage(ctx, q); err != nil {
		return backchannel.HistoryPage{}, err
	}

	var starred map[backchannel.TS]bool
	if q.Caller != "" {
		if starred, err = db.stars(ctx, q.Caller, q.Channel); err != nil {
			return backchannel.HistoryPage{}, err
		}
	}
	out := backchannel.HistoryPage{Messages: make([]json.RawMessage, len(p.bodies)), Next: p.next}
	for i, body := range p.bodies {
		if starred[p.ts[i]] {
			body = render.Starred(body)
		}
		out.Messages[i] = body
	}
	return out, nil
}

// queryPage reads a page from SQLite: one clustered range scan of Limit+1
// rows, the extra one giving Next.
func (db *DB) queryPage(ctx context.Context, q backchannel.HistoryQuery) (page, error) {
	query := historyDesc
	if q.Ascending {
		query = historyAsc
	}
	s, err := db.readStmt(ctx, query)
	if err != nil {
		return page{}, err
	}
	var p page
	var at []int64 // each row's react_at
	err = scanAll(ctx, s, []any{q.Channel, int64(q.Lo), int64(q.Hi), q.Limit + 1}, func(rows *sql.Rows) error {
		var ts backchannel.TS
		var body []byte
		var a int64
		if err := rows.Scan(&ts, &body, &a); err != nil {
			return err
		}
		p.ts = append(p.ts, ts)
		p.bodies = append(p.bodies, body)
		at = append(at, a)
		return nil
	})
	if err != nil {
		return page{}, fmt.Errorf("sqlite: history: %w", err)
	}
	if len(p.ts) > q.Limit {
		p.next = p.ts[q.Limit]
		p.ts, p.bodies, at = p.ts[:q.Limit], p.bodies[:q.Limit], at[:q.Limit]
	}
	if err := db.addReactions(ctx, q.Channel, &p, at); err != nil {
		return page{}, err
	}
	if q.Ascending {
		slices.Reverse(p.ts)
		slices.Reverse(p.bodies)
	}
	return p, nil
}

// addReactions inserts into the page's bodies their messages' reactions,
// read in one statement (migration 0015). A body written before 0015
// (legacyReactAt) holds its reactions already. The page's rows and its
// reactions are two reads: the reactions may be a commit newer than the
// rows, never older.
func (db *DB) addReactions(ctx context.Context, ch string, p *page, at []int64) error {
	list := make([]byte, 0, 20*len(at)+2)
	list = append(list, '[')
	var lo, hi backchannel.TS
	for i, a := range at {
		if a == legacyReactAt {
			continue
		}
		if len(list) > 1 {
			list = append(list, ',')
			lo, hi = min(lo, p.ts[i]), max(hi, p.ts[i])
		} else {
			lo, hi = p.ts[i], p.ts[i]
		}
		list = strconv.AppendInt(list, int64(p.ts[i]), 10)
	}
	if len(list) == 1 {
		return nil
	}
	list = append(list, ']')
	// Most spans of a channel without reactions hold none of any channel
	// either: one seek instead of one per message.
	probe, err := db.readStmt(ctx, anyReactions)
	if err != nil {
		return err
	}
	var some bool
	if err := probe.QueryRowContext(ctx, int64(lo), int64(hi)).Scan(&some); err != nil {
		return fmt.Errorf("sqlite: history: reactions: %w", err)
	}
	if !some {
		return nil
	}
	s, err := db.readStmt(ctx, pageReactions)
	if err != nil {
		return err
	}
	reacts := make(map[backchannel.TS][]render.Reaction)
	err = scanAll(ctx, s, []any{string(list), ch}, func(rows *sql.Rows) error {
		var ts backchannel.TS
		var x render.Reaction
		if err := rows.Scan(&ts, &x.Name, &x.User); err != nil {
			return err
		}
		reacts[ts] = append(reacts[ts], x)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: history: reactions: %w", err)
	}
	if len(reacts) == 0 {
		return nil
	}
	for i, a := range at {
		rs := reacts[p.ts[i]]
		if a == legacyReactAt || len(rs) == 0 {
			continue
		}
		if a == reactAtEnd {
			a = int64(len(p.bodies[i]) - 1)
		}
		p.bodies[i] = render.WithReactions(p.bodies[i], int(a), rs)
	}
	return nil
}

// newestVisible returns the channel's newest visible ts (0 when none),
// cached per channel version.
func (db *DB) newestVisible(ctx context.Context, ch string) (backchannel.TS, error) {
	c := db.cache
	cur := func() uint64 { return c.chanV(ch) }
	if ts, err, ok := lookup(c, c.maxVis, ch, cur); ok {
		return ts, err
	}
	ver := c.channelVersion(ch)
	s, err := db.readStmt(ctx, newestVisible)
	if err != nil {
		return 0, err
	}
	var ts backchannel.TS
	if err := s.QueryRowContext(ctx, ch).Scan(&ts); err != nil && err != sql.ErrNoRows {
		return 0, fmt.Errorf("sqlite: newest message: %w", err)
	}
	store(c, c.maxVis, ch, ver, cur, ts, nil)
	return ts, nil
}

// stars returns the messages of ch that user starred, cached per channel
// version (star events bump it).
func (db *DB) stars(ctx context.Context, user, ch string) (map[backchannel.TS]bool, error) {
	c := db.cache
	k := [2]string{user, ch}
	cur := func() uint64 { return c.chanV(ch) }
	if m, err, ok := lookup(c, c.stars, k, cur); ok {
		return m, err
	}
	ver := c.channelVersion(ch)
	s, err := db.readStmt(ctx, `SELECT ts FROM stars WHERE user_id = ? AND channel_id = ?`)
	if err != nil {
		return nil, err
	}
	m := make(map[backchannel.TS]bool)
	err = scanAll(ctx, s, []any{user, ch}, func(rows *sql.Rows) error {
		var ts backchannel.TS
		err := rows.Scan(&ts)
		m[ts] = true
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: stars: %w", err)
	}
	store(c, c.stars, k, ver, cur, m, nil)
	return m, nil
}

// readStmt prepares query on the read pool once (lazily: the tables exist
// only after Migrate).
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if s, ok := db.rstmts[query]; ok {
		return s, nil
	}
	s, err := db.rdb.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	db.rstmts[query] = s
	return s, nil
}
