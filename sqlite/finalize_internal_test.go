package sqlite

import (
	"testing"

	"github.com/backchannel/backchannel/analytics"
)

func TestParseCounts(t *testing.T) {
	var c analytics.MemberCounts
	if err := parseCounts([]byte("1,22,333,0,5,6,7,9223372036854775807"), &c); err != nil {
		t.Fatal(err)
	}
	want := analytics.MemberCounts{Messages: 1, ChannelMessages: 22, Reactions: 333, SlackCalls: 5, Huddles: 6,
		ThirdPartyCalls: 7, Searches: 9223372036854775807}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if err := parseCounts(nil, &c); err != nil || c != (analytics.MemberCounts{}) {
		t.Errorf("no row: got %+v, %v; want zeros", c, err)
	}
	for _, bad := range []string{"", "1,2,3", "1,2,3,4,5,6,7,8,9", "1,2,3,4,5,6,7,", "1,2,3,4,5,6,7,-8", "1,2,3,4,5,6,7,x",
		"1,2,3,4,5,6,7,9223372036854775808", "1,,3,4,5,6,7,8"} {
		if err := parseCounts([]byte(bad), &c); err == nil {
			t.Errorf("parseCounts(%q): no error", bad)
		}
	}
}
