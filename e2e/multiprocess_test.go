package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/backchannel/backchannel/postgrestest"
)

// TestTwoServersOneDatabase runs two `backchannel serve` processes on one
// PostgreSQL database: what is ingested through one is read, at once and
// exactly, through the other (whose cache was warm), and the two share each
// token's rate-limit allowance instead of doubling it.
func TestTwoServersOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	db := postgrestest.URL(t)
	dir := filepath.Join(t.TempDir(), "dir.ndjson")
	os.WriteFile(dir, []byte(strings.Join([]string{
		`{"type":"team","id":"T0MULTI01","name":"Multi","domain":"multi"}`,
		`{"type":"user","id":"W0MULTI01","team_id":"T0MULTI01","name":"writer"}`,
		`{"type":"channel","id":"C0MULTI01","team_id":"T0MULTI01","name":"multi","kind":"public","created":1600000000}`,
	}, "\n")+"\n"), 0o644)
	runCLI(t, "migrate", "--db", db)
	runCLI(t, "import", "--db", db, dir)
	mint := func(scopes string) string {
		return strings.TrimSpace(runCLI(t, "token", "create", "--db", db, "--user", "W0MULTI01", "--scopes", scopes))
	}
	ingestTok := mint("backchannel:ingest,channels:history")
	_, a := startProcess(t, "--db", db, "--rate-limit", "slack")
	_, b := startProcess(t, "--db", db, "--rate-limit", "slack")

	start := time.Now().Add(-2 * time.Hour).Unix()
	var want []string
	ingest := func(base string, from, n int) {
		t.Helper()
		var lines [][]byte
		for i := from; i < from+n; i++ {
			ts := fmt.Sprintf("%d.%06d", start+int64(i), i)
			want = append([]string{ts}, want...)
			lines = append(lines, line(map[string]any{"type": "message", "channel": "C0MULTI01", "user": "W0MULTI01", "ts": ts, "text": "hi"}))
		}
		ingestLines(t, base, ingestTok, lines, false)
	}
	read := func(base string) []string {
		t.Helper()
		api := slack.New(ingestTok, slack.OptionAPIURL(base+"/api/"))
		var got []string
		cursor := ""
		for {
			res, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C0MULTI01", Cursor: cursor, Limit: 999})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range res.Messages {
				got = append(got, m.Timestamp)
			}
			if cursor = res.ResponseMetaData.NextCursor; cursor == "" {
				return got
			}
		}
	}
	read(a) // warm both caches on the empty channel
	read(b)
	ingest(a, 0, 1500)
	equalTS(t, read(b), want)
	ingest(b, 1500, 10)
	equalTS(t, read(a), want)
	equalTS(t, read(b), want)

	// One allowance across both processes: Tier 3 is 50 a minute.
	rl := mint("channels:history")
	servers := []*slack.Client{slack.New(rl, slack.OptionAPIURL(a+"/api/")), slack.New(rl, slack.OptionAPIURL(b+"/api/"))}
	for i := 0; i < 50; i++ {
		if _, err := servers[i%2].GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C0MULTI01", Limit: 1}); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	for i, api := range servers {
		_, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C0MULTI01", Limit: 1})
		var rle *slack.RateLimitedError
		if !errors.As(err, &rle) {
			t.Fatalf("server %d after 50 calls shared between both: got %v, want ratelimited", i+1, err)
		}
	}
}
