package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
	"github.com/backchannel/backchannel/internal/jsonobj"
)

// Channel member counts as of each day's end are per (channel, day) deltas
// in channel_member_days, kept by Apply in the batch's transaction
// (analytics.Memberships) and summed when a day closes.

const (
	upsertMemberDeltas     = `INSERT INTO channel_member_days (channel_id, day, members, guests)`
	upsertMemberDeltasTail = `ON CONFLICT (channel_id, day) DO UPDATE SET members = members + excluded.members,
		guests = guests + excluded.guests`
)

// loadMemberships reads what the batch's joins, leaves and user events
// need to keep member counts exact: the stored class of every user they
// name, the logged changes of every pair they join or leave, and every
// logged change of the users whose class a user event of the batch changes.
func (b *batch) loadMemberships(ctx context.Context, events []backchannel.Event) error {
	var users, pairs []string // pairs: channel, user, channel, user, …
	var classes []userClass
	seenU, seenP := map[string]bool{}, map[analytics.Pair]bool{}
	for i := range events {
		ev := &events[i]
		if b.seq[i] == 0 {
			continue
		}
		id := ev.UserID
		switch {
		case ev.Type == backchannel.EvMemberJoined || ev.Type == backchannel.EvMemberLeft:
			if p := (analytics.Pair{Channel: ev.ChannelID, User: ev.UserID}); !seenP[p] {
				seenP[p] = true
				pairs = append(pairs, p.Channel, p.User)
			}
		case ev.Type == backchannel.EvUser && ev.User != nil:
			id = ev.User.ID
			classes = append(classes, userClass{id, analytics.ClassOf(ev.User.IsBot, ev.User.IsGuest)})
		default:
			continue
		}
		if !seenU[id] {
			seenU[id] = true
			users = append(users, id)
		}
	}
	if len(users) == 0 {
		return nil
	}
	m := b.ru.mem
	err := b.memberQuery(ctx, `SELECT id, is_bot, is_guest FROM users WHERE id IN (SELECT value FROM json_each(?))`,
		stringList(users), func(rows *sql.Rows) error {
			var id string
			var bot, guest bool
			err := rows.Scan(&id, &bot, &guest)
			m.LoadClass(id, analytics.ClassOf(bot, guest))
			return err
		})
	if err != nil {
		return fmt.Errorf("analytics: load user classes: %w", err)
	}
	if len(pairs) > 0 {
		err := b.memberQuery(ctx, `SELECT l.channel_id, l.user_id, l.at, l.seq, l.joined
			FROM json_each(?) AS j JOIN membership_log AS l ON l.channel_id = j.value ->> 0 AND l.user_id = j.value ->> 1`,
			pairList(pairs), loadChange(m))
		if err != nil {
			return fmt.Errorf("analytics: load membership log: %w", err)
		}
	}
	// A user event whose class differs from the stored one changes it
	// somewhere in the batch; if none does, the class never changes.
	var flips []string
	seenF := map[string]bool{}
	for _, c := range classes {
		if c.class != m.Class(c.id) && !seenF[c.id] {
			seenF[c.id] = true
			flips = append(flips, c.id)
		}
	}
	if len(flips) == 0 {
		return nil
	}
	err = b.memberQuery(ctx, `SELECT channel_id, user_id, at, seq, joined FROM membership_log
		WHERE user_id IN (SELECT value FROM json_each(?))`, stringList(flips), loadChange(m))
	if err != nil {
		return fmt.Errorf("analytics: load memberships of users: %w", err)
	}
	for _, u := range flips {
		m.LoadedUser(u)
	}
	return nil
}

type userClass struct {
	id    string
	class analytics.MemberClass
}

func (b *batch) memberQuery(ctx context.Context, query, list string, scan func(*sql.Rows) error) error {
	s, err := b.w.stmt(ctx, query)
	if err != nil {
		return err
	}
	return scanAll(ctx, s, []any{list}, scan)
}

// loadChange scans a membership_log row (channel_id, user_id, at, seq,
// joined) into m.
func loadChange(m *analytics.Memberships) func(*sql.Rows) error {
	return func(rows *sql.Rows) error {
		var p analytics.Pair
		var c analytics.Change
		if err := rows.Scan(&p.Channel, &p.User, &c.At, &c.Seq, &c.Joined); err != nil {
			return err
		}
		m.Load(p, c)
		return nil
	}
}

// pairList is the JSON array of [channel, user] arrays of a flat list.
func pairList(flat []string) string {
	b := []byte{'['}
	for i := 0; i < len(flat); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(jsonobj.AppendString(append(jsonobj.AppendString(append(b, '['), flat[i]), ','), flat[i+1]), ']')
	}
	return string(append(b, ']'))
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

// writeMembership adds the batch's member-count deltas to their rows. A
// row the deltas bring to zero stays (it adds nothing; rebuilds and
// DumpRollups leave zero rows out).
func (w *writer) writeMembership(ctx context.Context, agg *analytics.Batch) error {
	keys := agg.SortedMembership()
	args := make([]any, 0, 4*len(keys))
	for _, k := range keys {
		d := agg.Membership[k]
		args = append(args, k.Channel, int64(k.Day), d.Members, d.Guests)
	}
	if err := w.execRows(ctx, upsertMemberDeltas, `(?,?,?,?)`, upsertMemberDeltasTail, nil, 4, args); err != nil {
		return fmt.Errorf("analytics: channel member days: %w", err)
	}
	return nil
}

// rebuildMembership recomputes the member-count deltas of [from, to] from
// the whole membership log and the users' current classes.
func (w *writer) rebuildMembership(ctx context.Context, from, to backchannel.Day) error {
	if _, err := w.conn.ExecContext(ctx, `DELETE FROM channel_member_days WHERE day BETWEEN ? AND ?`, int64(from), int64(to)); err != nil {
		return fmt.Errorf("delete channel_member_days: %w", err)
	}
	classes := map[string]analytics.MemberClass{} // users that are not full members
	err := each(ctx, w.conn, `SELECT id, is_bot, is_guest FROM users WHERE is_bot OR is_guest`, nil, func(rows *sql.Rows) error {
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
	err = each(ctx, w.conn, `SELECT channel_id, user_id, at, seq, joined FROM membership_log ORDER BY channel_id, user_id, at, seq`, nil,
		func(rows *sql.Rows) error {
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
	return w.writeMembership(ctx, agg)
}

// memberCounts sums, per channel, its member-count deltas through d: the
// people who are members at the end of d (total, full, guest).
func memberCounts(ctx context.Context, q querier, d backchannel.Day) (map[string][3]int64, error) {
	out := map[string][3]int64{}
	err := each(ctx, q, `SELECT channel_id, sum(members), sum(guests) FROM channel_member_days WHERE day <= ? GROUP BY channel_id`,
		[]any{int64(d)}, func(rows *sql.Rows) error {
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
