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
// (actruns.go) logs the new ones and what they add.

// readActivity is one statement, so one snapshot: the page of visible
// messages (a backwards range scan of the messages primary key), then for
// each its legacy counter row (kind 0, first: zeros when none), its legacy
// group rows and the counts of its runs (kind 3; actruns.go). It reads
// O(page) rows, at most compactRuns runs a message: never the per-user
// bits.
const readActivity = `WITH page AS (SELECT ts FROM messages WHERE channel_id = ?1 AND visible AND ts BETWEEN ?2 AND ?3
		ORDER BY ts DESC LIMIT ?4)
	SELECT p.ts, 0, '', coalesce(a.views, 0), coalesce(a.reactions, 0), coalesce(a.shares, 0), coalesce(a.clicks, 0),
		coalesce(a.desktop, 0), coalesce(a.mobile, 0), coalesce(a.web, 0), NULL
	FROM page AS p LEFT JOIN message_acts AS a ON a.channel_id = ?1 AND a.ts = p.ts
	UNION ALL
	SELECT g.ts, g.kind, g.name, g.views, g.reactions, g.shares, g.clicks, 0, 0, 0, NULL
	FROM page AS p CROSS JOIN message_group_acts AS g WHERE g.channel_id = ?1 AND g.ts = p.ts
	UNION ALL
	SELECT r.ts, 3, '', 0, 0, 0, 0, 0, 0, 0, r.counts
	FROM page AS p CROSS JOIN message_act_runs AS r WHERE r.ts = p.ts AND r.channel_id = ?1
	ORDER BY 1 DESC, 2`

// kindRuns marks readActivity's rows of runs.
const kindRuns = 3

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
	var totals []actTotals // page.Activities[i]'s
	var t *actTotals
	for rows.Next() {
		var ts, kind int64
		var name string
		var c backchannel.ActivityCounts
		var desktop, mobile, web int64
		var counts []byte
		if err := rows.Scan(&ts, &kind, &name, &c.Views, &c.Reactions, &c.Shares, &c.Clicks, &desktop, &mobile, &web, &counts); err != nil {
			return backchannel.MessageActivityPage{}, fmt.Errorf("sqlite: message activity: %w", err)
		}
		switch uint8(kind) {
		case 0: // the message itself: its group rows and runs follow
			if len(totals) == limit {
				page.Next = backchannel.TS(ts)
				t = nil
				continue
			}
			page.Activities = append(page.Activities, backchannel.MessageActivity{ChannelID: channel, TS: backchannel.TS(ts)})
			totals = append(totals, actTotals{MessageCounts: analytics.MessageCounts{ActivityCounts: c, Desktop: desktop, Mobile: mobile, Web: web}})
			t = &totals[len(totals)-1]
		case analytics.GroupDepartment, analytics.GroupTeam:
			if t != nil {
				t.addGroup(actGroup{uint8(kind), name}, c)
			}
		case kindRuns:
			if t != nil {
				if err := t.addCounts(counts); err != nil {
					return backchannel.MessageActivityPage{}, fmt.Errorf("sqlite: message activity of %s/%s: %w", channel, backchannel.TS(ts), err)
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return backchannel.MessageActivityPage{}, fmt.Errorf("sqlite: message activity: %w", err)
	}
	for i := range page.Activities {
		m, t := &page.Activities[i], &totals[i]
		m.ActivityCounts, m.ViewsDesktop, m.ViewsMobile, m.ViewsWeb = t.ActivityCounts, t.Desktop, t.Mobile, t.Web
		m.ByDepartment, m.ByTeam = []backchannel.DepartmentActivity{}, []backchannel.TeamActivity{}
		gs, cs := t.sortedGroups()
		for j, g := range gs {
			if g.Kind == analytics.GroupDepartment {
				m.ByDepartment = append(m.ByDepartment, backchannel.DepartmentActivity{Department: g.Name, ActivityCounts: cs[j]})
			} else {
				m.ByTeam = append(m.ByTeam, backchannel.TeamActivity{TeamID: g.Name, ActivityCounts: cs[j]})
			}
		}
	}
	for i := range page.Activities {
		analytics.SortActivity(&page.Activities[i])
	}
	return page, nil
}
