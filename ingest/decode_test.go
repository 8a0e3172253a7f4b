package ingest

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/backchannel/backchannel"
)

func mustDecode(t *testing.T, line string) backchannel.Event {
	t.Helper()
	ev, err := Decode([]byte(line), 1)
	if err != nil {
		t.Fatalf("Decode(%s): %v", line, err)
	}
	return ev
}

func TestDecodeMessage(t *testing.T) {
	line := `  {"type":"message","channel":"C0123ABC","user":"U0ABC","ts":1700000000.0001,"text":"hi \u00e9","client":"ios",` +
		`"reactions":[{"name":"x"}],"event_id":"Ev1","event_ts":"1700000001","blocks":[ {"type":"section"} ],` +
		`"files":[{"id":"F1"},{"id":"F2"}],"thread_ts":"1700000000","edited":{"user":"W1","ts":1700000005},"zz":null}` + "\r"
	ev := mustDecode(t, line)
	want := backchannel.Event{
		Type: "message", ID: "Ev1", Line: 1, EventTS: 1700000001_000000,
		ChannelID: "C0123ABC", UserID: "U0ABC", TS: 1700000000_000100, ThreadTS: 1700000000_000000,
		Client: "ios", Files: 2, Edited: &backchannel.Edited{User: "W1", TS: "1700000005.000000"},
		Raw: []byte(line[2 : len(line)-1]),
		Doc: []byte(`{"type":"message","user":"U0ABC","ts":"1700000000.000100","text":"hi \u00e9","blocks":[ {"type":"section"} ],` +
			`"files":[{"id":"F1"},{"id":"F2"}],"thread_ts":"1700000000.000000","zz":null}`),
		Key: sha256.Sum256([]byte("id:Ev1")),
	}
	if !reflect.DeepEqual(ev, want) {
		t.Errorf("got  %+v\nwant %+v\ndoc %s", ev, want, ev.Doc)
	}
	if !json.Valid(ev.Doc) {
		t.Errorf("Doc not valid JSON: %s", ev.Doc)
	}
}

func TestDecodeMessageKeyWithoutID(t *testing.T) {
	line := `{"type":"message","channel":"C1","bot_id":"B1","subtype":"bot_message","ts":"1.2"}`
	ev := mustDecode(t, " "+line+" ")
	if ev.Key != sha256.Sum256([]byte(line)) {
		t.Errorf("Key is not the hash of the trimmed line")
	}
	if ev.BotID != "B1" || ev.Subtype != "bot_message" || ev.UserID != "" {
		t.Errorf("got %+v", ev)
	}
}

func TestDecodeRawIsCopied(t *testing.T) {
	buf := []byte(`{"type":"message","channel":"C1","user":"U1","ts":"1.2"}`)
	ev := mustDecode(t, string(buf))
	ev2, _ := Decode(buf, 1)
	for i := range buf {
		buf[i] = 'x'
	}
	if string(ev2.Raw) != string(ev.Raw) || !json.Valid(ev2.Doc) {
		t.Errorf("Raw or Doc aliases the input: %s %s", ev2.Raw, ev2.Doc)
	}
}

func TestDecodeMessageChanged(t *testing.T) {
	for _, tc := range []struct{ name, line, doc string }{
		{"flat", `{"type":"message_changed","channel":"C1","ts":"1.000002","text":"new","blocks":[],"edited":{"user":"U1","ts":"9"},"event_id":"e"}`,
			`{"text":"new","blocks":[]}`},
		{"slack nested", `{"type":"message","subtype":"message_changed","hidden":true,"channel":"C1","ts":"99.0",` +
			`"message":{"type":"message","user":"U1","text":"new","edited":{"user":"U1","ts":"9.0"},"ts":"1.000002","reactions":[]},` +
			`"previous_message":{"text":"old"},"event_ts":"99.0"}`,
			`{"text":"new"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := mustDecode(t, tc.line)
			if ev.Type != backchannel.EvMessageChanged || ev.ChannelID != "C1" || ev.TS != 1_000002 {
				t.Errorf("got %+v", ev)
			}
			if ev.Edited == nil || *ev.Edited != (backchannel.Edited{User: "U1", TS: "9.000000"}) {
				t.Errorf("Edited = %+v", ev.Edited)
			}
			if string(ev.Doc) != tc.doc {
				t.Errorf("Doc = %s, want %s", ev.Doc, tc.doc)
			}
		})
	}
}

func TestDecodeOtherTypes(t *testing.T) {
	for _, tc := range []struct {
		line string
		want backchannel.Event
	}{
		{`{"type":"message_deleted","channel":"C1","ts":"5"}`,
			backchannel.Event{Type: "message_deleted", ChannelID: "C1", TS: 5_000000}},
		{`{"type":"message","subtype":"message_deleted","channel":"C1","deleted_ts":"5","ts":"6"}`,
			backchannel.Event{Type: "message_deleted", ChannelID: "C1", TS: 5_000000}},
		{`{"type":"reaction_added","channel":"C1","ts":"5","user":"U1","reaction":"+1","event_ts":"6"}`,
			backchannel.Event{Type: "reaction_added", ChannelID: "C1", TS: 5_000000, UserID: "U1", Reaction: "+1", EventTS: 6_000000}},
		{`{"type":"reaction_removed","channel":"C1","ts":"5","user":"U1","reaction":"thumbsup::skin-tone-2"}`,
			backchannel.Event{Type: "reaction_removed", ChannelID: "C1", TS: 5_000000, UserID: "U1", Reaction: "thumbsup::skin-tone-2"}},
		{`{"type":"pin_added","channel":"G1","ts":"5","user":"W1"}`,
			backchannel.Event{Type: "pin_added", ChannelID: "G1", TS: 5_000000, UserID: "W1"}},
		{`{"type":"pin_removed","channel":"G1","ts":"5","user":"W1"}`,
			backchannel.Event{Type: "pin_removed", ChannelID: "G1", TS: 5_000000, UserID: "W1"}},
		{`{"type":"star_added","channel":"D1","ts":"5","user":"W1"}`,
			backchannel.Event{Type: "star_added", ChannelID: "D1", TS: 5_000000, UserID: "W1"}},
		{`{"type":"star_removed","channel":"D1","ts":"5","user":"W1"}`,
			backchannel.Event{Type: "star_removed", ChannelID: "D1", TS: 5_000000, UserID: "W1"}},
		{`{"type":"member_joined_channel","channel":"C1","user":"USLACKBOT","event_ts":"7"}`,
			backchannel.Event{Type: "member_joined_channel", ChannelID: "C1", UserID: "USLACKBOT", EventTS: 7_000000}},
		{`{"type":"member_left_channel","channel":"C1","user":"U1"}`,
			backchannel.Event{Type: "member_left_channel", ChannelID: "C1", UserID: "U1"}},
		{`{"type":"message_viewed","channel":"C1","ts":"5","user":"U1","client":"web","event_ts":"8"}`,
			backchannel.Event{Type: "message_viewed", ChannelID: "C1", TS: 5_000000, UserID: "U1", Client: "web", EventTS: 8_000000}},
		{`{"type":"client_active","user":"U1","client":"android","event_ts":"8"}`,
			backchannel.Event{Type: "client_active", UserID: "U1", Client: "android", EventTS: 8_000000}},
		{`{"type":"call","user":"U1","kind":"huddle","event_ts":"8"}`,
			backchannel.Event{Type: "call", UserID: "U1", Subtype: "huddle", EventTS: 8_000000}},
		{`{"type":"search","user":"U1","event_ts":"8","query":"x"}`,
			backchannel.Event{Type: "search", UserID: "U1", EventTS: 8_000000}},
	} {
		t.Run(tc.line, func(t *testing.T) {
			ev := mustDecode(t, tc.line)
			tc.want.Line, tc.want.Raw, tc.want.Key = 1, []byte(tc.line), sha256.Sum256([]byte(tc.line))
			if !reflect.DeepEqual(ev, tc.want) {
				t.Errorf("got  %+v\nwant %+v", ev, tc.want)
			}
		})
	}
}

func TestDecodeDirectory(t *testing.T) {
	ev := mustDecode(t, `{"type":"enterprise","id":"E1","name":"Acme","analytics_start":"2024-01-01"}`)
	if want := (backchannel.Enterprise{ID: "E1", Name: "Acme", MemberAnalyticsEnabled: true, AnalyticsStart: "2024-01-01"}); *ev.Enterprise != want {
		t.Errorf("enterprise = %+v", *ev.Enterprise)
	}
	ev = mustDecode(t, `{"type":"team","id":"T1","name":"Acme","domain":"acme","enterprise_id":"E1"}`)
	if want := (backchannel.Team{ID: "T1", Name: "Acme", Domain: "acme", EnterpriseID: "E1"}); *ev.Team != want {
		t.Errorf("team = %+v", *ev.Team)
	}
	ev = mustDecode(t, `{"type":"user","id":"W1","team_id":"T1","name":"a","real_name":"A B","email":"a@x","department":"HR",`+
		`"employee_number":1234,"guest_type":"single_channel","is_admin":true,"date_claimed":1584810430,"deleted":true,"profile":{}}`)
	wantU := backchannel.User{ID: "W1", TeamID: "T1", Name: "a", RealName: "A B", Email: "a@x", Department: "HR",
		EmployeeNumber: "1234", IsGuest: true, GuestType: "single_channel", IsAdmin: true, DateClaimed: 1584810430, Deleted: true}
	if *ev.User != wantU {
		t.Errorf("user = %+v", *ev.User)
	}
	ev = mustDecode(t, `{"type":"channel","id":"C1","team_id":"T1","name":"ext","kind":"public","created":1555111593,"creator":"W1",`+
		`"topic":"t","purpose":{"value":"p","creator":"W1"},"is_archived":true,"shared_team_ids":["T2"],`+
		`"external_orgs":[{"name":"Ext","domain":"ext"}],"is_org_wide":true}`)
	wantC := backchannel.Channel{ID: "C1", TeamID: "T1", Name: "ext", Kind: "public", Created: 1555111593, Creator: "W1",
		Topic: "t", Purpose: "p", IsArchived: true, SharedTeamIDs: []string{"T2"},
		ExternalOrgs: []backchannel.ExternalOrg{{Name: "Ext", Domain: "ext"}}, IsOrgWide: true}
	if !reflect.DeepEqual(*ev.Channel, wantC) {
		t.Errorf("channel = %+v", *ev.Channel)
	}
	ev = mustDecode(t, `{"type":"channel","id":"D1","team_id":"T1","kind":"im"}`)
	if ev.Channel.Kind != "im" || !ev.IsDirectory() {
		t.Errorf("im channel = %+v", *ev.Channel)
	}
}

func TestDecodeErrors(t *testing.T) {
	const m = `"type":"message","channel":"C1","user":"U1"`
	for _, tc := range []struct{ line, want string }{
		{`{"type":"mesage"}`, `line 7: type: unknown event type "mesage"`},
		{`{` + m + `,"ts":"12x"}`, `line 7: ts: invalid timestamp "12x"`},
		{`{` + m + `,"ts":1e5}`, `line 7: ts: invalid timestamp "1e5"`},
		{`{` + m + `,"ts":"1.1234567"}`, `line 7: ts: invalid timestamp "1.1234567"`},
		{`{` + m + `,"ts":true}`, `line 7: ts: must be a timestamp string or number, got a boolean`},
		{`{` + m + `}`, `line 7: ts: required`},
		{`{"type":"message","user":"U1","ts":"1"}`, `line 7: channel: required`},
		{`{"type":"message","channel":"C1","ts":"1"}`, `line 7: user: required (or bot_id)`},
		{`{"type":"message","channel":"c1","user":"U1","ts":"1"}`, `line 7: channel: invalid channel ID "c1" (want C…, G… or D…: an uppercase letter and then uppercase letters and digits)`},
		{`{"type":"message","channel":"C1","user":"X1","ts":"1"}`, `line 7: user: invalid user ID "X1" (want U… or W…: an uppercase letter and then uppercase letters and digits)`},
		{`{` + m + `,"ts":"1","client":"mac"}`, `line 7: client: invalid value "mac" (want one of "desktop", "ios", "android", "web")`},
		{`{` + m + `,"ts":"1","files":{}}`, `line 7: files: must be an array, got an object`},
		{`{` + m + `,"ts":"1","text":5}`, `line 7: text: must be a string, got a number`},
		{`{` + m + `,"ts":"1","edited":{"user":"U1"}}`, `line 7: edited.ts: required`},
		{`{` + m + `,"ts":"1","ts":"2"}`, `line 7: ts: duplicate key`},
		{`{` + m + `,"ts":"1"`, `line 7: invalid JSON: want ',' or '}' but the line ended at offset 53`},
		{`[1]`, `line 7: invalid JSON: want an object but found '[' at offset 0`},
		{`{"type":"message","text":"a` + "\x01" + `"}`, `line 7: invalid JSON: control character in string at offset 27`},
		{"{\"type\":\"message\",\"text\":\"\xff\"}", `line 7: invalid JSON: invalid UTF-8 at offset 26`},
		{`{"type":1}`, `line 7: type: must be a string, got a number`},
		{`{"channel":"C1"}`, `line 7: type: required`},
		{`{"type":"message","event_id":7}`, `line 7: event_id: must be a string, got a number`},
		{`{"type":"message_changed","channel":"C1","text":"x"}`, `line 7: ts: required`},
		{`{"type":"message_changed","channel":"C1","message":{"ts":"x"}}`, `line 7: message.ts: invalid timestamp "x"`},
		{`{"type":"message_changed","channel":"C1","message":"x"}`, `line 7: message: must be an object, got a string`},
		{`{"type":"message_deleted","ts":"1"}`, `line 7: channel: required`},
		{`{"type":"reaction_added","channel":"C1","ts":"1","user":"U1"}`, `line 7: reaction: required`},
		{`{"type":"reaction_added","channel":"C1","ts":"1","user":"U1","reaction":":x:"}`, `line 7: reaction: invalid emoji name ":x:" (want the name without colons, e.g. "thumbsup")`},
		{`{"type":"pin_added","channel":"C1","ts":"1"}`, `line 7: user: required`},
		{`{"type":"member_joined_channel","user":"U1"}`, `line 7: channel: required`},
		{`{"type":"enterprise","id":"T1"}`, `line 7: id: invalid enterprise ID "T1" (want E…: an uppercase letter and then uppercase letters and digits)`},
		{`{"type":"enterprise","id":"E1","analytics_start":"2024-13-01"}`, `line 7: analytics_start: invalid date "2024-13-01" (want YYYY-MM-DD)`},
		{`{"type":"enterprise","id":"E1","member_analytics_enabled":"true"}`, `line 7: member_analytics_enabled: must be a boolean, got a string`},
		{`{"type":"team","name":"x"}`, `line 7: id: required`},
		{`{"type":"user","id":"U1"}`, `line 7: team_id: required`},
		{`{"type":"user","id":"U1","team_id":"T1","guest_type":"multi"}`, `line 7: guest_type: invalid value "multi" (want one of "multi_channel", "single_channel")`},
		{`{"type":"user","id":"U1","team_id":"T1","is_guest":false,"guest_type":"multi_channel"}`, `line 7: guest_type: set to "multi_channel" but is_guest is false`},
		{`{"type":"user","id":"U1","team_id":"T1","date_claimed":1.5}`, `line 7: date_claimed: must be a non-negative integer, got 1.5`},
		{`{"type":"channel","id":"C1","team_id":"T1","name":"x"}`, `line 7: kind: required`},
		{`{"type":"channel","id":"C1","team_id":"T1","name":"x","kind":"shared"}`, `line 7: kind: invalid value "shared" (want one of "public", "private", "im", "mpim")`},
		{`{"type":"channel","id":"C1","team_id":"T1","kind":"private"}`, `line 7: name: required for a private channel`},
		{`{"type":"channel","id":"C1","team_id":"T1","name":"x","kind":"public","shared_team_ids":["E1"]}`, `line 7: shared_team_ids: invalid team ID "E1" (want T…: an uppercase letter and then uppercase letters and digits)`},
		{`{"type":"channel","id":"C1","team_id":"T1","name":"x","kind":"public","external_orgs":[{"domain":"d"}]}`, `line 7: external_orgs.name: required`},
		{`{"type":"message_viewed","user":"U1","event_ts":"1","channel":"C1","ts":"1"}`, `line 7: client: required`},
		{`{"type":"call","user":"U1","event_ts":"1","kind":"zoom"}`, `line 7: kind: invalid value "zoom" (want one of "slack", "huddle", "third_party")`},
		{`{"type":"search","user":"U1"}`, `line 7: event_ts: required`},
		{` `, `line 7: empty line`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := Decode([]byte(tc.line), 7)
			var ee *backchannel.EventError
			if !errors.As(err, &ee) {
				t.Fatalf("Decode(%s) = %v, want an *EventError", tc.line, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Decode(%s)\n got  %s\n want %s", tc.line, got, tc.want)
			}
			var d Decoder
			d.Check([]byte(msgLine), 6) // scratch from another line must not matter
			if err := d.Check([]byte(tc.line), 7); err == nil || err.Error() != tc.want {
				t.Errorf("Check(%s)\n got  %v\n want %s", tc.line, err, tc.want)
			}
		})
	}
}

// A Doc's ts is the line's when it is canonical, else the formatted TS:
// the same bytes either way.
func TestDocTSIsCanonical(t *testing.T) {
	for _, ts := range []string{`"1600000000.000100"`, `"001600000000.000100"`, `"1600000000.1"`, `"1600000000"`, `1600000000.000100`, `"0.000001"`, `"00.000001"`} {
		ev, err := Decode([]byte(`{"type":"message","channel":"C1","user":"U1","ts":`+ts+`,"thread_ts":`+ts+`}`), 1)
		if err != nil {
			t.Fatalf("%s: %v", ts, err)
		}
		want := `{"type":"message","user":"U1","ts":"` + ev.TS.String() + `","thread_ts":"` + ev.TS.String() + `"}`
		if string(ev.Doc) != want {
			t.Errorf("%s: Doc %s, want %s", ts, ev.Doc, want)
		}
	}
}
