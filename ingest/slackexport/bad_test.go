package slackexport

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// minimal is a valid export's files: one user, one channel, one day.
func minimal() map[string]any {
	return map[string]any{
		"users.json":              `[{"id":"U0AAA0001","team_id":"T0AAA0001","name":"ann"}]`,
		"channels.json":           `[{"id":"C0AAA0001","name":"general","created":1600000000,"members":["U0AAA0001"]}]`,
		"general/2020-09-13.json": "[\n  {\"type\":\"message\",\"user\":\"U0AAA0001\",\"text\":\"hi\",\"ts\":\"1600000100.000100\"}\n]\n",
	}
}

func minimalZip(t *testing.T, extra ...zipEntry) string {
	var es []zipEntry
	for name, v := range minimal() {
		es = append(es, zipEntry{name: name, data: content(t, v)})
	}
	return writeZip(t, append(es, extra...))
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	dir := func(change map[string]any) string {
		d := filepath.Join(t.TempDir(), "exp")
		files := minimal()
		for k, v := range change {
			if v == nil {
				delete(files, k)
				continue
			}
			files[k] = v
		}
		writeFiles(t, d, files)
		return d
	}
	notZip := filepath.Join(t.TempDir(), "export.zip")
	os.WriteFile(notZip, []byte("this is not a zip"), 0o644)

	linked := dir(nil)
	os.Symlink("/etc/passwd", filepath.Join(linked, "general", "2020-09-14.json"))
	linkedDir := dir(nil)
	os.Symlink("/etc", filepath.Join(linkedDir, "random"))

	for _, tc := range []struct {
		name, path string
		opt        Options
		want       string // the error after the path
		is         error
	}{
		{"not a zip", notZip, Options{}, ": not a Slack export: not a zip archive or a folder (zip: not a valid zip file)", ErrNotExport},
		{"no users.json", dir(map[string]any{"users.json": nil}), Options{}, ": not a Slack export: users.json is missing", ErrNotExport},
		{"no channels.json", dir(map[string]any{"channels.json": nil}), Options{}, ": not a Slack export: channels.json is missing", ErrNotExport},
		{"malformed day file", dir(map[string]any{"general/2020-09-13.json": "[\n  {\"type\":\"message\",\"user\":\"U0AAA0001\",\"ts\":\"1600000100.000100\"}\n  {\"type\":\"message\"}\n]"}), Options{},
			": general/2020-09-13.json:3:3: invalid JSON: expected comma after array element", nil},
		{"truncated day file", dir(map[string]any{"general/2020-09-13.json": "[\n  {\"type\":\"message\",\"user\":\"U0AAA0001\",\"ts\":\"1600000100.000100\"},\n  {\"type\":"}), Options{},
			": general/2020-09-13.json:2:66: the file ends early, after this point: want a message object and then ',' or ']'", nil},
		{"day file not an array", dir(map[string]any{"general/2020-09-13.json": `{"messages":[]}`}), Options{},
			": general/2020-09-13.json:1:1: want a JSON array of messages", nil},
		{"bad ts", dir(map[string]any{"general/2020-09-13.json": "[{\"type\":\"message\",\"user\":\"U0AAA0001\",\"ts\":\"1600000100.000100\"},\n {\"type\":\"message\",\"user\":\"U0AAA0001\",\"ts\":\"soon\"}]"}), Options{},
			`: general/2020-09-13.json:2:2: message 2: ts: invalid timestamp "soon"`, nil},
		{"bad user id", dir(map[string]any{"general/2020-09-13.json": `[{"type":"message","user":"bob","ts":"1600000100.000100"}]`}), Options{},
			`: general/2020-09-13.json:1:2: message 1: user: invalid user ID "bob" (want U… or W…: an uppercase letter and then uppercase letters and digits)`, nil},
		{"duplicate key", dir(map[string]any{"general/2020-09-13.json": `[{"type":"message","user":"U0AAA0001","ts":"1600000100.000100","text":"a","text":"b"}]`}), Options{},
			`: general/2020-09-13.json:1:2: message 1: text: duplicate key`, nil},
		// A field the line leaves out (the store computes it) is still one
		// key twice.
		{"duplicate computed key", dir(map[string]any{"general/2020-09-13.json": `[{"type":"message","user":"U0AAA0001","ts":"1600000100.000100","reply_count":1,"reply_count":2}]`}), Options{},
			`: general/2020-09-13.json:1:2: message 1: reply_count: duplicate key`, nil},
		{"bad users.json", dir(map[string]any{"users.json": `[{"id":"U0AAA0001","team_id":"T0AAA0001"},{"id":"x1","team_id":"T0AAA0001"}]`}), Options{},
			`: users.json:1:43: element 2: id: invalid user ID "x1" (want U… or W…: an uppercase letter and then uppercase letters and digits)`, nil},
		{"unknown folder", dir(map[string]any{"random/2020-09-13.json": `[]`}), Options{},
			`: random/2020-09-13.json: the folder "random" is no conversation of channels.json, groups.json, mpims.json or dms.json`, nil},
		{"zip entry escapes", minimalZip(t, zipEntry{name: "../evil.json", data: []byte("[]")}), Options{},
			`: refused: entry "../evil.json" escapes the export folder`, ErrHostile},
		{"zip entry escapes inside", minimalZip(t, zipEntry{name: "general/../../evil.json", data: []byte("[]")}), Options{},
			`: refused: entry "general/../../evil.json" escapes the export folder`, ErrHostile},
		{"zip absolute path", minimalZip(t, zipEntry{name: "/etc/cron.d/evil", data: []byte("x")}), Options{},
			`: refused: entry "/etc/cron.d/evil" has an absolute path`, ErrHostile},
		{"zip symlink", minimalZip(t, zipEntry{name: "general/2020-09-14.json", data: []byte("/etc/passwd"), mode: os.ModeSymlink | 0o777}), Options{},
			`: refused: entry "general/2020-09-14.json" is a symbolic link`, ErrHostile},
		{"zip too large", minimalZip(t, zipEntry{name: "big.bin", data: make([]byte, 4096)}), Options{MaxUncompressed: 4000},
			`: too large: its entries declare more than 4000 bytes once unpacked (raise --max-uncompressed to allow it)`, ErrTooLarge},
		{"folder symlinked file", linked, Options{}, `: refused: general/2020-09-14.json is a symbolic link`, ErrHostile},
		{"folder symlinked dir", linkedDir, Options{}, `: refused: random is a symbolic link`, ErrHostile},
		{"folder too large", dir(map[string]any{"big.bin": strings.Repeat("x", 4096)}), Options{MaxUncompressed: 4000},
			`: too large: its files hold more than 4000 bytes (raise --max-uncompressed to allow it)`, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			_, err := Import(ctx, st, tc.path, tc.opt)
			if err == nil {
				t.Fatal("imported")
			}
			want := tc.path + tc.want
			if got := strings.TrimSuffix(err.Error(), " (nothing was imported)"); got != want {
				t.Fatalf("error\n got %s\nwant %s", got, want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
			if empty, err := st.Empty(ctx); err != nil || !empty {
				t.Fatalf("something was stored (empty=%v, %v)", empty, err)
			}
		})
	}
}

// A size limit is enforced on what is read, not only on what is declared.
func TestBudgetCountsBytesRead(t *testing.T) {
	b := &budget{max: 10, what: "x.zip"}
	r := b.reader("general/2020-09-13.json", strings.NewReader(strings.Repeat("a", 64)))
	_, err := r.Read(make([]byte, 64))
	if !errors.Is(err, ErrTooLarge) || err.Error() != "x.zip: too large: more than 10 bytes once unpacked (reading general/2020-09-13.json; raise --max-uncompressed to allow it)" {
		t.Fatalf("got %v", err)
	}
}

func TestMinimalImports(t *testing.T) {
	st := openStore(t)
	res, err := Import(context.Background(), st, minimalZip(t), Options{})
	if err != nil || res.Messages != 1 || res.Channels != 1 || res.Users != 1 {
		t.Fatalf("%+v %v", res, err)
	}
}
