package storetest

import (
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
)

// testActivityBounds: the window is inclusive at both ends, a page is
// newest first with Next the first message of the following page, a walk
// returns each visible message once, and untouched messages, other
// channels, deleted messages and plain replies behave as the contract says.
func testActivityBounds(t *testing.T, s backchannel.Store) {
	as := activityStore(t, s)
	ctx := t.Context()
	evs := []backchannel.Event{Channel("C1", backchannel.KindPublic), Channel("C2", backchannel.KindPublic)}
	for i := 1; i <= 9; i++ {
		evs = append(evs, Message("C1", "W1", sts(i), "m"))
	}
	evs = append(evs, Message("C2", "W1", sts(5), "elsewhere"),
		Reply("C1", "W1", TS(41), sts(4), "reply", false), Reply("C1", "W1", TS(42), sts(4), "broadcast", true),
		Deleted("C1", sts(6)),
		Act(backchannel.EvMessageViewed, "W2", sec(d1s), "channel", "C1", "ts", sts(3), "client", "ios"),
		Act(backchannel.EvMessageViewed, "W2", sec(d1s)+1, "channel", "C1", "ts", TS(41), "client", "ios"))
	apply(t, s, evs...)
	tss := func(p backchannel.MessageActivityPage) []string {
		var out []string
		for _, m := range p.Activities {
			out = append(out, m.TS.String())
		}
		return out
	}
	page := func(oldest, latest string, limit int) backchannel.MessageActivityPage {
		t.Helper()
		p, err := as.MessageActivity(ctx, backchannel.MessageActivityQuery{Channel: "C1",
			Oldest: mustTS(oldest), Latest: mustTS(latest), Limit: limit})
		if err != nil {
			t.Fatalf("MessageActivity: %v", err)
		}
		return p
	}

	// Exactly on both bounds, and one microsecond inside them.
	p := page(sts(3), sts(5), 100)
	equal(t, "[3, 5]", tss(p), []string{sts(5), TS(42), sts(4), sts(3)})
	if p.Next != 0 {
		t.Errorf("[3, 5]: Next = %s, want 0", p.Next)
	}
	p = page(TS(31), TS(49), 100)
	equal(t, "(3, 5)", tss(p), []string{TS(42), sts(4)})
	p = page(sts(5), sts(5), 100)
	equal(t, "[5, 5]", tss(p), []string{sts(5)})

	// Limit: Next is the first message left out; walking returns each once.
	p = page(sts(1), sts(9), 3)
	equal(t, "first page", tss(p), []string{sts(9), sts(8), sts(7)})
	if want := mustTS(sts(5)); p.Next != want { // 6 is deleted
		t.Errorf("Next = %s, want %s", p.Next, want)
	}
	for _, limit := range []int{1, 2, 3, 4, 9, 100} {
		var got []string
		for _, m := range activityWalk(t, as, "C1", mustTS(sts(1)), mustTS(sts(9)), limit) {
			got = append(got, m.TS.String())
		}
		equal(t, "walk", got, []string{sts(9), sts(8), sts(7), sts(5), TS(42), sts(4), sts(3), sts(2), sts(1)})
	}

	// Counts: the one viewed message, and untouched ones with zeros and
	// empty slices (not nil: the reply has [] for them).
	p = page(sts(3), sts(3), 1)
	want := backchannel.MessageActivity{ChannelID: "C1", TS: mustTS(sts(3)),
		ActivityCounts: backchannel.ActivityCounts{Views: 1}, ViewsMobile: 1,
		ByDepartment: []backchannel.DepartmentActivity{}, ByTeam: []backchannel.TeamActivity{}}
	if len(p.Activities) != 1 || !activityEqual(p.Activities[0], want) {
		t.Errorf("viewed message:\n got %+v\nwant %+v", p.Activities, want)
	}
	p = page(sts(2), sts(2), 1)
	want = backchannel.MessageActivity{ChannelID: "C1", TS: mustTS(sts(2)),
		ByDepartment: []backchannel.DepartmentActivity{}, ByTeam: []backchannel.TeamActivity{}}
	if len(p.Activities) != 1 || !activityEqual(p.Activities[0], want) {
		t.Errorf("untouched message:\n got %+v\nwant %+v", p.Activities, want)
	}
	if p.Activities[0].ByDepartment == nil || p.Activities[0].ByTeam == nil {
		t.Errorf("untouched message: nil breakdowns, want empty slices")
	}

	// A channel with no messages in the window, and an unknown channel.
	for _, ch := range []string{"C2", "C404"} {
		p, err := as.MessageActivity(ctx, backchannel.MessageActivityQuery{Channel: ch,
			Oldest: mustTS(sts(6)), Latest: mustTS(sts(9)), Limit: 10})
		if err != nil || len(p.Activities) != 0 || p.Next != 0 {
			t.Errorf("%s: %+v, %v; want an empty page", ch, p, err)
		}
	}
}

func activityEqual(a, b backchannel.MessageActivity) bool {
	return a.ChannelID == b.ChannelID && a.TS == b.TS && a.ActivityCounts == b.ActivityCounts &&
		a.ViewsDesktop == b.ViewsDesktop && a.ViewsMobile == b.ViewsMobile && a.ViewsWeb == b.ViewsWeb &&
		slices.Equal(a.ByDepartment, b.ByDepartment) && slices.Equal(a.ByTeam, b.ByTeam)
}
