package analytics

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/backchannel/backchannel"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\back`, "<a&b>", "tab\tnl\nret\r\b\f\x01\x1f",
		"héllo ünïcode 日本", "bad\xffutf8\xc3", "line\u2028sep\u2029", "emoji 😀"} {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a<b>\"\\\x00\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func day(t testing.TB, s string) backchannel.Day {
	t.Helper()
	d, err := backchannel.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The seed's example lines, rebuilt from rows, must come out byte for byte.
func TestSeedExampleLines(t *testing.T) {
	m := MemberRow{EnterpriseID: "E5UBAR8CH", Date: day(t, "2020-10-05"), UserID: "W1ZOSID3ZI2", Email: "gstein@example.org",
		Billable: true, DateClaimed: 1584810520, Counts: MemberCounts{Reactions: 23, Messages: 123, ChannelMessages: 23,
			Files: 3, SlackCalls: 4, Huddles: 5, ThirdPartyCalls: 1, Searches: 1001, Flags: FlagActive | FlagDesktop | FlagWorkflows}}
	want := `{"enterprise_id":"E5UBAR8CH","date":"2020-10-05","user_id":"W1ZOSID3ZI2","email_address":"gstein@example.org","is_guest":false,"is_billable_seat":true,"is_active":true,"is_active_ios":false,"is_active_android":false,"is_active_desktop":true,"reactions_added_count":23,"messages_posted_count":123,"channel_messages_posted_count":23,"files_added_count":3,"is_active_apps":false,"is_active_workflows":true,"is_active_slack_connect":false,"total_calls_count":10,"slack_calls_count":4,"slack_huddles_count":5,"search_count":1001,"date_claimed":1584810520}` + "\n"
	if got := string(AppendMember(nil, &m)); got != want {
		t.Errorf("member:\n got %s\nwant %s", got, want)
	}
	m.EmployeeNumber = "273849373"
	if got := string(AppendMember(nil, &m)); !bytes.Contains([]byte(got), []byte(`"email_address":"gstein@example.org","enterprise_employee_number":"273849373","is_guest":false`)) {
		t.Errorf("employee number not after email: %s", got)
	}

	c := ChannelRow{EnterpriseID: "EJB3MZFLM", TeamID: "EJB3MZFLM", Originating: TeamRef{"EJB3MZFLM", "arcane-enterprise"},
		ChannelID: "CNGZ5K595", DateCreated: 1355111593, DateLastActive: 1452719593, TotalMembers: 5, FullMembers: 4, GuestMembers: 1,
		Counts:      ChannelCounts{Messages: 1, MemberMessages: 1, Viewers: 5, Posters: 1, Reactions: 1},
		ChannelType: "multi_workspace_channel", SharedExternally: true,
		SharedWith:   []TeamRef{{"T5J3Q04QA", "scifi"}, {"EJB3MZFLM", "arcane-enterprise"}},
		ExternalOrgs: []backchannel.ExternalOrg{{Name: "Away Org", Domain: "away.enterprise.slack.com"}}, Date: day(t, "2020-11-14")}
	want = `{"enterprise_id":"EJB3MZFLM","team_id":"EJB3MZFLM","originating_team":{"team_id":"EJB3MZFLM","name":"arcane-enterprise"},"channel_id":"CNGZ5K595","date_created":1355111593,"date_last_active":1452719593,"total_members_count":5,"full_members_count":4,"guest_member_count":1,"messages_posted_count":1,"messages_posted_by_members_count":1,"members_who_viewed_count":5,"members_who_posted_count":1,"reactions_added_count":1,"visibility":"public","channel_type":"multi_workspace_channel","is_shared_externally":true,"shared_with":[{"team_id":"T5J3Q04QA","name":"scifi"},{"team_id":"EJB3MZFLM","name":"arcane-enterprise"}],"externally_shared_with_organizations":[{"name":"Away Org","domain":"away.enterprise.slack.com"}],"date":"2020-11-14"}` + "\n"
	if got := string(AppendPublicChannel(nil, &c)); got != want {
		t.Errorf("public_channel:\n got %s\nwant %s", got, want)
	}
	c.SharedWith, c.ExternalOrgs = nil, nil
	if got := AppendPublicChannel(nil, &c); !bytes.Contains(got, []byte(`"shared_with":[],"externally_shared_with_organizations":[],`)) {
		t.Errorf("empty arrays: %s", got)
	}

	md := MetadataRow{ChannelID: "CNGZ5K595", Name: "teds", Topic: "'No you meant the other ted' - @ted",
		Description: "A channel just for teds, by teds.", Date: day(t, "2020-11-14")}
	want = `{"channel_id":"CNGZ5K595","name":"teds","topic":"'No you meant the other ted' - @ted","description":"A channel just for teds, by teds.","date":"2020-11-14"}` + "\n"
	if got := string(AppendMetadata(nil, &md)); got != want {
		t.Errorf("metadata:\n got %s\nwant %s", got, want)
	}
}

func TestChannelType(t *testing.T) {
	for _, tt := range []struct {
		c    backchannel.Channel
		want string
	}{
		{backchannel.Channel{}, "single_workspace_channel"},
		{backchannel.Channel{SharedTeamIDs: []string{"T2"}}, "multi_workspace_channel"},
		{backchannel.Channel{SharedTeamIDs: []string{"T2"}, IsOrgWide: true}, "org_wide_channel"},
	} {
		if got := ChannelType(&tt.c); got != tt.want {
			t.Errorf("ChannelType(%+v) = %s, want %s", tt.c, got, tt.want)
		}
	}
}

func TestAppendDate(t *testing.T) {
	for _, s := range []string{"1970-01-01", "2020-02-29", "2024-12-31", "0999-01-09"} {
		if got := string(appendDate(nil, `"`, day(t, s))); got != `"`+s+`"` {
			t.Errorf("appendDate(%s) = %s", s, got)
		}
	}
}
