package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
	"github.com/backchannel/backchannel/internal/jsonobj"
)

var _ backchannel.MessageActivityStore = (*DB)(nil)

// messages.activity at ingest: rollup adds each new event's bits to an
// analytics.ActBatch; once the batch's events are applied, writeActivity
// reads the bits the store holds for the batch's (message, user)s, and
// writes the bits that changed and the increments of the counter rows of
// the bits that were new (analytics.ActBatch.Deltas). The one writer
// connection makes the read and the write atomic: a bit is new exactly once.

// Activity upserts: bits OR, counters add.
const (
	upsertUserActs     = `INSERT INTO message_user_acts (channel_id, ts, user_id, bits)`
	upsertUserActsTail = `ON CONFLICT (channel_id, ts, user_id) DO UPDATE SET bits = bits | excluded.bits`
	upsertMsgActs      = `INSERT INTO message_acts (channel_id, ts, views, reactions, shares, clicks, desktop, mobile, web)`
	upsertMsgActsTail  = `ON CONFLICT (channel_id, ts) DO UPDATE SET views = views + excluded.views,
		reactions = reactions + excluded.reactions, shares = shares + excluded.shares, clicks = clicks + excluded.clicks,
		desktop = desktop + excluded.desktop, mobile = mobile + excluded.mobile, web = web + excluded.web`
	upsertGroupActs     = `INSERT INTO message_group_acts (channel_id, ts, kind, name, views, reactions, shares, clicks)`
	upsertGroupActsTail = `ON CONFLICT (channel_id, ts, kind, name) DO UPDATE SET views = views + excluded.views,
		reactions = reactions + excluded.reactions, shares = shares + excluded.shares, clicks = clicks + excluded.clicks`
)

// writeActivity writes a batch's activity deltas.
func (w *writer) writeActivity(ctx context.Context, act *analytics.ActBatch) error {
	if act.Empty() {
		return nil
	}
	old, err := w.actBits(ctx, act.Keys())
	if err != nil {
		return fmt.Errorf("activity: read bits: %w", err)
	}
	d := act.Deltas(old)
	if d.Empty() {
		return nil
	}
	args := make([]any, 0, 4*len(d.Bits))
	for _, r := range d.Bits {
		args = append(args, r.Channel, int64(r.TS), r.User, int64(r.Bits))
	}
	if err := w.execRows(ctx, upsertUserActs, `(?,?,?,?)`, upsertUserActsTail, nil, 4, args); err != nil {
		return fmt.Errorf("activity: bits: %w", err)
	}
	args = args[:0]
	for i, k := range d.Messages {
		c := &d.Counts[i]
		args = append(args, k.Channel, int64(k.TS), c.Views, c.Reactions, c.Shares, c.Clicks, c.Desktop, c.Mobile, c.Web)
	}
	if err := w.execRows(ctx, upsertMsgActs, `(?,?,?,?,?,?,?,?,?)`, upsertMsgActsTail, nil, 9, args); err != nil {
		return fmt.Errorf("activity: messages: %w", err)
	}
	args = args[:0]
	for i, g := range d.Groups {
		c := &d.Group[i]
		args = append(args, g.Channel, int64(g.TS), int64(g.Kind), g.Name, c.Views, c.Reactions, c.Shares, c.Clicks)
	}
	if err := w.execRows(ctx, upsertGroupActs, `(?,?,?,?,?,?,?,?)`, upsertGroupActsTail, nil, 8, args); err != nil {
		return fmt.Errorf("activity: groups: %w", err)
	}
	return nil
}

// actBits reads the stored bits of keys (sorted by channel): one statement
// per channel, the (ts, user) pairs passed as a JSON array.
func (w *writer) actBits(ctx context.Context, keys []analytics.ActKey) (map[analytics.ActKey]analytics.ActBits, error) {
	s, err := w.stmt(ctx, `SELECT a.ts, a.user_id, a.bits FROM json_each(?2) AS j CROSS JOIN message_user_acts AS a
		WHERE a.channel_id = ?1 AND a.ts = j.value ->> 0 AND a.user_id = j.value ->> 1`)
	if err != nil {
		return nil, err
	}
	old := make(map[analytics.ActKey]analytics.ActBits)
	for len(keys) > 0 {
		ch := keys[0].Channel
		list := []byte{'['}
		n := 0
		for ; n < len(keys) && keys[n].Channel == ch; n++ {
			if n > 0 {
				list = append(list, ',')
			}
			list = strconv.AppendInt(append(list, '['), int64(keys[n].TS), 10)
			list = append(jsonobj.AppendString(append(list, ','), keys[n].User), ']')
		}
		keys = keys[n:]
		err := scanAll(ctx, s, []any{ch, string(append(list, ']'))}, func(rows *sql.Rows) error {
			k := analytics.ActKey{ActMessage: analytics.ActMessage{Channel: ch}}
			var ts, bits int64
			if err := rows.Scan(&ts, &k.User, &bits); err != nil {
				return err
			}
			k.TS = backchannel.TS(ts)
			old[k] = analytics.ActBits(bits)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return old, nil
}

// readActivity is one statement, so one snapshot: the page of visible
// messages (a backwards range scan of the messages primary key), then for
// each its counter row (kind 0, first) and its group rows. It reads O(page)
// rows: never the per-user bits.
const readActivity = `WITH page AS (SELECT ts FROM messages WHERE channel_id = ?1 AND visible AND ts BETWEEN ?2 AND ?3
		ORDER BY ts DESC LIMIT ?4)
	SELECT p.ts, 0, '', coalesce(a.views, 0), coalesce(a.reactions, 0), coalesce(a.shares, 0), coalesce(a.clicks, 0),
		coalesce(a.desktop, 0), coalesce(a.mobile, 0), coalesce(a.web, 0)
	FROM page AS p LEFT JOIN message_acts AS a ON a.channel_id = ?1 AND a.ts = p.ts
	UNION ALL
	SELECT g.ts, g.kind, g.name, g.views, g.reactions, g.shares, g.clicks, 0, 0, 0
	FROM page AS p CROSS JOIN message_group_acts AS g WHERE g.channel_id = ?1 AND g.ts = p.ts
	ORDER BY 1 DESC, 2`

// MessageActivity returns a page of the channel's visible messages in
// [Oldest, Latest], newest first, with their counters; see
// backchannel.MessageActivityStore.
func (db *DB) MessageActivity(ctx context.Context, q backchannel.MessageActivityQuery) (backchannel.MessageActivityPage, error) {
	limit := min(max(q.Limit, 1), 100)
	k := actKey{channel: q.Channel, oldest: q.Oldest, latest: q.Latest, limit: limit}
	chanVer, actVer := db.cache.actVersions(q.Channel)
	if p, ok := db.cache.getActPage(k, chanVer, actVer); ok {
		return p, nil
	}
	p, err := db.queryActivity(ctx, q.Channel, q.Oldest, q.Latest, limit)
	if err == nil {
		db.cache.putActPage(k, chanVer, actVer, p)
	}
	return p, err
}

// queryActivity reads a page with one statement (readActivity).
func (db *DB) queryActivity(ctx context.Context, channel string, oldest, latest backchannel.TS, limit int) (backchannel.MessageActivityPage, error) {
	s, err := db.readStmt(ctx, readActivity)
	if err != nil {
		return backchannel.MessageActivityPage{}, fmt.Errorf("sqlite: message activity: %w", err)
	}
	rows, err := s.QueryContext(ctx, channel, int64(oldest), int64(latest), limit+1)
	if err != nil {
		return backchannel.MessageActivityPage{}, fmt.Errorf("sqlite: message activity: %w", err)
	}
	defer rows.Close()
	var page backchannel.MessageActivityPage
	var m *backchannel.MessageActivity
	for rows.Next() {
		var ts, kind int64
		var name string
		var c backchannel.ActivityCounts
		var desktop, mobile, web int64
		if err := rows.Scan(&ts, &kind, &name, &c.Views, &c.Reactions, &c.Shares, &c.Clicks, &desktop, &mobile, &web); err != nil {
			return backchannel.MessageActivityPage{}, fmt.Errorf("sqlite: message activity: %w", err)
		}
		switch uint8(kind) {
		case 0: // the message itself: its group rows follow
			if len(page.Activities) == limit {
				page.Next = backchannel.TS(ts)
				m = nil
				continue
			}
			page.Activities = append(page.Activities, backchannel.MessageActivity{ChannelID: channel, TS: backchannel.TS(ts),
				ActivityCounts: c, ViewsDesktop: desktop, ViewsMobile: mobile, ViewsWeb: web,
				ByDepartment: []backchannel.DepartmentActivity{}, ByTeam: []backchannel.TeamActivity{}})
			m = &page.Activities[len(page.Activities)-1]
		case analytics.GroupDepartment:
			if m != nil {
				m.ByDepartment = append(m.ByDepartment, backchannel.DepartmentActivity{Department: name, ActivityCounts: c})
			}
		case analytics.GroupTeam:
			if m != nil {
				m.ByTeam = append(m.ByTeam, backchannel.TeamActivity{TeamID: name, ActivityCounts: c})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return backchannel.MessageActivityPage{}, fmt.Errorf("sqlite: message activity: %w", err)
	}
	for i := range page.Activities {
		analytics.SortActivity(&page.Activities[i])
	}
	return page, nil
}
