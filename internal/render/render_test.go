package render

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/backchannel/backchannel"
)

// Split and WithReactions give Render's bytes for every combination of the
// computed fields, docs with odd spacing and empty or broken docs included.
func TestSplitWithReactionsIsRender(t *testing.T) {
	docs := []string{
		`{"type":"message","user":"U1","text":"hi","ts":"1700000000.000100"}`,
		`{"type":"message","text":"spaced" }  `,
		`{}`,
		`{ }`,
		``,
		`not json`,
		`{"type":"message","thread_ts":"1700000000.000100","text":"parent"}`,
	}
	edits := []*backchannel.Edited{nil, {User: "U2", TS: "1700000001.000000"}}
	replySets := [][]Reply{nil, {{TS: 1_700_000_002_000_000, User: "U3"}, {TS: 1_700_000_003_000_000, User: "U3"}}}
	reactSets := [][]Reaction{nil, {{"thumbsup", "U1"}}, {{"tada", "U2"}, {"thumbsup", "U1"}, {"tada", "U3"}}}
	n := 0
	for _, doc := range docs {
		for _, ed := range edits {
			for _, replies := range replySets {
				for _, pinned := range []bool{false, true} {
					m := Message{Channel: "C1", TS: 1_700_000_000_000_100, Doc: []byte(doc), Edited: ed}
					if bytes.Contains(m.Doc, []byte("thread_ts")) {
						m.ThreadTS = m.TS
					}
					body, at := Split(m, replies, pinned)
					if want := Render(m, replies, nil, pinned); !bytes.Equal(body, want) {
						t.Fatalf("Split body %s, Render %s", body, want)
					}
					for _, reacts := range reactSets {
						n++
						got := WithReactions(body, at, reacts)
						if want := Render(m, replies, reacts, pinned); !bytes.Equal(got, want) {
							t.Errorf("%s",
								fmt.Sprintf("doc %q edited %v replies %d pinned %v reactions %d:\n got %s\nwant %s", doc, ed != nil, len(replies), pinned, len(reacts), got, want))
						}
					}
				}
			}
		}
	}
	if n != len(docs)*len(edits)*len(replySets)*2*len(reactSets) {
		t.Fatalf("%d cases", n)
	}
}
