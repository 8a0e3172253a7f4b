package postgres

import (
	"context"
	"fmt"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
	"github.com/jackc/pgx/v5"
)

var _ backchannel.MessageActivityStore = (*DB)(nil)

// messages.activity at ingest. queueLocked reads, under the batch's channel
// locks, the bits the store holds for every (message, user) the batch's
// events touch; rollup adds each new event's bits to an analytics.ActBatch;
// apply's last round trip writes the bits that changed and increments the
// counter rows of the bits that were new (analytics.ActBatch.Deltas). Every
// event about (channel, ts) takes that channel's lock (channelOf), so no
// other batch changes those bits between the read and the write, in this
// process or another: a bit is new exactly once.

// setsActBits reports whether events of typ may set activity bits (before
// the bot check, which needs the directory).
func setsActBits(typ string) bool {
	switch typ {
	case backchannel.EvMessageViewed, backchannel.EvReactionAdded, backchannel.EvMessageShared, backchannel.EvMessageClicked:
		return true
	}
	return false
}

// queueActOld queues the read of the stored bits of every (message, user)
// the batch's events may touch, duplicates included (they are few).
func (b *batch) queueActOld(q *pgx.Batch) {
	if b.db.noActivity {
		return
	}
	var chs, users []string
	var tss []int64
	seen := make(map[analytics.ActKey]bool)
	for i := range b.events {
		ev := &b.events[i]
		if !setsActBits(ev.Type) || ev.ChannelID == "" || ev.TS == 0 || ev.UserID == "" {
			continue
		}
		k := analytics.ActKey{ActMessage: analytics.ActMessage{Channel: ev.ChannelID, TS: ev.TS}, User: ev.UserID}
		if seen[k] {
			continue
		}
		seen[k] = true
		chs, tss, users = append(chs, k.Channel), append(tss, int64(k.TS)), append(users, k.User)
	}
	if len(chs) == 0 {
		return
	}
	q.Queue(`SELECT a.channel_id, a.ts, a.user_id, a.bits FROM unnest($1::text[], $2::bigint[], $3::text[]) AS k(ch, ts, u)
		JOIN message_user_acts AS a ON a.channel_id = k.ch AND a.ts = k.ts AND a.user_id = k.u`, chs, tss, users).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var k analytics.ActKey
			var ts int64
			var bits int16
			if err := rows.Scan(&k.Channel, &ts, &k.User, &bits); err != nil {
				return err
			}
			k.TS = backchannel.TS(ts)
			b.ru.actOld[k] = analytics.ActBits(bits)
		}
		return rows.Err()
	})
}

// Activity upserts: bits are OR-ed (the batch computed old | new under the
// channel lock; OR keeps a bit set whatever happens), counters add.
const (
	upsertUserActs = `INSERT INTO message_user_acts AS a (channel_id, ts, user_id, bits)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::smallint[])
		ON CONFLICT (channel_id, ts, user_id) DO UPDATE SET bits = a.bits | excluded.bits`
	upsertMessageActs = `INSERT INTO message_acts AS a (channel_id, ts, views, reactions, shares, clicks, desktop, mobile, web)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
			$7::bigint[], $8::bigint[], $9::bigint[])
		ON CONFLICT (channel_id, ts) DO UPDATE SET views = a.views + excluded.views, reactions = a.reactions + excluded.reactions,
		shares = a.shares + excluded.shares, clicks = a.clicks + excluded.clicks, desktop = a.desktop + excluded.desktop,
		mobile = a.mobile + excluded.mobile, web = a.web + excluded.web`
	upsertGroupActs = `INSERT INTO message_group_acts AS a (channel_id, ts, kind, name, views, reactions, shares, clicks)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::smallint[], $4::text[], $5::bigint[], $6::bigint[],
			$7::bigint[], $8::bigint[])
		ON CONFLICT (channel_id, ts, kind, name) DO UPDATE SET views = a.views + excluded.views,
		reactions = a.reactions + excluded.reactions, shares = a.shares + excluded.shares, clicks = a.clicks + excluded.clicks`
)

// queueActivity queues the writes of the batch's activity deltas.
func (b *batch) queueActivity(q *pgx.Batch) {
	if b.ru.act.Empty() {
		return
	}
	d := b.ru.act.Deltas(b.ru.actOld)
	if d.Empty() {
		return
	}
	n := len(d.Bits)
	chs, tss, users, bits := make([]string, n), make([]int64, n), make([]string, n), make([]int16, n)
	for i, r := range d.Bits {
		chs[i], tss[i], users[i], bits[i] = r.Channel, int64(r.TS), r.User, int16(r.Bits)
	}
	q.Queue(upsertUserActs, chs, tss, users, bits)

	n = len(d.Messages)
	chs, tss = make([]string, n), make([]int64, n)
	cols := make([][]int64, 7)
	for j := range cols {
		cols[j] = make([]int64, n)
	}
	for i, k := range d.Messages {
		c := &d.Counts[i]
		chs[i], tss[i] = k.Channel, int64(k.TS)
		for j, v := range [7]int64{c.Views, c.Reactions, c.Shares, c.Clicks, c.Desktop, c.Mobile, c.Web} {
			cols[j][i] = v
		}
	}
	q.Queue(upsertMessageActs, chs, tss, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6])

	if n = len(d.Groups); n == 0 {
		return
	}
	chs, tss = make([]string, n), make([]int64, n)
	kinds, names := make([]int16, n), make([]string, n)
	cols = cols[:4]
	for j := range cols {
		cols[j] = make([]int64, n)
	}
	for i, g := range d.Groups {
		c := &d.Group[i]
		chs[i], tss[i], kinds[i], names[i] = g.Channel, int64(g.TS), int16(g.Kind), g.Name
		for j, v := range [4]int64{c.Views, c.Reactions, c.Shares, c.Clicks} {
			cols[j][i] = v
		}
	}
	q.Queue(upsertGroupActs, chs, tss, kinds, names, cols[0], cols[1], cols[2], cols[3])
}

// readActivity is one statement, so one snapshot: the page of visible
// messages (a backwards range scan of the messages primary key), each
// message's counter row and its group rows aggregated into arrays. It reads
// O(page) rows: never the per-user bits.
const readActivity = `SELECT m.ts, coalesce(a.views, 0), coalesce(a.reactions, 0), coalesce(a.shares, 0),
		coalesce(a.clicks, 0), coalesce(a.desktop, 0), coalesce(a.mobile, 0), coalesce(a.web, 0),
		g.kinds, g.names, g.views, g.reactions, g.shares, g.clicks
	FROM (SELECT ts FROM messages WHERE channel_id = $1 AND visible AND ts BETWEEN $2 AND $3
		ORDER BY ts DESC LIMIT $4) AS m
	LEFT JOIN message_acts AS a ON a.channel_id = $1 AND a.ts = m.ts
	LEFT JOIN LATERAL (SELECT array_agg(kind) AS kinds, array_agg(name) AS names, array_agg(views) AS views,
			array_agg(reactions) AS reactions, array_agg(shares) AS shares, array_agg(clicks) AS clicks
		FROM message_group_acts AS x WHERE x.channel_id = $1 AND x.ts = m.ts) AS g ON a.ts IS NOT NULL
	ORDER BY m.ts DESC`

// MessageActivity returns a page of the channel's visible messages in
// [Oldest, Latest], newest first, with their counters; see
// backchannel.MessageActivityStore.
func (db *DB) MessageActivity(ctx context.Context, q backchannel.MessageActivityQuery) (backchannel.MessageActivityPage, error) {
	limit := min(max(q.Limit, 1), 100)
	rows, err := db.pool.Query(ctx, readActivity, q.Channel, int64(q.Oldest), int64(q.Latest), limit+1)
	if err != nil {
		return backchannel.MessageActivityPage{}, fmt.Errorf("postgres: message activity: %w", err)
	}
	defer rows.Close()
	var page backchannel.MessageActivityPage
	for rows.Next() {
		var ts int64
		m := backchannel.MessageActivity{ChannelID: q.Channel,
			ByDepartment: []backchannel.DepartmentActivity{}, ByTeam: []backchannel.TeamActivity{}}
		var kinds []int16
		var names []string
		var views, reactions, shares, clicks []int64
		if err := rows.Scan(&ts, &m.Views, &m.Reactions, &m.Shares, &m.Clicks, &m.ViewsDesktop, &m.ViewsMobile, &m.ViewsWeb,
			&kinds, &names, &views, &reactions, &shares, &clicks); err != nil {
			return backchannel.MessageActivityPage{}, fmt.Errorf("postgres: message activity: %w", err)
		}
		m.TS = backchannel.TS(ts)
		if len(page.Activities) == limit {
			page.Next = m.TS
			break
		}
		for i, k := range kinds {
			c := backchannel.ActivityCounts{Views: views[i], Reactions: reactions[i], Shares: shares[i], Clicks: clicks[i]}
			if uint8(k) == analytics.GroupDepartment {
				m.ByDepartment = append(m.ByDepartment, backchannel.DepartmentActivity{Department: names[i], ActivityCounts: c})
			} else {
				m.ByTeam = append(m.ByTeam, backchannel.TeamActivity{TeamID: names[i], ActivityCounts: c})
			}
		}
		analytics.SortActivity(&m)
		page.Activities = append(page.Activities, m)
	}
	if err := rows.Err(); err != nil {
		return backchannel.MessageActivityPage{}, fmt.Errorf("postgres: message activity: %w", err)
	}
	return page, nil
}
