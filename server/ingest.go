package server

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/ingest"
)

// ingestHandler serves POST /ingest/events: NDJSON events, all stored or none.
type ingestHandler struct {
	store     backchannel.Store
	maxBytes  int64
	maxEvents int
	log       *slog.Logger

	events   *prometheus.CounterVec
	requests *prometheus.CounterVec
}

func newIngestHandler(st backchannel.Store, maxBytes int64, maxEvents int, log *slog.Logger, reg prometheus.Registerer) *ingestHandler {
	h := &ingestHandler{store: st, maxBytes: maxBytes, maxEvents: maxEvents, log: log,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backchannel_ingest_events_total", Help: "Events received on /ingest/events, by outcome.",
		}, []string{"outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backchannel_ingest_requests_total", Help: "Requests to /ingest/events, by error code (\"ok\" on success).",
		}, []string{"code"}),
	}
	reg.MustRegister(h.events, h.requests)
	return h
}

// ingestError is our own endpoint's error body (not Slack's).
type ingestError struct {
	status int
	Code   string `json:"error"`
	Line   int    `json:"line,omitempty"`
	Field  string `json:"field,omitempty"`
	Detail string `json:"detail,omitempty"`
}

func (h *ingestHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res, ie := h.serve(r)
	if ie != nil {
		h.requests.WithLabelValues(ie.Code).Inc()
		writeJSON(w, ie.status, struct {
			OK bool `json:"ok"`
			*ingestError
		}{false, ie})
		return
	}
	h.requests.WithLabelValues("ok").Inc()
	h.events.WithLabelValues("accepted").Add(float64(res.Accepted))
	h.events.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
		backchannel.ApplyResult
	}{true, res})
}

func (h *ingestHandler) serve(r *http.Request) (backchannel.ApplyResult, *ingestError) {
	var none backchannel.ApplyResult
	if r.Method != http.MethodPost {
		return none, &ingestError{status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Detail: "use POST"}
	}
	if ie := h.authorize(r); ie != nil {
		return none, ie
	}
	body := io.Reader(http.MaxBytesReader(nil, r.Body, h.maxBytes))
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return none, h.bodyError(err, "Content-Encoding is gzip but the body is not gzip")
		}
		defer zr.Close()
		// The limit applies to the decompressed stream too: a small gzip
		// bomb must not exhaust memory.
		body = &limitedReader{r: zr, n: h.maxBytes, max: h.maxBytes}
	default:
		return none, &ingestError{status: http.StatusUnsupportedMediaType, Code: "unsupported_encoding",
			Detail: fmt.Sprintf("Content-Encoding %q is not supported; use gzip or none", enc)}
	}
	events, err := ingest.DecodeAll(body, h.maxEvents)
	if err != nil {
		return none, h.bodyError(err, "")
	}
	res, err := h.store.Apply(r.Context(), events)
	if err != nil {
		var ee *backchannel.EventError
		if errors.As(err, &ee) {
			return none, eventError(ee)
		}
		h.log.Error("ingest apply", "err", err)
		return none, &ingestError{status: http.StatusServiceUnavailable, Code: "store_error", Detail: "the store failed; the batch may not have been stored: send it again (a retry is deduplicated)"}
	}
	return res, nil
}

func (h *ingestHandler) authorize(r *http.Request) *ingestError {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok == "" {
		return &ingestError{status: http.StatusUnauthorized, Code: "not_authed", Detail: "send Authorization: Bearer <token with scope backchannel:ingest>"}
	}
	t, err := h.store.TokenByHash(r.Context(), backchannel.HashToken(strings.TrimSpace(tok)))
	switch {
	case err != nil && backchannel.ErrorCode(err) == backchannel.ETokenNotFound:
		return &ingestError{status: http.StatusUnauthorized, Code: "invalid_auth"}
	case err != nil:
		h.log.Error("ingest auth", "err", err)
		return &ingestError{status: http.StatusServiceUnavailable, Code: "store_error"}
	case t.Revoked():
		return &ingestError{status: http.StatusUnauthorized, Code: "token_revoked"}
	case !t.HasScope(backchannel.ScopeIngest):
		return &ingestError{status: http.StatusForbidden, Code: "missing_scope", Detail: "needed: " + backchannel.ScopeIngest}
	}
	return nil
}

func (h *ingestHandler) bodyError(err error, detail string) *ingestError {
	var mbe *http.MaxBytesError
	var tle *tooLargeError
	var ee *backchannel.EventError
	switch {
	case errors.As(err, &mbe), errors.As(err, &tle):
		return &ingestError{status: http.StatusRequestEntityTooLarge, Code: "request_too_large",
			Detail: fmt.Sprintf("the body exceeds %d bytes (flag --max-ingest-bytes); split it into smaller requests", h.maxBytes)}
	case errors.As(err, &ee):
		return eventError(ee)
	}
	if detail == "" {
		detail = err.Error()
	}
	return &ingestError{status: http.StatusBadRequest, Code: "invalid_body", Detail: detail}
}

func eventError(ee *backchannel.EventError) *ingestError {
	return &ingestError{status: http.StatusBadRequest, Code: backchannel.EInvalidEvent, Line: ee.Line, Field: ee.Field, Detail: ee.Error()}
}

// limitedReader fails (instead of truncating silently) past max bytes.
type limitedReader struct {
	r      io.Reader
	n, max int64
}

type tooLargeError struct{ max int64 }

func (e *tooLargeError) Error() string { return fmt.Sprintf("body exceeds %d bytes", e.max) }

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Allow a clean EOF exactly at the limit.
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, &tooLargeError{l.max}
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"ok":false,"error":"internal_error"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
