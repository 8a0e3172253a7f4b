package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/backchannel/backchannel/analytics"
)

// pageRows is how many rows a file build hands its encoder at a time.
const pageRows = 512

// encodeRows streams the rows of query through scan on this goroutine (the
// one that owns the connection: SQLite runs on it), in pages of pageRows,
// to use on an encoder goroutine, so that reading rows overlaps encoding
// and compressing them. Before each page, store writes what use produced
// so far (the chunks of the file being built) on the same connection. At
// most two pages wait for use, so neither the rows nor the file are ever
// all in memory. When it returns, use has returned for every row.
func encodeRows[T any](ctx context.Context, q querier, query string, args []any,
	scan func(*sql.Rows, *T) error, use func(*T) error, store func() error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	pages := make(chan []T, 1)
	free := make(chan []T, 3) // pages the encoder is done with, for reuse
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
			free <- page[:0]
		}
		used <- err
	}()
	err = readPages(ctx, rows, pages, free, used, scan, store)
	close(pages)
	if uerr := <-used; err == nil {
		err = uerr
	}
	return err
}

// readPages scans rows into pages until they are done, storing what the
// encoder produced before each page.
func readPages[T any](ctx context.Context, rows *sql.Rows, pages chan<- []T, free <-chan []T, used <-chan error,
	scan func(*sql.Rows, *T) error, store func() error) error {
	page := make([]T, 0, pageRows)
	send := func() error {
		if err := store(); err != nil {
			return err
		}
		select {
		case pages <- page:
		case err := <-used: // use failed and stopped reading
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case page = <-free:
		default:
			page = make([]T, 0, pageRows)
		}
		return nil
	}
	for rows.Next() {
		page = append(page, *new(T))
		if err := scan(rows, &page[len(page)-1]); err != nil {
			return err
		}
		if len(page) == pageRows {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(page) > 0 {
		return send()
	}
	return nil
}

// chunkQueue holds the chunks the encoder produced and the connection's
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
	q.list = append(q.list, queuedChunk{i, bytes.Clone(b)})
	q.mu.Unlock()
}

func (q *chunkQueue) take() []queuedChunk {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.list
	q.list = nil
	return l
}

// The member file of a large organisation is most of the cost of closing
// a day, and most of that is SQLite reading its rows. So its rows are read
// in segments of about segRows users by two goroutines, each encoding the
// lines of the segments it claims (in order, whichever is free): the
// writer's, on its connection, which also compresses and stores the
// segments in order, and a helper on a connection of the read pool. Two
// busy goroutines, for the two cores of a small machine. The day's
// transaction runs alone (execAlone) and holds the write lock, so the
// helper sees exactly what the writer sees.

// segRows is about how many users a segment holds (a variable for tests).
var segRows = 2048

// segsAhead bounds the segments claimed and not yet compressed (memory).
const segsAhead = 4

// memberBounds lists the first user id of each segment of the users table
// ("" for the first), every segRows users.
func memberBounds(ctx context.Context, q querier) ([]string, error) {
	bounds := []string{""}
	for {
		var next string
		err := each(ctx, q, `SELECT id FROM users WHERE id >= ? ORDER BY id LIMIT 1 OFFSET ?`,
			[]any{bounds[len(bounds)-1], segRows}, func(rows *sql.Rows) error { return rows.Scan(&next) })
		if err != nil {
			return nil, fmt.Errorf("segment users: %w", err)
		}
		if next == "" {
			return bounds, nil
		}
		bounds = append(bounds, next)
	}
}

// segment is the encoded lines of one segment of the member file.
type segment struct {
	b     []byte
	lines int
}

// segments hands out the segments of a member file in order to the two
// goroutines that read them; a claim takes one of segsAhead tokens, given
// back when the segment is compressed.
type segments struct {
	bounds []string
	mu     sync.Mutex
	next   int
	tokens chan struct{}
	done   []chan segment // per segment, its lines once read
	free   chan []byte    // buffers of compressed segments, for reuse
}

func newSegments(bounds []string) *segments {
	s := &segments{bounds: bounds, tokens: make(chan struct{}, segsAhead), done: make([]chan segment, len(bounds)),
		free: make(chan []byte, segsAhead)}
	for range segsAhead {
		s.tokens <- struct{}{}
	}
	for k := range s.done {
		s.done[k] = make(chan segment, 1)
	}
	return s
}

// buffer returns a buffer for a segment's lines.
func (s *segments) buffer() []byte {
	select {
	case b := <-s.free:
		return b
	default:
		return nil
	}
}

// claim takes the next segment; ok is false when none is left.
func (s *segments) claim() (k int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next == len(s.bounds) {
		return 0, false
	}
	s.next++
	return s.next - 1, true
}

// membersParallel streams the member file, by user_id, read by the
// writer's connection and one of the read pool (see segRows).
func (fb *fileBuilder) membersParallel(ctx context.Context, w *writer, fw *analytics.FileWriter, store func() error) error {
	bounds, err := memberBounds(ctx, w.conn)
	if err != nil {
		return err
	}
	if len(bounds) < 2 {
		return fb.members(ctx, w.conn, fw, store)
	}
	tx, err := w.db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("reader: %w", err)
	}
	defer tx.Rollback()
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // the helper is done with its transaction before the rollback above
	defer cancel()
	segs := newSegments(bounds)
	errc := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := fb.helpSegments(rctx, tx, segs); err != nil {
			errc <- err
		}
	}()
	for c := range bounds { // compress segment c once read, reading others meanwhile
		var seg segment
		for got := false; !got; {
			select {
			case seg = <-segs.done[c]:
				got = true
				continue
			default:
			}
			select {
			case seg = <-segs.done[c]:
				got = true
			case <-segs.tokens:
				k, ok := segs.claim()
				if !ok {
					segs.tokens <- struct{}{}
					select { // all claimed: wait for c
					case seg = <-segs.done[c]:
						got = true
					case err := <-errc:
						return err
					}
					continue
				}
				read, err := fb.encodeSegment(ctx, w.conn, bounds, k, segs.buffer())
				if err != nil {
					return err
				}
				segs.done[k] <- read
			case err := <-errc:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := fw.Encoded(seg.b, seg.lines); err != nil {
			return err
		}
		select {
		case segs.free <- seg.b[:0]:
		default:
		}
		segs.tokens <- struct{}{}
		if err := store(); err != nil {
			return err
		}
	}
	return nil
}

// helpSegments reads and encodes the segments it claims on q.
func (fb *fileBuilder) helpSegments(ctx context.Context, q querier, segs *segments) error {
	for {
		select {
		case <-segs.tokens:
		case <-ctx.Done():
			return ctx.Err()
		}
		k, ok := segs.claim()
		if !ok {
			return nil
		}
		seg, err := fb.encodeSegment(ctx, q, segs.bounds, k, segs.buffer())
		if err != nil {
			return err
		}
		segs.done[k] <- seg
	}
}

// encodeSegment appends the lines of segment k of the member file to dst.
func (fb *fileBuilder) encodeSegment(ctx context.Context, q querier, bounds []string, k int, dst []byte) (segment, error) {
	query, args := memberQuery+` AND u.id >= ?4 AND u.id < ?5 ORDER BY u.id`, append(fb.memberArgs(), bounds[k], "")
	if k+1 < len(bounds) {
		args[4] = bounds[k+1]
	} else {
		query, args = memberQuery+` AND u.id >= ?4 ORDER BY u.id`, args[:4]
	}
	seg := segment{b: dst}
	var l memberLine
	err := each(ctx, q, query, args, func(rows *sql.Rows) error {
		if err := scanMember(rows, &l); err != nil {
			return err
		}
		seg.b = analytics.AppendMember(seg.b, fb.memberRow(&l))
		seg.lines++
		return nil
	})
	if err != nil {
		return segment{}, fmt.Errorf("read members: %w", err)
	}
	return seg, nil
}
