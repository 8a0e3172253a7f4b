package sqlite

import (
	"context"
	"fmt"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
)

var _ backchannel.MessageActivityStore = (*DB)(nil)

// messages.activity at ingest: rollup adds each new event's bits to an
// analytics.ActBatch; once the batch's events are applied, writeActivity
// reads what the batch's messages hold, logs the bits that are new
// (mergeActBits, actruns.go) and then writes the increments of the counter
// rows of those bits (analytics.ActBatch.DeltasOf). The one writer
// connection makes that atomic: a bit is new exactly once.

// Activity upserts: bits OR, counters add.
const (
	upsertMsgActs     = `INSERT INTO message_acts (channel_id, ts, views, reactions, shares, clicks, desktop, mobile, web)`
	upsertMsgActsTail = `ON CONFLICT (channel_id, ts) DO UPDATE SET views = views + excluded.views,
		reactions = reactions + excluded.reactions, shares = shares + excluded.shares, clicks = clicks + excluded.clicks,
		desktop = desktop + excluded.desktop, mobile = mobile + excluded.mobile, web = web + excluded.web`
	upsertGroupActs     = `INSERT INTO message_group_acts (channel_id, ts, kind, name, views, reactions, shares, clicks)`
	upsertGroupActsTail = `ON CONFLICT (channel_id, ts, kind, name) DO UPDATE SET views = views + excluded.views,
		reactions = reactions + excluded.reactions, shares = shares + excluded.shares, clicks = clicks + excluded.clicks`
)

// writeActivity writes a batch's activity.
func (w *writer) writeActivity(ctx context.Context, act *analytics.ActBatch) error {
	if act.Empty() {
		return nil
	}
	gained, was, err := w.mergeActBits(ctx, act)
	if err != nil {
		return fmt.Errorf("activity: bits: %w", err)
	}
	d := act.DeltasOf(gained, was)
	if d.Empty() {
		return nil
	}
	args := make([]any, 0, 9*len(d.Messages))
	for i, k := range d.Messages {
		c := &d.Counts[i]
		args = append(args, k.Channel, int64(k.TS), c.Views, c.Reactions, c.Shares, c.Clicks, c.Desktop, c.Mobile, c.Web)
	}
	if err := w.execRows(ctx, upsertMsgActs, `(?,?,?,?,?,?,?,?,?)`, upsertMsgActsTail, nil, 9, args); err != nil {
		return fmt.Errorf("activity: messages: %w", err)
	}
	// Most group rows of a batch only count views: those bind 5 arguments
	// instead of 8.
	args = args[:0]
	var views []any
	for i, g := range d.Groups {
		c := &d.Group[i]
		if (*c == backchannel.ActivityCounts{Views: c.Views}) {
			views = append(views, g.Channel, int64(g.TS), int64(g.Kind), g.Name, c.Views)
			continue
		}
		args = append(args, g.Channel, int64(g.TS), int64(g.Kind), g.Name, c.Views, c.Reactions, c.Shares, c.Clicks)
	}
	if err := w.execRows(ctx, upsertGroupActs, `(?,?,?,?,?,0,0,0)`, upsertGroupActsTail, nil, 5, views); err != nil {
		return fmt.Errorf("activity: groups: %w", err)
	}
	if err := w.execRows(ctx, upsertGroupActs, `(?,?,?,?,?,?,?,?)`, upsertGroupActsTail, nil, 8, args); err != nil {
		return fmt.Errorf("activity: groups: %w", err)
	}
	return nil
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
