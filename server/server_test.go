package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/sqlite"
)

// stubAPI answers 200, or 429 for the method "slow.down".
type stubAPI struct{}

func (stubAPI) Methods() []string { return []string{"conversations.history", "slow.down"} }
func (stubAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/slow.down") {
		w.WriteHeader(http.StatusTooManyRequests)
	}
	io.WriteString(w, `{"ok":true}`)
}

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(Config{Store: db, API: stubAPI{}}))
	t.Cleanup(func() { ts.Close(); db.Close() })
	return ts
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRoutes(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/healthz", 200, `{"ok":true}`},
		{"/readyz", 200, `"ok":true`},
		{"/api/conversations.history", 200, `{"ok":true}`},
		{"/api//conversations.history", 200, `{"ok":true}`}, // never redirected: the Slack layer answers
		{"/nope", 404, `"error":"not_found"`},
		{"/api", 404, `"error":"not_found"`},
	} {
		status, body := get(t, ts.URL+tc.path)
		if status != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s: %d %q, want %d containing %q", tc.path, status, body, tc.status, tc.body)
		}
	}
}

func TestAPIMetrics(t *testing.T) {
	ts := newTestServer(t)
	for _, p := range []string{"conversations.history", "conversations.history", "slow.down", "no.such.method"} {
		get(t, ts.URL+"/api/"+p)
	}
	_, m := get(t, ts.URL+"/metrics")
	for _, want := range []string{
		`backchannel_api_requests_total{method="conversations.history",status="200"} 2`,
		`backchannel_api_requests_total{method="slow.down",status="429"} 1`,
		`backchannel_api_requests_total{method="unknown",status="200"} 1`,
		`backchannel_api_request_seconds_count{method="conversations.history"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
