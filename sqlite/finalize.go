package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
)

var _ backchannel.AnalyticsStore = (*DB)(nil)

// FinalizeDays closes, one transaction each, every day from the first day
// with data through through that is not closed yet.
func (db *DB) FinalizeDays(ctx context.Context, through backchannel.Day) ([]backchannel.Day, error) {
	st, err := db.AnalyticsStatus(ctx)
	if err != nil || !st.HasData {
		return nil, err
	}
	open, err := db.openDays(ctx, st.FirstDay, through)
	if err != nil {
		return nil, err
	}
	var closed []backchannel.Day
	for _, d := range open {
		var did bool
		err := db.exec(ctx, func(ctx context.Context, w *writer) error {
			var err error
			did, err = w.closeDay(ctx, d, false)
			return err
		})
		if err != nil {
			return closed, fmt.Errorf("sqlite: finalize %s: %w", d, err)
		}
		if did {
			closed = append(closed, d)
		}
	}
	return closed, nil
}

// openDays lists the days in [from, through] without a watermark.
func (db *DB) openDays(ctx context.Context, from, through backchannel.Day) ([]backchannel.Day, error) {
	done := map[backchannel.Day]bool{}
	rows, err := db.rdb.QueryContext(ctx, `SELECT day FROM analytics_days WHERE closed_at IS NOT NULL AND day BETWEEN ? AND ?`, int64(from), int64(through))
	if err != nil {
		return nil, fmt.Errorf("sqlite: closed days: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("sqlite: closed days: %w", err)
		}
		done[backchannel.Day(d)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: closed days: %w", err)
	}
	var open []backchannel.Day
	for d := from; d <= through; d++ {
		if !done[d] {
			open = append(open, d)
		}
	}
	return open, nil
}

// closeDay builds and stores d's three files and sets its watermark. A day
// already closed is left alone unless rewrite (RebuildDays).
func (w *writer) closeDay(ctx context.Context, d backchannel.Day, rewrite bool) (bool, error) {
	var closedAt sql.NullInt64
	err := w.conn.QueryRowContext(ctx, `SELECT closed_at FROM analytics_days WHERE day = ?`, int64(d)).Scan(&closedAt)
	if err != nil && err != sql.ErrNoRows {
		return false, fmt.Errorf("read watermark: %w", err)
	}
	if closedAt.Valid != rewrite {
		return false, nil // closed already, or (rewrite) never closed
	}
	if _, err := w.conn.ExecContext(ctx, `DELETE FROM analytics_files WHERE day = ?`, int64(d)); err != nil {
		return false, fmt.Errorf("delete files: %w", err)
	}
	fb, err := w.fileBuilder(ctx, d)
	if err != nil {
		return false, err
	}
	for _, kind := range []string{backchannel.FileMember, backchannel.FilePublicChannel, backchannel.FileMetadata} {
		if err := w.storeFile(ctx, d, kind, fb); err != nil {
			return false, fmt.Errorf("%s file: %w", kind, err)
		}
	}
	if rewrite {
		return true, nil
	}
	_, err = w.conn.ExecContext(ctx, `INSERT INTO analytics_days (day, events, closed_at) VALUES (?, 0, ?)
		ON CONFLICT (day) DO UPDATE SET closed_at = excluded.closed_at`, int64(d), w.db.now().UnixMicro())
	if err != nil {
		return false, fmt.Errorf("set watermark: %w", err)
	}
	return true, nil
}

// storeFile streams one file from SQL through the encoder and gzip into
// chunk rows.
func (w *writer) storeFile(ctx context.Context, d backchannel.Day, kind string, fb *fileBuilder) error {
	ins, err := w.stmt(ctx, `INSERT INTO analytics_files (day, kind, chunk, data) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	ck := &analytics.Chunker{Size: analytics.ChunkSize, Store: func(i int, b []byte) error {
		_, err := ins.ExecContext(ctx, int64(d), kind, i, b)
		return err
	}}
	fw := analytics.NewFileWriter(ck)
	switch kind {
	case backchannel.FileMember:
		err = fb.members(ctx, w.conn, fw)
	case backchannel.FilePublicChannel:
		err = fb.channels(ctx, w.conn, fw)
	default:
		err = fb.metadata(ctx, w.conn, fw)
	}
	if err != nil {
		return err
	}
	if err := fw.Close(); err != nil {
		return err
	}
	return ck.Close()
}

// querier is a connection or a pool: files are built on the writer's
// connection (closing a day) or on a reader (the current metadata file).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// fileBuilder holds what every file of a day needs besides its rows.
type fileBuilder struct {
	day        backchannel.Day
	enterprise string
	teams      map[string]string   // id → name
	counts     map[string][3]int64 // channel → members at the end of the day: total, full, guest
}

func (w *writer) fileBuilder(ctx context.Context, d backchannel.Day) (*fileBuilder, error) {
	fb, err := newFileBuilder(ctx, w.conn, d)
	if err != nil {
		return nil, err
	}
	if fb.counts, err = memberCounts(ctx, w.conn, d); err != nil {
		return nil, err
	}
	return fb, nil
}

func newFileBuilder(ctx context.Context, q querier, d backchannel.Day) (*fileBuilder, error) {
	fb := &fileBuilder{day: d, enterprise: "0", teams: map[string]string{}}
	err := each(ctx, q, `SELECT id FROM enterprise`, nil, func(rows *sql.Rows) error { return rows.Scan(&fb.enterprise) })
	if err != nil {
		return nil, fmt.Errorf("read enterprise: %w", err)
	}
	err = each(ctx, q, `SELECT id, name FROM teams`, nil, func(rows *sql.Rows) error {
		var id, name string
		err := rows.Scan(&id, &name)
		fb.teams[id] = name
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read teams: %w", err)
	}
	return fb, nil
}

func each(ctx context.Context, q querier, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func dayStart(d backchannel.Day) int64 { return int64(d) * 86_400_000_000 }
func dayEnd(d backchannel.Day) int64   { return dayStart(d + 1) }

// members streams the member file: every non-bot user existing on the day,
// by user_id, with its member-day row and billable status.
func (fb *fileBuilder) members(ctx context.Context, q querier, fw *analytics.FileWriter) error {
	d := int64(fb.day)
	r := analytics.MemberRow{EnterpriseID: fb.enterprise, Date: fb.day}
	c := &r.Counts
	return each(ctx, q, `SELECT u.id, u.email, u.employee_number, u.is_guest, u.guest_type, u.created_at,
		coalesce(m.messages, 0), coalesce(m.channel_messages, 0), coalesce(m.reactions, 0), coalesce(m.files, 0),
		coalesce(m.slack_calls, 0), coalesce(m.huddles, 0), coalesce(m.third_party_calls, 0), coalesce(m.searches, 0),
		coalesce(m.flags, 0),
		EXISTS (SELECT 1 FROM member_days AS a WHERE a.user_id = u.id AND a.day BETWEEN ?1 - 13 AND ?1 AND a.flags & 1)
		FROM users AS u LEFT JOIN member_days AS m ON m.user_id = u.id AND m.day = ?1
		WHERE u.is_bot = 0 AND u.created_at < ?2 AND (u.deleted_at IS NULL OR u.deleted_at >= ?3)
		ORDER BY u.id`, []any{d, dayEnd(fb.day), dayStart(fb.day)}, func(rows *sql.Rows) error {
		var guestType string
		var created int64
		var active bool
		if err := rows.Scan(&r.UserID, &r.Email, &r.EmployeeNumber, &r.IsGuest, &guestType, &created,
			&c.Messages, &c.ChannelMessages, &c.Reactions, &c.Files, &c.SlackCalls, &c.Huddles, &c.ThirdPartyCalls,
			&c.Searches, &c.Flags, &active); err != nil {
			return err
		}
		// Fair billing: full members and multi-channel guests, active in
		// the last 14 days.
		r.Billable = active && !(r.IsGuest && guestType == "single_channel")
		r.DateClaimed = created / 1_000_000
		return fw.Member(&r)
	})
}

// publicChannels selects the public channels that appear on ?1 (a day
// end): created by then and not archived by then.
const publicChannels = `c.kind = 'public' AND c.created_at < ?1
	AND (c.archived_at IS NULL OR c.archived_at >= ?1)`

// channels streams the public_channel file, by channel_id.
func (fb *fileBuilder) channels(ctx context.Context, q querier, fw *analytics.FileWriter) error {
	r := analytics.ChannelRow{EnterpriseID: fb.enterprise, Date: fb.day}
	c := &r.Counts
	return each(ctx, q, `SELECT c.id, c.team_id, c.created_at, c.shared_team_ids, c.external_orgs, c.is_org_wide,
		coalesce(cd.messages, 0), coalesce(cd.member_messages, 0), coalesce(cd.reactions, 0),
		coalesce(cd.viewers, 0), coalesce(cd.posters, 0),
		coalesce((SELECT max(x.last_ts) FROM channel_days AS x WHERE x.channel_id = c.id AND x.day <= ?2), 0)
		FROM channels AS c LEFT JOIN channel_days AS cd ON cd.channel_id = c.id AND cd.day = ?2
		WHERE `+publicChannels+` ORDER BY c.id`, []any{dayEnd(fb.day), int64(fb.day)}, func(rows *sql.Rows) error {
		var created, last int64
		var shared, orgs string
		var ch backchannel.Channel
		if err := rows.Scan(&r.ChannelID, &ch.TeamID, &created, &shared, &orgs, &ch.IsOrgWide,
			&c.Messages, &c.MemberMessages, &c.Reactions, &c.Viewers, &c.Posters, &last); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(shared), &ch.SharedTeamIDs); err != nil {
			return fmt.Errorf("channel %s: shared_team_ids: %w", r.ChannelID, err)
		}
		if err := json.Unmarshal([]byte(orgs), &ch.ExternalOrgs); err != nil {
			return fmt.Errorf("channel %s: external_orgs: %w", r.ChannelID, err)
		}
		r.TeamID = ch.TeamID
		if fb.enterprise != "0" {
			r.TeamID = fb.enterprise
		}
		r.Originating = analytics.TeamRef{ID: ch.TeamID, Name: fb.teams[ch.TeamID]}
		r.DateCreated, r.DateLastActive = created/1_000_000, last/1_000_000
		m := fb.counts[r.ChannelID]
		r.TotalMembers, r.FullMembers, r.GuestMembers = m[0], m[1], m[2]
		r.ChannelType, r.SharedExternally, r.ExternalOrgs = analytics.ChannelType(&ch), ch.IsExternallyShared(), ch.ExternalOrgs
		r.SharedWith = r.SharedWith[:0]
		for _, t := range ch.SharedTeamIDs {
			r.SharedWith = append(r.SharedWith, analytics.TeamRef{ID: t, Name: fb.teams[t]})
		}
		return fw.PublicChannel(&r)
	})
}

// metadata streams the metadata file of the public channels appearing at
// the end of the day (asOf for the current file).
func (fb *fileBuilder) metadata(ctx context.Context, q querier, fw *analytics.FileWriter) error {
	r := analytics.MetadataRow{Date: fb.day}
	return each(ctx, q, `SELECT c.id, c.name, c.topic, c.purpose FROM channels AS c WHERE `+publicChannels+` ORDER BY c.id`,
		[]any{dayEnd(fb.day)}, func(rows *sql.Rows) error {
			if err := rows.Scan(&r.ChannelID, &r.Name, &r.Topic, &r.Description); err != nil {
				return err
			}
			return fw.Metadata(&r)
		})
}
