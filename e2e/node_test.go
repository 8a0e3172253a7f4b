package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// nodeDir returns the Node test project, or skips — except under CI=true,
// where the official Node client tests must run.
func nodeDir(t *testing.T) (node, dir string) {
	t.Helper()
	dir, _ = filepath.Abs("node")
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not installed"
	case !exists(filepath.Join(dir, "node_modules", "@slack", "web-api")):
		missing = "e2e/node/node_modules is missing: run `npm ci` in e2e/node"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: the @slack/web-api tests must run)", missing)
		}
		t.Skip(missing)
	}
	return node, dir
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestNodeWebAPI runs e2e/node/*.test.mjs — the official @slack/web-api
// client (Bearer header, paginate, rejectRateLimitedCalls) — against two
// real servers: one with rate limits off and one at Slack's tiers.
func TestNodeWebAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		node, dir := nodeDir(t)
		f := newFixture(t, open, 2500, "off")
		// A second server over its own data, with Slack's rate limits; its token
		// only matters for the 429 test, which reads a channel it can see.
		rl := newFixture(t, open, 5, "slack")

		expected := filepath.Join(t.TempDir(), "expected.json")
		b, _ := json.Marshal(f.visible)
		if err := os.WriteFile(expected, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "history.test.mjs")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"BC_URL="+f.srv.APIURL(),
			"BC_TOKEN_MEMBER="+f.member,
			"BC_TOKEN_BOT="+f.bot,
			"BC_TOKEN_NOSCOPE="+f.noscope,
			"BC_MEMBER_ID="+userMember,
			"BC_CHANNEL_BIG="+f.bigChannel,
			"BC_CHANNEL_NOBOT="+f.noBot,
			"BC_EXPECTED_FILE="+expected,
			"BC_TS_REACTED="+f.edited, // edited, then two thumbsup
			"BC_OTHER_ID="+userOther,
			"BC_RL_URL="+rl.srv.APIURL(),
			"BC_RL_TOKEN="+rl.member,
			"BC_RL_LIMIT=50", // conversations.history is Tier 3
		)
		// The rate-limited server's channel ids equal the first's (same fixture).
		out, err := cmd.CombinedOutput()
		t.Logf("node --test:\n%s", out)
		if err != nil {
			t.Fatalf("node tests failed: %v", err)
		}
	})
}

// TestNodeAnalytics runs e2e/node/analytics.test.mjs: @slack/web-api's
// admin.analytics.getFile reads every line of each file (file_data) and
// decodes every error, against a real server per store kind.
func TestNodeAnalytics(t *testing.T) {
	forEachStore(t, func(t *testing.T, open opener) {
		node, dir := nodeDir(t)
		f := newAnalyticsFixture(t, open)
		members, _ := json.Marshal(f.members)
		channels, _ := json.Marshal(f.channels)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "analytics.test.mjs")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"BC_AN_URL="+f.srv.APIURL(),
			"BC_AN_BASE="+f.srv.URL,
			"BC_AN_TOKEN_ADMIN="+f.admin,
			"BC_AN_TOKEN_NOPC="+f.adminNoPC,
			"BC_AN_TOKEN_PLAIN="+f.plain,
			"BC_AN_TOKEN_BOT="+f.bot,
			"BC_AN_TOKEN_NOSCOPE="+f.noScope,
			"BC_AN_TOKEN_INGEST="+f.ingest,
			"BC_AN_ENTERPRISE="+anEnterprise,
			"BC_AN_MEMBER1="+anMember1,
			"BC_AN_DAY1="+f.day1.String(),
			"BC_AN_TODAY="+f.today.String(),
			"BC_AN_EXPIRED="+(f.today-500).String(), // after analytics_start, outside 13 months
			"BC_AN_MEMBERS="+string(members),
			"BC_AN_CHANNELS="+string(channels),
		)
		out, err := cmd.CombinedOutput()
		t.Logf("node --test:\n%s", out)
		if err != nil {
			t.Fatalf("node tests failed: %v", err)
		}
	})
}
