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
// database/sql dominates the cost of a single-row INSERT). 400 rows rather
// than 100 saved ~8% of the writer's CPU on plain messages.
const chunkRows = 400

// chunkLen is how many of n remaining rows the next statement takes: a full
// chunk, else the largest power of two that fits. Every size is a prepared
// statement kept for the writer's life, and a statement's size grows with
// its rows, so the sizes are few (10) rather than every n up to chunkRows.
func chunkLen(n int) int {
	if n >= chunkRows {
		return chunkRows
	}
	k := 1
	for k*2 <= n {
		k *= 2
	}
	return k
}

// values returns "head VALUES r0,r1,… tail" for n rows of the row template
// tmpl, in which '?' is a parameter of the row's own, '@' is the one shared
// parameter (?1) and '#' is the row's index. A shared parameter and literals
// keep values out of the per-row argument list: every argument costs a
// conversion and a bind.
//
// Only ?1 is numbered, and it comes first in the text so that the plain ?s
// after it are 2, 3, …: the driver asks SQLite for every parameter's name,
// which is a linear search through the numbered ones (quadratic with ?N
// everywhere).
func values(head, tmpl string, shared, n int, tail string) string {
	if shared > 1 || shared == 1 && tmpl[strings.IndexAny(tmpl, "?@")] != '@' {
		panic("sqlite: values: the shared parameter must come first and alone")
	}
	var b strings.Builder
	b.Grow(len(head) + len(tail) + n*(len(tmpl)+4) + 8)
	b.WriteString(head)
	b.WriteString(" VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		for j := 0; j < len(tmpl); j++ {
			switch c := tmpl[j]; c {
			case '@':
				b.WriteString("?1")
			case '#':
				b.WriteString(strconv.Itoa(i))
			default:
				b.WriteByte(c)
			}
		}
	}
	if tail != "" {
		b.WriteByte(' ')
		b.WriteString(tail)
	}
	return b.String()
}

// valuesKey identifies a prepared multi-row statement.
type valuesKey struct {
	head, tmpl, tail string
	shared, n        int
}

// execValues runs one multi-row statement (see values) for n rows; args
// are the shared arguments followed by every row's.
func (w *writer) execValues(ctx context.Context, head, tmpl, tail string, shared, n int, args []any) (int64, error) {
	k := valuesKey{head, tmpl, tail, shared, n}
	s, ok := w.vstmts[k]
	if !ok {
		var err error
		if s, err = w.stmt(ctx, values(head, tmpl, shared, n, tail)); err != nil {
			return 0, err
		}
		w.vstmts[k] = s
	}
	res, err := s.ExecContext(ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", head, err)
	}
	m, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", head, err)
	}
	return m, nil
}

// execRows runs execValues over rows of per arguments each, chunkRows rows
// at a time, with shared prepended to every chunk's.
func (w *writer) execRows(ctx context.Context, head, tmpl, tail string, shared []any, per int, args []any) error {
	buf := make([]any, 0, len(shared)+min(len(args), chunkRows*per))
	for len(args) > 0 {
		n := chunkLen(len(args) / per)
		buf = append(append(buf[:0], shared...), args[:n*per]...)
		if _, err := w.execValues(ctx, head, tmpl, tail, len(shared), n, buf); err != nil {
			return err
		}
		args = args[n*per:]
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

// probeQuery reads rows of a batch's messages. one is for keys of one
// channel: its parameters are the channel and a JSON array of timestamps
// (for json_each). many is for keys of several channels (a stream of
// activity meets most of its thousands of channels once or twice a batch):
// its one parameter is a JSON array of [channel, ts] pairs, joined to the
// table's index.
type probeQuery struct{ one, many string }

// probe runs q over keys in one statement: q.one when the keys are of one
// channel, else q.many. Repeated keys are read once.
func (w *writer) probe(ctx context.Context, q probeQuery, keys []msgKey, scan func(*sql.Rows) error) error {
	if len(keys) == 0 {
		return nil
	}
	one := true
	for _, k := range keys[1:] {
		if k.ch != keys[0].ch {
			one = false
			break
		}
	}
	seen := make(map[msgKey]struct{}, len(keys))
	list := make([]byte, 0, 32*len(keys))
	list = append(list, '[')
	for _, k := range keys {
		if _, ok := seen[k]; ok {
			continue
		}
		seen[k] = struct{}{}
		if len(list) > 1 {
			list = append(list, ',')
		}
		if one {
			list = strconv.AppendInt(list, int64(k.ts), 10)
			continue
		}
		list = append(jsonobj.AppendString(append(list, '['), k.ch), ',')
		list = append(strconv.AppendInt(list, int64(k.ts), 10), ']')
	}
	list = append(list, ']')
	query, args := q.many, []any{string(list)}
	if one {
		query, args = q.one, []any{keys[0].ch, string(list)}
	}
	s, err := w.stmt(ctx, query)
	if err != nil {
		return err
	}
	return scanAll(ctx, s, args, scan)
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
