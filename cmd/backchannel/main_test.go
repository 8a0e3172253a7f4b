package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
)

// cli runs backchannel in-process and returns its exit code and output.
func cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := cli(t, "", args...)
	if code != 0 {
		t.Fatalf("backchannel %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

const directory = `{"type":"team","id":"T0CLI0001","name":"CLI","domain":"cli"}
{"type":"user","id":"W0CLI0001","team_id":"T0CLI0001","name":"ann"}
{"type":"channel","id":"C0CLI0001","team_id":"T0CLI0001","name":"general","kind":"public"}
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: backchannel"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"serve", "--db", db, "--rate-limit", "sometimes"}, 2, "--rate-limit"},
		{[]string{"serve", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"token"}, 2, "need a subcommand"},
		{[]string{"token", "create", "--db", db, "--scopes", "a"}, 2, "--user is required"},
		{[]string{"token", "create", "--db", db, "--user", "W0NOBODY1", "--scopes", "channels:history"}, 1, `no user "W0NOBODY1"`},
		{[]string{"import", "--db", db}, 2, "name one file"},
		{[]string{"import", "--db", db, "/no/such/file.ndjson"}, 1, "no such file"},
		{[]string{"serve", "--db", "postgres://u:secret@127.0.0.1:1/db?connect_timeout=2"}, 1, "u:***@127.0.0.1:1"},
	} {
		code, _, errs := cli(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d containing %q", tc.args, code, errs, tc.code, tc.want)
		}
		if strings.Contains(errs, "secret") {
			t.Errorf("%v: the password leaked: %q", tc.args, errs)
		}
	}
}

func TestImportValidatesBeforeStoring(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	bad := writeFile(t, "bad.ndjson", directory+`{"type":"message","channel":"C0CLI0001","user":"W0CLI0001","ts":"soon"}`+"\n")
	code, _, errs := cli(t, "", "import", "--db", db, bad)
	if code != 1 || !strings.Contains(errs, "line 4: ts:") || !strings.Contains(errs, "nothing was imported") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	st, err := openStore(context.Background(), db, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if empty, err := st.Empty(context.Background()); err != nil || !empty {
		t.Fatalf("a failed import stored events (empty=%v, err=%v)", empty, err)
	}
}

func TestImportIdempotentFromStdin(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	events := directory + `{"type":"message","channel":"C0CLI0001","user":"W0CLI0001","ts":"1600000000.000100","text":"hi"}` + "\n"
	code, out, errs := cli(t, events, "import", "--db", db, "-")
	if code != 0 || !strings.HasPrefix(out, "imported 4 events (0 duplicates)") {
		t.Fatalf("first import: exit %d, %q %q", code, out, errs)
	}
	code, out, _ = cli(t, events, "import", "--db", db, "-")
	if code != 0 || !strings.HasPrefix(out, "imported 0 events (4 duplicates)") {
		t.Fatalf("second import: exit %d, %q", code, out)
	}
}

func TestTokenLifecycleAndEnv(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	t.Setenv("BACKCHANNEL_DB", db) // every flag defaults from BACKCHANNEL_<FLAG>
	mustCLI(t, "import", writeFile(t, "dir.ndjson", directory))
	if out := mustCLI(t, "migrate"); !strings.HasPrefix(out, "schema at version ") {
		t.Fatalf("migrate: %q", out)
	}
	tok := strings.TrimSpace(mustCLI(t, "token", "create", "--user", "W0CLI0001", "--scopes", "channels:history, groups:history"))
	if !strings.HasPrefix(tok, "xoxp-") {
		t.Fatalf("token %q", tok)
	}
	bot := strings.TrimSpace(mustCLI(t, "token", "create", "--user", "W0CLI0001", "--bot", "--scopes", "channels:history"))
	if !strings.HasPrefix(bot, "xoxb-") {
		t.Fatalf("bot token %q", bot)
	}
	list := mustCLI(t, "token", "list")
	id := backchannel.TokenID(tok)
	if !strings.Contains(list, id) || !strings.Contains(list, "channels:history,groups:history") || strings.Contains(list, tok) {
		t.Fatalf("list does not show %s (or shows the token itself):\n%s", id, list)
	}
	if out := mustCLI(t, "token", "revoke", tok); !strings.Contains(out, "revoked "+id) {
		t.Fatalf("revoke: %q", out)
	}
	for _, l := range strings.Split(mustCLI(t, "token", "list"), "\n") {
		if strings.HasPrefix(l, id) && strings.Contains(l, " - ") {
			t.Fatalf("revoked token still listed as active: %q", l)
		}
	}
	if code, _, errs := cli(t, "", "token", "revoke", "tk000000000000"); code != 1 || !strings.Contains(errs, "no token") {
		t.Fatalf("revoke unknown: exit %d %q", code, errs)
	}
}

func TestDemoJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a small demo")
	}
	db := filepath.Join(t.TempDir(), "x.db")
	out := mustCLI(t, "demo", "--db", db, "--members", "30", "--days", "5", "--seed", "7", "--json")
	var got struct {
		EnterpriseID string            `json:"enterprise_id"`
		Tokens       map[string]string `json:"tokens"`
		Channels     map[string]string `json:"channels"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("demo --json is not JSON: %v\n%s", err, out)
	}
	if !strings.HasPrefix(got.EnterpriseID, "E") || !strings.HasPrefix(got.Tokens["admin"], "xoxp-") ||
		!strings.HasPrefix(got.Tokens["member"], "xoxp-") || !strings.HasPrefix(got.Tokens["bot"], "xoxb-") {
		t.Fatalf("demo --json: %+v", got)
	}
	st, err := openStore(context.Background(), db, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kinds := map[string]bool{}
	for name, id := range got.Channels {
		c, err := st.Channel(context.Background(), id)
		if err != nil {
			t.Fatalf("channel %s (%s): %v", name, id, err)
		}
		kinds[c.Kind] = true
		if c.IsExternallyShared() {
			kinds["shared"] = true
		}
	}
	for _, k := range []string{"public", "private", "im", "mpim", "shared"} {
		if !kinds[k] {
			t.Errorf("demo --json channels have no %s conversation: %v", k, got.Channels)
		}
	}
}

// TestImportStopsAtABatchTheStoreRefuses: a line that parses but that the
// store refuses (a message in a channel nobody created) fails the import
// with its line; the batches before it are stored (the one after it may
// be: imports queue one batch behind another), and importing the fixed
// file again stores the rest.
func TestImportStopsAtABatchTheStoreRefuses(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	const importBatch = 2000 // --batch-size
	var good, bad strings.Builder
	good.WriteString(directory)
	msg := func(b *strings.Builder, i int, ch string) {
		fmt.Fprintf(b, `{"type":"message","channel":%q,"user":"W0CLI0001","ts":"1600000000.%06d","text":"m%d"}`+"\n", ch, i, i)
	}
	n := 0
	for range 3 * importBatch {
		n++
		msg(&good, n, "C0CLI0001")
	}
	badLine := 3 + importBatch + importBatch/2 // in the second batch
	for i, l := range strings.SplitAfter(good.String(), "\n") {
		if i+1 == badLine {
			l = strings.Replace(l, "C0CLI0001", "C0NOBODY1", 1)
		}
		bad.WriteString(l)
	}
	if code, _, errs := cli(t, "", "import", "--db", db, "--batch-size", "0", writeFile(t, "good.ndjson", good.String())); code != 2 || !strings.Contains(errs, "--batch-size") {
		t.Fatalf("--batch-size 0: exit %d, stderr %q", code, errs)
	}
	code, _, errs := cli(t, "", "import", "--db", db, "--batch-size", fmt.Sprint(importBatch), writeFile(t, "bad.ndjson", bad.String()))
	if code != 1 || !strings.Contains(errs, fmt.Sprintf("line %d:", badLine)) || !strings.Contains(errs, "importing again is safe") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, out, errs := cli(t, "", "import", "--db", db, "--batch-size", fmt.Sprint(importBatch), writeFile(t, "good.ndjson", good.String()))
	if code != 0 {
		t.Fatalf("second import: exit %d, %q", code, errs)
	}
	var accepted, dups int
	if _, err := fmt.Sscanf(out, "imported %d events (%d duplicates)", &accepted, &dups); err != nil {
		t.Fatalf("second import: %q: %v", out, err)
	}
	// The first batch (the directory and importBatch-3 messages) was
	// stored, the refused one was not: it is all new the second time.
	if accepted+dups != 3+n || dups < importBatch || accepted < importBatch {
		t.Fatalf("second import: %d new, %d duplicates of %d lines", accepted, dups, 3+n)
	}
}
