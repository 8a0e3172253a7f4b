// Package slackapi serves Slack's Web API (https://slack.com/api/<method>)
// wire-exact, so Slack's official SDKs work against backchannel unchanged.
//
// One dispatch table (methods.go) lists every method with its HTTP verbs,
// content types, rate tier, scopes, token types and handler. A request goes
// through one pipeline: method lookup, argument decoding (query, form and
// JSON merged), authentication, rate limiting, authorization, the handler;
// one place turns errors into {"ok":false,"error":…}. Responses are built by
// appending bytes to pooled buffers: the history handler is on the hot path.
package slackapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/backchannel/backchannel"
)

// Config holds an API's dependencies.
type Config struct {
	Store     backchannel.Store
	Now       func() time.Time // default time.Now; tests inject a clock
	RateLimit RateLimit        // default Slack's tiers
	Limiter   Limiter          // default NewMemoryLimiter()
	Logger    *slog.Logger     // default slog.Default()

	// Analytics serves admin.analytics.getFile; default: Store, when it
	// implements backchannel.AnalyticsStore. Without one the method
	// answers feature_not_enabled.
	Analytics backchannel.AnalyticsStore
	// Settle is how long after a UTC day ends its files become available
	// (and the day is closed): default DefaultSettle; negative means none.
	Settle time.Duration
	// Retention is how far back files are served (file_not_found before);
	// the zero value is DefaultRetention (13 months).
	Retention Retention
}

// API is an http.Handler serving /api/<method> (and /<method>, the base URL
// slack-go's slacktest uses).
type API struct {
	store   backchannel.Store
	now     func() time.Time
	rate    RateLimit
	limiter Limiter
	log     *slog.Logger
	table   map[string]*method

	analytics backchannel.AnalyticsStore
	activity  backchannel.MessageActivityStore // nil: messages.activity is feature_not_enabled
	settle    time.Duration
	retention Retention

	reqs     sync.Pool
	idPrefix string // random per process, so request IDs are unique across restarts
	idSeq    atomic.Uint64
}

// New returns an API over cfg.Store.
func New(cfg Config) *API {
	a := &API{store: cfg.Store, now: cfg.Now, rate: cfg.RateLimit, limiter: cfg.Limiter, log: cfg.Logger}
	if a.now == nil {
		a.now = time.Now
	}
	if a.limiter == nil {
		a.limiter = NewMemoryLimiter()
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.analytics = cfg.Analytics
	if as, ok := cfg.Store.(backchannel.AnalyticsStore); ok && a.analytics == nil {
		a.analytics = as
	}
	// Like Analytics, but without a Config field: no server needs to
	// serve message activity from anything but its store.
	a.activity, _ = cfg.Store.(backchannel.MessageActivityStore)
	a.settle = SettleOrDefault(cfg.Settle)
	a.retention = cfg.Retention
	a.table = make(map[string]*method)
	for _, m := range a.methods() {
		m.prepare()
		a.table[m.name] = m
	}
	a.reqs.New = func() any { return &Request{Args: Args{kv: make([]arg, 0, 16)}} }
	var b [8]byte
	rand.Read(b[:]) //nolint:errcheck // never fails on supported platforms
	a.idPrefix = hex.EncodeToString(b[:])
	return a
}

// Methods lists the supported Slack method names.
func (a *API) Methods() []string {
	names := make([]string, 0, len(a.table))
	for name := range a.table {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// methodName extracts the Slack method from /api/<method> or /<method>.
func methodName(path string) string {
	if rest, ok := strings.CutPrefix(path, "/api/"); ok {
		return rest
	}
	return strings.TrimPrefix(path, "/")
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := a.reqs.Get().(*Request)
	buf := getBuf()
	defer func() {
		clear(req.Args.kv) // don't pin the last body's strings in the pool
		*req = Request{Args: Args{kv: req.Args.kv[:0]}, warnings: req.warnings[:0]}
		a.reqs.Put(req)
		putBuf(buf)
	}()
	req.Method, req.HTTP = methodName(r.URL.Path), r
	h := w.Header()
	setStaticHeaders(h)
	h["X-Slack-Req-Id"] = []string{a.newReqID()}
	status, body, file := a.serve(w, req, buf)
	if file != nil {
		a.streamFile(w, req, file, buf)
		return
	}
	writeJSON(w, status, body)
}

// serve runs the pipeline and renders the reply into buf, or returns the
// file a handler wants streamed instead; a panic anywhere becomes
// internal_error, never a dropped connection or a 500.
func (a *API) serve(w http.ResponseWriter, req *Request, buf *[]byte) (status int, body []byte, file *fileReply) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("slackapi: panic", "method", req.Method, "req_id", w.Header().Get("X-Slack-Req-Id"),
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			status, body, file = http.StatusOK, appendError((*buf)[:0], errInternal, nil, nil), nil
		}
	}()
	resp, err := a.call(req.HTTP.Context(), w, req, buf)
	b := (*buf)[:0]
	if err == nil {
		if f, ok := resp.(*fileReply); ok {
			return http.StatusOK, nil, f
		}
		b = appendOK(b, resp, req.warnings)
		*buf = b
		return http.StatusOK, b, nil
	}
	status = http.StatusOK
	e, public := asError(err)
	var rl *rateLimited
	if errors.As(err, &rl) {
		status, e, public = http.StatusTooManyRequests, errRatelimited, true
		w.Header()["Retry-After"] = []string{strconv.Itoa(rl.seconds)}
	}
	if !public {
		a.log.Error("slackapi: internal error", "method", req.Method,
			"req_id", w.Header().Get("X-Slack-Req-Id"), "err", err)
	}
	b = appendError(b, e, resp, req.warnings)
	*buf = b
	return status, b, nil
}

// call decodes, authenticates, limits and authorizes the request, then runs
// its handler.
func (a *API) call(ctx context.Context, w http.ResponseWriter, req *Request, buf *[]byte) (response, error) {
	m, ok := a.table[req.Method]
	if !ok {
		return unknownMethod{req.Method}, backchannel.Errorf("unknown_method", "no method %q", clip(req.Method))
	}
	if !m.allowsVerb(req.HTTP.Method) {
		return nil, backchannel.Errorf("method_not_allowed", "%s does not accept %s", m.name, req.HTTP.Method)
	}
	bodyToken, err := decodeArgs(req, req.HTTP, m, buf)
	if err != nil {
		return nil, err
	}
	principal := clientAddr(req.HTTP)
	if m.tokens != 0 {
		if err := a.authenticate(ctx, req, m, bodyToken); err != nil {
			return nil, err
		}
		principal = req.Token.Hash
		w.Header()["X-Oauth-Scopes"] = []string{strings.Join(req.Token.Scopes, ",")}
	}
	if len(m.scopes) > 0 {
		w.Header()["X-Accepted-Oauth-Scopes"] = m.acceptedScopes
	}
	if err := a.limit(ctx, m, principal); err != nil {
		return nil, err
	}
	if m.tokens != 0 {
		if err := authorize(req, m); err != nil {
			return nil, err
		}
	}
	return m.handle(ctx, req)
}

// rateLimited is the error of a request over its limit: HTTP 429.
type rateLimited struct{ seconds int }

func (e *rateLimited) Error() string { return "ratelimited" }

// limit applies the method's tier. A Limiter failure lets the request
// through: rate limiting protects the server, it must not take it down.
func (a *API) limit(ctx context.Context, m *method, principal string) error {
	if a.rate.Off() {
		return nil
	}
	wait, err := a.limiter.Allow(ctx, LimitKey{Principal: principal, Method: m.name}, a.rate.limitFor(m.tier), a.now())
	if err != nil {
		a.log.Warn("slackapi: rate limiter failed; allowing request", "method", m.name, "err", err)
		return nil
	}
	if wait > 0 {
		return &rateLimited{retryAfterSeconds(wait)}
	}
	return nil
}

var errRatelimited = &backchannel.Error{Code: "ratelimited"}

func clientAddr(r *http.Request) string {
	addr := r.RemoteAddr
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		return addr[:i]
	}
	return addr
}

func (a *API) newReqID() string {
	var b [32]byte
	copy(b[:16], a.idPrefix)
	n := a.idSeq.Add(1)
	for i := 31; i >= 16; i-- {
		b[i] = hexDigits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// unknownMethod adds req_method to the unknown_method error, as Slack does.
type unknownMethod struct{ name string }

func (u unknownMethod) appendFields(b []byte) []byte {
	b = append(b, `,"req_method":`...)
	return appendString(b, u.name)
}

func (unknownMethod) appendCursor(b []byte) []byte { return b }
