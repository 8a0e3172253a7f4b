package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
)

var _ backchannel.AnalyticsStore = (*DB)(nil)

// closeLines bounds the work of one FinalizeDays transaction: it closes
// days until their files hold this many lines, so the days of a small or
// quiet history (an imported export) close many to a transaction and one
// fsync, and a large organisation's one at a time.
const closeLines = 100_000

// FinalizeDays closes every day from the first day with data through
// through that is not closed yet, in order, as many to a transaction as
// closeLines allows.
func (db *DB) FinalizeDays(ctx context.Context, through backchannel.Day) ([]backchannel.Day, error) {
	st, err := db.AnalyticsStatus(ctx)
	if err != nil || !st.HasData {
		return nil, err
	}
	// Every day's rollup runs, the open days' too: what the files read is
	// then their rows, and what a close compacts in its own transaction
	// (serially, see closeDay) only what arrived since.
	if err := db.CompactRollups(ctx); err != nil {
		return nil, err
	}
	open, err := db.openDays(ctx, st.FirstDay, through)
	if err != nil {
		return nil, err
	}
	var closed []backchannel.Day
	for len(open) > 0 {
		var did []backchannel.Day
		n := 0
		err := db.execAlone(ctx, func(ctx context.Context, w *writer) error {
			did, n = did[:0], 0
			wrote := false
			for lines := 0; n < len(open) && lines < closeLines; n++ {
				ok, l, err := w.closeDay(ctx, open[n], false, &wrote)
				if err != nil {
					return fmt.Errorf("%s: %w", open[n], err)
				}
				if ok {
					did = append(did, open[n])
				}
				lines += l
			}
			return nil
		})
		if err != nil {
			return closed, fmt.Errorf("sqlite: finalize %w", err)
		}
		closed, open = append(closed, did...), open[n:]
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

// closeDay builds and stores d's three files and sets its watermark, and
// says how many lines they hold. A day already closed is left alone unless
// rewrite (RebuildDays). Its transaction runs alone (execAlone) and, unless
// it has rollup runs of the days through d to compact first, writes
// nothing the files read before it, so the member file can be read on a
// connection of the read pool too (membersParallel). *wrote says whether
// the transaction has compacted any (it is set here): then the files are
// read on the writer's connection, which sees that.
func (w *writer) closeDay(ctx context.Context, d backchannel.Day, rewrite bool, wrote *bool) (closed bool, lines int, err error) {
	var closedAt sql.NullInt64
	err = w.conn.QueryRowContext(ctx, `SELECT closed_at FROM analytics_days WHERE day = ?`, int64(d)).Scan(&closedAt)
	if err != nil && err != sql.ErrNoRows {
		return false, 0, fmt.Errorf("read watermark: %w", err)
	}
	if closedAt.Valid != rewrite {
		return false, 0, nil // closed already, or (rewrite) never closed
	}
	// The files read the rows of d and of the days before it (the last
	// active dates, the 14 days of billing).
	compacted, err := w.compactThrough(ctx, d)
	if err != nil {
		return false, 0, err
	}
	*wrote = *wrote || compacted
	if _, err := w.conn.ExecContext(ctx, `DELETE FROM analytics_files WHERE day = ?`, int64(d)); err != nil {
		return false, 0, fmt.Errorf("delete files: %w", err)
	}
	fb, err := w.fileBuilder(ctx, d)
	if err != nil {
		return false, 0, err
	}
	fb.serial = *wrote
	for _, kind := range []string{backchannel.FileMember, backchannel.FilePublicChannel, backchannel.FileMetadata} {
		n, err := w.storeFile(ctx, d, kind, fb)
		if err != nil {
			return false, 0, fmt.Errorf("%s file: %w", kind, err)
		}
		lines += n
	}
	if rewrite {
		return true, lines, nil
	}
	_, err = w.conn.ExecContext(ctx, `INSERT INTO analytics_days (day, events, closed_at) VALUES (?, 0, ?)
		ON CONFLICT (day) DO UPDATE SET closed_at = excluded.closed_at`, int64(d), w.db.now().UnixMicro())
	if err != nil {
		return false, 0, fmt.Errorf("set watermark: %w", err)
	}
	return true, lines, nil
}

// storeFile streams one file from SQL through the encoder and gzip into
// chunk rows and says how many lines it holds. The rows are read on this
// goroutine, which owns the connection, while another encodes and
// compresses them (encodeRows); the chunks they produce are stored on this
// one, between pages.
func (w *writer) storeFile(ctx context.Context, d backchannel.Day, kind string, fb *fileBuilder) (int, error) {
	ins, err := w.stmt(ctx, `INSERT INTO analytics_files (day, kind, chunk, data) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	out := &chunkQueue{}
	ck := &analytics.Chunker{Size: analytics.ChunkSize, Store: func(i int, b []byte) error {
		out.add(i, b)
		return nil
	}}
	store := func() error {
		for _, c := range out.take() {
			if _, err := ins.ExecContext(ctx, int64(d), kind, c.i, c.b); err != nil {
				return fmt.Errorf("store chunk %d: %w", c.i, err)
			}
		}
		return nil
	}
	fw := analytics.NewFileWriter(ck)
	switch {
	case kind == backchannel.FileMember && w.db.readConns >= 2 && !fb.serial:
		err = fb.membersParallel(ctx, w, fw, store)
	case kind == backchannel.FileMember:
		err = fb.members(ctx, w.conn, fw, store)
	case kind == backchannel.FilePublicChannel:
		err = fb.channels(ctx, w.conn, fw, store)
	default:
		err = fb.metadata(ctx, w.conn, fw, store)
	}
	if err != nil {
		return 0, err
	}
	// The encoder goroutine has finished: the rest runs on this one.
	lines := fw.Lines()
	if err := fw.Close(); err != nil {
		return 0, err
	}
	if err := ck.Close(); err != nil {
		return 0, err
	}
	return lines, store()
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
	// serial: the closing transaction wrote what the files read, which
	// the read pool does not see (closeDay).
	serial bool
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

// memberLine is a member file row as read, before encoding.
type memberLine struct {
	row     analytics.MemberRow
	created int64
	bits    int64 // the day's flags, then is_guest, single-channel guest, active in the 14 days (memberBits)
}

// The bits of memberLine above the day's flags.
const (
	memberGuest  = 1 << 8
	memberSingle = 1 << 9
	memberActive = 1 << 10
)

// memberQuery selects the member file's rows: every non-bot user existing
// on the day (?1; ?2 its end, ?3 its start) with its member-day row and
// whether it was active in the 14 days ending then. A user active on the
// day is active in the 14 days without looking at the 13 before. The
// day's eight counters come as one text, "m,cm,r,f,sc,h,tp,s" (NULL for
// a user without a row that day): a column costs the driver more than
// SQLite spends writing them (parseCounts reads them back).
const memberQuery = `SELECT u.id, u.email, u.employee_number, u.created_at,
	m.messages || ',' || m.channel_messages || ',' || m.reactions || ',' || m.files || ',' || m.slack_calls
		|| ',' || m.huddles || ',' || m.third_party_calls || ',' || m.searches,
	coalesce(m.flags, 0) | (u.is_guest << 8) | ((u.is_guest AND u.guest_type = 'single_channel') << 9)
		| CASE WHEN m.flags & 1 THEN 1024 ELSE (EXISTS (SELECT 1 FROM member_days AS a
			WHERE a.user_id = u.id AND a.day BETWEEN ?1 - 13 AND ?1 - 1 AND a.flags & 1) << 10) END
	FROM users AS u LEFT JOIN member_days AS m ON m.user_id = u.id AND m.day = ?1
	WHERE u.is_bot = 0 AND u.created_at < ?2 AND (u.deleted_at IS NULL OR u.deleted_at >= ?3)`

func (fb *fileBuilder) memberArgs() []any {
	return []any{int64(fb.day), dayEnd(fb.day), dayStart(fb.day)}
}

// members streams the member file, by user_id, from one connection.
func (fb *fileBuilder) members(ctx context.Context, q querier, fw *analytics.FileWriter, store func() error) error {
	return encodeRows(ctx, q, memberQuery+` ORDER BY u.id`, fb.memberArgs(), scanMember,
		func(l *memberLine) error { return fb.member(fw, l) }, store)
}

func scanMember(rows *sql.Rows, l *memberLine) error {
	r := &l.row
	var counts sql.RawBytes
	if err := rows.Scan(&r.UserID, &r.Email, &r.EmployeeNumber, &l.created, &counts, &l.bits); err != nil {
		return err
	}
	return parseCounts(counts, &r.Counts)
}

// parseCounts reads the day's counters as memberQuery writes them
// (non-negative integers, comma-separated); none (a user without a row
// that day) are zeros.
func parseCounts(b []byte, c *analytics.MemberCounts) error {
	fields := [8]*int64{&c.Messages, &c.ChannelMessages, &c.Reactions, &c.Files, &c.SlackCalls, &c.Huddles,
		&c.ThirdPartyCalls, &c.Searches}
	if b == nil {
		for _, f := range fields {
			*f = 0
		}
		return nil
	}
	for i, f := range fields {
		if i > 0 {
			if len(b) == 0 || b[0] != ',' {
				return fmt.Errorf("member counters: want %d", len(fields))
			}
			b = b[1:]
		}
		n, j := int64(0), 0
		for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
			d := int64(b[j] - '0')
			if n > (math.MaxInt64-d)/10 {
				return fmt.Errorf("member counters: out of range")
			}
			n = n*10 + d
		}
		if j == 0 {
			return fmt.Errorf("member counters: want %d non-negative integers", len(fields))
		}
		*f, b = n, b[j:]
	}
	if len(b) > 0 {
		return fmt.Errorf("member counters: want %d", len(fields))
	}
	return nil
}

// member encodes one member line.
func (fb *fileBuilder) member(fw *analytics.FileWriter, l *memberLine) error {
	return fw.Member(fb.memberRow(l))
}

// memberRow completes the line of a row as read.
func (fb *fileBuilder) memberRow(l *memberLine) *analytics.MemberRow {
	r := &l.row
	r.EnterpriseID, r.Date = fb.enterprise, fb.day
	r.Counts.Flags = analytics.Flags(l.bits)
	r.IsGuest = l.bits&memberGuest != 0
	// Fair billing: full members and multi-channel guests, active in the
	// last 14 days.
	r.Billable = l.bits&memberActive != 0 && l.bits&memberSingle == 0
	r.DateClaimed = l.created / 1_000_000
	return r
}

// publicChannels selects the public channels that appear on ?1 (a day
// end): created by then and not archived by then.
const publicChannels = `c.kind = 'public' AND c.created_at < ?1
	AND (c.archived_at IS NULL OR c.archived_at >= ?1)`

// channelLine is a public_channel file row as read, before encoding.
type channelLine struct {
	row     analytics.ChannelRow
	ch      backchannel.Channel
	created int64
	last    int64
	shared  []byte
	orgs    []byte
}

// channels streams the public_channel file, by channel_id.
func (fb *fileBuilder) channels(ctx context.Context, q querier, fw *analytics.FileWriter, store func() error) error {
	return encodeRows(ctx, q, `SELECT c.id, c.team_id, c.created_at, c.shared_team_ids, c.external_orgs, c.is_org_wide,
		coalesce(cd.messages, 0), coalesce(cd.member_messages, 0), coalesce(cd.reactions, 0),
		coalesce(cd.viewers, 0), coalesce(cd.posters, 0),
		coalesce((SELECT max(x.last_ts) FROM channel_days AS x WHERE x.channel_id = c.id AND x.day <= ?2), 0)
		FROM channels AS c LEFT JOIN channel_days AS cd ON cd.channel_id = c.id AND cd.day = ?2
		WHERE `+publicChannels+` ORDER BY c.id`, []any{dayEnd(fb.day), int64(fb.day)},
		func(rows *sql.Rows, l *channelLine) error {
			c := &l.row.Counts
			return rows.Scan(&l.row.ChannelID, &l.ch.TeamID, &l.created, &l.shared, &l.orgs, &l.ch.IsOrgWide,
				&c.Messages, &c.MemberMessages, &c.Reactions, &c.Viewers, &c.Posters, &l.last)
		},
		func(l *channelLine) error {
			r, ch := &l.row, &l.ch
			if err := json.Unmarshal(l.shared, &ch.SharedTeamIDs); err != nil {
				return fmt.Errorf("channel %s: shared_team_ids: %w", r.ChannelID, err)
			}
			if err := json.Unmarshal(l.orgs, &ch.ExternalOrgs); err != nil {
				return fmt.Errorf("channel %s: external_orgs: %w", r.ChannelID, err)
			}
			r.EnterpriseID, r.Date = fb.enterprise, fb.day
			r.TeamID = ch.TeamID
			if fb.enterprise != "0" {
				r.TeamID = fb.enterprise
			}
			r.Originating = analytics.TeamRef{ID: ch.TeamID, Name: fb.teams[ch.TeamID]}
			r.DateCreated, r.DateLastActive = l.created/1_000_000, l.last/1_000_000
			m := fb.counts[r.ChannelID]
			r.TotalMembers, r.FullMembers, r.GuestMembers = m[0], m[1], m[2]
			r.ChannelType, r.SharedExternally, r.ExternalOrgs = analytics.ChannelType(ch), ch.IsExternallyShared(), ch.ExternalOrgs
			for _, t := range ch.SharedTeamIDs {
				r.SharedWith = append(r.SharedWith, analytics.TeamRef{ID: t, Name: fb.teams[t]})
			}
			return fw.PublicChannel(r)
		}, store)
}

// metadata streams the metadata file of the public channels appearing at
// the end of the day (asOf for the current file).
func (fb *fileBuilder) metadata(ctx context.Context, q querier, fw *analytics.FileWriter, store func() error) error {
	return encodeRows(ctx, q, `SELECT c.id, c.name, c.topic, c.purpose FROM channels AS c WHERE `+publicChannels+` ORDER BY c.id`,
		[]any{dayEnd(fb.day)},
		func(rows *sql.Rows, r *analytics.MetadataRow) error {
			return rows.Scan(&r.ChannelID, &r.Name, &r.Topic, &r.Description)
		},
		func(r *analytics.MetadataRow) error {
			r.Date = fb.day
			return fw.Metadata(r)
		}, store)
}
