package slackapi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
)

// ts returns the timestamp of fixture message i: second 1700000000+i.
func ts(i int) backchannel.TS { return backchannel.TS(int64(1_700_000_000+i) * 1_000_000) }

// historyWorld has messages 1..10 in every channel.
func historyWorld() *world {
	w := newWorld()
	for id := range w.channels {
		for i := 1; i <= 10; i++ {
			w.messages[id] = append(w.messages[id], ts(i))
		}
	}
	return w
}

type historyPage struct {
	Messages []struct {
		TS string `json:"ts"`
	} `json:"messages"`
	HasMore  bool   `json:"has_more"`
	Latest   string `json:"latest"`
	Oldest   string `json:"oldest"`
	Metadata *struct {
		NextCursor string `json:"next_cursor"`
	} `json:"response_metadata"`
}

// list renders the page as "10,9,8 >7": message numbers, then the cursor's.
func (p historyPage) list(t *testing.T) string {
	t.Helper()
	var parts []string
	for _, m := range p.Messages {
		v, err := backchannel.ParseTS(m.TS)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprint(int64(v)/1_000_000-1_700_000_000))
	}
	s := strings.Join(parts, ",")
	if p.Metadata != nil {
		c, err := DecodeCursor(p.Metadata.NextCursor)
		if err != nil {
			t.Fatalf("next_cursor: %v", err)
		}
		s += fmt.Sprintf(" >%d", int64(c)/1_000_000-1_700_000_000)
	}
	if p.HasMore != (p.Metadata != nil) {
		t.Errorf("has_more = %v but response_metadata = %v", p.HasMore, p.Metadata)
	}
	return s
}

func history(t *testing.T, api *API, tok, query string) (historyPage, reply) {
	t.Helper()
	r := do(t, api, call{method: "conversations.history", query: query, token: tok})
	var p historyPage
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	return p, r
}

func TestHistoryPages(t *testing.T) {
	tests := []struct {
		name, query string
		want        string // message numbers newest first, then >cursor
	}{
		{"all", "channel=C1", "10,9,8,7,6,5,4,3,2,1"},
		{"limit", "channel=C1&limit=4", "10,9,8,7 >6"},
		{"latest exclusive", "channel=C1&latest=1700000005.000000", "4,3,2,1"},
		{"latest inclusive", "channel=C1&latest=1700000005.000000&inclusive=true", "5,4,3,2,1"},
		{"latest as integer", "channel=C1&latest=1700000005&inclusive=1", "5,4,3,2,1"},
		{"oldest exclusive", "channel=C1&oldest=1700000005.000000", "10,9,8,7,6"},
		{"oldest inclusive", "channel=C1&oldest=1700000005.000000&inclusive=1", "10,9,8,7,6,5"},
		{"both bounds", "channel=C1&oldest=1700000002&latest=1700000009", "8,7,6,5,4,3"},
		{"both bounds inclusive", "channel=C1&oldest=1700000002&latest=1700000009&inclusive=true", "9,8,7,6,5,4,3,2"},
		{"inclusive=0", "channel=C1&latest=1700000005&inclusive=0", "4,3,2,1"},
		{"inclusive=false", "channel=C1&latest=1700000005&inclusive=false", "4,3,2,1"},
		{"only oldest: closest to oldest", "channel=C1&oldest=1700000002&limit=3", "5,4,3 >6"},
		{"both bounds with limit: closest to latest", "channel=C1&oldest=1700000002&latest=1700000009&limit=3", "8,7,6 >5"},
		{"single message", "channel=C1&latest=1700000005.000000&inclusive=true&limit=1", "5 >4"},
		{"single message via oldest", "channel=C1&oldest=1700000005.000000&inclusive=true&limit=1", "5 >6"},
		{"limit 0 clamps to 1", "channel=C1&limit=0", "10 >9"},
		{"negative limit clamps to 1", "channel=C1&limit=-5", "10 >9"},
		{"non-numeric limit is the default", "channel=C1&limit=abc", "10,9,8,7,6,5,4,3,2,1"},
		{"empty range", "channel=C1&oldest=1700000005&latest=1700000005", ""},
		{"latest before everything", "channel=C1&latest=0", ""},
		{"cursor", "channel=C1&limit=4&cursor=" + url.QueryEscape(EncodeCursor(ts(6))), "6,5,4,3 >2"},
		{"cursor keeps oldest", "channel=C1&limit=4&oldest=1700000004&latest=1700000010&cursor=" + url.QueryEscape(EncodeCursor(ts(6))), "6,5"},
		{"cursor in ascending mode", "channel=C1&limit=3&oldest=1700000002&cursor=" + url.QueryEscape(EncodeCursor(ts(6))), "8,7,6 >9"},
		{"im", "channel=D1", "10,9,8,7,6,5,4,3,2,1"},
		{"mpim", "channel=M1&limit=2", "10,9 >8"},
		{"private", "channel=G1&limit=2", "10,9 >8"},
		{"public non-member user", "channel=C2&limit=1", "10 >9"},
	}
	api, _ := testAPI(t, historyWorld())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, r := history(t, api, tokUser, tt.query)
			if code := r.errCode(t); code != "" {
				t.Fatalf("error %s", code)
			}
			if got := p.list(t); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// Paging with next_cursor until the end visits every message once, in both
// modes, as SDK paginators do (same arguments plus the cursor).
func TestHistoryPaginate(t *testing.T) {
	for _, base := range []string{"channel=C1&limit=3", "channel=C1&limit=3&oldest=0", "channel=C1&limit=4&latest=1700000010&oldest=1700000001&inclusive=1"} {
		api, _ := testAPI(t, historyWorld())
		seen := map[string]bool{}
		cursor := ""
		for range 20 {
			q := base
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			p, _ := history(t, api, tokUser, q)
			for _, m := range p.Messages {
				if seen[m.TS] {
					t.Errorf("%s: %s seen twice", base, m.TS)
				}
				seen[m.TS] = true
			}
			if p.Metadata == nil {
				break
			}
			cursor = p.Metadata.NextCursor
		}
		if len(seen) != 10 {
			t.Errorf("%s: saw %d messages, want 10", base, len(seen))
		}
	}
}

func TestHistoryQuery(t *testing.T) {
	now := backchannel.TSFromTime(testNow)
	tests := []struct {
		query string
		want  backchannel.HistoryQuery
	}{
		{"channel=C1", backchannel.HistoryQuery{Channel: "C1", Lo: 0, Hi: now, Limit: 100, Caller: "W1"}},
		{"channel=C1&inclusive=1", backchannel.HistoryQuery{Channel: "C1", Lo: 0, Hi: now, Limit: 100, Caller: "W1"}},
		{"channel=C1&limit=5000", backchannel.HistoryQuery{Channel: "C1", Lo: 0, Hi: now, Limit: 999, Caller: "W1"}},
		{"channel=C1&limit=999", backchannel.HistoryQuery{Channel: "C1", Lo: 0, Hi: now, Limit: 999, Caller: "W1"}},
		{"channel=C1&limit=20", backchannel.HistoryQuery{Channel: "C1", Lo: 0, Hi: now, Limit: 20, Caller: "W1"}},
		{"channel=C1&oldest=1.5", backchannel.HistoryQuery{Channel: "C1", Lo: 1_500_001, Hi: now, Limit: 100, Ascending: true, Caller: "W1"}},
		{"channel=C1&latest=2&oldest=1", backchannel.HistoryQuery{Channel: "C1", Lo: 1_000_001, Hi: 1_999_999, Limit: 100, Caller: "W1"}},
	}
	for _, tt := range tests {
		w := historyWorld()
		api, _ := testAPI(t, w)
		history(t, api, tokUser, tt.query)
		if len(w.queries) != 1 || w.queries[0] != tt.want {
			t.Errorf("%s: queries %+v, want %+v", tt.query, w.queries, tt.want)
		}
	}
}

func TestHistoryErrors(t *testing.T) {
	tests := []struct {
		name, tok, query, want string
	}{
		{"channel missing", tokUser, "", "channel_not_found"},
		{"channel empty", tokUser, "channel=", "channel_not_found"},
		{"unknown channel", tokUser, "channel=C404", "channel_not_found"},
		{"private non-member", tokUser, "channel=G2", "channel_not_found"},
		{"im non-member", tokUser, "channel=D2", "channel_not_found"},
		{"mpim non-member", tokUser, "channel=M2", "channel_not_found"},
		{"bot in public non-member", tokBot, "channel=C2", "not_in_channel"},
		{"bot in private non-member", tokBot, "channel=G2", "channel_not_found"},
		{"no history scope at all", tokNoHist, "channel=C404", "missing_scope"},
		{"wrong kind scope", tokPublic, "channel=G1", "missing_scope"},
		{"wrong kind scope, not a member", tokPublic, "channel=G2", "channel_not_found"},
		{"invalid_ts_latest", tokUser, "channel=C1&latest=abc", "invalid_ts_latest"},
		{"invalid_ts_latest negative", tokUser, "channel=C1&latest=-1", "invalid_ts_latest"},
		{"invalid_ts_latest nanoseconds", tokUser, "channel=C1&latest=1.0000001", "invalid_ts_latest"},
		{"invalid_ts_oldest", tokUser, "channel=C1&oldest=1.2.3", "invalid_ts_oldest"},
		{"invalid_cursor", tokUser, "channel=C1&cursor=garbage", "invalid_cursor"},
		{"invalid_cursor other method's", tokUser, "channel=C1&cursor=dXNlcjpVMDYxTkZUVDI%3D", "invalid_cursor"},
	}
	api, _ := testAPI(t, historyWorld())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, r := history(t, api, tt.tok, tt.query)
			if got := r.errCode(t); got != tt.want {
				t.Errorf("error %q, want %q (%s)", got, tt.want, r.body)
			}
		})
	}
	_, r := history(t, api, tokPublic, "channel=G1")
	want := `{"ok":false,"error":"missing_scope","needed":"groups:history","provided":"channels:history"}`
	if r.body != want {
		t.Errorf("kind scope:\n got %s\nwant %s", r.body, want)
	}
}
