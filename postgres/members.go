package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
	"github.com/jackc/pgx/v5"
)

// Channel member counts as of each day's end are per (channel, day) deltas
// in channel_member_days, kept by Apply in the batch's transaction
// (analytics.Memberships) and summed when a day closes.
//
// Concurrency: a join or leave reads its pair's logged changes under its
// channel's lock; a user event that changes a user's class reads all of the
// user's changes, under no channel lock. So joins, leaves and user events
// also take the lock of their user's bucket (one of memberBuckets): a class
// change and a join of the same user never run at once, and each sees the
// other's changes. Writes to the rows only add, in key order.

// memberBuckets is how many advisory locks the users are spread over.
const memberBuckets = 256

// memberLock names the lock of the bucket of ev's user for joins, leaves
// and user events; "" for other events.
func memberLock(ev *backchannel.Event) string {
	switch {
	case ev.Type == backchannel.EvMemberJoined || ev.Type == backchannel.EvMemberLeft:
		return memberBucket(ev.UserID)
	case ev.Type == backchannel.EvUser && ev.User != nil:
		return memberBucket(ev.User.ID)
	}
	return ""
}

func memberBucket(user string) string {
	h := fnv.New32a()
	h.Write([]byte(user))
	return fmt.Sprintf("u:%d", h.Sum32()%memberBuckets)
}

// queueMemberships queues on q the reads of what the batch's joins, leaves
// and user events need to keep member counts exact: the stored class of
// every user they name, the logged changes of every pair they join or
// leave, and every logged change of each user a user event gives another
// class than the stored one (if none does, the user's class never changes
// in the batch). Replayed events are read for too (which events are new is
// known only once the batch is sent); loading more changes nothing.
func (ru *rollups) queueMemberships(q *pgx.Batch, events []backchannel.Event) {
	var users, pairC, pairU, classU []string
	var classes []int16
	seenU, seenP := map[string]bool{}, map[analytics.Pair]bool{}
	for i := range events {
		ev := &events[i]
		id := ev.UserID
		switch {
		case ev.Type == backchannel.EvMemberJoined || ev.Type == backchannel.EvMemberLeft:
			if p := (analytics.Pair{Channel: ev.ChannelID, User: ev.UserID}); !seenP[p] {
				seenP[p] = true
				pairC, pairU = append(pairC, p.Channel), append(pairU, p.User)
			}
		case ev.Type == backchannel.EvUser && ev.User != nil:
			id = ev.User.ID
			classU = append(classU, id)
			classes = append(classes, int16(analytics.ClassOf(ev.User.IsBot, ev.User.IsGuest)))
		default:
			continue
		}
		if !seenU[id] {
			seenU[id] = true
			users = append(users, id)
		}
	}
	if len(users) == 0 {
		return
	}
	m := ru.mem
	// A join on the array, not "id = ANY($1)": a generic plan would test
	// every row of users against every element.
	q.Queue(`SELECT u.id, u.is_bot, u.is_guest FROM unnest($1::text[]) AS x(id) JOIN users AS u ON u.id = x.id`,
		users).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id string
			var bot, guest bool
			if err := rows.Scan(&id, &bot, &guest); err != nil {
				return err
			}
			m.LoadClass(id, analytics.ClassOf(bot, guest))
		}
		return rows.Err()
	})
	if len(pairC) > 0 {
		q.Queue(`SELECT l.channel_id, l.user_id, l.at, l.seq, l.joined
			FROM unnest($1::text[], $2::text[]) AS p(c, u) JOIN membership_log AS l ON l.channel_id = p.c AND l.user_id = p.u`,
			pairC, pairU).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var p analytics.Pair
				var c analytics.Change
				if err := rows.Scan(&p.Channel, &p.User, &c.At, &c.Seq, &c.Joined); err != nil {
					return err
				}
				m.Load(p, c)
			}
			return rows.Err()
		})
	}
	if len(classU) > 0 {
		q.Queue(`SELECT x.u, l.channel_id, l.at, l.seq, l.joined
			FROM (SELECT DISTINCT x.u FROM unnest($1::text[], $2::smallint[]) AS x(u, cls) LEFT JOIN users AS s ON s.id = x.u
				WHERE x.cls <> CASE WHEN s.is_bot THEN 0 WHEN s.is_guest THEN 2 ELSE 1 END) AS x
			LEFT JOIN membership_log AS l ON l.user_id = x.u`, classU, classes).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var u string
				var ch *string
				var c analytics.Change
				var at, seq *int64
				var joined *bool
				if err := rows.Scan(&u, &ch, &at, &seq, &joined); err != nil {
					return err
				}
				m.LoadedUser(u)
				if ch != nil {
					c.At, c.Seq, c.Joined = *at, *seq, *joined
					m.Load(analytics.Pair{Channel: *ch, User: u}, c)
				}
			}
			return rows.Err()
		})
	}
}

// countMembership counts a join or leave, or a user's class, into the
// batch's member-count deltas.
func (b *batch) countMembership(ev *backchannel.Event, seq int64) error {
	switch ev.Type {
	case backchannel.EvMemberJoined, backchannel.EvMemberLeft:
		b.ru.mem.Apply(analytics.Pair{Channel: ev.ChannelID, User: ev.UserID},
			analytics.Change{At: b.effective(ev), Seq: seq, Joined: ev.Type == backchannel.EvMemberJoined})
	case backchannel.EvUser:
		if ev.User != nil {
			return b.ru.mem.SetClass(ev.User.ID, analytics.ClassOf(ev.User.IsBot, ev.User.IsGuest))
		}
	}
	return nil
}

// queueMembership queues the batch's member-count deltas: added to their
// rows in key order. A row they bring to zero stays (it adds nothing;
// rebuilds and DumpRollups leave zero rows out).
func queueMembership(q *pgx.Batch, agg *analytics.Batch) {
	keys := agg.SortedMembership()
	if len(keys) == 0 {
		return
	}
	chs, days := make([]string, len(keys)), make([]int32, len(keys))
	members, guests := make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		d := agg.Membership[k]
		chs[i], days[i], members[i], guests[i] = k.Channel, int32(k.Day), d.Members, d.Guests
	}
	q.Queue(`INSERT INTO channel_member_days AS c (channel_id, day, members, guests)
		SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[]) AS u(ch, d, m, g)
		ORDER BY u.ch COLLATE "C", u.d
		ON CONFLICT (channel_id, day) DO UPDATE SET members = c.members + excluded.members, guests = c.guests + excluded.guests`,
		chs, days, members, guests)
}

// rebuildMembership recomputes the member-count deltas of [from, to] from
// the whole membership log and the users' current classes, in one
// transaction holding every user bucket's lock (no join, leave or user
// event is applied meanwhile).
func (db *DB) rebuildMembership(ctx context.Context, from, to backchannel.Day) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		ids := make([]int64, memberBuckets)
		for i := range ids {
			ids[i] = lockID(fmt.Sprintf("u:%d", i))
		}
		slices.Sort(ids)
		if _, err := tx.Exec(ctx, `SELECT count(pg_advisory_xact_lock(x)) FROM unnest($1::bigint[]) AS x`, ids); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM channel_member_days WHERE day BETWEEN $1 AND $2`, int32(from), int32(to)); err != nil {
			return fmt.Errorf("delete channel_member_days: %w", err)
		}
		classes := map[string]analytics.MemberClass{} // users that are not full members
		err := each(ctx, tx, `SELECT id, is_bot, is_guest FROM users WHERE is_bot OR is_guest`, nil, func(rows pgx.Rows) error {
			var id string
			var bot, guest bool
			err := rows.Scan(&id, &bot, &guest)
			classes[id] = analytics.ClassOf(bot, guest)
			return err
		})
		if err != nil {
			return fmt.Errorf("read user classes: %w", err)
		}
		agg := analytics.NewBatch()
		rb := analytics.NewRebuildMembership(agg, from, to, classes)
		err = each(ctx, tx, `SELECT channel_id, user_id, at, seq, joined FROM membership_log ORDER BY channel_id, user_id, at, seq`, nil,
			func(rows pgx.Rows) error {
				var p analytics.Pair
				var c analytics.Change
				if err := rows.Scan(&p.Channel, &p.User, &c.At, &c.Seq, &c.Joined); err != nil {
					return err
				}
				rb.Add(p, c)
				return nil
			})
		if err != nil {
			return fmt.Errorf("replay membership log: %w", err)
		}
		rb.Finish()
		q := &pgx.Batch{}
		queueMembership(q, agg)
		if q.Len() == 0 {
			return nil
		}
		if err := tx.SendBatch(ctx, q).Close(); err != nil {
			return fmt.Errorf("write channel member days: %w", err)
		}
		return nil
	})
}

// memberCounts sums, per channel, its member-count deltas through d: the
// people who are members at the end of d (total, full, guest).
func memberCounts(ctx context.Context, q querier, d backchannel.Day) (map[string][3]int64, error) {
	out := map[string][3]int64{}
	err := each(ctx, q, `SELECT channel_id, sum(members), sum(guests) FROM channel_member_days WHERE day <= $1 GROUP BY channel_id`,
		[]any{int32(d)}, func(rows pgx.Rows) error {
			var ch string
			var total, guests int64
			err := rows.Scan(&ch, &total, &guests)
			out[ch] = [3]int64{total, total - guests, guests}
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("member counts: %w", err)
	}
	return out, nil
}
