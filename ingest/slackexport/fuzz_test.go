package slackexport

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

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
		w := &walker{x: x, check: true, emit: func(line []byte) error {
			if _, err := ingest.Decode(line, 1); err != nil {
				return err
			}
			out = append(out, bytes.Clone(line))
			return nil
		}}
		c := &conv{rec: convRecord{ID: "C0F", Name: "f"}, kind: "public", joinMsg: map[string]bool{}}
		w.state, w.member = chanState{}, map[string]bool{}
		w.head(c)
		d := newDayReader(bytes.NewReader(data))
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
