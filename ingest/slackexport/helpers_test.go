package slackexport

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/sqlite"
)

const fixtureDir = "testdata/testarchive"
const fixtureZip = "testdata/testarchive.zip"

func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bc.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// lines returns every event line of a checked export.
func lines(t *testing.T, p string, opt Options) []string {
	t.Helper()
	x, err := Open(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if _, err := x.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []string
	if err := x.Lines(context.Background(), func(l []byte) error { out = append(out, string(l)); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeFiles writes name → content (a value marshalled as JSON, or a
// string/[]byte written as is) into dir.
func writeFiles(t *testing.T, dir string, files map[string]any) {
	t.Helper()
	for name, v := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content(t, v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func content(t *testing.T, v any) []byte {
	switch c := v.(type) {
	case string:
		return []byte(c)
	case []byte:
		return c
	}
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// zipEntry is one entry of a test archive.
type zipEntry struct {
	name string
	data []byte
	mode os.FileMode // 0: a regular file
}

func writeZip(t *testing.T, entries []zipEntry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "export.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func history(t *testing.T, st backchannel.Store, ch string) []map[string]any {
	t.Helper()
	page, err := st.History(context.Background(), backchannel.HistoryQuery{Channel: ch, Lo: 0, Hi: backchannel.TS(1 << 62), Limit: 999})
	if err != nil {
		t.Fatalf("history %s: %v", ch, err)
	}
	var out []map[string]any
	for _, raw := range page.Messages {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func copyAll(w io.Writer, r io.Reader) (int64, error) { return io.Copy(w, r) }

// memberCounts reads a closed day's member file: user → messages_posted_count.
func memberCounts(t *testing.T, as backchannel.AnalyticsStore, day backchannel.Day) map[string]float64 {
	t.Helper()
	return memberField(t, as, day, "messages_posted_count")
}

// memberField reads a closed day's member file: user → the numeric field.
func memberField(t *testing.T, as backchannel.AnalyticsStore, day backchannel.Day, field string) map[string]float64 {
	t.Helper()
	rc, err := as.OpenAnalyticsFile(context.Background(), backchannel.FileMember, day)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		got[l["user_id"].(string)] = l[field].(float64)
	}
	return got
}
