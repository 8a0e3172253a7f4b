package slackapi

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/backchannel/backchannel"
)

// Header values shared by every reply, as []string so they are assigned to
// the header map without allocating. Canonical keys for the same reason.
var (
	hdrJSON   = []string{"application/json; charset=utf-8"}
	hdrStatic = [...][2]string{
		{"Cache-Control", "private, no-cache, no-store, must-revalidate"},
		{"Pragma", "no-cache"},
		{"Expires", "Mon, 26 Jul 1997 05:00:00 GMT"},
		{"Access-Control-Allow-Origin", "*"},
		{"Access-Control-Expose-Headers", "x-slack-req-id, retry-after"},
		{"Referrer-Policy", "no-referrer"},
		{"X-Content-Type-Options", "nosniff"},
		{"X-Xss-Protection", "0"},
		{"Vary", "Accept-Encoding"},
	}
	hdrStaticValues = func() (v [len(hdrStatic)][]string) {
		for i, kv := range hdrStatic {
			v[i] = []string{kv[1]}
		}
		return v
	}()
)

// bufPool holds response buffers; a history page of 100 messages is ~30 KB.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 1<<20 { // don't pin a huge page's buffer forever
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// appendOK renders a successful reply.
func appendOK(b []byte, resp response, warnings []string) []byte {
	b = append(b, `{"ok":true`...)
	b = resp.appendFields(b)
	return appendTail(b, resp, warnings)
}

// appendError renders {"ok":false,"error":…} with Slack's extra members:
// needed/provided for missing_scope, and whatever the handler added.
func appendError(b []byte, e *backchannel.Error, resp response, warnings []string) []byte {
	b = append(b, `{"ok":false,"error":`...)
	b = appendString(b, e.Code)
	if e.Needed != "" || e.Code == "missing_scope" {
		b = append(b, `,"needed":`...)
		b = appendString(b, e.Needed)
		b = append(b, `,"provided":`...)
		b = appendString(b, e.Provided)
	}
	if resp != nil {
		b = resp.appendFields(b)
	}
	return appendTail(b, resp, warnings)
}

// appendTail closes the object: "warning" as a comma-separated string, then
// response_metadata with next_cursor and warnings, as Slack orders them.
func appendTail(b []byte, resp response, warnings []string) []byte {
	if len(warnings) > 0 {
		b = append(b, `,"warning":"`...)
		for i, w := range warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, w...) // our own codes: JSON-safe
		}
		b = append(b, '"')
	}
	mark := len(b)
	b = append(b, `,"response_metadata":{"next_cursor":"`...)
	n := len(b)
	if resp != nil {
		b = resp.appendCursor(b)
	}
	hasCursor := len(b) > n
	if !hasCursor {
		b = append(b[:mark], `,"response_metadata":{`...)
	} else {
		b = append(b, '"')
	}
	if len(warnings) > 0 {
		if hasCursor {
			b = append(b, ',')
		}
		b = append(b, `"warnings":[`...)
		for i, w := range warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, w...)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	if !hasCursor && len(warnings) == 0 {
		// The last page carries no response_metadata at all.
		return append(b[:mark], '}')
	}
	return append(b, "}}"...)
}

// asError maps a handler's error to the code the client sees. Anything that
// is not an *Error (or is marked internal) becomes internal_error, and
// logged is false so the caller logs it.
func asError(err error) (e *backchannel.Error, public bool) {
	var ie *internalError
	if errors.As(err, &ie) {
		return errInternal, false
	}
	if errors.As(err, &e) {
		return e, true
	}
	return errInternal, false
}

var errInternal = &backchannel.Error{Code: "internal_error"}

// internalError hides a store error's code from the client: a lookup that
// should not fail (the caller's own team) is our fault, not theirs.
type internalError struct{ err error }

func (e *internalError) Error() string { return e.err.Error() }
func (e *internalError) Unwrap() error { return e.err }

func internal(err error) error { return &internalError{err} }

// writeJSON sends b with the common headers; status is 200 except for 429.
func writeJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck // the client went away; nothing to do
}

func setStaticHeaders(h http.Header) {
	for i, kv := range hdrStatic {
		h[kv[0]] = hdrStaticValues[i]
	}
}

// appendString appends s as a JSON string the way Slack's PHP encoder does:
// '/' escaped as '\/', control characters and U+2028/2029 as \u escapes,
// invalid UTF-8 replaced by U+FFFD, other text as UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '/' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\', '/':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, `\u00`...)
				b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			if r == utf8.RuneError {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, `\u202`...)
				b = append(b, hexDigits[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"
