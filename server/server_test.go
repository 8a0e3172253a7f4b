package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
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

// failingStore fails every Apply, as a store whose disk went away does.
type failingStore struct{ *sqlite.DB }

func (failingStore) Apply(context.Context, []backchannel.Event) (backchannel.ApplyResult, error) {
	return backchannel.ApplyResult{}, errors.New("sqlite: sync WAL: input/output error")
}

// TestIngestStoreError: a store failure is a 503 whose body says the batch
// may not have been stored and is safe to send again, not a 500.
func TestIngestStoreError(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateToken(ctx, backchannel.Token{ID: "T1", Hash: backchannel.HashToken("xoxp-ingest"), UserID: "W1",
		Scopes: []string{backchannel.ScopeIngest}}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(Config{Store: failingStore{db}, API: stubAPI{}}))
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/ingest/events", strings.NewReader(`{"type":"channel","id":"C1","team_id":"T1","name":"general","kind":"public"}`+"\n"))
	req.Header.Set("Authorization", "Bearer xoxp-ingest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), `"error":"store_error"`) ||
		!strings.Contains(string(b), "may not have been stored") || !strings.Contains(string(b), "deduplicated") {
		t.Fatalf("POST /ingest/events on a failing store: %d %s", resp.StatusCode, b)
	}
}
