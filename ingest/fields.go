package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/backchannel/backchannel"
)

// fields reads typed values out of a split object and keeps the first
// validation error, so per-type decoders read like a field list and check
// once at the end.
type fields struct {
	line   int
	prefix string // prepended to field names in errors ("message." for nested)
	fs     []field
	err    error
	ids    interner // nil: IDs are not interned
}

func (r *fields) fail(name, format string, args ...any) {
	if r.err == nil {
		r.err = &backchannel.EventError{Line: r.line, Field: r.prefix + name, Detail: fmt.Sprintf(format, args...)}
	}
}

// get returns the raw value of name; a JSON null counts as absent.
func (r *fields) get(name string) ([]byte, bool) {
	for i := range r.fs {
		if string(r.fs[i].key) == name {
			v := r.fs[i].val
			return v, !isNull(v)
		}
	}
	return nil, false
}

func isNull(v []byte) bool { return len(v) == 4 && v[0] == 'n' }

// strVal decodes a JSON string value.
func (r *fields) strVal(name string, v []byte) string {
	s, ok := unquote(v)
	if !ok {
		r.fail(name, "must be a string, got %s", kindOf(v))
	}
	return s
}

// idStr is strVal for the values that repeat from event to event (IDs,
// types): interned when the string has no escapes.
func (r *fields) idStr(name string, v []byte) string {
	if r.ids != nil && len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
		return r.ids.get(v[1 : len(v)-1])
	}
	return r.strVal(name, v)
}

// unquote returns the string a validated JSON string value holds.
func unquote(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

func kindOf(v []byte) string {
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

// str returns an optional string field ("" when absent).
func (r *fields) str(name string) string {
	v, ok := r.get(name)
	if !ok {
		return ""
	}
	return r.strVal(name, v)
}

// reqStr returns a required, non-empty string field.
func (r *fields) reqStr(name string) string {
	v, ok := r.get(name)
	if !ok {
		r.fail(name, "required")
		return ""
	}
	s := r.idStr(name, v)
	if s == "" && r.err == nil {
		r.fail(name, "must not be empty")
	}
	return s
}

// strOrNum returns a string field that exports sometimes write as a number
// (employee numbers), as text.
func (r *fields) strOrNum(name string) string {
	v, ok := r.get(name)
	if !ok {
		return ""
	}
	if v[0] == '-' || v[0] >= '0' && v[0] <= '9' {
		return string(v)
	}
	return r.strVal(name, v)
}

// boolean returns a boolean field, def when absent.
func (r *fields) boolean(name string, def bool) bool {
	v, ok := r.get(name)
	if !ok {
		return def
	}
	switch string(v) {
	case "true":
		return true
	case "false":
		return false
	}
	r.fail(name, "must be a boolean, got %s", kindOf(v))
	return def
}

// integer returns a non-negative integer field (Unix seconds), 0 when absent.
func (r *fields) integer(name string) int64 {
	v, ok := r.get(name)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n < 0 {
		r.fail(name, "must be a non-negative integer, got %s", v)
	}
	return n
}

// tsVal parses a timestamp given as a string or a JSON number. A number is
// parsed from its literal text, never through float64, so microseconds stay
// exact.
func (r *fields) tsVal(name string, v []byte) backchannel.TS {
	lit := v
	if v[0] == '"' {
		lit = v[1 : len(v)-1]
	}
	if ts, ok := fastTS(lit); ok {
		return ts
	}
	var s string
	if v[0] == '"' {
		s = r.strVal(name, v)
	} else if v[0] == '-' || v[0] >= '0' && v[0] <= '9' {
		s = string(v)
	} else {
		r.fail(name, "must be a timestamp string or number, got %s", kindOf(v))
		return 0
	}
	ts, err := backchannel.ParseTS(s)
	if err != nil {
		r.fail(name, "%s", err.Error())
	}
	return ts
}

// fastTS parses the canonical form "<seconds>.<6 digits>" that nearly every
// line carries; anything else goes to backchannel.ParseTS, which accepts the
// same language, so results never differ.
func fastTS(s []byte) (backchannel.TS, bool) {
	n := len(s) - 7
	if n < 1 || n > 12 || s[n] != '.' {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		if i == n {
			continue
		}
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return backchannel.TS(v), true
}

// ts returns a timestamp field; 0 when absent and not required.
func (r *fields) ts(name string, required bool) backchannel.TS {
	v, ok := r.get(name)
	if !ok {
		if required {
			r.fail(name, "required")
		}
		return 0
	}
	return r.tsVal(name, v)
}

// enum returns a string field that must be one of allowed ("" when absent
// and not required).
func (r *fields) enum(name string, required bool, allowed ...string) string {
	var s string
	if required {
		s = r.reqStr(name)
	} else {
		s = r.str(name)
	}
	if s == "" || r.err != nil {
		return s
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	r.fail(name, "invalid value %q (want one of %s)", s, quoteList(allowed))
	return s
}

func quoteList(xs []string) string {
	var b []byte
	for i, x := range xs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendQuote(b, x)
	}
	return string(b)
}

// date returns an optional YYYY-MM-DD field.
func (r *fields) date(name string) string {
	s := r.str(name)
	if s == "" {
		return ""
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		r.fail(name, "invalid date %q (want YYYY-MM-DD)", s)
	}
	return s
}

// duplicateKey returns a key that occurs twice in fs, or nil. Events are
// small, so a quadratic scan beats building a map; a hostile line with very
// many keys gets the map.
func duplicateKey(fs []field) []byte {
	if len(fs) > 32 {
		seen := make(map[string]bool, len(fs))
		for _, f := range fs {
			if seen[string(f.key)] {
				return f.key
			}
			seen[string(f.key)] = true
		}
		return nil
	}
	for i := 1; i < len(fs); i++ {
		for j := 0; j < i; j++ {
			if bytes.Equal(fs[i].key, fs[j].key) {
				return fs[i].key
			}
		}
	}
	return nil
}
