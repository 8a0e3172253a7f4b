package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/slackapi"
)

func TestAnalyticsUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"analytics"}, "need a subcommand"},
		{[]string{"analytics", "close"}, `unknown subcommand "close"`},
		{[]string{"analytics", "finalize", "--db", db, "--through", "2024-02-30"}, "--through"},
		{[]string{"analytics", "finalize", "--db", db, "--through", "2999-01-01"}, "has not ended plus the settle delay"},
		{[]string{"analytics", "finalize", "--db", db, "--analytics-settle", "-1h"}, "non-negative duration"},
		{[]string{"analytics", "rebuild", "--db", db, "--from", "2024-01-01"}, "--from and --to are required"},
		{[]string{"analytics", "rebuild", "--db", db, "--from", "2024-01-01", "--to", "Jan 3"}, "--to"},
		{[]string{"analytics", "rebuild", "--db", db, "--from", "2024-02-01", "--to", "2024-01-01"}, "is after --to"},
		{[]string{"serve", "--db", db, "--analytics-retention", "13m"}, "want <N>mo (months), <N>d (days) or 0 (forever)"},
		{[]string{"serve", "--db", db, "--analytics-settle", "soon"}, "--analytics-settle"},
	} {
		code, _, errs := cli(t, "", tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 containing %q", tc.args, code, errs, tc.want)
		}
	}
}

func TestSettleAndRetentionFlags(t *testing.T) {
	fs := newFlagSet(&cliEnv{stderr: new(strings.Builder)}, "x", "x")
	settle, retention := settleFlag(fs), retentionFlag(fs)
	if err := parseFlags(fs, nil); err != nil {
		t.Fatal(err)
	}
	if *settle != 0 || *retention != slackapi.DefaultRetention {
		t.Errorf("defaults: settle %v (Config's default is 0), retention %v", *settle, *retention)
	}
	t.Setenv("BACKCHANNEL_ANALYTICS_RETENTION", "0")
	t.Setenv("BACKCHANNEL_ANALYTICS_SETTLE", "0")
	if err := parseFlags(fs, nil); err != nil {
		t.Fatal(err)
	}
	if slackapi.SettleOrDefault(*settle) != 0 || *retention != slackapi.RetentionForever {
		t.Errorf("from the environment: settle %v, retention %v; want none and forever", *settle, *retention)
	}
	if err := parseFlags(fs, []string{"--analytics-settle", "30m", "--analytics-retention", "400d"}); err != nil {
		t.Fatal(err)
	}
	if slackapi.SettleOrDefault(*settle).String() != "30m0s" || retention.String() != "400d" {
		t.Errorf("flags: settle %v, retention %v", *settle, *retention)
	}
}

// finalize and rebuild reach the store's analytics side, or say plainly
// that the store has none.
func TestAnalyticsFinalizeRebuild(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	mustCLI(t, "import", "--db", db, writeFile(t, "dir.ndjson", directory))
	st, err := openStore(context.Background(), db, false)
	if err != nil {
		t.Fatal(err)
	}
	_, supported := st.(backchannel.AnalyticsStore)
	st.Close()
	code, out, errs := cli(t, "", "analytics", "finalize", "--db", db)
	if !supported {
		if code != 1 || !strings.Contains(errs, "does not support analytics yet") {
			t.Fatalf("finalize without analytics: exit %d %q %q", code, out, errs)
		}
		t.Skip("the SQLite store does not implement backchannel.AnalyticsStore yet")
	}
	if code != 0 || !(strings.HasPrefix(out, "closed ") || strings.HasPrefix(out, "no days to close")) {
		t.Fatalf("finalize: exit %d %q %q", code, out, errs)
	}
	if out := mustCLI(t, "analytics", "rebuild", "--db", db, "--from", "2020-09-13", "--to", "2020-09-14"); !strings.HasPrefix(out, "rebuilt 2020-09-13 … 2020-09-14 (2 days)") {
		t.Fatalf("rebuild: %q", out)
	}
}
