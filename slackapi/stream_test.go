package slackapi

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/backchannel/backchannel"
)

// patternFile is a generated file of size bytes that reads (and, through
// readErr, fails) without ever holding itself in memory.
type patternFile struct {
	size, off int64
	failAt    int64 // fail the read that crosses this offset; 0: never
	closed    bool
}

func (p *patternFile) Read(b []byte) (int, error) {
	if p.failAt > 0 && p.off+int64(len(b)) > p.failAt {
		return 0, errors.New("disk on fire")
	}
	if p.off >= p.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.size-p.off))
	for i := range n {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(n)
	return n, nil
}

func (p *patternFile) Close() error { p.closed = true; return nil }

// chunkRecorder is a ResponseWriter that keeps only the sizes and a
// checksum of what was written: it holds nothing of the body.
type chunkRecorder struct {
	header http.Header
	status int
	writes []int
	total  int64
	bad    bool // a byte differed from the pattern
}

func (c *chunkRecorder) Header() http.Header { return c.header }
func (c *chunkRecorder) WriteHeader(s int)   { c.status = s }
func (c *chunkRecorder) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = 200
	}
	for i, x := range b {
		if x != byte((c.total+int64(i))%251) {
			c.bad = true
		}
	}
	c.writes = append(c.writes, len(b))
	c.total += int64(len(b))
	return len(b), nil
}

// A file of 8 MiB goes out in bounded chunks as it is read: the handler
// never holds it (allocations stay far below its size).
func TestGetFileStreams(t *testing.T) {
	const size = 8 << 20
	api, fake, _ := analyticsAPI(t, analyticsWorld())
	var file *patternFile
	fake.open = func(string, backchannel.Day) (io.ReadCloser, error) {
		file = &patternFile{size: size}
		return file, nil
	}
	req := httptest.NewRequest("GET", "/api/admin.analytics.getFile?type=member&date=2024-02-27", nil)
	req.Header.Set("Authorization", "Bearer "+tokAnalytics)
	rec := &chunkRecorder{header: http.Header{}, writes: make([]int, 0, 1024)}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	api.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)

	if rec.status != 200 || rec.total != size || rec.bad {
		t.Fatalf("status %d, %d bytes (want %d), corrupt %v", rec.status, rec.total, size, rec.bad)
	}
	if got := rec.header.Get("Content-Type"); got != "application/gzip" {
		t.Errorf("Content-Type = %q", got)
	}
	if !file.closed {
		t.Error("the file was not closed")
	}
	biggest := 0
	for _, n := range rec.writes {
		biggest = max(biggest, n)
	}
	if biggest > 64<<10 || len(rec.writes) < size/(64<<10) {
		t.Errorf("%d writes, the biggest %d bytes: want many writes of at most 64 KiB", len(rec.writes), biggest)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("serving an %d-byte file allocated %d bytes: it is being buffered", size, alloc)
	}
}

// A failure after the first byte cannot become a JSON error any more: the
// response is aborted so the client sees a broken transfer, never a
// complete-looking truncated file.
func TestGetFileAbortsMidStream(t *testing.T) {
	api, fake, _ := analyticsAPI(t, analyticsWorld())
	fake.open = func(string, backchannel.Day) (io.ReadCloser, error) {
		return &patternFile{size: 1 << 20, failAt: 200 << 10}, nil
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/admin.analytics.getFile?type=member&date=2024-02-27", nil)
	req.Header.Set("Authorization", "Bearer "+tokAnalytics)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("status %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil {
		t.Fatalf("read %d bytes and a clean end: a truncated file looked complete", n)
	}
}

// A failure before the first byte is still an ordinary JSON error.
func TestGetFileFailsBeforeFirstByte(t *testing.T) {
	api, fake, _ := analyticsAPI(t, analyticsWorld())
	fake.metadata = func(io.Writer, backchannel.Day) error { return errors.New("db gone") }
	r := getFile(t, api, tokAnalytics, "type=public_channel&metadata_only=true")
	if r.status != 200 || r.errCode(t) != "internal_error" || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%d %v %s", r.status, r.header, r.body)
	}
	if r.header.Get("Content-Disposition") != "" {
		t.Error("an error carries Content-Disposition")
	}
	// A coded error from the store keeps its code.
	fake.metadata = func(io.Writer, backchannel.Day) error {
		return backchannel.Errorf("feature_not_enabled", "no metadata here")
	}
	if r := getFile(t, api, tokAnalytics, "type=public_channel&metadata_only=true"); r.errCode(t) != "feature_not_enabled" {
		t.Fatalf("%s", r.body)
	}
}

func TestContentDisposition(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"Acme Member Analytics 2020-08-01.json.gz", `attachment; filename="Acme Member Analytics 2020-08-01.json.gz"`},
		{`a"b\c`, `attachment; filename="a\"b\\c"`},
		{"line\nbreak", `attachment; filename="line_break"; filename*=UTF-8''line%0Abreak`},
		{"日本", `attachment; filename="__"; filename*=UTF-8''%E6%97%A5%E6%9C%AC`},
	} {
		if got := contentDisposition(tc.name); got != tc.want {
			t.Errorf("contentDisposition(%q) = %s\nwant %s", tc.name, got, tc.want)
		}
	}
}
