package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
)

// AnalyticsStatus reports the days with data, the watermark and late events.
func (db *DB) AnalyticsStatus(ctx context.Context) (backchannel.AnalyticsStatus, error) {
	st := backchannel.AnalyticsStatus{LastClosed: -1}
	var first, last, closed sql.NullInt64
	err := db.rdb.QueryRowContext(ctx, `SELECT min(CASE WHEN events > 0 THEN day END), max(CASE WHEN events > 0 THEN day END),
		max(CASE WHEN closed_at IS NOT NULL THEN day END), coalesce(sum(late), 0) FROM analytics_days`).
		Scan(&first, &last, &closed, &st.LateEvents)
	if err != nil {
		return st, fmt.Errorf("sqlite: analytics status: %w", err)
	}
	st.HasData = first.Valid
	st.FirstDay, st.LastDay = backchannel.Day(first.Int64), backchannel.Day(last.Int64)
	if closed.Valid {
		st.LastClosed = backchannel.Day(closed.Int64)
	}
	err = each(ctx, db.rdb, `SELECT day FROM analytics_days WHERE events > 0 AND closed_at IS NULL ORDER BY day`, nil,
		func(rows *sql.Rows) error {
			var d int64
			err := rows.Scan(&d)
			st.Pending = append(st.Pending, backchannel.Day(d))
			return err
		})
	if err != nil {
		return st, fmt.Errorf("sqlite: analytics status: %w", err)
	}
	return st, nil
}

// OpenAnalyticsFile streams a closed day's stored file chunk by chunk from
// one read transaction, so a concurrent rebuild never mixes two versions.
func (db *DB) OpenAnalyticsFile(ctx context.Context, kind string, day backchannel.Day) (io.ReadCloser, error) {
	switch kind {
	case backchannel.FileMember, backchannel.FilePublicChannel, backchannel.FileMetadata:
	default:
		return nil, backchannel.Errorf(backchannel.ENOTFOUND, "no analytics file of kind %q", kind)
	}
	tx, err := db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: open analytics file: %w", err)
	}
	var closed sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT closed_at FROM analytics_days WHERE day = ?`, int64(day)).Scan(&closed)
	if err != nil && err != sql.ErrNoRows {
		tx.Rollback()
		return nil, fmt.Errorf("sqlite: open analytics file: %w", err)
	}
	if !closed.Valid {
		tx.Rollback()
		return nil, backchannel.Errorf(backchannel.ENOTFOUND, "analytics day %s is not closed", day)
	}
	return &analytics.ChunkReader{
		Next: func(i int) ([]byte, error) {
			var b []byte
			err := tx.QueryRowContext(ctx, `SELECT data FROM analytics_files WHERE day = ? AND kind = ? AND chunk = ?`,
				int64(day), kind, i).Scan(&b)
			if err == sql.ErrNoRows {
				return nil, io.EOF
			}
			if err != nil {
				return nil, fmt.Errorf("sqlite: read analytics file: %w", err)
			}
			return b, nil
		},
		Done: tx.Rollback,
	}, nil
}

// WriteMetadataFile writes the current metadata file, date asOf.
func (db *DB) WriteMetadataFile(ctx context.Context, w io.Writer, asOf backchannel.Day) error {
	tx, err := db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: metadata file: %w", err)
	}
	defer tx.Rollback()
	fb, err := newFileBuilder(ctx, tx, asOf)
	if err != nil {
		return fmt.Errorf("sqlite: metadata file: %w", err)
	}
	fw := analytics.NewFileWriter(w)
	if err := fb.metadata(ctx, tx, fw, func() error { return nil }); err != nil {
		return fmt.Errorf("sqlite: metadata file: %w", err)
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("sqlite: metadata file: %w", err)
	}
	return nil
}

// rebuildFlush bounds the memory of a rebuild: the aggregated batch is
// written every so many events (writes merge, so flushing early is exact).
const rebuildFlush = 50_000

// RebuildDays deletes the rollups of [from, to], replays their events from
// the raw log in log order through the same rules (member counts from the
// membership log), then rewrites the files of the closed days among them
// (one transaction each).
func (db *DB) RebuildDays(ctx context.Context, from, to backchannel.Day) error {
	err := db.exec(ctx, func(ctx context.Context, w *writer) error { return w.rebuild(ctx, from, to) })
	if err != nil {
		return fmt.Errorf("sqlite: rebuild: %w", err)
	}
	// Compacted first, so that the closes read the member file in parallel.
	if err := db.CompactRollups(ctx); err != nil {
		return err
	}
	var closed []backchannel.Day
	err = each(ctx, db.rdb, `SELECT day FROM analytics_days WHERE closed_at IS NOT NULL AND day BETWEEN ? AND ? ORDER BY day`,
		[]any{int64(from), int64(to)}, func(rows *sql.Rows) error {
			var d int64
			err := rows.Scan(&d)
			closed = append(closed, backchannel.Day(d))
			return err
		})
	if err != nil {
		return fmt.Errorf("sqlite: rebuild: closed days: %w", err)
	}
	for _, d := range closed {
		err := db.execAlone(ctx, func(ctx context.Context, w *writer) error {
			wrote := false
			_, _, err := w.closeDay(ctx, d, true, &wrote)
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: rebuild %s files: %w", d, err)
		}
	}
	return nil
}

func (w *writer) rebuild(ctx context.Context, from, to backchannel.Day) error {
	w.resetCaches() // the rows go
	for _, t := range []string{"member_days", "channel_days", "rollup_runs", "channel_day_user_runs"} {
		if _, err := w.conn.ExecContext(ctx, `DELETE FROM `+t+` WHERE day BETWEEN ? AND ?`, int64(from), int64(to)); err != nil {
			return fmt.Errorf("delete %s: %w", t, err)
		}
	}
	if err := w.rebuildMembership(ctx, from, to); err != nil {
		return err
	}
	ru := newRollups(nil)
	seen := map[msgKey]bool{} // messages met so far: only the first event of a (channel, ts) posts
	n := 0
	err := eachLogged(ctx, w.conn, analytics.DayTypes, func(raw []byte) error {
		f, err := analytics.ParseFact(raw)
		if err != nil {
			return err
		}
		if d, ok := analytics.DayOf(&f); !ok || d < from || d > to {
			return nil
		}
		if err := w.rebuildContext(ctx, &f, &ru); err != nil {
			return err
		}
		ci := ru.chans[f.Channel]
		c := analytics.Context{ChannelKind: ci.kind, Shared: ci.shared, ActorBot: ru.users[f.User].bot}
		if f.Type == backchannel.EvMessage {
			k := msgKey{f.Channel, f.TS}
			c.NewMessage = !seen[k]
			seen[k] = true
		}
		ru.agg.Add(&f, &c)
		if n++; n%rebuildFlush == 0 {
			if err := w.writeRollups(ctx, ru.agg, false); err != nil {
				return err
			}
			ru.agg = analytics.NewBatch()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return w.writeRollups(ctx, ru.agg, false)
}

// rebuildContext loads the current records of f's channel and user once.
func (w *writer) rebuildContext(ctx context.Context, f *analytics.Fact, ru *rollups) error {
	var chs, users []string
	if _, ok := ru.chans[f.Channel]; f.Channel != "" && !ok {
		chs = []string{f.Channel}
		ru.chans[f.Channel] = chanInfo{} // unknown unless found
	}
	if _, ok := ru.users[f.User]; f.User != "" && !ok {
		users = []string{f.User}
		ru.users[f.User] = userInfo{}
	}
	return loadContext(ctx, w.stmt, chs, users, false, ru)
}

// DumpRollups lists every rollup row as text, in key order: the
// conformance suite compares them before and after RebuildDays. A day's
// member-days and channel-days are its rows plus its rollup runs
// (rollruns.go), read in one snapshot.
func (db *DB) DumpRollups(ctx context.Context) ([]string, error) {
	tx, err := db.rdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: dump rollups: %w", err)
	}
	defer tx.Rollback()
	out, err := dumpRollups(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: dump rollups: %w", err)
	}
	return out, nil
}

func dumpRollups(ctx context.Context, q querier) ([]string, error) {
	agg := analytics.NewBatch()
	err := each(ctx, q, `SELECT user_id, day, messages, channel_messages, reactions, files, slack_calls, huddles, third_party_calls, searches, flags FROM member_days`,
		nil, func(rows *sql.Rows) error {
			var k analytics.MemberKey
			m := &analytics.MemberCounts{}
			err := rows.Scan(&k.User, &k.Day, &m.Messages, &m.ChannelMessages, &m.Reactions, &m.Files,
				&m.SlackCalls, &m.Huddles, &m.ThirdPartyCalls, &m.Searches, &m.Flags)
			agg.Members[k] = m
			return err
		})
	if err != nil {
		return nil, err
	}
	err = each(ctx, q, `SELECT channel_id, day, messages, member_messages, reactions, viewers, posters, last_ts FROM channel_days`,
		nil, func(rows *sql.Rows) error {
			var k analytics.ChannelKey
			c := &analytics.ChannelCounts{}
			err := rows.Scan(&k.Channel, &k.Day, &c.Messages, &c.MemberMessages, &c.Reactions, &c.Viewers, &c.Posters, &c.LastTS)
			agg.Channels[k] = c
			return err
		})
	if err != nil {
		return nil, err
	}
	if err := mergeRuns(ctx, q, backchannel.Day(math.MinInt32), backchannel.Day(math.MaxInt32), agg); err != nil {
		return nil, err
	}
	var out []string
	for _, k := range agg.SortedMembers() {
		m := agg.Members[k]
		out = append(out, fmt.Sprintf("[member %s %d %d %d %d %d %d %d %d %d %d]", k.User, k.Day, m.Messages, m.ChannelMessages,
			m.Reactions, m.Files, m.SlackCalls, m.Huddles, m.ThirdPartyCalls, m.Searches, m.Flags))
	}
	for _, k := range agg.SortedChannels() {
		c := agg.Channels[k]
		out = append(out, fmt.Sprintf("[channel %s %d %d %d %d %d %d %d]", k.Channel, k.Day, c.Messages, c.MemberMessages,
			c.Reactions, c.Viewers, c.Posters, c.LastTS))
	}
	ds, err := dumpDistinct(ctx, q)
	if err != nil {
		return nil, err
	}
	out = append(out, ds...)
	err = each(ctx, q, `SELECT channel_id, day, members, guests FROM channel_member_days
		WHERE members <> 0 OR guests <> 0 ORDER BY channel_id, day`, nil, func(rows *sql.Rows) error {
		var ch string
		var d, members, guests int64
		err := rows.Scan(&ch, &d, &members, &guests)
		out = append(out, fmt.Sprintf("[members %s %d %d %d]", ch, d, members, guests))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
