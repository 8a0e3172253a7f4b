package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// copyBuf builds a COPY … FROM STDIN (FORMAT binary) stream for the ingest
// path's two bulk writes (the event log and new messages). pgx's CopyFrom
// encodes every value through its type map (a plan lookup and an interface
// per value, ~15% of the server's CPU in bench/ingest.sh); the rows here have
// fixed, known column types, so they are written directly. Each value must
// be written with the binary representation of its column's type: int64
// for bigint, int32 for integer, bool for boolean, bytes for bytea, text for
// text.
type copyBuf struct {
	b    []byte
	rows int
}

// binary COPY header: signature, flags, header extension length.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// newCopyBuf returns a buffer with room for about size bytes of rows.
func newCopyBuf(size int) *copyBuf {
	c := &copyBuf{b: make([]byte, 0, len(copyHeader)+size+2)}
	c.b = append(c.b, copyHeader...)
	return c
}

// row starts a row of n fields.
func (c *copyBuf) row(n int) {
	c.b = binary.BigEndian.AppendUint16(c.b, uint16(n))
	c.rows++
}

func (c *copyBuf) int64(v int64) {
	c.b = binary.BigEndian.AppendUint32(c.b, 8)
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(v))
}

func (c *copyBuf) int32(v int32) {
	c.b = binary.BigEndian.AppendUint32(c.b, 4)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(v))
}

func (c *copyBuf) bool(v bool) {
	c.b = binary.BigEndian.AppendUint32(c.b, 1)
	if v {
		c.b = append(c.b, 1)
	} else {
		c.b = append(c.b, 0)
	}
}

// bytes writes a bytea; nil is written as an empty value, not NULL.
func (c *copyBuf) bytes(v []byte) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(v)))
	c.b = append(c.b, v...)
}

// text writes a text value (the server checks that it is valid UTF-8).
func (c *copyBuf) text(v string) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(v)))
	c.b = append(c.b, v...)
}

func (c *copyBuf) null() {
	c.b = binary.BigEndian.AppendUint32(c.b, 0xffffffff)
}

// copyIn sends c's rows to table's cols in one COPY and checks that every
// row went in.
func copyIn(ctx context.Context, tx pgx.Tx, table string, cols []string, c *copyBuf) error {
	c.b = binary.BigEndian.AppendUint16(c.b, 0xffff) // trailer
	sql := "COPY " + table + " (" + strings.Join(cols, ", ") + ") FROM STDIN (FORMAT binary)"
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(c.b), sql)
	if err != nil {
		return err
	}
	if n := tag.RowsAffected(); n != int64(c.rows) {
		return fmt.Errorf("copy into %s: %d rows of %d", table, n, c.rows)
	}
	return nil
}
