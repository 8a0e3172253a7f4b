package slackexport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/backchannel/backchannel/ingest"
)

// dayReader streams one day file, a JSON array of message objects, one
// element at a time: a day file is never held whole.
//
// It splits the array itself, which is several times faster than
// encoding/json, and validates each element with the ingest package's
// scanner. At anything it does not expect (bad syntax, an element that is
// no object, a value nested deeper than the scanner allows) it hands over
// to slowReader, encoding/json's streaming decoder, reading the file again
// from its start: the elements before are the same bytes either way, and
// what encoding/json then says about the rest — an error with its offset,
// or more elements — is exactly what the importer always said.
type dayReader struct {
	r      io.Reader
	reopen func() (io.Reader, error) // the file again from its start, for the slow path
	buf    []byte
	pos    int   // next unread byte of buf
	base   int64 // file offset of buf[0]
	eof    bool  // r is exhausted: buf holds the rest of the file
	rerr   error // a read error other than io.EOF, returned once buf is used up
	state  int   // 0 before '[', 1 after '[', 2 after an element, 3 after ']'
	n      int   // elements returned
	slow   *slowReader
}

const dayReaderBuffer = 64 << 10

// newDayReader reads r; reopen opens the same file again (nil: r is read
// by encoding/json's decoder from the start).
func newDayReader(r io.Reader, reopen func() (io.Reader, error)) *dayReader {
	d := &dayReader{r: r, reopen: reopen}
	if reopen == nil {
		d.slow = newSlowReader(r)
	}
	return d
}

// next returns the next message object (valid JSON, its bytes valid until
// the following call) and the offset it starts at; io.EOF after the array
// has ended.
func (d *dayReader) next() ([]byte, int64, error) {
	if d.slow != nil {
		return d.slow.next()
	}
	raw, off, ok, err := d.fast()
	if err != nil || ok {
		return raw, off, err
	}
	return d.fallBack()
}

// fast is next on the fast path: ok false means it found something the slow
// path must judge (err is then nil).
func (d *dayReader) fast() (raw []byte, off int64, ok bool, err error) {
	c, err := d.skipWS()
	if err != nil {
		return nil, 0, false, err
	}
	switch d.state {
	case 0:
		if c != '[' {
			return nil, 0, false, nil
		}
		d.pos++
		d.state = 1
		if c, err = d.skipWS(); err != nil {
			return nil, 0, false, err
		}
		if c == ']' {
			return d.close()
		}
	case 2:
		switch c {
		case ']':
			return d.close()
		case ',':
			d.pos++
			if c, err = d.skipWS(); err != nil {
				return nil, 0, false, err
			}
		default:
			return nil, 0, false, nil
		}
	case 3:
		return nil, 0, true, io.EOF
	}
	if c != '{' {
		return nil, 0, false, nil
	}
	// Nearly always the element is whole in the buffer, and one scan both
	// validates it and finds its end. Else its end is found first (reading
	// more), then it is validated.
	end, valid := ingest.ValueEnd(d.buf[d.pos:])
	if end += d.pos; !valid {
		if end, err = d.objectEnd(); err != nil || end < 0 {
			return nil, 0, false, err
		}
		if !ingest.ValidJSON(d.buf[d.pos:end]) {
			return nil, 0, false, nil
		}
	}
	raw = d.buf[d.pos:end]
	off = d.base + int64(d.pos)
	d.pos, d.state = end, 2
	d.n++
	return raw, off, true, nil
}

// close consumes the array's closing ']' and checks that only whitespace
// follows.
func (d *dayReader) close() ([]byte, int64, bool, error) {
	d.pos++
	c, err := d.skipWS()
	if err != nil {
		return nil, 0, false, err
	}
	if c != 0 || d.pos < len(d.buf) {
		return nil, 0, false, nil
	}
	d.state = 3
	return nil, 0, true, io.EOF
}

// skipWS skips JSON whitespace and returns the byte at d.pos, 0 at the end
// of the file.
func (d *dayReader) skipWS() (byte, error) {
	for {
		for d.pos < len(d.buf) {
			switch c := d.buf[d.pos]; c {
			case ' ', '\t', '\n', '\r':
				d.pos++
			default:
				return c, nil
			}
		}
		if more, err := d.fill(); !more {
			return 0, err
		}
	}
}

// objectEnd returns the end of the object starting at d.pos, reading more
// of the file as needed; -1 when the file ends before it does. Strings are
// skipped so that brackets in them do not count; the object is validated
// after.
func (d *dayReader) objectEnd() (int, error) {
	depth, inString := 0, false
	for i := d.pos; ; {
		for ; i < len(d.buf); i++ {
			c := d.buf[i]
			if inString {
				switch c {
				case '\\':
					i++ // may step past the end: the loop below reads more first
				case '"':
					inString = false
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, nil
				}
			}
		}
		start := d.pos
		more, err := d.fill()
		if !more {
			return -1, err
		}
		i -= start - d.pos // fill moved the unread bytes to the front
	}
}

// fill moves the unread bytes to the front of the buffer (growing it when
// they fill it) and reads more; false when nothing more can be read.
func (d *dayReader) fill() (bool, error) {
	if d.eof {
		return false, d.rerr
	}
	if cap(d.buf) == 0 {
		d.buf = make([]byte, 0, dayReaderBuffer)
	}
	if d.pos > 0 {
		n := copy(d.buf[:cap(d.buf)], d.buf[d.pos:])
		d.base += int64(d.pos)
		d.buf, d.pos = d.buf[:n], 0
	}
	if len(d.buf) == cap(d.buf) {
		d.buf = append(d.buf, make([]byte, len(d.buf))...)[:len(d.buf)]
	}
	for {
		n, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
		d.buf = d.buf[:len(d.buf)+n]
		if err != nil {
			d.eof = true
			if err != io.EOF {
				d.rerr = err
			}
		}
		switch {
		case n > 0:
			return true, nil
		case d.eof:
			return false, d.rerr
		}
	}
}

// fallBack reads the file again with encoding/json, skips the elements
// already returned and carries on from there.
func (d *dayReader) fallBack() ([]byte, int64, error) {
	r, err := d.reopen()
	if err != nil {
		return nil, 0, err
	}
	d.slow, d.buf = newSlowReader(r), nil
	for range d.n {
		if _, _, err := d.slow.next(); err != nil {
			return nil, 0, err // the file changed under us
		}
	}
	return d.slow.next()
}

// slowReader is dayReader on encoding/json's streaming decoder: the
// reference for what a day file holds and for the errors it reports.
type slowReader struct {
	dec   *json.Decoder
	state int // 0 before '[', 1 inside, 2 after ']'
}

func newSlowReader(r io.Reader) *slowReader {
	return &slowReader{dec: json.NewDecoder(r)}
}

// posError is a problem at a byte offset of a file; Import turns the offset
// into line:column.
type posError struct {
	offset int64
	msg    string
}

func (e *posError) Error() string { return fmt.Sprintf("offset %d: %s", e.offset, e.msg) }

// next is dayReader.next.
func (d *slowReader) next() (json.RawMessage, int64, error) {
	switch d.state {
	case 0:
		tok, err := d.dec.Token()
		if err != nil {
			return nil, d.dec.InputOffset(), d.syntax(err, "want a JSON array of messages")
		}
		if delim, ok := tok.(json.Delim); !ok || delim != '[' {
			return nil, 0, &posError{0, "want a JSON array of messages"}
		}
		d.state = 1
	case 2:
		return nil, 0, io.EOF
	}
	if !d.dec.More() {
		if _, err := d.dec.Token(); err != nil { // the closing ']'
			return nil, d.dec.InputOffset(), d.syntax(err, "want ',' or ']'")
		}
		d.state = 2
		if _, err := d.dec.Token(); err != io.EOF {
			return nil, d.dec.InputOffset(), d.syntax(err, "data after the array's closing ']'")
		}
		return nil, 0, io.EOF
	}
	off := d.dec.InputOffset()
	var raw json.RawMessage
	if err := d.dec.Decode(&raw); err != nil {
		return nil, off, d.syntax(err, "want a message object and then ',' or ']'")
	}
	off = d.dec.InputOffset() - int64(len(raw)) // the decoder's offset preceded the separator
	if raw[0] != '{' {
		return nil, off, &posError{off, fmt.Sprintf("want a message object, got %s", kind(raw))}
	}
	return raw, off, nil
}

func (d *slowReader) syntax(err error, what string) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &posError{se.Offset, "invalid JSON: " + se.Error()}
	case errors.As(err, &te):
		return &posError{te.Offset, "invalid JSON: " + te.Error()}
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return &posError{d.dec.InputOffset(), "the file ends early, after this point: " + what}
	case err == nil:
		return &posError{d.dec.InputOffset(), what}
	}
	var pe *posError
	if errors.As(err, &pe) {
		return err
	}
	return err // a read error (size limit, I/O) passes as is
}

func kind(v []byte) string {
	switch v[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// topFields calls fn with each top-level key (raw, without quotes) and value
// of obj, a valid JSON object. It is how messages are read without decoding
// them: only the few fields the importer needs are looked at.
func topFields(obj []byte, fn func(key, val []byte)) {
	i := skipWS(obj, 1)
	for i < len(obj) && obj[i] == '"' {
		kEnd := skipString(obj, i)
		key := obj[i+1 : kEnd-1]
		i = skipWS(obj, kEnd)
		i = skipWS(obj, i+1) // ':'
		vEnd := skipValue(obj, i)
		fn(key, obj[i:vEnd])
		i = skipWS(obj, vEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipWS(obj, i+1)
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(b[i])) {
		i++
	}
	return i
}

// str returns a JSON string value's text ("" for anything else).
func str(v []byte) string {
	if len(v) < 2 || v[0] != '"' {
		return ""
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1])
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// lineCol turns a byte offset of r's content into a 1-based line and column.
func lineCol(r io.Reader, offset int64) (line, col int) {
	line, col = 1, 1
	buf := make([]byte, 32<<10)
	var seen int64
	for seen < offset {
		n, err := r.Read(buf[:min(int64(len(buf)), offset-seen)])
		for _, c := range buf[:n] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		seen += int64(n)
		if err != nil {
			break
		}
	}
	return line, col
}
