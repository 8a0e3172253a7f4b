package slackexport

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/backchannel/backchannel"
)

// The hand-written fast paths must give what encoding/json and
// backchannel.ParseTS give, byte for byte: lines without an event_id are
// keyed by their bytes, so a different byte would make a re-import of an
// unchanged export store its events again.

func TestAppendQuotedIsJSONMarshal(t *testing.T) {
	for _, s := range []string{"", "U0AAA0001", "export:react:C1:1.000000:+1:U1", `a"b`, `a\b`, "<b>&", "tab\there",
		"é", "\u2028", "\xff", "ok ~!@#$%^*()_+{}|:?", "\x7f", "line\n"} {
		want, _ := json.Marshal(s)
		if got := appendQuoted([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendQuoted(%q) = %s, want x%s", s, got, want)
		}
		if got := appendQuotedBytes(nil, []byte(s)); string(got) != string(want) {
			t.Errorf("appendQuotedBytes(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestParseReactionsIsJSONUnmarshal(t *testing.T) {
	for _, v := range []string{
		`[]`, ` [ ] `, `[{"name":"tada","users":["U1","U2"],"count":2}]`, `[{"count":1,"users":["U1"],"name":"+1"},{"name":"x","users":[]}]`,
		`[{"name":"a\"b","users":["U1"]}]`, `[{"Name":"a","users":["U1"]}]`, `[{"name":"a","USERS":["U1"]}]`,
		`[{"name":"a","name":"b","users":["U1"]}]`, `[{"name":"a","users":["U1"],"users":["U2"]}]`, `[{"name":null,"users":null}]`,
		`[null]`, `[{"name":1}]`, `[{"name":"a","users":[1]}]`, `[{"name":"a","users":"U1"}]`, `{"name":"a"}`, `"x"`,
		`[{"na\u006de":"a","users":["U1"]}]`, `[{"nam\u00e9":"a"}]`, "[{\"name\":\"\xff\",\"users\":[\"U1\"]}]", `[{"uſers":["U9"],"name":"k"}]`,
		`[{"name":"a","users":["U1"]} , {"name":"b","users":[ "U2" , "U3" ]}]`, `[{"name":"a","extra":{"users":["U9"]},"users":["U1"]}]`,
	} {
		var want []reaction
		werr := json.Unmarshal([]byte(v), &want)
		got, gerr := parseReactions([]byte(v), nil)
		// nil and empty slices alike: the importer only ranges over them.
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || werr == nil && fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Errorf("%s: %+v, %v; want %+v, %v", v, got, gerr, want, werr)
		}
	}
}

func TestParseTSIsBackchannelParseTS(t *testing.T) {
	for _, v := range []string{`"1600000000.000100"`, `"0001600000000.000100"`, `"1.000000"`, `"1600000000.1"`, `"1600000000"`,
		`1600000000.000100`, `"1600000000.00010x"`, `"16000000a0.000100"`, `"1234567890123.000000"`, `"soon"`, `""`, `null`, `"-1.000000"`} {
		want, werr := backchannel.ParseTS(rawText([]byte(v)))
		got, gerr := parseTS([]byte(v))
		if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Errorf("%s: %v, %v; want %v, %v", v, got, gerr, want, werr)
		}
	}
}
