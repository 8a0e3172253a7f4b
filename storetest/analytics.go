package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
)

// The hand-built organisation of the analytics tests: three days, every
// field of every line worked out by hand below.
const (
	d1s = 1709251200 // 2024-03-01 00:00:00 UTC
	d2s = d1s + 86400
	d3s = d2s + 86400
	feb = 1706745600 // 2024-02-01, when the first users were claimed
	jan = 1704067200 // 2024-01-01, when the channels were created
)

func sec(s int64) backchannel.TS { return backchannel.TS(s * 1_000_000) }

var (
	day1 = backchannel.Day(d1s / 86400)
	day2 = day1 + 1
	day3 = day1 + 2
	msg1 = sec(d1s+3600) + 1 // W1's post in C1 (microseconds on purpose)
)

func analyticsDirectory() []backchannel.Event {
	u := func(id, team, guestType string, bot bool, claimed int64) backchannel.User {
		return backchannel.User{ID: id, TeamID: team, Email: lower(id) + "@acme.test", IsGuest: guestType != "",
			GuestType: guestType, IsBot: bot, DateClaimed: claimed}
	}
	w1 := u("W1", "T1", "", false, feb)
	w1.EmployeeNumber = "1001"
	before := sec(d1s - 86400)
	return []backchannel.Event{
		EnterpriseAt("E1", "Acme"), TeamAt("T1", "alpha", "E1"), TeamAt("T2", "beta", "E1"),
		UserAt(w1, before), UserAt(u("W2", "T1", "", false, feb), before),
		UserAt(u("W3", "T1", "single_channel", false, feb), before),
		UserAt(u("W4", "T2", "multi_channel", false, feb), before),
		UserAt(u("W5", "T1", "", false, feb), before), UserAt(u("WB", "T1", "", true, feb), before),
		ChannelAt(backchannel.Channel{ID: "C1", TeamID: "T1", Name: "general", Kind: backchannel.KindPublic, Created: jan,
			Topic: "Hi <all>", Purpose: "Everything", SharedTeamIDs: []string{"T2"},
			ExternalOrgs: []backchannel.ExternalOrg{{Name: "Away Org", Domain: "away.slack.com"}}}, before),
		ChannelAt(backchannel.Channel{ID: "C2", TeamID: "T2", Name: "random", Kind: backchannel.KindPublic, Created: jan}, before),
		ChannelAt(backchannel.Channel{ID: "G1", TeamID: "T1", Name: "secret", Kind: backchannel.KindPrivate, Created: jan}, before),
		ChannelAt(backchannel.Channel{ID: "DIM1", TeamID: "T1", Kind: backchannel.KindIM, Created: jan}, before),
		MemberAt(true, "C1", "W1", before), MemberAt(true, "C1", "W2", before), MemberAt(true, "C1", "W3", before),
		MemberAt(true, "C1", "WB", before),
	}
}

func lower(s string) string { return string(bytes.ToLower([]byte(s))) }

// day1Events: W1 posts on desktop (a file, Slack Connect), in an IM, uses
// apps, workflows, calls; a bot posts; W2 only views on the web and reacts
// (one reaction removed); W3 (single-channel guest) is active on iOS and
// searches, once at 23:59:59.999999.
func day1Events() []backchannel.Event {
	at := func(s int64) backchannel.TS { return sec(d1s + s) }
	return []backchannel.Event{
		Post("C1", "W1", "", msg1, "desktop", 1, "hello"),
		Post("C1", "W1", "", msg1, "desktop", 1, "hello again"), // replaces: not posted twice
		Post("DIM1", "W1", "", at(3700), "desktop", 0, "psst"),
		Post("C1", "WB", "", at(3800), "", 0, "beep"),
		Post("C1", "", "B1", at(3500), "", 0, "app"),
		Act(backchannel.EvMessageViewed, "W2", at(4000), "channel", "C1", "ts", msg1.String(), "client", "web"),
		ReactionAt(true, "C1", msg1, "W2", "tada", at(4100)),
		ReactionAt(false, "C1", msg1, "W2", "tada", at(4200)),
		ReactionAt(true, "C1", msg1, "WB", "robot", at(4300)),
		Act(backchannel.EvClientActive, "W3", at(5000), "client", "ios"),
		Act(backchannel.EvSearch, "W3", at(6000)),
		Act(backchannel.EvSearch, "W3", at(86400)-1), // 23:59:59.999999
		Act(backchannel.EvCall, "W1", at(7000), "kind", "slack"),
		Act(backchannel.EvCall, "W1", at(7001), "kind", "huddle"),
		Act(backchannel.EvCall, "W1", at(7002), "kind", "third_party"),
		Act(backchannel.EvAppUsed, "W1", at(7100)),
		Act(backchannel.EvWorkflowUsed, "W1", at(7200)),
		Act(backchannel.EvFileAdded, "W1", at(7300)),
		Act(backchannel.EvMessageClicked, "W1", at(7400), "channel", "C1", "ts", msg1.String()),
	}
}

// day2Events: W4 (multi-channel guest) joins C1 and views on Android; C2 is
// archived; W5 deleted; W6 claimed; W1 posts in a private channel from iOS;
// W2 leaves C1 at the last microsecond of the day.
func day2Events() []backchannel.Event {
	at := func(s int64) backchannel.TS { return sec(d2s + s) }
	w5 := backchannel.User{ID: "W5", TeamID: "T1", Email: "w5@acme.test", DateClaimed: feb, Deleted: true}
	w6 := backchannel.User{ID: "W6", TeamID: "T2", Email: "w6@acme.test", DateClaimed: d2s + 43200}
	return []backchannel.Event{
		Post("G1", "W1", "", at(1000), "ios", 0, "private"),
		MemberAt(true, "C1", "W4", at(36000)),
		Act(backchannel.EvMessageViewed, "W4", at(40000), "channel", "C1", "ts", msg1.String(), "client", "android"),
		ChannelAt(backchannel.Channel{ID: "C2", TeamID: "T2", Name: "random", Kind: backchannel.KindPublic, Created: jan, IsArchived: true}, at(43200)),
		UserAt(w5, at(50000)),
		UserAt(w6, at(50001)),
		MemberAt(false, "C1", "W2", at(86400)-1),
	}
}

type memberWant struct {
	date, user, emp                                string
	guest, billable, active, ios, android, desktop bool
	reactions, msgs, chMsgs, files                 int
	apps, workflows, connect                       bool
	slack, huddles, third, search                  int
	claimed                                        int64
}

func (m memberWant) String() string {
	emp := ""
	if m.emp != "" {
		emp = fmt.Sprintf(`,"enterprise_employee_number":%q`, m.emp)
	}
	return fmt.Sprintf(`{"enterprise_id":"E1","date":%q,"user_id":%q,"email_address":"%s@acme.test"%s,`+
		`"is_guest":%t,"is_billable_seat":%t,"is_active":%t,"is_active_ios":%t,"is_active_android":%t,"is_active_desktop":%t,`+
		`"reactions_added_count":%d,"messages_posted_count":%d,"channel_messages_posted_count":%d,"files_added_count":%d,`+
		`"is_active_apps":%t,"is_active_workflows":%t,"is_active_slack_connect":%t,"total_calls_count":%d,`+
		`"slack_calls_count":%d,"slack_huddles_count":%d,"search_count":%d,"date_claimed":%d}`,
		m.date, m.user, lower(m.user), emp, m.guest, m.billable, m.active, m.ios, m.android, m.desktop,
		m.reactions, m.msgs, m.chMsgs, m.files, m.apps, m.workflows, m.connect, m.slack+m.huddles+m.third,
		m.slack, m.huddles, m.search, m.claimed)
}

func idle(date, user string, guest, billable bool) memberWant {
	return memberWant{date: date, user: user, guest: guest, billable: billable, claimed: feb}
}

func wantMembers() map[backchannel.Day][]memberWant {
	w1d1 := memberWant{date: "2024-03-01", user: "W1", emp: "1001", billable: true, active: true, desktop: true,
		msgs: 2, chMsgs: 1, files: 2, apps: true, workflows: true, connect: true, slack: 1, huddles: 1, third: 1, claimed: feb}
	w2d1 := memberWant{date: "2024-03-01", user: "W2", billable: true, active: true, reactions: 1, connect: true, claimed: feb}
	w3d1 := memberWant{date: "2024-03-01", user: "W3", guest: true, active: true, ios: true, search: 2, claimed: feb}
	w1d2 := memberWant{date: "2024-03-02", user: "W1", emp: "1001", billable: true, active: true, ios: true, msgs: 1, chMsgs: 1, claimed: feb}
	w4d2 := memberWant{date: "2024-03-02", user: "W4", guest: true, billable: true, active: true, android: true, connect: true, claimed: feb}
	w6 := func(date string) memberWant { m := idle(date, "W6", false, false); m.claimed = d2s + 43200; return m }
	w1d3 := idle("2024-03-03", "W1", false, true)
	w1d3.emp = "1001"
	return map[backchannel.Day][]memberWant{
		day1: {w1d1, w2d1, w3d1, idle("2024-03-01", "W4", true, false), idle("2024-03-01", "W5", false, false)},
		day2: {w1d2, idle("2024-03-02", "W2", false, true), idle("2024-03-02", "W3", true, false), w4d2,
			idle("2024-03-02", "W5", false, false), w6("2024-03-02")},
		day3: {w1d3, idle("2024-03-03", "W2", false, true), idle("2024-03-03", "W3", true, false),
			idle("2024-03-03", "W4", true, true), w6("2024-03-03")},
	}
}

const c1Shared = `"channel_type":"multi_workspace_channel","is_shared_externally":true,` +
	`"shared_with":[{"team_id":"T2","name":"beta"}],"externally_shared_with_organizations":[{"name":"Away Org","domain":"away.slack.com"}]`

func channelLine(date, id, team, teamName string, lastActive int64, total, full, guest, msgs, byMembers, viewed, posted, reactions int, shared string) string {
	return fmt.Sprintf(`{"enterprise_id":"E1","team_id":"E1","originating_team":{"team_id":%q,"name":%q},"channel_id":%q,`+
		`"date_created":%d,"date_last_active":%d,"total_members_count":%d,"full_members_count":%d,"guest_member_count":%d,`+
		`"messages_posted_count":%d,"messages_posted_by_members_count":%d,"members_who_viewed_count":%d,`+
		`"members_who_posted_count":%d,"reactions_added_count":%d,"visibility":"public",%s,"date":%q}`,
		team, teamName, id, jan, lastActive, total, full, guest, msgs, byMembers, viewed, posted, reactions, shared, date)
}

const c2Plain = `"channel_type":"single_workspace_channel","is_shared_externally":false,"shared_with":[],"externally_shared_with_organizations":[]`

func wantChannels() map[backchannel.Day][]string {
	last := int64(d1s + 3800) // the bot's post, the day's latest
	return map[backchannel.Day][]string{
		// C1 at the end of day 1: W1, W2 (full), W3 (guest); the bot is not
		// counted. Posts: W1, the bot user, the app; W1 is the only person.
		day1: {channelLine("2024-03-01", "C1", "T1", "alpha", last, 3, 2, 1, 3, 1, 1, 1, 1, c1Shared),
			channelLine("2024-03-01", "C2", "T2", "beta", 0, 0, 0, 0, 0, 0, 0, 0, 0, c2Plain)},
		// C2 archived during day 2; W4 joined, W2 left at 23:59:59.999999.
		day2: {channelLine("2024-03-02", "C1", "T1", "alpha", last, 3, 1, 2, 0, 0, 1, 0, 0, c1Shared)},
		day3: {channelLine("2024-03-03", "C1", "T1", "alpha", last, 3, 1, 2, 0, 0, 0, 0, 0, c1Shared)},
	}
}

func wantMetadata(d backchannel.Day) []string {
	c1 := fmt.Sprintf(`{"channel_id":"C1","name":"general","topic":"Hi \u003call\u003e","description":"Everything","date":%q}`, d)
	if d == day1 {
		return []string{c1, fmt.Sprintf(`{"channel_id":"C2","name":"random","topic":"","description":"","date":%q}`, d)}
	}
	return []string{c1}
}

func strs[T fmt.Stringer](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.String()
	}
	return out
}

// checkFiles compares every file of the three days with the hand-worked lines.
func checkFiles(t *testing.T, as backchannel.AnalyticsStore) {
	t.Helper()
	members, channels := wantMembers(), wantChannels()
	for _, d := range []backchannel.Day{day1, day2, day3} {
		wantLines(t, "member "+d.String(), lines(t, readFile(t, as, backchannel.FileMember, d)), strs(members[d]))
		wantLines(t, "public_channel "+d.String(), lines(t, readFile(t, as, backchannel.FilePublicChannel, d)), channels[d])
		wantLines(t, "metadata "+d.String(), lines(t, readFile(t, as, backchannel.FileMetadata, d)), wantMetadata(d))
	}
}

func testAnalyticsFiles(t *testing.T, s backchannel.Store) {
	as := analyticsStore(t, s)
	ctx := t.Context()
	apply(t, s, analyticsDirectory()...)
	apply(t, s, day1Events()...)
	apply(t, s, day2Events()...)
	// Replays change nothing.
	if res := apply(t, s, day1Events()...); res.Accepted != 0 || res.Duplicates != len(day1Events()) {
		t.Fatalf("replay: %+v", res)
	}

	st, err := as.AnalyticsStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.HasData || st.FirstDay != day1 || st.LastDay != day2 || st.LastClosed != -1 || !slices.Equal(st.Pending, []backchannel.Day{day1, day2}) {
		t.Fatalf("status before closing: %+v", st)
	}
	if _, err := as.OpenAnalyticsFile(ctx, backchannel.FileMember, day1); backchannel.ErrorCode(err) != backchannel.ENOTFOUND {
		t.Fatalf("file of an open day: got %v, want %s", err, backchannel.ENOTFOUND)
	}
	closed, err := as.FinalizeDays(ctx, day3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(closed, []backchannel.Day{day1, day2, day3}) {
		t.Fatalf("FinalizeDays closed %v, want days 1-3", closed)
	}
	if again, err := as.FinalizeDays(ctx, day3); err != nil || len(again) != 0 {
		t.Fatalf("FinalizeDays again: %v, %v; want nothing", again, err)
	}
	checkFiles(t, as)

	var buf bytes.Buffer
	if err := as.WriteMetadataFile(ctx, &buf, day3+10); err != nil {
		t.Fatal(err)
	}
	wantLines(t, "current metadata", lines(t, buf.Bytes()), wantMetadata(day3+10))

	st, err = as.AnalyticsStatus(ctx)
	if err != nil || st.LastClosed != day3 || len(st.Pending) != 0 || st.LateEvents != 0 {
		t.Fatalf("status after closing: %+v, %v", st, err)
	}
}
