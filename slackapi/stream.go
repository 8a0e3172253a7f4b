package slackapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
)

// fileReply is a handler's non-JSON success: a file streamed as the body in
// place of the {"ok":true} envelope (admin.analytics.getFile). Everything
// that can fail cleanly (arguments, permissions, opening the file) happens
// in the handler before it returns one, so a fileReply normally only copies.
type fileReply struct {
	noCursor
	contentType string // sent exactly: Node compares it with ===
	filename    string // Content-Disposition attachment name; "" for none
	// write streams the body. An error before its first byte still becomes
	// a JSON error; after it the connection is aborted.
	write func(w io.Writer) error
	close func() error // releases what the handler opened; may be nil
}

func (*fileReply) appendFields(b []byte) []byte { return b }

// streamFile sends f. Headers (and the 200) go out with the first byte, so
// a failure before any data is still a proper {"ok":false} reply.
func (a *API) streamFile(w http.ResponseWriter, req *Request, f *fileReply, buf *[]byte) {
	if f.close != nil {
		defer func() {
			if err := f.close(); err != nil {
				a.log.Warn("slackapi: closing streamed file", "method", req.Method, "err", err)
			}
		}()
	}
	fw := &fileWriter{w: w, f: f}
	err := a.runWrite(req, fw, f)
	if err == nil {
		fw.start() // an empty body still gets its headers
		return
	}
	if !fw.started {
		e, public := asError(err)
		if !public {
			a.log.Error("slackapi: internal error", "method", req.Method,
				"req_id", w.Header().Get("X-Slack-Req-Id"), "err", err)
		}
		writeJSON(w, http.StatusOK, appendError((*buf)[:0], e, nil, req.warnings))
		return
	}
	if errors.Is(err, errClientGone) {
		return // nothing to tell a client that left
	}
	a.log.Error("slackapi: streaming aborted", "method", req.Method,
		"req_id", w.Header().Get("X-Slack-Req-Id"), "bytes", fw.n, "err", err)
	// Ending the chunked body normally would hand the client a complete
	// response with a truncated file; aborting makes the failure visible.
	panic(http.ErrAbortHandler)
}

// runWrite calls f.write, turning a panic into an error like serve does.
func (a *API) runWrite(req *Request, fw *fileWriter, f *fileReply) (err error) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("slackapi: panic while streaming", "method", req.Method,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return f.write(fw)
}

// errClientGone marks a failed write to the client (as opposed to a failed
// read of the file): the client hung up, which is not our error.
var errClientGone = errors.New("client gone")

// fileWriter sends the file's headers on the first Write.
type fileWriter struct {
	w       http.ResponseWriter
	f       *fileReply
	started bool
	n       int64
}

func (fw *fileWriter) start() {
	if fw.started {
		return
	}
	fw.started = true
	h := fw.w.Header()
	h["Content-Type"] = []string{fw.f.contentType}
	if fw.f.filename != "" {
		h["Content-Disposition"] = []string{contentDisposition(fw.f.filename)}
	}
	// The length is unknown until the end: chunked. No Content-Encoding,
	// ever: the gzip is the file, and the Java SDK's OkHttp would
	// otherwise unzip it before its own GZIPInputStream does.
	delete(h, "Content-Length")
	delete(h, "Content-Encoding")
	fw.w.WriteHeader(http.StatusOK)
}

func (fw *fileWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	fw.start()
	n, err := fw.w.Write(p)
	fw.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("%w: %w", errClientGone, err)
	}
	return n, nil
}

// contentDisposition renders an attachment header for name: a quoted ASCII
// filename (quotes and backslashes escaped, anything else outside printable
// ASCII replaced by '_') and, when name is not plain ASCII, RFC 5987's
// filename* parameter (UTF-8, percent-encoded), which browsers and curl -J
// prefer.
func contentDisposition(name string) string {
	var ascii strings.Builder
	plain := true
	for _, r := range name {
		switch {
		case r == '"' || r == '\\':
			ascii.WriteByte('\\')
			ascii.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			ascii.WriteRune(r)
		default:
			ascii.WriteByte('_')
			plain = false
		}
	}
	v := `attachment; filename="` + ascii.String() + `"`
	if plain {
		return v
	}
	ext := []byte("; filename*=UTF-8''")
	for i := 0; i < len(name); i++ {
		if c := name[i]; isAttrChar(c) {
			ext = append(ext, c)
		} else {
			ext = append(ext, '%', upperHex[c>>4], upperHex[c&0xf])
		}
	}
	return v + string(ext)
}

const upperHex = "0123456789ABCDEF"

// isAttrChar reports whether c may appear unescaped in an RFC 5987 value.
func isAttrChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
