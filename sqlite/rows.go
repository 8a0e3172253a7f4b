package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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

// keyList encodes keys as a JSON array of [channel, ts] pairs, so that one
// statement can probe any number of messages through json_each: one round
// trip per batch instead of one per event.
func keyList(keys []msgKey) string {
	b := make([]byte, 0, len(keys)*32+2)
	b = append(b, '[')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = jsonobj.AppendString(b, k.ch)
		b = append(b, ',')
		b = fmt.Appendf(b, "%d", int64(k.ts))
		b = append(b, ']')
	}
	return string(append(b, ']'))
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
