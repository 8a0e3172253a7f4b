package slackapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is an injected clock: tests move it, never sleep.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// testAPI returns an API over w with rate limits off unless rl is given.
func testAPI(t testing.TB, w *world, rl ...RateLimit) (*API, *clock) {
	t.Helper()
	c := &clock{t: testNow}
	cfg := Config{Store: w.store(), Now: c.Now, RateLimit: RateLimitOff,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if len(rl) > 0 {
		cfg.RateLimit = rl[0]
	}
	return New(cfg), c
}

// call describes one HTTP request to the API.
type call struct {
	verb        string // default GET, or POST when body or contentType is set
	path        string // default /api/<method>
	method      string
	query       string
	body        string
	contentType string
	token       string // sent as Authorization: Bearer
}

type reply struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, api http.Handler, c call) reply {
	t.Helper()
	verb := c.verb
	if verb == "" {
		verb = http.MethodGet
		if c.body != "" || c.contentType != "" {
			verb = http.MethodPost
		}
	}
	path := c.path
	if path == "" {
		path = "/api/" + c.method
	}
	if c.query != "" {
		path += "?" + c.query
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	r := httptest.NewRequest(verb, path, body)
	if c.contentType != "" {
		r.Header.Set("Content-Type", c.contentType)
	}
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, r)
	return reply{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

// obj decodes the reply as a JSON object, failing on anything else.
func (r reply) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("reply is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// errCode returns the reply's error code ("" when ok).
func (r reply) errCode(t *testing.T) string {
	t.Helper()
	m := r.obj(t)
	if m["ok"] == true {
		return ""
	}
	s, _ := m["error"].(string)
	return s
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func jsonValid(b []byte) bool { return json.Valid(b) }
