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
// by memberReaders connections of the read pool at once, in segments of
// about segRows users taken in turn, while the writer's goroutine encodes,
// compresses and stores them in order. The day's transaction runs alone
// (execAlone) and holds the write lock, so the readers see exactly what it
// sees.
const memberReaders = 2

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

// membersParallel streams the member file, by user_id, read by several
// connections of the read pool (see memberReaders); use runs on this
// goroutine, in order.
func (fb *fileBuilder) membersParallel(ctx context.Context, w *writer, fw *analytics.FileWriter, store func() error) error {
	bounds, err := memberBounds(ctx, w.conn)
	if err != nil {
		return err
	}
	n := min(memberReaders, w.db.readConns, len(bounds))
	txs := make([]*sql.Tx, 0, n)
	defer func() {
		for _, tx := range txs {
			tx.Rollback()
		}
	}()
	for range n { // all before any reader starts: they never wait for each other's connection
		tx, err := w.db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return fmt.Errorf("reader: %w", err)
		}
		txs = append(txs, tx)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // readers are done with their transactions before the rollbacks above
	defer cancel()
	segs := make([]chan []memberLine, len(bounds))
	for k := range segs {
		segs[k] = make(chan []memberLine, 1)
	}
	free := make([]chan []memberLine, n) // a reader's page back, once used: at most one waits per reader
	errc := make(chan error, n)
	for i, tx := range txs {
		free[i] = make(chan []memberLine, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fb.readSegments(rctx, tx, bounds, i, n, segs, free[i]); err != nil {
				errc <- err
				cancel()
			}
		}()
	}
	for k := range bounds {
		var page []memberLine
		select {
		case page = <-segs[k]:
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
		for i := range page {
			if err := fb.member(fw, &page[i]); err != nil {
				return err
			}
		}
		free[k%n] <- page[:0]
		if err := store(); err != nil {
			return err
		}
	}
	return nil
}

// readSegments reads segments first, first+step, … of the member file into
// pages; a reader reads a segment only once its page before was used.
func (fb *fileBuilder) readSegments(ctx context.Context, tx *sql.Tx, bounds []string, first, step int,
	segs []chan []memberLine, free <-chan []memberLine) error {
	args := append(fb.memberArgs(), "", "")
	for k := first; k < len(bounds); k += step {
		page := make([]memberLine, 0, segRows)
		if k >= step {
			select {
			case page = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		query := memberQuery + ` AND u.id >= ?4 AND u.id < ?5 ORDER BY u.id`
		args[3] = bounds[k]
		if k+1 < len(bounds) {
			args[4] = bounds[k+1]
		} else {
			query = memberQuery + ` AND u.id >= ?4 ORDER BY u.id`
			args = args[:4]
		}
		err := each(ctx, tx, query, args, func(rows *sql.Rows) error {
			page = append(page, memberLine{})
			return scanMember(rows, &page[len(page)-1])
		})
		if err != nil {
			return fmt.Errorf("read members: %w", err)
		}
		segs[k] <- page
	}
	return nil
}
