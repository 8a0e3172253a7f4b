package sqlite

import "encoding/binary"

// The runs of distinct.go and actruns.go pack each id after its length as a
// uvarint.

// appendLenString appends s after its length as a uvarint.
func appendLenString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// cutLenString cuts from the front of b what appendLenString appended: the
// string (a slice of b) and the rest; ok is false if b does not hold one.
func cutLenString(b []byte) (s, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, b, false
	}
	end := k + int(n)
	return b[k:end:end], b[end:], true
}
