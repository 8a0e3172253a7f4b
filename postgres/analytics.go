package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
	"github.com/jackc/pgx/v5"
)

// AnalyticsStatus reports the days with data, the watermark and late events.
func (db *DB) AnalyticsStatus(ctx context.Context) (backchannel.AnalyticsStatus, error) {
	st := backchannel.AnalyticsStatus{LastClosed: -1}
	var first, last, closed *int32
	err := db.pool.QueryRow(ctx, `SELECT min(day) FILTER (WHERE events > 0), max(day) FILTER (WHERE events > 0),
		max(day) FILTER (WHERE closed_at IS NOT NULL), coalesce(sum(late), 0)::bigint FROM analytics_days`).
		Scan(&first, &last, &closed, &st.LateEvents)
	if err != nil {
		return st, fmt.Errorf("postgres: analytics status: %w", err)
	}
	if first != nil {
		st.HasData, st.FirstDay, st.LastDay = true, backchannel.Day(*first), backchannel.Day(*last)
	}
	if closed != nil {
		st.LastClosed = backchannel.Day(*closed)
	}
	rows, err := db.pool.Query(ctx, `SELECT day FROM analytics_days WHERE events > 0 AND closed_at IS NULL ORDER BY day`)
	if err != nil {
		return st, fmt.Errorf("postgres: analytics status: %w", err)
	}
	days, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return st, fmt.Errorf("postgres: analytics status: %w", err)
	}
	for _, d := range days {
		st.Pending = append(st.Pending, backchannel.Day(d))
	}
	return st, nil
}

// OpenAnalyticsFile streams a closed day's stored file one chunk per query,
// holding no connection between reads, so slow downloads do not starve the
// pool. It reads the generation current when it opened: a rebuild meanwhile
// writes a new one and keeps this one until the next rebuild, and a reader
// that finds its generation gone fails rather than serve a mixed file.
func (db *DB) OpenAnalyticsFile(ctx context.Context, kind string, day backchannel.Day) (io.ReadCloser, error) {
	switch kind {
	case backchannel.FileMember, backchannel.FilePublicChannel, backchannel.FileMetadata:
	default:
		return nil, backchannel.Errorf(backchannel.ENOTFOUND, "no analytics file of kind %q", kind)
	}
	var gen int64
	var chunks int
	err := db.pool.QueryRow(ctx, `SELECT f.gen, f.chunks FROM analytics_files AS f JOIN analytics_days AS d ON d.day = f.day
		WHERE f.day = $1 AND f.kind = $2 AND d.closed_at IS NOT NULL`, int32(day), kind).Scan(&gen, &chunks)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, backchannel.Errorf(backchannel.ENOTFOUND, "analytics day %s is not closed", day)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: open analytics file: %w", err)
	}
	return &analytics.ChunkReader{Next: func(i int) ([]byte, error) {
		if i >= chunks {
			return nil, io.EOF
		}
		var b []byte
		err := db.pool.QueryRow(ctx, `SELECT data FROM analytics_chunks WHERE day = $1 AND kind = $2 AND gen = $3 AND chunk = $4`,
			int32(day), kind, gen, i).Scan(&b)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("postgres: analytics file %s %s was rebuilt twice while being read", kind, day)
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: read analytics file: %w", err)
		}
		return b, nil
	}}, nil
}

// metadataPage is how many channels WriteMetadataFile reads per query.
const metadataPage = 2000

// WriteMetadataFile writes the current metadata file, date asOf. It reads
// the channels in pages by id, holding no connection while it writes to w
// (a client), so a slow reader does not hold one either.
func (db *DB) WriteMetadataFile(ctx context.Context, w io.Writer, asOf backchannel.Day) error {
	fw := analytics.NewFileWriter(w)
	after := ""
	for {
		rows, err := db.pool.Query(ctx, metadataQuery+` AND c.id COLLATE "C" > $2 ORDER BY c.id COLLATE "C" LIMIT $3`,
			dayEnd(asOf), after, metadataPage)
		if err != nil {
			return fmt.Errorf("postgres: metadata file: %w", err)
		}
		page, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (analytics.MetadataRow, error) {
			r := analytics.MetadataRow{Date: asOf}
			err := row.Scan(&r.ChannelID, &r.Name, &r.Topic, &r.Description)
			return r, err
		})
		if err != nil {
			return fmt.Errorf("postgres: metadata file: %w", err)
		}
		for i := range page {
			if err := fw.Metadata(&page[i]); err != nil {
				return fmt.Errorf("postgres: metadata file: %w", err)
			}
		}
		if len(page) < metadataPage {
			break
		}
		after = page[len(page)-1].ChannelID
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("postgres: metadata file: %w", err)
	}
	return nil
}

// DumpRollups lists every rollup row as text, in key order: the
// conformance suite compares them before and after RebuildDays.
func (db *DB) DumpRollups(ctx context.Context) ([]string, error) {
	var out []string
	for _, q := range []string{
		`SELECT concat_ws(' ', 'member', user_id, day, messages, channel_messages, reactions, files, slack_calls, huddles,
			third_party_calls, searches, flags) FROM member_days ORDER BY user_id COLLATE "C", day`,
		`SELECT concat_ws(' ', 'channel', channel_id, day, messages, member_messages, reactions, viewers, posters, last_ts)
			FROM channel_days ORDER BY channel_id COLLATE "C", day`,
		`SELECT concat_ws(' ', 'distinct', channel_id, day, kind, user_id) FROM channel_day_users
			ORDER BY day, channel_id COLLATE "C", kind, user_id COLLATE "C"`,
		`SELECT concat_ws(' ', 'members', channel_id, day, members, guests) FROM channel_member_days
			WHERE members <> 0 OR guests <> 0 ORDER BY channel_id COLLATE "C", day`,
	} {
		rows, err := db.pool.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("postgres: dump rollups: %w", err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("postgres: dump rollups: %w", err)
		}
		out = append(out, lines...)
	}
	return out, nil
}
