package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
	"github.com/jackc/pgx/v5"
)

// rollups is a batch's analytics state: the rule context it read and the
// deltas of its events, aggregated in memory (analytics.Batch: the rules
// live there, not here) and written once per batch with multi-row upserts.
type rollups struct {
	agg   *analytics.Batch
	chans map[string]chanInfo // the channel records the events name
	bots  map[string]bool     // user id → is_bot, for users the store knows

	people map[string]analytics.Person // user id → department and team, for messages.activity
	act    *analytics.ActBatch         // the batch's messages.activity bits (activity.go)
	actOld map[analytics.ActKey]analytics.ActBits
	mem    *analytics.Memberships // member counts: what joins, leaves and user events change (members.go)
}

type chanInfo struct {
	kind   string
	shared bool
}

func newRollups() rollups {
	agg := analytics.NewBatch()
	return rollups{agg: agg, chans: map[string]chanInfo{}, bots: map[string]bool{},
		people: map[string]analytics.Person{}, act: analytics.NewActBatch(), actOld: map[analytics.ActKey]analytics.ActBits{},
		mem: analytics.NewMemberships(agg.Membership)}
}

func (ru *rollups) noteChannel(c *backchannel.Channel) {
	ru.chans[c.ID] = chanInfo{kind: c.Kind, shared: c.IsExternallyShared()}
}

func (ru *rollups) noteUser(u *backchannel.User) {
	ru.bots[u.ID] = u.IsBot
	ru.people[u.ID] = analytics.Person{Department: u.Department, Team: u.TeamID}
}

// queueContext queues on q the reads of the channel and user records that
// events with a day name; directory events of the batch then update them
// in order (noteChannel, noteUser), so every event sees the directory as of
// its place in the batch. It also queues what member counts need
// (queueMemberships).
func (ru *rollups) queueContext(q *pgx.Batch, events []backchannel.Event) {
	chs, users := contextKeys(events)
	ru.queueContextKeys(q, chs, users)
	ru.queueMemberships(q, events)
}

// queueContextKeys queues the reads of the records of chs and users.
func (ru *rollups) queueContextKeys(q *pgx.Batch, chs, users []string) {
	if len(chs) > 0 {
		q.Queue(`SELECT id, kind, external_orgs <> '[]'::jsonb FROM channels WHERE id = ANY($1)`, chs).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var id string
				var ci chanInfo
				if err := rows.Scan(&id, &ci.kind, &ci.shared); err != nil {
					return err
				}
				ru.chans[id] = ci
			}
			return rows.Err()
		})
	}
	if len(users) > 0 {
		q.Queue(`SELECT id, is_bot, department, team_id FROM users WHERE id = ANY($1)`, users).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var id string
				var bot bool
				var p analytics.Person
				if err := rows.Scan(&id, &bot, &p.Department, &p.Team); err != nil {
					return err
				}
				ru.bots[id] = bot
				ru.people[id] = p
			}
			return rows.Err()
		})
	}
}

// contextKeys lists the channels and users that events with a day name.
func contextKeys(events []backchannel.Event) (chs, users []string) {
	seenC, seenU := map[string]bool{}, map[string]bool{}
	for i := range events {
		ev := &events[i]
		if !analytics.HasDay(ev.Type) {
			continue
		}
		if ev.ChannelID != "" && !seenC[ev.ChannelID] {
			seenC[ev.ChannelID] = true
			chs = append(chs, ev.ChannelID)
		}
		if ev.UserID != "" && !seenU[ev.UserID] {
			seenU[ev.UserID] = true
			users = append(users, ev.UserID)
		}
	}
	return chs, users
}

// rollup applies the rules to one new event, seq its log seq. It runs
// before the event changes any state, so a message's row still says
// whether it is new.
func (b *batch) rollup(ev *backchannel.Event, seq int64) error {
	if !analytics.HasDay(ev.Type) {
		return b.countMembership(ev, seq)
	}
	f := analytics.FactOf(ev)
	ci := b.ru.chans[ev.ChannelID]
	c := analytics.Context{ChannelKind: ci.kind, Shared: ci.shared, ActorBot: b.ru.bots[ev.UserID]}
	if ev.Type == backchannel.EvMessage {
		c.NewMessage = !b.row(msgKey{ev.ChannelID, ev.TS}).present
	}
	b.ru.agg.Add(&f, &c)
	if !b.db.noActivity {
		b.ru.act.Add(analytics.ActKey{ActMessage: analytics.ActMessage{Channel: ev.ChannelID, TS: ev.TS}, User: ev.UserID},
			analytics.ActBitsOf(&f, &c), b.ru.people[ev.UserID])
	}
	return nil
}

// dayLock is the advisory lock of one analytics day: Apply holds it shared
// while it writes the day's rollups, FinalizeDays and RebuildDays hold it
// exclusively. So a day is closed from rollups no batch is still writing,
// a batch that comes after sees the day closed (its events are late,
// counted exactly), and only one process closes a day. The first key is
// per schema, so that schemas (one per test) do not wait on each other.
const dayLockKey = `hashtext(current_schema() || ' analytics day')`

// Rollup upserts: the merge rules of analytics.MemberCounts and
// analytics.ChannelCounts, in SQL. The channel statement first inserts the
// distinct bits; only the new ones (RETURNING) bump viewers and posters.
// Rows go in key order, so concurrent batches lock rows in the same order.
const (
	upsertChannelDays = `WITH new AS (
			INSERT INTO channel_day_users (day, channel_id, kind, user_id)
			SELECT * FROM unnest($1::integer[], $2::text[], $3::smallint[], $4::text[])
			ON CONFLICT DO NOTHING RETURNING day, channel_id, kind),
		bumps AS (SELECT day, channel_id, count(*) FILTER (WHERE kind = 1) AS v, count(*) FILTER (WHERE kind = 2) AS p
			FROM new GROUP BY day, channel_id)
		INSERT INTO channel_days AS c (channel_id, day, messages, member_messages, reactions, viewers, posters, last_ts)
		SELECT u.ch, u.d, u.m, u.mm, u.r, coalesce(b.v, 0), coalesce(b.p, 0), u.l
		FROM unnest($5::text[], $6::integer[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[]) AS u(ch, d, m, mm, r, l)
		LEFT JOIN bumps AS b ON b.day = u.d AND b.channel_id = u.ch
		ORDER BY u.ch COLLATE "C", u.d
		ON CONFLICT (channel_id, day) DO UPDATE SET messages = c.messages + excluded.messages,
		member_messages = c.member_messages + excluded.member_messages, reactions = c.reactions + excluded.reactions,
		viewers = c.viewers + excluded.viewers, posters = c.posters + excluded.posters,
		last_ts = greatest(c.last_ts, excluded.last_ts)`
	upsertMemberDays = `INSERT INTO member_days AS m (user_id, day, messages, channel_messages, reactions, files,
			slack_calls, huddles, third_party_calls, searches, flags)
		SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
			$7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::smallint[])
		ON CONFLICT (user_id, day) DO UPDATE SET messages = m.messages + excluded.messages,
		channel_messages = m.channel_messages + excluded.channel_messages, reactions = m.reactions + excluded.reactions,
		files = m.files + excluded.files, slack_calls = m.slack_calls + excluded.slack_calls,
		huddles = m.huddles + excluded.huddles, third_party_calls = m.third_party_calls + excluded.third_party_calls,
		searches = m.searches + excluded.searches, flags = m.flags | excluded.flags`
	upsertDays = `INSERT INTO analytics_days AS a (day, events) SELECT * FROM unnest($1::integer[], $2::bigint[])
		ON CONFLICT (day) DO UPDATE SET events = a.events + excluded.events,
		late = a.late + CASE WHEN a.closed_at IS NULL THEN 0 ELSE excluded.events END`
)

// queueRollups queues on q the writes of an aggregated batch: its channel
// member counts (queueMembership), then, with apply set (ingest, as opposed
// to a rebuild, which holds the days exclusively), the days' locks taken
// shared, the channel and member days, and the events per day.
func queueRollups(q *pgx.Batch, agg *analytics.Batch, apply bool) {
	queueMembership(q, agg)
	if agg.Empty() {
		return
	}
	days := make([]int32, 0, len(agg.Days))
	counts := make([]int64, 0, len(agg.Days))
	for d := range agg.Days {
		days = append(days, int32(d))
	}
	slices.Sort(days)
	for _, d := range days {
		counts = append(counts, agg.Days[backchannel.Day(d)])
	}
	if apply {
		// unnest yields the array in order: locks are taken in ascending
		// day order by every batch, and by RebuildDays.
		q.Queue(`SELECT count(pg_advisory_xact_lock_shared(`+dayLockKey+`, d)) FROM unnest($1::integer[]) AS d`, days)
	}
	if len(agg.Channels) > 0 {
		bits := agg.SortedDistinct()
		bd, bc, bk, bu := make([]int32, len(bits)), make([]string, len(bits)), make([]int16, len(bits)), make([]string, len(bits))
		for i, k := range bits {
			bd[i], bc[i], bk[i], bu[i] = int32(k.Day), k.Channel, int16(k.Kind), k.User
		}
		keys := agg.SortedChannels()
		n := len(keys)
		chs, ds := make([]string, n), make([]int32, n)
		msgs, mms, rs, ls := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		for i, k := range keys {
			c := agg.Channels[k]
			chs[i], ds[i], msgs[i], mms[i], rs[i], ls[i] = k.Channel, int32(k.Day), c.Messages, c.MemberMessages, c.Reactions, int64(c.LastTS)
		}
		q.Queue(upsertChannelDays, bd, bc, bk, bu, chs, ds, msgs, mms, rs, ls)
	}
	if len(agg.Members) > 0 {
		keys := agg.SortedMembers()
		n := len(keys)
		users, ds := make([]string, n), make([]int32, n)
		cols := make([][]int64, 8)
		for j := range cols {
			cols[j] = make([]int64, n)
		}
		flags := make([]int16, n)
		for i, k := range keys {
			m := agg.Members[k]
			users[i], ds[i] = k.User, int32(k.Day)
			for j, v := range [8]int64{m.Messages, m.ChannelMessages, m.Reactions, m.Files, m.SlackCalls, m.Huddles, m.ThirdPartyCalls, m.Searches} {
				cols[j][i] = v
			}
			flags[i] = int16(m.Flags)
		}
		q.Queue(upsertMemberDays, users, ds, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], flags)
	}
	if apply {
		q.Queue(upsertDays, days, counts)
	}
}

// writeRollups sends an aggregated batch (rebuilds).
func writeRollups(ctx context.Context, tx pgx.Tx, agg *analytics.Batch) error {
	q := &pgx.Batch{}
	queueRollups(q, agg, false)
	if q.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("write rollups: %w", err)
	}
	return nil
}
