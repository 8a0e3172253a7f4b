package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/server"
	"github.com/backchannel/backchannel/slackapi"
	"github.com/backchannel/backchannel/sqlite"
)

type ingestReply struct {
	status     int
	OK         bool   `json:"ok"`
	Accepted   int    `json:"accepted"`
	Duplicates int    `json:"duplicates"`
	Error      string `json:"error"`
	Line       int    `json:"line"`
	Field      string `json:"field"`
	Detail     string `json:"detail"`
}

func postIngest(t *testing.T, base, token string, body []byte, header map[string]string) ingestReply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/ingest/events", bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var r ingestReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decode reply: %v", err)
	}
	r.status = resp.StatusCode
	return r
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestIngestEndpoint(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		f := newFixture(t, open, 10, "off")
		base := f.srv.URL
		msg := func(ts, text string) string {
			return `{"type":"message","channel":"` + f.bigChannel + `","user":"` + userMember + `","ts":"` + ts + `","text":"` + text + `"}`
		}
		count := func() int {
			t.Helper()
			p, err := f.srv.Store.History(context.Background(), backchannel.HistoryQuery{Channel: f.bigChannel, Hi: backchannel.MaxTS, Limit: 999})
			if err != nil {
				t.Fatal(err)
			}
			return len(p.Messages)
		}
		before := count()

		good := msg("1500000000.000001", "a") + "\n\n" + msg("1500000000.000002", "b") + "\n"
		if r := postIngest(t, base, f.ingr, []byte(good), nil); !r.OK || r.Accepted != 2 || r.Duplicates != 0 {
			t.Fatalf("good batch: %+v", r)
		}
		// Replaying is a no-op; identical lines are duplicates, gzip or not.
		if r := postIngest(t, base, f.ingr, gz([]byte(good)), map[string]string{"Content-Encoding": "gzip"}); !r.OK || r.Accepted != 0 || r.Duplicates != 2 {
			t.Fatalf("replay: %+v", r)
		}
		if got, want := count(), before+2; got != want {
			t.Fatalf("after replay: %d messages, want %d", got, want)
		}

		cases := []struct {
			name   string
			token  string
			body   []byte
			header map[string]string
			status int
			code   string
			line   int
			field  string
		}{
			{"bad ts on line 3, nothing stored", f.ingr, []byte(msg("1500000000.000003", "c") + "\n" + msg("1500000000.000004", "d") + "\n" + msg("12x", "e")), nil, 400, "invalid_event", 3, "ts"},
			{"unknown channel, nothing stored", f.ingr, []byte(msg("1500000000.000005", "f") + "\n" + `{"type":"message","channel":"C0NOWHERE1","user":"W0MEMBER1","ts":"1500000000.000006"}`), nil, 400, "invalid_event", 2, "channel"},
			{"not JSON", f.ingr, []byte("{nope\n"), nil, 400, "invalid_event", 1, ""},
			{"gzip header, plain body", f.ingr, []byte(good), map[string]string{"Content-Encoding": "gzip"}, 400, "invalid_body", 0, ""},
			{"unknown encoding", f.ingr, []byte(good), map[string]string{"Content-Encoding": "br"}, 415, "unsupported_encoding", 0, ""},
			{"no token", "", []byte(good), nil, 401, "not_authed", 0, ""},
			{"unknown token", "xoxp-nope", []byte(good), nil, 401, "invalid_auth", 0, ""},
			{"token without backchannel:ingest", f.member, []byte(good), nil, 403, "missing_scope", 0, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := postIngest(t, base, tc.token, tc.body, tc.header)
				if r.OK || r.status != tc.status || r.Error != tc.code || r.Line != tc.line || (tc.field != "" && r.Field != tc.field) {
					t.Fatalf("got status %d %+v, want %d %s line %d field %q", r.status, r, tc.status, tc.code, tc.line, tc.field)
				}
				if r.Detail == "" && tc.status != 401 {
					t.Errorf("no detail in %+v", r)
				}
			})
		}
		if got, want := count(), before+2; got != want {
			t.Fatalf("after failed batches: %d messages, want %d (a failed request stored something)", got, want)
		}
	})
}

// A body over the limit — as sent or after gunzipping — is refused whole.
func TestIngestBodyLimit(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tok := mintToken(t, db, userAdmin, teamID, false, backchannel.ScopeIngest)
	api := slackapi.New(slackapi.Config{Store: db})
	srv := httptest.NewServer(server.New(server.Config{Store: db, API: api, MaxIngestBytes: 1000}))
	defer srv.Close()

	big := bytes.Repeat([]byte(`{"type":"team","id":"T0TEAM001","name":"padding padding padding"}`+"\n"), 100)
	for name, c := range map[string]struct {
		body   []byte
		header map[string]string
	}{
		"plain":   {big, nil},
		"gzipped": {gz(big), map[string]string{"Content-Encoding": "gzip"}}, // small on the wire, big inside
	} {
		t.Run(name, func(t *testing.T) {
			if name == "gzipped" && len(c.body) > 1000 {
				t.Fatalf("test setup: gzipped body is %d bytes", len(c.body))
			}
			r := postIngest(t, srv.URL, tok, c.body, c.header)
			if r.status != 413 || r.Error != "request_too_large" || !strings.Contains(r.Detail, "1000 bytes") {
				t.Fatalf("got %d %+v", r.status, r)
			}
		})
	}
	if empty, _ := db.Empty(ctx); !empty {
		t.Fatal("a refused body stored events")
	}
}
