package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		msgLine,
		`{"type":"message","channel":"C1","bot_id":"B1","subtype":"bot_message","ts":1700000000.0001,"files":[{}],"thread_ts":"1"}`,
		`{"type":"message","subtype":"message_changed","channel":"C1","message":{"text":"x","ts":"1","edited":{"user":"U1","ts":"2"}}}`,
		`{"type":"message_deleted","channel":"C1","ts":"1"}`,
		`{"type":"reaction_added","channel":"C1","ts":"1","user":"U1","reaction":"x","event_id":"e"}`,
		`{"type":"channel","id":"C1","team_id":"T1","name":"x","kind":"public","external_orgs":[{"name":"n"}],"topic":{"value":"v"}}`,
		`{"type":"user","id":"U1","team_id":"T1","guest_type":"multi_channel","employee_number":12}`,
		`{"type":"enterprise","id":"E1","analytics_start":"2024-01-01"}`,
		`{"type":"call","user":"U1","event_ts":"1","kind":"slack"}`,
		`{"a":"\u00e9\"","b":[1,-2.5e3,{"c":null}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := Decode(line, 1)
		var d Decoder
		if cerr := d.Check(line, 1); fmt.Sprint(cerr) != fmt.Sprint(err) {
			t.Fatalf("Check says %v, Decode %v", cerr, err)
		}
		if err != nil {
			return
		}
		if dev, err := d.Decode(line, 1); err != nil || dev.Key != ev.Key || !bytes.Equal(dev.Doc, ev.Doc) || !bytes.Equal(dev.Raw, ev.Raw) {
			t.Fatalf("a Decoder after Check decodes differently: %v", err)
		}
		if ev.Type == "" || ev.Line != 1 || !bytes.Equal(ev.Raw, bytes.TrimSpace(line)) {
			t.Fatalf("inconsistent event %+v", ev)
		}
		// json.Valid must agree with our scanner on every accepted line.
		if !json.Valid(ev.Raw) {
			t.Fatalf("accepted invalid JSON %q", ev.Raw)
		}
		if ev.Type == "message" || ev.Type == "message_changed" {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(ev.Doc, &m); err != nil {
				t.Fatalf("Doc %q is not a JSON object: %v", ev.Doc, err)
			}
		}
		again, err := Decode(line, 1)
		if err != nil || again.Key != ev.Key || !bytes.Equal(again.Doc, ev.Doc) {
			t.Fatalf("not deterministic: %v", err)
		}
	})
}
