package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/internal/jsonobj"
)

// Multi-row statements: one database/sql round trip per chunk instead of per
// row is what makes ~100k events/s possible (per-statement overhead in
// database/sql dominates the cost of a single-row INSERT).
const chunkRows = 100

// multiRow returns "head VALUES (?,…),(…) tail" for n rows of cols columns.
func multiRow(head string, cols, n int, tail string) string {
	var b strings.Builder
	b.Grow(len(head) + len(tail) + n*(cols*2+3) + 8)
	b.WriteString(head)
	b.WriteString(" VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	if tail != "" {
		b.WriteByte(' ')
		b.WriteString(tail)
	}
	return b.String()
}

// execRows runs head/tail as multi-row statements over args (cols values per
// row), chunkRows rows at a time.
func (w *writer) execRows(ctx context.Context, head string, cols int, tail string, args []any) error {
	for len(args) > 0 {
		n := min(len(args)/cols, chunkRows)
		s, err := w.stmt(ctx, multiRow(head, cols, n, tail))
		if err != nil {
			return err
		}
		if _, err := s.ExecContext(ctx, args[:n*cols]...); err != nil {
			return fmt.Errorf("%s: %w", head, err)
		}
		args = args[n*cols:]
	}
	return nil
}

// queryRows is execRows for statements with RETURNING; scan is called for
// every returned row.
func (w *writer) queryRows(ctx context.Context, head string, cols int, tail string, args []any, scan func(*sql.Rows) error) error {
	for len(args) > 0 {
		n := min(len(args)/cols, chunkRows)
		s, err := w.stmt(ctx, multiRow(head, cols, n, tail))
		if err != nil {
			return err
		}
		if err := scanAll(ctx, s, args[:n*cols], scan); err != nil {
			return fmt.Errorf("%s: %w", head, err)
		}
		args = args[n*cols:]
	}
	return nil
}

func scanAll(ctx context.Context, s *sql.Stmt, args []any, scan func(*sql.Rows) error) error {
	rows, err := s.QueryContext(ctx, args...)
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

// msgKey identifies a message.
type msgKey struct {
	ch string
	ts backchannel.TS
}

// probe runs query once per channel of keys with the channel and a JSON
// array of its timestamps (for json_each): one round trip per channel and
// batch instead of one per event. query's parameters are (channel, list).
func (w *writer) probe(ctx context.Context, query string, keys []msgKey, scan func(*sql.Rows) error) error {
	byCh := make(map[string][]byte)
	var order []string
	for _, k := range keys {
		b, ok := byCh[k.ch]
		if !ok {
			order = append(order, k.ch)
			b = append(make([]byte, 0, 64), '[')
		} else {
			b = append(b, ',')
		}
		byCh[k.ch] = strconv.AppendInt(b, int64(k.ts), 10)
	}
	s, err := w.stmt(ctx, query)
	if err != nil {
		return err
	}
	for _, ch := range order {
		if err := scanAll(ctx, s, []any{ch, string(append(byCh[ch], ']'))}, scan); err != nil {
			return err
		}
	}
	return nil
}

// stringList encodes strings as a JSON array for json_each.
func stringList(ss []string) string {
	b := []byte{'['}
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonobj.AppendString(b, s)
	}
	return string(append(b, ']'))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
