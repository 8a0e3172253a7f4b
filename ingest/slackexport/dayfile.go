package slackexport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// dayReader streams one day file, a JSON array of message objects, one
// element at a time: a day file is never held whole.
type dayReader struct {
	dec   *json.Decoder
	state int // 0 before '[', 1 inside, 2 after ']'
	start int64
}

func newDayReader(r io.Reader) *dayReader {
	return &dayReader{dec: json.NewDecoder(r)}
}

// posError is a problem at a byte offset of a file; Import turns the offset
// into line:column.
type posError struct {
	offset int64
	msg    string
}

func (e *posError) Error() string { return fmt.Sprintf("offset %d: %s", e.offset, e.msg) }

// next returns the next message object (valid JSON, its bytes owned by the
// caller until the following call) and the offset it starts at; io.EOF
// after the array has ended.
func (d *dayReader) next() (json.RawMessage, int64, error) {
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

func (d *dayReader) syntax(err error, what string) error {
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
