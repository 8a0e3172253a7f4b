// Package e2e starts the real backchannel server on 127.0.0.1:0 with a temp
// database and drives it with real clients: slack-go from Go, and the
// official @slack/web-api from Node (node_test.go).
package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/postgres"
	"github.com/backchannel/backchannel/postgrestest"
	"github.com/backchannel/backchannel/server"
	"github.com/backchannel/backchannel/slackapi"
	"github.com/backchannel/backchannel/sqlite"
)

// testServer is a running server and what the tests know about its data.
type testServer struct {
	URL   string // base URL, e.g. http://127.0.0.1:4711
	Store backchannel.Store
}

// APIURL is what SDKs take as their Slack API base URL.
func (s *testServer) APIURL() string { return s.URL + "/api/" }

// opener returns a fresh, migrated, empty store that the test owns.
type opener func(t *testing.T) backchannel.Store

// storeKind is one store the end-to-end tests run against.
type storeKind struct {
	name string
	open opener
}

// storeKinds lists the stores to test: SQLite always, and PostgreSQL when
// BACKCHANNEL_TEST_POSTGRES names a database (required under CI=true).
func storeKinds() []storeKind {
	return []storeKind{
		{"sqlite", openSQLite},
		{"postgres", func(t *testing.T) backchannel.Store { return postgrestest.Open(t) }},
	}
}

func openSQLite(t *testing.T) backchannel.Store {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "backchannel.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// forEachStore runs fn as a subtest per store kind.
func forEachStore(t *testing.T, fn func(t *testing.T, open opener)) {
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) { fn(t, k.open) })
	}
}

// startServer runs the real server on 127.0.0.1:0 over a fresh store.
func startServer(t *testing.T, open opener, rateLimit string) *testServer {
	t.Helper()
	return serveStore(t, open(t), rateLimit)
}

// serveStore runs the server over st; several servers may share one store.
func serveStore(t *testing.T, st backchannel.Store, rateLimit string) *testServer {
	t.Helper()
	return serveStoreWith(t, st, rateLimit, nil)
}

// serveStoreWith is serveStore with a hook that adjusts both configs (an
// injected clock, the analytics settle delay and retention).
func serveStoreWith(t *testing.T, st backchannel.Store, rateLimit string, adjust func(*slackapi.Config, *server.Config)) *testServer {
	t.Helper()
	rl, err := slackapi.ParseRateLimit(rateLimit)
	if err != nil {
		t.Fatalf("rate limit %q: %v", rateLimit, err)
	}
	cfg := slackapi.Config{Store: st, RateLimit: rl, Now: time.Now}
	if pg, ok := st.(*postgres.DB); ok { // as cmd/backchannel wires it
		cfg.Limiter = pg.Limiter()
	}
	scfg := server.Config{Store: st}
	if adjust != nil {
		adjust(&cfg, &scfg)
	}
	scfg.API = slackapi.New(cfg)
	srv := server.New(scfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		st.Close()
	})
	return &testServer{URL: "http://" + ln.Addr().String(), Store: st}
}

// mintToken stores a token for user with scopes and returns it.
func mintToken(t *testing.T, st backchannel.Store, user, team string, bot bool, scopes ...string) string {
	t.Helper()
	tok, id := backchannel.NewTokenString(bot)
	err := st.CreateToken(context.Background(), backchannel.Token{ID: id, Hash: backchannel.HashToken(tok),
		UserID: user, TeamID: team, Bot: bot, Scopes: scopes, CreatedAt: time.Now()})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return tok
}

// ingestLines posts NDJSON lines to /ingest/events, gzipped when zip is set,
// and fails the test unless every line was accepted or a duplicate.
func ingestLines(t *testing.T, base, token string, lines [][]byte, zip bool) (accepted, duplicates int) {
	t.Helper()
	var body bytes.Buffer
	var w io.Writer = &body
	var zw *gzip.Writer
	if zip {
		zw = gzip.NewWriter(&body)
		w = zw
	}
	for _, l := range lines {
		w.Write(l)
		w.Write([]byte{'\n'})
	}
	if zw != nil {
		zw.Close()
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/ingest/events", &body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	if zip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	defer resp.Body.Close()
	var got struct {
		OK         bool   `json:"ok"`
		Accepted   int    `json:"accepted"`
		Duplicates int    `json:"duplicates"`
		Error      string `json:"error"`
		Detail     string `json:"detail"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || !got.OK || resp.StatusCode != 200 {
		t.Fatalf("ingest: status %d, %+v, decode err %v", resp.StatusCode, got, err)
	}
	if got.Accepted+got.Duplicates != len(lines) {
		t.Fatalf("ingest: accepted %d + duplicates %d != %d lines", got.Accepted, got.Duplicates, len(lines))
	}
	return got.Accepted, got.Duplicates
}

func line(v map[string]any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// fixture is a small organisation with one big public channel.
type fixture struct {
	srv                               *testServer
	member, other, bot, noscope, ingr string // tokens
	bigChannel, privOther, noBot      string
	im, mpim                          string
	visible                           []string // visible ts of bigChannel, newest first
	starred, pinned, edited, parent   string   // notable ts in bigChannel
	broadcast                         string
}

const (
	userMember = "W0MEMBER1"
	userOther  = "W0OTHER02"
	userBot    = "U0BOTUSR1"
	userAdmin  = "W0ADMIN03"
	teamID     = "T0TEAM001"
)

// newFixture seeds n messages (plus threads, edits, deletions, reactions,
// pins and stars) into a fresh server through the real ingest endpoint.
func newFixture(t *testing.T, open opener, n int, rateLimit string) *fixture {
	t.Helper()
	f := &fixture{srv: startServer(t, open, rateLimit), bigChannel: "C0BIGCHAN1", privOther: "G0PRIVATE1",
		noBot: "C0NOBOTCH1", im: "D0DIRECT01", mpim: "G0MPIMCH01"}
	st := f.srv.Store
	f.ingr = mintToken(t, st, userAdmin, teamID, false, backchannel.ScopeIngest)
	history := []string{"channels:history", "groups:history", "im:history", "mpim:history"}
	f.member = mintToken(t, st, userMember, teamID, false, history...)
	f.other = mintToken(t, st, userOther, teamID, false, history...)
	f.bot = mintToken(t, st, userBot, teamID, true, history...)
	f.noscope = mintToken(t, st, userMember, teamID, false, "users:read")

	dir := [][]byte{
		line(map[string]any{"type": "enterprise", "id": "E0ENTERP01", "name": "Acme"}),
		line(map[string]any{"type": "team", "id": teamID, "name": "Acme HQ", "domain": "acme-hq", "enterprise_id": "E0ENTERP01"}),
	}
	for _, u := range []struct {
		id  string
		bot bool
	}{{userMember, false}, {userOther, false}, {userBot, true}, {userAdmin, false}} {
		dir = append(dir, line(map[string]any{"type": "user", "id": u.id, "team_id": teamID, "name": u.id, "is_bot": u.bot}))
	}
	for _, c := range []struct{ id, name, kind string }{
		{f.bigChannel, "big", "public"}, {f.privOther, "secret", "private"}, {f.noBot, "nobots", "public"},
		{f.im, "", "im"}, {f.mpim, "mpdm-a--b--c-1", "mpim"},
	} {
		dir = append(dir, line(map[string]any{"type": "channel", "id": c.id, "team_id": teamID, "name": c.name, "kind": c.kind, "created": 1600000000}))
	}
	for _, m := range [][2]string{{f.bigChannel, userMember}, {f.bigChannel, userBot}, {f.bigChannel, userOther},
		{f.privOther, userOther}, {f.im, userMember}, {f.im, userOther}, {f.mpim, userMember}, {f.mpim, userOther}, {f.noBot, userMember}} {
		dir = append(dir, line(map[string]any{"type": "member_joined_channel", "channel": m[0], "user": m[1], "event_ts": "1600000001.000000"}))
	}
	ingestLines(t, f.srv.URL, f.ingr, dir, false)

	// n top-level messages one second apart, ending an hour ago.
	start := time.Now().Add(-time.Hour).Add(-time.Duration(n) * time.Second).Unix()
	ts := func(i int) string { return fmt.Sprintf("%d.%06d", start+int64(i), i%1000000) }
	var msgs [][]byte
	visible := map[string]bool{}
	for i := 0; i < n; i++ {
		u := userMember
		if i%3 == 0 {
			u = userOther
		}
		msgs = append(msgs, line(map[string]any{"type": "message", "channel": f.bigChannel, "user": u, "ts": ts(i),
			"text": fmt.Sprintf("message %d", i), "client": "desktop", "event_id": "m" + ts(i)}))
		visible[ts(i)] = true
	}
	f.parent, f.edited, f.starred, f.pinned = ts(10), ts(20), ts(30), ts(40)
	// Thread replies stay out of history; a broadcast reply shows (and, as
	// in Slack, counts in reply_count: 3 replies + 1 broadcast = 4).
	replyTS := func(k int) string { return fmt.Sprintf("%d.%06d", start+10, 500000+k) }
	for k := 0; k < 3; k++ {
		msgs = append(msgs, line(map[string]any{"type": "message", "channel": f.bigChannel, "user": userOther, "ts": replyTS(k), "thread_ts": f.parent, "text": "reply"}))
	}
	f.broadcast = replyTS(3)
	msgs = append(msgs, line(map[string]any{"type": "message", "channel": f.bigChannel, "user": userMember, "ts": f.broadcast, "thread_ts": f.parent, "subtype": "thread_broadcast", "text": "also to channel"}))
	visible[f.broadcast] = true
	msgs = append(msgs,
		line(map[string]any{"type": "message_changed", "channel": f.bigChannel, "ts": f.edited, "text": "edited text", "edited": map[string]any{"user": userMember, "ts": ts(21)}}),
		line(map[string]any{"type": "reaction_added", "channel": f.bigChannel, "ts": f.edited, "user": userMember, "reaction": "thumbsup", "event_ts": ts(22)}),
		line(map[string]any{"type": "reaction_added", "channel": f.bigChannel, "ts": f.edited, "user": userOther, "reaction": "thumbsup", "event_ts": ts(23)}),
		line(map[string]any{"type": "star_added", "channel": f.bigChannel, "ts": f.starred, "user": userMember, "event_ts": ts(31)}),
		line(map[string]any{"type": "pin_added", "channel": f.bigChannel, "ts": f.pinned, "user": userMember, "event_ts": ts(41)}),
	)
	for _, d := range []int{5, 50, 500} {
		if d < n {
			msgs = append(msgs, line(map[string]any{"type": "message_deleted", "channel": f.bigChannel, "ts": ts(d)}))
			delete(visible, ts(d))
		}
	}
	// A message in each private conversation kind.
	for _, c := range []string{f.privOther, f.im, f.mpim, f.noBot} {
		msgs = append(msgs, line(map[string]any{"type": "message", "channel": c, "user": userOther, "ts": ts(1), "text": "hi"}))
	}
	for i := 0; i < len(msgs); i += 2000 {
		ingestLines(t, f.srv.URL, f.ingr, msgs[i:min(i+2000, len(msgs))], i%4000 == 0)
	}
	for ts := range visible {
		f.visible = append(f.visible, ts)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(f.visible))) // same-length ts strings sort like numbers
	return f
}
