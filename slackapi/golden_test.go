package slackapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// Golden replies pin the exact bytes: key order, escaping, where
// response_metadata and warnings go.
func TestGolden(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name string
		c    call
	}{
		{"history_first_page", call{method: "conversations.history", token: tokUser,
			query: "channel=C1&limit=3&oldest=1700000001&latest=1700000009.000000"}},
		{"history_last_page", call{method: "conversations.history", token: tokUser, query: "channel=C1&limit=3&oldest=1700000007"}},
		{"history_empty", call{method: "conversations.history", token: tokUser, query: "channel=C1&latest=1"}},
		{"history_warning_and_cursor", call{method: "conversations.history", token: tokUser,
			body: "channel=C1&limit=2", contentType: form + "; charset=utf-8"}},
		{"history_warning_last_page", call{method: "conversations.history", token: tokUser,
			body: "channel=C1&oldest=1700000009", contentType: form + "; charset=utf-8"}},
		{"history_missing_scope", call{method: "conversations.history", token: tokPublic, query: "channel=G1"}},
		{"unknown_method", call{method: "conversations.nope"}},
		{"api_test", call{method: "api.test", query: "foo=bar&url=https://x"}},
		{"auth_test", call{method: "auth.test", token: tokUser}},
	}
	w := historyWorld()
	ch := w.channels["C1"]
	ch.PinCount = 2
	w.channels["C1"] = ch
	api, _ := testAPI(t, w)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGolden(t, tt.name, []byte(do(t, api, tt.c).body))
		})
	}
}

// checkGolden compares a reply with testdata/<name>.golden (rewritten with
// -update).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	if !json.Valid(got) {
		t.Fatalf("invalid JSON: %s", got)
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if want = bytes.TrimSuffix(want, []byte("\n")); !bytes.Equal(got, want) {
		t.Errorf("reply differs from %s\n got %s\nwant %s", path, got, want)
	}
}
