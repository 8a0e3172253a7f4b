package slackexport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/backchannel/backchannel/ingest"
)

// FuzzDayFile feeds arbitrary bytes to the day-file parser and the message
// conversion: no panic, and every line it produces for a message it
// accepts is one the ingest decoder accepts, as one line of valid JSON.
func FuzzDayFile(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*", "*.json"))
	for _, p := range files[:4] {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	for _, s := range []string{
		`[]`, `[{}]`, `[{"type":"message","ts":1.5,"user":"U1","reactions":[{"name":"x","users":["U2"]}],"pinned_to":["C1"]}]`,
		`[{"type":"message","subtype":"channel_topic","topic":"t","ts":"1.2"},{"type":"message","subtype":"channel_name","name":"n","old_name":"o","ts":"2"}]`,
		`[{"type":"message","ts":"1","user":"U1","edited":{"user":"U1","ts":"2"},"channel":"C0F"}]`,
		`[1,"x",null]`, `[{"a":"\u00e9\"}"}`, "[{\"type\":\"message\",\"ts\":\"1\",\"user\":\"U1\",\n\"text\":\"a\tb\"}] x",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x := &Export{team: "T0F", seen: map[string]*span{}}
		var out [][]byte
		w := &walker{x: x, check: true, seen: map[string]*span{}, emit: func(line []byte) error {
			if _, err := ingest.Decode(line, 1); err != nil {
				return err
			}
			out = append(out, bytes.Clone(line))
			return nil
		}}
		c := &conv{rec: convRecord{ID: "C0F", Name: "f"}, kind: "public", joinMsg: map[string]bool{}}
		w.state, w.member = chanState{}, map[string]bool{}
		w.head(c)
		d := newDayReader(bytes.NewReader(data), func() (io.Reader, error) { return bytes.NewReader(data), nil })
		for i := 0; i < 1000; i++ {
			raw, _, err := d.next()
			if err == io.EOF || err != nil {
				break
			}
			w.message(c, raw)
		}
		for _, l := range out {
			if !json.Valid(l) || bytes.ContainsAny(l, "\n\r") {
				t.Fatalf("bad line %q", l)
			}
		}
	})
}

// FuzzDayReader checks the fast day-file reader against encoding/json's
// (slowReader, the reference): the same elements at the same offsets, then
// the same error or the same end, whatever the bytes and however the file
// arrives in pieces.
func FuzzDayReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*", "*.json"))
	for _, p := range files[:4] {
		b, _ := os.ReadFile(p)
		f.Add(b, uint8(0))
	}
	for _, s := range []string{
		`[]`, ` [ ] `, `[{}]`, `[{"a":1},{"b":[1,{"c":"}]"}]}]`, `[{"a":"\\"},{"b":"\""}]`, `[1,"x",null]`,
		`[{"a":1}{"b":2}]`, `[{"a":1},]`, `[{"a":1}] x`, `[{"a":1}]]`, `{"messages":[]}`, `[{"a":`, `[{"a":"b}]`,
		"\ufeff[{}]", "[{\"a\":\"\x00\"}]", `[{"a":tru}]`, `[{"a":01}]`, `[{"a":1e}]`, "[{\"a\":\"\xff\"}]",
		`[` + strings.Repeat(`{"a":[`, 300) + strings.Repeat(`]}`, 300) + `]`,
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		slow := newSlowReader(bytes.NewReader(data))
		open := func() (io.Reader, error) { return iotest.OneByteReader(bytes.NewReader(data)), nil }
		var r io.Reader = bytes.NewReader(data)
		if chunk > 0 { // arrive in small pieces, to cross buffer boundaries
			r = &chunkReader{data: data, n: int(chunk)}
		}
		fast := newDayReader(r, open)
		for i := 0; i < 10000; i++ {
			wantRaw, wantOff, wantErr := slow.next()
			gotRaw, gotOff, gotErr := fast.next()
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("element %d: error %v, want %v", i+1, gotErr, wantErr)
			}
			if wantErr != nil {
				return
			}
			if !bytes.Equal(gotRaw, wantRaw) || gotOff != wantOff {
				t.Fatalf("element %d: %q at %d, want %q at %d", i+1, gotRaw, gotOff, wantRaw, wantOff)
			}
		}
	})
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.data)
	c.data = c.data[k:]
	return k, nil
}

// TestDayReaderMatchesEncodingJSON is FuzzDayReader over random edits of
// small arrays (brackets, quotes, escapes, separators inserted, deleted
// and doubled), in pieces of 1 to 3 bytes or whole.
func TestDayReaderMatchesEncodingJSON(t *testing.T) {
	seeds := []string{`[]`, `[{}]`, `[{"a":1},{"b":[1,{"c":"}]"}]}]`, `[{"a":"\\"},{"b":"\""}]`, `[{"a":1}] x`, `[{"a":`, `[{"a":"b}]`}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		data := []byte(seeds[r.IntN(len(seeds))])
		for k := r.IntN(4); k >= 0; k-- {
			switch r.IntN(3) {
			case 0:
				if len(data) > 0 {
					i := r.IntN(len(data))
					data = append(data[:i:i], data[i+1:]...)
				}
			case 1:
				i := r.IntN(len(data) + 1)
				c := "[]{}\",:\\ a1"[r.IntN(11)]
				data = append(data[:i:i], append([]byte{c}, data[i:]...)...)
			case 2:
				data = append(data, data...)
			}
		}
		chunk := r.IntN(4)
		slow := newSlowReader(bytes.NewReader(data))
		var rd io.Reader = bytes.NewReader(data)
		if chunk > 0 {
			rd = &chunkReader{data: data, n: chunk}
		}
		fast := newDayReader(rd, func() (io.Reader, error) { return bytes.NewReader(data), nil })
		for i := 0; ; i++ {
			wantRaw, wantOff, wantErr := slow.next()
			gotRaw, gotOff, gotErr := fast.next()
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !bytes.Equal(gotRaw, wantRaw) || gotOff != wantOff {
				t.Fatalf("%q in pieces of %d, element %d: %q at %d, %v; want %q at %d, %v",
					data, chunk, i+1, gotRaw, gotOff, gotErr, wantRaw, wantOff, wantErr)
			}
			if wantErr != nil {
				break
			}
		}
	}
}
