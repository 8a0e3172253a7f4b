package slackapi

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
)

// BenchmarkActivity measures the API layer of a full messages.activity page
// (100 messages, 6 departments and 3 teams each) over a store that answers
// instantly: what the handler adds to the store's read.
func BenchmarkActivity(b *testing.B) {
	w := analyticsWorld()
	var acts []backchannel.MessageActivity
	for i := range 100 {
		a := backchannel.MessageActivity{ChannelID: "C1", TS: nowTS - backchannel.TS(i)*1e6,
			ActivityCounts: backchannel.ActivityCounts{Views: 5000, Reactions: 120, Shares: 40, Clicks: 300},
			ViewsDesktop:   3000, ViewsMobile: 1800, ViewsWeb: 700}
		for d := range 6 {
			a.ByDepartment = append(a.ByDepartment, backchannel.DepartmentActivity{Department: fmt.Sprintf("Department %d", d),
				ActivityCounts: backchannel.ActivityCounts{Views: 800, Reactions: 20, Shares: 6, Clicks: 50}})
		}
		for t := range 3 {
			a.ByTeam = append(a.ByTeam, backchannel.TeamActivity{TeamID: fmt.Sprintf("T0TEAM%04d", t),
				ActivityCounts: backchannel.ActivityCounts{Views: 1600, Reactions: 40, Shares: 13, Clicks: 100}})
		}
		acts = append(acts, a)
	}
	page := backchannel.MessageActivityPage{Activities: acts, Next: nowTS - 100e6}
	fake := &activityFake{fakeStore: w.store(),
		MessageActivityFn: func(context.Context, backchannel.MessageActivityQuery) (backchannel.MessageActivityPage, error) {
			return page, nil
		}}
	api := New(Config{Store: fake, Now: func() time.Time { return testNow }, RateLimit: RateLimitOff, Logger: discardLogger()})
	r, _ := http.NewRequest(http.MethodGet, "/api/"+methodActivity+"?channel=C1&limit=100", nil)
	r.Header.Set("Authorization", "Bearer "+tokAnalytics)
	benchServe(b, api, r, nil)
}
