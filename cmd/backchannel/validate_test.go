package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// ndjsonLines is n message lines, every fifth ending in "\r\n" and every
// seventh followed by a blank line.
func ndjsonLines(n int) []string {
	var lines []string
	for i := 1; i <= n; i++ {
		l := fmt.Sprintf(`{"type":"message","channel":"C0CLI0001","user":"W0CLI0001","ts":"1600000000.%06d","text":"line %d"}`, i, i)
		if i%5 == 0 {
			l += "\r"
		}
		lines = append(lines, l)
		if i%7 == 0 {
			lines = append(lines, "")
		}
	}
	return lines
}

func openerOf(path string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return openEvents(path) }
}

// TestValidateFileInParts: pass 1 in parts counts what one pass counts and
// reports the same first error, with its line, wherever the bad line is;
// a byte order mark is accepted only at the very start of the file.
func TestValidateFileInParts(t *testing.T) {
	lines := ndjsonLines(200)
	cases := map[string]func([]string){
		"good":            func([]string) {},
		"bad first line":  func(l []string) { l[0] = `{"type":"message"` },
		"bad in the last": func(l []string) { l[len(l)-3] = `{"type":"nope"}` },
		"two bad":         func(l []string) { l[100] = `{"type":"nope"}`; l[150] = `[]` },
		"bad at the end":  func(l []string) { l[len(l)-1] = `{` },
		"bom at start":    func(l []string) { l[0] = "\uFEFF" + l[0] },
		"bom in a part":   func(l []string) { l[120] = "\uFEFF" + l[120] },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			l := append([]string(nil), lines...)
			edit(l)
			path := writeFile(t, "x.ndjson", strings.Join(l, "\n")+"\n")
			wantN, wantErr := validate(openerOf(path), path)
			for _, parts := range []int{2, 3, 7, 64} {
				n, err := validateFile(path, openerOf(path), path, parts, 1)
				if n != wantN || fmt.Sprint(err) != fmt.Sprint(wantErr) {
					t.Errorf("%d parts: %d events, %v; one pass: %d, %v", parts, n, err, wantN, wantErr)
				}
			}
			if name == "good" && (wantErr != nil || wantN != 200) {
				t.Fatalf("one pass: %d, %v", wantN, wantErr)
			}
			if name != "good" && name != "bom at start" && wantErr == nil {
				t.Fatalf("one pass accepted the bad file")
			}
		})
	}
}

// TestLineParts: the parts cover the file, each after the first starting
// at the "\n" that ends the one before; a gzipped or tiny file is one pass.
func TestLineParts(t *testing.T) {
	content := strings.Join(ndjsonLines(100), "\n") // no final "\n"
	path := writeFile(t, "x.ndjson", content)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, n := range []int{1, 2, 5, 1000} {
		ps, err := lineParts(f, n, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 || len(ps) > n || ps[0][0] != 0 || ps[len(ps)-1][1] != int64(len(content)) {
			t.Fatalf("n=%d: parts %v of %d bytes", n, ps, len(content))
		}
		for i := 1; i < len(ps); i++ {
			if ps[i][0] != ps[i-1][1]-1 || content[ps[i][0]] != '\n' || ps[i][1]-ps[i][0] < 2 {
				t.Fatalf("n=%d: part %d %v after %v", n, i, ps[i], ps[i-1])
			}
		}
		if n >= 5 && len(ps) < 5 {
			t.Fatalf("n=%d: only %d parts of %d bytes", n, len(ps), len(content))
		}
	}
	if ps, _ := lineParts(f, 4, int64(len(content))); len(ps) != 1 {
		t.Fatalf("parts smaller than minPart: %v", ps)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(content))
	zw.Close()
	gzPath := writeFile(t, "x.ndjson.gz", gz.String())
	g, err := os.Open(gzPath)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if ps, err := lineParts(g, 4, 1); ps != nil || err != nil {
		t.Fatalf("gzipped: %v, %v", ps, err)
	}
	if n, err := validateFile(gzPath, openerOf(gzPath), gzPath, 4, 1); n != 100 || err != nil {
		t.Fatalf("gzipped file: %d events, %v", n, err)
	}
}

// TestValidateFileBOMAtAPartsStart: a line that begins a part and a byte
// order mark is refused as in one pass (only the file's first line may
// carry one).
func TestValidateFileBOMAtAPartsStart(t *testing.T) {
	long := fmt.Sprintf(`{"type":"message","channel":"C0CLI0001","user":"W0CLI0001","ts":"1600000000.000001","text":%q}`, strings.Repeat("a", 300))
	short := "\uFEFF" + `{"type":"message","channel":"C0CLI0001","user":"W0CLI0001","ts":"1600000000.000002","text":"b"}`
	content := long + "\n" + short + "\n"
	path := writeFile(t, "x.ndjson", content)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ps, err := lineParts(f, 2, 1); err != nil || len(ps) != 2 || ps[1][0] != int64(len(long)) {
		t.Fatalf("parts %v, %v: want the second to start at %d", ps, err, len(long))
	}
	_, want := validate(openerOf(path), path)
	if want == nil || !strings.Contains(want.Error(), "line 2") {
		t.Fatalf("one pass: %v", want)
	}
	if n, err := validateFile(path, openerOf(path), path, 2, 1); fmt.Sprint(err) != fmt.Sprint(want) {
		t.Fatalf("in parts: %d, %v; want %v", n, err, want)
	}
}
