package ingest

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// This file holds a small hand-written JSON scanner. Decoding is on the
// ingest hot path: splitting the top-level object once, validating every
// value on the way, and keeping the raw bytes of each value lets a message be
// validated and re-emitted (with its keys in their original order) in one
// pass, where encoding/json would need two (a map plus a key-order scan).

// maxDepth bounds nesting so a hostile line cannot exhaust the stack.
const maxDepth = 512

// field is one top-level member of an event object.
type field struct {
	key []byte // the key, unescaped
	raw []byte // the key as written, quotes included (for re-emitting it)
	val []byte // the value's raw bytes, validated
}

// jsonError is a syntax error at a byte offset of the line.
type jsonError struct {
	off int
	msg string
}

func (e *jsonError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.off) }

// splitObject splits line, which must be one JSON object, into its top-level
// fields, appending them to fs. Every value is fully validated. Duplicate
// keys are the caller's concern.
func splitObject(line []byte, fs []field) ([]field, error) {
	if !utf8.Valid(line) {
		return fs, &jsonError{off: invalidUTF8At(line), msg: "invalid UTF-8"}
	}
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return fs, &jsonError{off: i, msg: "want an object " + describe(line, i)}
	}
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		return fs, trailing(line, i+1)
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return fs, &jsonError{off: i, msg: "want a key " + describe(line, i)}
		}
		end, esc, err := scanString(line, i)
		if err != nil {
			return fs, err
		}
		f := field{key: line[i+1 : end-1], raw: line[i:end]}
		if esc {
			var s string
			if err := json.Unmarshal(f.raw, &s); err != nil {
				return fs, &jsonError{off: i, msg: "invalid key"}
			}
			f.key = []byte(s)
		}
		i = skipWS(line, end)
		if i >= len(line) || line[i] != ':' {
			return fs, &jsonError{off: i, msg: "want ':' " + describe(line, i)}
		}
		i = skipWS(line, i+1)
		start := i
		if i, err = scanValue(line, i, 0); err != nil {
			return fs, err
		}
		f.val = line[start:i]
		fs = append(fs, f)
		i = skipWS(line, i)
		if i < len(line) && line[i] == ',' {
			i = skipWS(line, i+1)
			continue
		}
		if i < len(line) && line[i] == '}' {
			return fs, trailing(line, i+1)
		}
		return fs, &jsonError{off: i, msg: "want ',' or '}' " + describe(line, i)}
	}
}

func trailing(b []byte, i int) error {
	if i = skipWS(b, i); i < len(b) {
		return &jsonError{off: i, msg: "unexpected data after the object"}
	}
	return nil
}

// describe names what sits at b[i], for error messages.
func describe(b []byte, i int) string {
	if i >= len(b) {
		return "but the line ended"
	}
	return fmt.Sprintf("but found %q", b[i])
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// scanValue validates the value starting at b[i] and returns its end.
func scanValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, &jsonError{off: i, msg: "want a value at end of line"}
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, err
	case c == '{':
		return scanObject(b, i, depth+1)
	case c == '[':
		return scanArray(b, i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	}
	return i, &jsonError{off: i, msg: "want a value " + describe(b, i)}
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, &jsonError{off: i, msg: "invalid literal"}
	}
	return i + len(lit), nil
}

// scanString validates the string starting at the quote b[i] and returns
// the index after its closing quote and whether it holds escapes.
func scanString(b []byte, i int) (end int, esc bool, err error) {
	for j := i + 1; j < len(b); j++ {
		// Most bytes are plain: skip runs of them with one table lookup each.
		for j < len(b) && plain[b[j]] {
			j++
		}
		if j >= len(b) {
			break
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, esc, nil
		case c == '\\':
			esc = true
			j++
			if j >= len(b) {
				break
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-j < 5 || !isHex4(b[j+1:j+5]) {
					return j, esc, &jsonError{off: j, msg: "invalid \\u escape"}
				}
				j += 4
			default:
				return j, esc, &jsonError{off: j, msg: "invalid escape"}
			}
		case c < 0x20:
			return j, esc, &jsonError{off: j, msg: "control character in string"}
		}
	}
	return len(b), esc, &jsonError{off: i, msg: "unterminated string"}
}

// plain marks the bytes that need no attention inside a string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// scanNumber validates a JSON number: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func scanNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return i, &jsonError{off: start, msg: "invalid number"}
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return j, &jsonError{off: start, msg: "invalid number"}
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return j, &jsonError{off: start, msg: "invalid number"}
		}
		i = j
	}
	return i, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func scanObject(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, &jsonError{off: i, msg: "nested too deeply"}
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, &jsonError{off: i, msg: "want a key " + describe(b, i)}
		}
		end, _, err := scanString(b, i)
		if err != nil {
			return end, err
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return i, &jsonError{off: i, msg: "want ':' " + describe(b, i)}
		}
		if i, err = scanValue(b, skipWS(b, i+1), depth); err != nil {
			return i, err
		}
		i = skipWS(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		return i, &jsonError{off: i, msg: "want ',' or '}' " + describe(b, i)}
	}
}

func scanArray(b []byte, i, depth int) (int, error) {
	_, end, err := arrayElems(b, i, depth, nil)
	return end, err
}

// arrayElems validates the array at b[i], calling each (when not nil) with
// every element's raw bytes, and returns the element count and the end.
func arrayElems(b []byte, i, depth int, each func([]byte) error) (n, end int, err error) {
	if depth > maxDepth {
		return 0, i, &jsonError{off: i, msg: "nested too deeply"}
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return 0, i + 1, nil
	}
	for {
		start := i
		if i, err = scanValue(b, i, depth); err != nil {
			return n, i, err
		}
		n++
		if each != nil {
			if err := each(b[start:i]); err != nil {
				return n, i, err
			}
		}
		i = skipWS(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return n, i + 1, nil
		}
		return n, i, &jsonError{off: i, msg: "want ',' or ']' " + describe(b, i)}
	}
}

// ValidJSON reports whether b is exactly one JSON value, without
// surrounding whitespace, nested at most 512 deep. Unlike encoding/json's
// Valid it does not check UTF-8 (Decode does, per line).
func ValidJSON(b []byte) bool {
	end, ok := ValueEnd(b)
	return ok && end == len(b)
}

// ValueEnd validates the JSON value at the start of b as ValidJSON does and
// returns where it ends; ok is false when b does not start with one (also
// when it is cut short).
func ValueEnd(b []byte) (end int, ok bool) {
	end, err := scanValue(b, 0, 0)
	return end, err == nil
}
