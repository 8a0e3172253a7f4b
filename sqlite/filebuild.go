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
// in segments of about segRows users, in turn by the writer's connection
// and by one connection of the read pool, each encoding its own segments'
// lines; the writer's goroutine compresses and stores them in order. Two
// busy goroutines, for the two cores of a small machine. The day's
// transaction runs alone (execAlone) and holds the write lock, so the
// reader sees exactly what the writer sees.

// segRows is about how many users a segment holds (a variable for tests).
var segRows = 2048

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
	defer wg.Wait() // the reader is done with its transaction before the rollback above
	defer cancel()
	odd := make(chan segment, 1) // the reader's segments, in order
	free := make(chan []byte, 1) // a reader's buffer back once compressed: it is at most one segment ahead
	errc := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := fb.encodeSegments(rctx, tx, bounds, odd, free); err != nil {
			errc <- err
		}
	}()
	var own []byte
	for k := range bounds {
		var seg segment
		if k%2 == 0 {
			if seg, err = fb.encodeSegment(ctx, w.conn, bounds, k, own[:0]); err != nil {
				return err
			}
			own = seg.b
		} else {
			select {
			case seg = <-odd:
			case err := <-errc:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := fw.Encoded(seg.b, seg.lines); err != nil {
			return err
		}
		if k%2 == 1 {
			free <- seg.b[:0]
		}
		if err := store(); err != nil {
			return err
		}
	}
	return nil
}

// encodeSegments reads and encodes the odd segments of the member file on
// q, each once the one before was compressed.
func (fb *fileBuilder) encodeSegments(ctx context.Context, q querier, bounds []string, out chan<- segment, free <-chan []byte) error {
	var buf []byte
	for k := 1; k < len(bounds); k += 2 {
		if k > 1 {
			select {
			case buf = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		seg, err := fb.encodeSegment(ctx, q, bounds, k, buf)
		if err != nil {
			return err
		}
		out <- seg
	}
	return nil
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
