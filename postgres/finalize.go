package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/analytics"
	"github.com/jackc/pgx/v5"
)

var _ backchannel.AnalyticsStore = (*DB)(nil)

// FinalizeDays closes, one transaction each, every day from the first day
// with data through through that is not closed yet. Each transaction holds
// the day's advisory lock exclusively and re-checks the watermark under
// it: of several processes closing one day, one builds its files and the
// others find it closed.
func (db *DB) FinalizeDays(ctx context.Context, through backchannel.Day) ([]backchannel.Day, error) {
	var first *int32
	if err := db.pool.QueryRow(ctx, `SELECT min(day) FROM analytics_days WHERE events > 0`).Scan(&first); err != nil {
		return nil, fmt.Errorf("postgres: finalize: %w", err)
	}
	if first == nil {
		return nil, nil
	}
	done := map[backchannel.Day]bool{}
	rows, err := db.pool.Query(ctx, `SELECT day FROM analytics_days WHERE closed_at IS NOT NULL AND day BETWEEN $1 AND $2`,
		*first, int32(through))
	if err != nil {
		return nil, fmt.Errorf("postgres: finalize: %w", err)
	}
	days, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("postgres: finalize: %w", err)
	}
	for _, d := range days {
		done[backchannel.Day(d)] = true
	}
	var closed []backchannel.Day
	// A second connection reads beside the closing transaction (see
	// members); opened once the first day to close is found.
	var second *pgx.Conn
	defer func() {
		if second != nil {
			second.Close(context.WithoutCancel(ctx))
		}
	}()
	for d := backchannel.Day(*first); d <= through; d++ {
		if done[d] {
			continue
		}
		if second == nil {
			if second, err = pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy()); err != nil {
				return closed, fmt.Errorf("postgres: finalize: second connection: %w", err)
			}
		}
		var did bool
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+dayLockKey+`, $1)`, int32(d)); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
			var err error
			did, err = db.closeDay(ctx, tx, second, d, false)
			return err
		})
		if err != nil {
			return closed, fmt.Errorf("postgres: finalize %s: %w", d, err)
		}
		if did {
			closed = append(closed, d)
		}
	}
	return closed, nil
}

// closeDay builds and stores d's three files and sets its watermark; the
// caller holds d's lock exclusively. A day already closed is left alone
// unless rewrite (RebuildDays), which rewrites only closed days. second,
// when not nil, is a connection with no transaction open that may read
// committed rows beside tx (not tx's own writes: nil for a rebuild).
func (db *DB) closeDay(ctx context.Context, tx pgx.Tx, second *pgx.Conn, d backchannel.Day, rewrite bool) (bool, error) {
	var closedAt *int64
	err := tx.QueryRow(ctx, `SELECT closed_at FROM analytics_days WHERE day = $1`, int32(d)).Scan(&closedAt)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("read watermark: %w", err)
	}
	if (closedAt != nil) != rewrite {
		return false, nil // closed already (by this or another process), or (rewrite) never closed
	}
	if _, err := tx.Exec(ctx, fileSettings); err != nil {
		return false, fmt.Errorf("settings: %w", err)
	}
	fb, err := newFileBuilder(ctx, tx, d)
	if err != nil {
		return false, err
	}
	fb.second = second
	if fb.counts, err = memberCounts(ctx, tx, d); err != nil {
		return false, err
	}
	for _, kind := range []string{backchannel.FileMember, backchannel.FilePublicChannel, backchannel.FileMetadata} {
		if err := storeFile(ctx, tx, d, kind, fb); err != nil {
			return false, fmt.Errorf("%s file: %w", kind, err)
		}
	}
	if rewrite {
		return true, nil
	}
	_, err = tx.Exec(ctx, `INSERT INTO analytics_days (day, events, closed_at) VALUES ($1, 0, $2)
		ON CONFLICT (day) DO UPDATE SET closed_at = excluded.closed_at`, int32(d), db.now().UnixMicro())
	if err != nil {
		return false, fmt.Errorf("set watermark: %w", err)
	}
	return true, nil
}

// storeFile streams one file from SQL through the encoder and gzip into
// chunk rows of a new generation, then makes it the file's current one.
// The generation before stays, so a download that opened it can finish;
// older ones go. Encoding and compression run on their own goroutine while
// this one fetches the next rows (encodeFetched); the chunks they produce are
// written by this goroutine, which owns the transaction, between fetches.
func storeFile(ctx context.Context, tx pgx.Tx, d backchannel.Day, kind string, fb *fileBuilder) error {
	var gen int64
	if err := tx.QueryRow(ctx, `SELECT nextval('analytics_gen')`).Scan(&gen); err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	var size int64
	out := &chunkQueue{}
	ck := &analytics.Chunker{Size: analytics.ChunkSize, Store: func(i int, b []byte) error {
		size += int64(len(b))
		out.add(i, bytes.Clone(b))
		return nil
	}}
	fw := analytics.NewFileWriter(ck)
	store := func() error {
		q := &pgx.Batch{}
		for _, c := range out.take() {
			q.Queue(`INSERT INTO analytics_chunks (day, kind, gen, chunk, data) VALUES ($1, $2, $3, $4, $5)`,
				int32(d), kind, gen, c.i, c.b)
		}
		if q.Len() == 0 {
			return nil
		}
		if err := tx.SendBatch(ctx, q).Close(); err != nil {
			return fmt.Errorf("store chunk: %w", err)
		}
		return nil
	}
	var err error
	switch kind {
	case backchannel.FileMember:
		err = fb.members(ctx, tx, fw, store)
	case backchannel.FilePublicChannel:
		err = fb.channels(ctx, tx, fw, store)
	default:
		err = fb.metadata(ctx, tx, fw, store)
	}
	if err != nil {
		return err
	}
	// The encoder goroutine has finished: the rest runs on this one.
	if err := fw.Close(); err != nil {
		return err
	}
	if err := ck.Close(); err != nil {
		return err
	}
	if err := store(); err != nil {
		return err
	}
	var prev *int64
	err = tx.QueryRow(ctx, `WITH old AS (SELECT gen FROM analytics_files WHERE day = $1 AND kind = $2)
		INSERT INTO analytics_files AS f (day, kind, gen, chunks, size) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (day, kind) DO UPDATE SET gen = excluded.gen, chunks = excluded.chunks, size = excluded.size
		RETURNING (SELECT gen FROM old)`, int32(d), kind, gen, ck.Chunks(), size).Scan(&prev)
	if err != nil {
		return fmt.Errorf("record file: %w", err)
	}
	if prev != nil {
		if _, err := tx.Exec(ctx, `DELETE FROM analytics_chunks WHERE day = $1 AND kind = $2 AND gen < $3`,
			int32(d), kind, *prev); err != nil {
			return fmt.Errorf("drop old generations: %w", err)
		}
	}
	return nil
}

// fileSettings plan the files' queries, which read whole tables through
// cursors: for all their rows (hash joins, not nested loops), sorting in
// memory. The member file's cursors must read their indexes in the file's
// order whatever the statistics say (fresh tables have none): a sort is
// only the plan where there is no such index. No JIT: compiling costs
// more than these simple plans run for, and the cost of a plan that still
// sorts (disabled, so raised) would always ask for it.
const fileSettings = `SET LOCAL cursor_tuple_fraction = 1; SET LOCAL work_mem = '64MB';
	SET LOCAL enable_sort = off; SET LOCAL jit = off`

// fileBuilder holds what every file of a day needs besides its rows.
type fileBuilder struct {
	day        backchannel.Day
	enterprise string
	teams      map[string]string   // id → name
	counts     map[string][3]int64 // channel → members at the end of the day: total, full, guest
	second     *pgx.Conn           // reads beside the transaction, or nil (closeDay)
}

// querier is a transaction or the pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func newFileBuilder(ctx context.Context, q querier, d backchannel.Day) (*fileBuilder, error) {
	fb := &fileBuilder{day: d, enterprise: "0", teams: map[string]string{}}
	err := each(ctx, q, `SELECT id FROM enterprise`, nil, func(rows pgx.Rows) error { return rows.Scan(&fb.enterprise) })
	if err != nil {
		return nil, fmt.Errorf("read enterprise: %w", err)
	}
	err = each(ctx, q, `SELECT id, name FROM teams`, nil, func(rows pgx.Rows) error {
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

func each(ctx context.Context, q querier, query string, args []any, scan func(pgx.Rows) error) error {
	rows, err := q.Query(ctx, query, args...)
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

// fetchRows is how many rows a file build reads per round trip.
const fetchRows = 4096

// cursor reads the rows of a query fetchRows at a time, a page scanned into
// memory before the next round trip, so that the caller may write on the
// same transaction between pages (the chunks of the file being built) — a
// connection cannot write while a result is still being read. So neither
// the rows nor the file are ever all in memory. Several cursors of one
// transaction can be open at once, by different names.
type cursor[T any] struct {
	tx    pgx.Tx
	name  string
	fetch string
	scan  func(pgx.Rows, *T) error
	done  bool
}

func declare[T any](ctx context.Context, tx pgx.Tx, name, query string, args []any, scan func(pgx.Rows, *T) error) (*cursor[T], error) {
	if _, err := tx.Exec(ctx, `DECLARE `+name+` NO SCROLL CURSOR FOR `+query, args...); err != nil {
		return nil, fmt.Errorf("declare cursor: %w", err)
	}
	return &cursor[T]{tx: tx, name: name, fetch: fmt.Sprintf(`FETCH %d FROM %s`, fetchRows, name), scan: scan}, nil
}

// next returns the next page of rows, empty once every row was read.
func (c *cursor[T]) next(ctx context.Context) ([]T, error) {
	if c.done {
		return nil, nil
	}
	page := make([]T, 0, fetchRows)
	// The same FETCH text returns other columns for another query under
	// the same cursor name: describe it each time instead of using a
	// cached description.
	err := each(ctx, c.tx, c.fetch, []any{pgx.QueryExecModeDescribeExec}, func(rows pgx.Rows) error {
		page = append(page, *new(T))
		return c.scan(rows, &page[len(page)-1])
	})
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	c.done = len(page) < fetchRows
	return page, nil
}

func (c *cursor[T]) close(ctx context.Context) error {
	if _, err := c.tx.Exec(ctx, `CLOSE `+c.name); err != nil {
		return fmt.Errorf("close cursor: %w", err)
	}
	return nil
}

// eachFetched streams the rows of query through a cursor to use, which may
// write on the same transaction.
func eachFetched[T any](ctx context.Context, tx pgx.Tx, query string, args []any, scan func(pgx.Rows, *T) error, use func(*T) error) error {
	c, err := declare(ctx, tx, "analytics_rows", query, args, scan)
	if err != nil {
		return err
	}
	for {
		page, err := c.next(ctx)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return c.close(ctx)
		}
		for i := range page {
			if err := use(&page[i]); err != nil {
				return err
			}
		}
	}
}

// chunkQueue holds the chunks the encoder produced and the transaction's
// goroutine has not stored yet.
type chunkQueue struct {
	mu   sync.Mutex
	list []queuedChunk
}

type queuedChunk struct {
	i int
	b []byte
}

func (q *chunkQueue) add(i int, b []byte) {
	q.mu.Lock()
	q.list = append(q.list, queuedChunk{i, b})
	q.mu.Unlock()
}

func (q *chunkQueue) take() []queuedChunk {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.list
	q.list = nil
	return l
}

// encodeFetched streams the rows of query through a cursor to use, like
// eachFetched, but through encodePages.
func encodeFetched[T any](ctx context.Context, tx pgx.Tx, query string, args []any, scan func(pgx.Rows, *T) error,
	use func(*T) error, store func() error) error {
	c, err := declare(ctx, tx, "analytics_rows", query, args, scan)
	if err != nil {
		return err
	}
	if err := encodePages(ctx, c.next, use, store); err != nil {
		return err
	}
	return c.close(ctx)
}

// encodePages hands the pages next reads (until an empty one) to use on
// another goroutine, so that encoding one page overlaps reading the next.
// Before each read, store writes what use produced so far (the chunks of
// the file being built) on the transaction next reads from. At most two
// pages wait for use. When it returns, use has returned for every row.
func encodePages[T any](ctx context.Context, next func(context.Context) ([]T, error), use func(*T) error, store func() error) error {
	pages := make(chan []T, 1)
	used := make(chan error, 1)
	go func() {
		var err error
		for page := range pages {
			for i := range page {
				if err != nil {
					break // drain: the reading side stops at its next send
				}
				err = use(&page[i])
			}
		}
		used <- err
	}()
	err := readPages(ctx, pages, used, next, store)
	close(pages)
	if uerr := <-used; err == nil {
		err = uerr
	}
	return err
}

// readPages reads pages into pages until next returns an empty one,
// storing what the encoder produced before each read.
func readPages[T any](ctx context.Context, pages chan<- []T, used <-chan error, next func(context.Context) ([]T, error), store func() error) error {
	for {
		if err := store(); err != nil {
			return err
		}
		page, err := next(ctx)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		select {
		case pages <- page:
		case err := <-used: // use failed and stopped reading
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func dayStart(d backchannel.Day) int64 { return int64(d) * 86_400_000_000 }
func dayEnd(d backchannel.Day) int64   { return dayStart(d + 1) }

// publicChannels selects the public channels that appear on a day ($1, its
// end): created by then and not archived by then.
const publicChannels = `c.kind = 'public' AND c.created_at < $1::bigint
	AND (c.archived_at IS NULL OR c.archived_at >= $1::bigint)`

type channelLine struct {
	row     analytics.ChannelRow
	ch      backchannel.Channel
	created int64
	last    int64
	orgs    []byte
}

// channels streams the public_channel file, by channel_id (byte order).
func (fb *fileBuilder) channels(ctx context.Context, tx pgx.Tx, fw *analytics.FileWriter, store func() error) error {
	return encodeFetched(ctx, tx, `SELECT c.id, c.team_id, c.created_at, c.shared_team_ids, c.external_orgs::text, c.is_org_wide,
		coalesce(cd.messages, 0), coalesce(cd.member_messages, 0), coalesce(cd.reactions, 0),
		coalesce(cd.viewers, 0), coalesce(cd.posters, 0),
		coalesce((SELECT max(x.last_ts) FROM channel_days AS x WHERE x.channel_id = c.id AND x.day <= $2::integer), 0)
		FROM channels AS c LEFT JOIN channel_days AS cd ON cd.channel_id = c.id AND cd.day = $2::integer
		WHERE `+publicChannels+` ORDER BY c.id COLLATE "C"`, []any{dayEnd(fb.day), int32(fb.day)},
		func(rows pgx.Rows, l *channelLine) error {
			c := &l.row.Counts
			return rows.Scan(&l.row.ChannelID, &l.ch.TeamID, &l.created, &l.ch.SharedTeamIDs, &l.orgs, &l.ch.IsOrgWide,
				&c.Messages, &c.MemberMessages, &c.Reactions, &c.Viewers, &c.Posters, &l.last)
		},
		func(l *channelLine) error {
			r, ch := &l.row, &l.ch
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
			r.SharedWith = nil
			for _, t := range ch.SharedTeamIDs {
				r.SharedWith = append(r.SharedWith, analytics.TeamRef{ID: t, Name: fb.teams[t]})
			}
			return fw.PublicChannel(r)
		}, store)
}

const metadataQuery = `SELECT c.id, c.name, c.topic, c.purpose FROM channels AS c WHERE ` + publicChannels

// metadata streams the metadata file of the public channels appearing at
// the end of the day.
func (fb *fileBuilder) metadata(ctx context.Context, tx pgx.Tx, fw *analytics.FileWriter, store func() error) error {
	return encodeFetched(ctx, tx, metadataQuery+` ORDER BY c.id COLLATE "C"`, []any{dayEnd(fb.day)},
		func(rows pgx.Rows, r *analytics.MetadataRow) error {
			return rows.Scan(&r.ChannelID, &r.Name, &r.Topic, &r.Description)
		},
		func(r *analytics.MetadataRow) error {
			r.Date = fb.day
			return fw.Metadata(r)
		}, store)
}
