package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
)

// Rollup runs (migration 0014): ingest logs a batch's member-day and
// channel-day deltas as one row of rollup_runs per day instead of
// upserting rows of member_days and channel_days. A day's rows in those
// tables are spread over them (they are keyed by user or channel first),
// so a batch of 10,000 events wrote a page for nearly every one of the
// thousands of users it touched, and with a year of history each such
// page holds one row of that day among hundreds of other days'.
//
// What a day's rollups hold is its rows plus its runs. Compacting a day
// (compactDay) merges its runs into its rows with the same upserts a
// rebuild writes, sorted, a page at a time, and deletes them. The files
// read only rows: FinalizeDays compacts every day before it closes any
// (the server calls it every minute), a close compacts what arrived since
// in its own transaction, and an import compacts at its end. DumpRollups
// merges both.
//
// A run packs its member-days by user: the id (uvarint length, bytes), the
// flags (uvarint), a uvarint mask of the counters that are not zero (bit i
// for the i-th of memberCounters) and those counters as varints. Its
// channel-days likewise, over channelCounters.

// memberCounters lists a member-day's counters in run order.
func memberCounters(m *analytics.MemberCounts) [8]*int64 {
	return [8]*int64{&m.Messages, &m.ChannelMessages, &m.Reactions, &m.Files, &m.SlackCalls, &m.Huddles,
		&m.ThirdPartyCalls, &m.Searches}
}

// channelCounters lists a channel-day's counters in run order.
func channelCounters(c *analytics.ChannelCounts) [6]*int64 {
	return [6]*int64{&c.Messages, &c.MemberMessages, &c.Reactions, &c.Viewers, &c.Posters, (*int64)(&c.LastTS)}
}

// appendCounters appends the mask of the values that are not zero and
// those values.
func appendCounters(run []byte, vs []*int64) []byte {
	var mask uint64
	for i, v := range vs {
		if *v != 0 {
			mask |= 1 << i
		}
	}
	run = binary.AppendUvarint(run, mask)
	for _, v := range vs {
		if *v != 0 {
			run = binary.AppendVarint(run, *v)
		}
	}
	return run
}

var errBadRollupRun = errors.New("malformed rollup run")

// cutCounters reads what appendCounters appended into vs (which it sets
// whole: a counter absent is zero) and returns the rest of run.
func cutCounters(run []byte, vs []*int64) ([]byte, error) {
	mask, k := binary.Uvarint(run)
	if k <= 0 || mask >= 1<<len(vs) {
		return nil, errBadRollupRun
	}
	run = run[k:]
	for i, v := range vs {
		*v = 0
		if mask&(1<<i) == 0 {
			continue
		}
		if *v, k = binary.Varint(run); k <= 0 {
			return nil, errBadRollupRun
		}
		run = run[k:]
	}
	return run, nil
}

func appendMemberDelta(run []byte, user string, m *analytics.MemberCounts) []byte {
	run = binary.AppendUvarint(appendLenString(run, user), uint64(m.Flags))
	vs := memberCounters(m)
	return appendCounters(run, vs[:])
}

func appendChannelDelta(run []byte, ch string, c *analytics.ChannelCounts) []byte {
	vs := channelCounters(c)
	return appendCounters(appendLenString(run, ch), vs[:])
}

// decodeMembers calls fn for every member-day of a run, with a slice of
// run and a value it reuses.
func decodeMembers(run []byte, fn func(user []byte, m *analytics.MemberCounts)) error {
	var m analytics.MemberCounts
	vs := memberCounters(&m)
	for len(run) > 0 {
		user, rest, ok := cutLenString(run)
		if !ok {
			return errBadRollupRun
		}
		f, k := binary.Uvarint(rest)
		if k <= 0 || f > uint64(^analytics.Flags(0)) {
			return errBadRollupRun
		}
		m.Flags = analytics.Flags(f)
		var err error
		if run, err = cutCounters(rest[k:], vs[:]); err != nil {
			return err
		}
		fn(user, &m)
	}
	return nil
}

// decodeChannels calls fn for every channel-day of a run, as decodeMembers.
func decodeChannels(run []byte, fn func(ch []byte, c *analytics.ChannelCounts)) error {
	var c analytics.ChannelCounts
	vs := channelCounters(&c)
	for len(run) > 0 {
		ch, rest, ok := cutLenString(run)
		if !ok {
			return errBadRollupRun
		}
		var err error
		if run, err = cutCounters(rest, vs[:]); err != nil {
			return err
		}
		fn(ch, &c)
	}
	return nil
}

// memberDelta is a member-day row to write.
type memberDelta struct {
	k analytics.MemberKey
	c *analytics.MemberCounts
}

// logRollups appends the batch's member-days and channel-days (each list
// in key order) to rollup_runs, one row per day.
func (w *writer) logRollups(ctx context.Context, agg *analytics.Batch, members []memberDelta, chans []analytics.ChannelKey) error {
	type dayRun struct{ members, channels []byte }
	runs := map[backchannel.Day]*dayRun{}
	run := func(d backchannel.Day) *dayRun {
		r := runs[d]
		if r == nil {
			r = &dayRun{members: []byte{}, channels: []byte{}}
			runs[d] = r
		}
		return r
	}
	for _, m := range members {
		r := run(m.k.Day)
		r.members = appendMemberDelta(r.members, m.k.User, m.c)
	}
	for _, k := range chans {
		r := run(k.Day)
		r.channels = appendChannelDelta(r.channels, k.Channel, agg.Channels[k])
	}
	if len(runs) == 0 {
		return nil
	}
	s, err := w.stmt(ctx, `INSERT INTO rollup_runs (day, members, channels) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, d := range slices.Sorted(maps.Keys(runs)) {
		if _, err := s.ExecContext(ctx, int64(d), runs[d].members, runs[d].channels); err != nil {
			return fmt.Errorf("analytics: rollup run: %w", err)
		}
	}
	return nil
}

// eachRollupRun calls fn for the runs of the days from..to, in log order.
// The bytes it passes are valid only during the call.
func eachRollupRun(ctx context.Context, q querier, from, to backchannel.Day, fn func(d backchannel.Day, members, channels []byte) error) error {
	err := each(ctx, q, `SELECT day, members, channels FROM rollup_runs WHERE day BETWEEN ? AND ? ORDER BY day, id`,
		[]any{int64(from), int64(to)}, func(rows *sql.Rows) error {
			var d int64
			var members, channels sql.RawBytes
			if err := rows.Scan(&d, &members, &channels); err != nil {
				return err
			}
			return fn(backchannel.Day(d), members, channels)
		})
	if err != nil {
		return fmt.Errorf("read rollup runs: %w", err)
	}
	return nil
}

// mergeRuns adds the runs of the days from..to into agg.
func mergeRuns(ctx context.Context, q querier, from, to backchannel.Day, agg *analytics.Batch) error {
	return eachRollupRun(ctx, q, from, to, func(d backchannel.Day, members, channels []byte) error {
		err := decodeMembers(members, func(user []byte, m *analytics.MemberCounts) {
			if c := agg.Members[analytics.MemberKey{Day: d, User: string(user)}]; c != nil {
				c.Merge(m)
				return
			}
			c := *m
			agg.Members[analytics.MemberKey{Day: d, User: string(user)}] = &c
		})
		if err != nil {
			return fmt.Errorf("day %s: members: %w", d, err)
		}
		err = decodeChannels(channels, func(ch []byte, c *analytics.ChannelCounts) {
			agg.Channel(d, string(ch)).Merge(c)
		})
		if err != nil {
			return fmt.Errorf("day %s: channels: %w", d, err)
		}
		return nil
	})
}

// rollupRunDays lists the days through through that have runs, in order.
func rollupRunDays(ctx context.Context, q querier, through backchannel.Day) ([]backchannel.Day, error) {
	var days []backchannel.Day
	err := each(ctx, q, `SELECT DISTINCT day FROM rollup_runs WHERE day <= ? ORDER BY day`, []any{int64(through)}, func(rows *sql.Rows) error {
		var d int64
		err := rows.Scan(&d)
		days = append(days, backchannel.Day(d))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read rollup run days: %w", err)
	}
	return days, nil
}

// compactDay merges day d's runs into its rows of member_days and
// channel_days and deletes them, and says how many member-days and
// channel-days it merged. What the day's rollups hold does not change, so
// the writer's caches stay true.
func (w *writer) compactDay(ctx context.Context, d backchannel.Day) (int, error) {
	agg := analytics.NewBatch()
	if err := mergeRuns(ctx, w.conn, d, d, agg); err != nil {
		return 0, err
	}
	members := make([]memberDelta, 0, len(agg.Members))
	for k, c := range agg.Members {
		members = append(members, memberDelta{k, c})
	}
	slices.SortFunc(members, func(x, y memberDelta) int { return cmp.Compare(x.k.User, y.k.User) })
	if err := w.upsertRollups(ctx, agg, members, agg.SortedChannels()); err != nil {
		return 0, err
	}
	if _, err := w.conn.ExecContext(ctx, `DELETE FROM rollup_runs WHERE day = ?`, int64(d)); err != nil {
		return 0, fmt.Errorf("analytics: delete rollup runs: %w", err)
	}
	return len(members) + len(agg.Channels), nil
}

// compactThrough compacts every day through through that has runs, in
// the current transaction, and says whether there was any.
func (w *writer) compactThrough(ctx context.Context, through backchannel.Day) (bool, error) {
	days, err := rollupRunDays(ctx, w.conn, through)
	if err != nil {
		return false, err
	}
	for _, d := range days {
		if _, err := w.compactDay(ctx, d); err != nil {
			return false, fmt.Errorf("compact %s: %w", d, err)
		}
	}
	return len(days) > 0, nil
}

// compactRows bounds the rows one CompactRollups transaction writes: the
// days of a long imported history compact many to a transaction (and one
// fsync), a large organisation's day alone.
const compactRows = 1 << 18

// CompactRollups merges the rollup runs of every day into member_days and
// channel_days (see rollruns.go), as many days to a transaction as
// compactRows allows. FinalizeDays does it first; an import does it at its
// end, so that the days it brought close without it.
func (db *DB) CompactRollups(ctx context.Context) error {
	days, err := rollupRunDays(ctx, db.rdb, backchannel.Day(1<<31-1))
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	for len(days) > 0 {
		n := 0
		err := db.exec(ctx, func(ctx context.Context, w *writer) error {
			n = 0
			for rows := 0; n < len(days) && rows < compactRows; n++ {
				m, err := w.compactDay(ctx, days[n])
				if err != nil {
					return fmt.Errorf("%s: %w", days[n], err)
				}
				rows += m
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("sqlite: compact rollups of %w", err)
		}
		days = days[n:]
	}
	return nil
}
