package demo

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
)

// activityStats checks activity events as the replay meets them and
// gathers what checkActivity asserts about the demo's shape.
type activityStats struct {
	users   map[string]*backchannel.User
	joined  map[[2]string]backchannel.TS // (channel, user) → joined at
	gone    map[string]map[backchannel.TS]bool
	types   map[string]int
	calls   map[string]int
	clients map[[2]string]map[string]bool // (user, day) → clients used
	// per (channel, day): who viewed and who posted (humans)
	viewers, posters map[[2]string]map[string]bool
	perDay           map[string]int             // activity events per day
	nonMember        map[string]int             // views by non-members, by conversation kind
	views            map[string]int             // views by channel ID
	perUser          map[string]int             // activity events by user
	hours            map[string][2]int          // weekday reading by department: sum of UTC hours, count
	guestConvs       map[string]map[string]bool // single-channel guest → channels viewed (DMs aside)
}

func newActivityStats() *activityStats {
	return &activityStats{
		users: map[string]*backchannel.User{}, joined: map[[2]string]backchannel.TS{},
		gone: map[string]map[backchannel.TS]bool{}, types: map[string]int{}, calls: map[string]int{},
		clients: map[[2]string]map[string]bool{}, viewers: map[[2]string]map[string]bool{},
		posters: map[[2]string]map[string]bool{}, perDay: map[string]int{}, nonMember: map[string]int{},
		views: map[string]int{}, perUser: map[string]int{}, hours: map[string][2]int{},
		guestConvs: map[string]map[string]bool{},
	}
}

func dayOf(ts backchannel.TS) string { return ts.Time().Format(time.DateOnly) }

func addTo(m map[[2]string]map[string]bool, k [2]string, v string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][v] = true
}

func (s *activityStats) membership(ev *backchannel.Event) {
	if ev.Type == backchannel.EvMemberJoined {
		s.joined[[2]string{ev.ChannelID, ev.UserID}] = ev.EventTS
	}
}

// history notes posts (with their client) and deletions.
func (s *activityStats) history(c *backchannel.Channel, ev *backchannel.Event) {
	switch ev.Type {
	case backchannel.EvMessage:
		if u := s.users[ev.UserID]; ev.UserID != "" && (u == nil || !u.IsBot) {
			day := dayOf(ev.TS)
			addTo(s.posters, [2]string{c.ID, day}, ev.UserID)
			addTo(s.clients, [2]string{ev.UserID, day}, ev.Client)
		}
	case backchannel.EvMessageDeleted:
		if s.gone[c.ID] == nil {
			s.gone[c.ID] = map[backchannel.TS]bool{}
		}
		s.gone[c.ID][ev.TS] = true
	}
}

// add checks one activity event against what the replay knows so far.
func (s *activityStats) add(w *world, ev *backchannel.Event) error {
	s.types[ev.Type]++
	day := dayOf(ev.EventTS)
	s.perDay[day]++
	u := s.users[ev.UserID]
	if u == nil || u.IsBot {
		return fmt.Errorf("activity of an unknown user or a bot")
	}
	s.perUser[ev.UserID]++
	if tm := ev.EventTS.Time(); tm.Weekday() != time.Saturday && tm.Weekday() != time.Sunday &&
		(ev.Type == backchannel.EvMessageViewed || ev.Type == backchannel.EvClientActive) {
		h := s.hours[u.Department]
		s.hours[u.Department] = [2]int{h[0] + tm.Hour(), h[1] + 1}
	}
	switch ev.Type {
	case backchannel.EvCall:
		s.calls[ev.Subtype]++
	case backchannel.EvClientActive:
		addTo(s.clients, [2]string{ev.UserID, day}, ev.Client)
	case backchannel.EvFileAdded:
		if ev.ChannelID != "" && !w.members[ev.ChannelID][ev.UserID] {
			return fmt.Errorf("file added to a channel by a non-member")
		}
	case backchannel.EvMessageViewed, backchannel.EvMessageClicked, backchannel.EvMessageShared:
		c := w.channels[ev.ChannelID]
		switch {
		case c == nil:
			return fmt.Errorf("unknown channel")
		case !w.messages[c.ID][ev.TS]:
			return fmt.Errorf("about a message that does not exist (yet)")
		case s.gone[c.ID][ev.TS]:
			return fmt.Errorf("about a deleted message")
		case ev.EventTS <= ev.TS:
			return fmt.Errorf("before the message")
		}
		at, ok := s.joined[[2]string{c.ID, ev.UserID}]
		if member := ok && at <= ev.EventTS && w.members[c.ID][ev.UserID]; !member {
			if c.Kind != backchannel.KindPublic || u.IsGuest {
				return fmt.Errorf("a non-member (guest: %v) saw a %s conversation", u.IsGuest, c.Kind)
			}
			if ev.Type == backchannel.EvMessageViewed {
				s.nonMember[c.Kind]++
			}
		}
		if ev.Type == backchannel.EvMessageViewed {
			s.views[c.ID]++
			addTo(s.clients, [2]string{ev.UserID, day}, ev.Client)
			addTo(s.viewers, [2]string{c.ID, day}, ev.UserID)
			if u.GuestType == "single_channel" && (c.Kind == backchannel.KindPublic || c.Kind == backchannel.KindPrivate) {
				if s.guestConvs[u.ID] == nil {
					s.guestConvs[u.ID] = map[string]bool{}
				}
				s.guestConvs[u.ID][c.ID] = true
			}
		}
	}
	return nil
}

func checkActivity(t *testing.T, res Result, w *world) {
	t.Helper()
	s := w.act
	for _, typ := range []string{backchannel.EvMessageViewed, backchannel.EvMessageClicked, backchannel.EvMessageShared,
		backchannel.EvClientActive, backchannel.EvFileAdded, backchannel.EvSearch, backchannel.EvAppUsed,
		backchannel.EvWorkflowUsed, backchannel.EvCall} {
		if s.types[typ] == 0 {
			t.Errorf("no %s event", typ)
		}
	}
	for _, kind := range []string{"slack", "huddle", "third_party"} {
		if s.calls[kind] == 0 {
			t.Errorf("no %s call", kind)
		}
	}
	if total := s.types[backchannel.EvMessageViewed]; s.nonMember["public"]*10 > total {
		t.Errorf("%d of %d views are by non-members: members should view most", s.nonMember["public"], total)
	}
	if n := s.views[res.Channels["shared-globex"]]; n < 100 {
		t.Errorf("the externally shared channel has %d views", n)
	}
	// Someone used only the web client on some day, someone only iOS,
	// someone only Android, someone only the desktop app.
	only := map[string]int{}
	for _, cs := range s.clients {
		if len(cs) == 1 {
			for c := range cs {
				only[c]++
			}
		}
	}
	for _, c := range []string{"web", "ios", "android", "desktop"} {
		if only[c] < 10 {
			t.Errorf("only %d user-days active on %s alone; want a client mix per person (%v)", only[c], c, only)
		}
	}
	// Weekends are quiet.
	var wd, we, nwd, nwe int
	for day, n := range s.perDay {
		d, _ := time.Parse(time.DateOnly, day)
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			we, nwe = we+n, nwe+1
		} else {
			wd, nwd = wd+n, nwd+1
		}
	}
	if nwe == 0 || nwd == 0 || we*nwd*4 > wd*nwe {
		t.Errorf("weekend activity %d over %d days vs weekday %d over %d: weekends should be far quieter", we, nwe, wd, nwd)
	}
	// A lurker channel: many viewers, few posters on the same day.
	lurk, most := false, 0
	for k, vs := range s.viewers {
		lurk = lurk || len(vs) >= 50 && len(s.posters[k]) <= 2
		most = max(most, len(vs))
	}
	if !lurk {
		t.Error("no channel-day with 50+ viewers and at most 2 posters")
	}
	// Channels with no viewers at all on some days: activity is uneven.
	quiet := 0
	for _, c := range w.channels {
		if c.Kind == backchannel.KindPublic && !slices.ContainsFunc([]string{"general", "random"}, func(n string) bool { return n == c.Name }) {
			for day := range s.perDay {
				if len(s.viewers[[2]string{c.ID, day}]) == 0 {
					quiet++
				}
			}
		}
	}
	if quiet == 0 {
		t.Error("every public channel has viewers every day")
	}
	// A long tail: the busiest tenth of the people do a good part of
	// everything, and most do little.
	var per []int
	for _, n := range s.perUser {
		per = append(per, n)
	}
	slices.Sort(per)
	slices.Reverse(per)
	top, all := 0, 0
	for i, n := range per {
		if i < len(per)/10 {
			top += n
		}
		all += n
	}
	if top*5 < all { // an even spread would give a tenth
		t.Errorf("the top tenth of users do %d of %d activity events: want a long tail", top, all)
	}
	// Working hours follow the department: sales reads earlier than engineering.
	mean := func(d string) float64 { return float64(s.hours[d][0]) / float64(max(1, s.hours[d][1])) }
	if mean("Sales")+1 > mean("Engineering") {
		t.Errorf("sales reads at %.1fh on average, engineering at %.1fh (UTC)", mean("Sales"), mean("Engineering"))
	}
	for g, cs := range s.guestConvs {
		if len(cs) != 1 {
			t.Errorf("single-channel guest %s viewed %d channels", g, len(cs))
		}
	}
	// People who only read: busy all year, never a post.
	posted := map[string]bool{}
	for _, ps := range s.posters {
		for u := range ps {
			posted[u] = true
		}
	}
	readers := 0
	for u, n := range s.perUser {
		if n >= 50 && !posted[u] {
			readers++
		}
	}
	if readers < 10 {
		t.Errorf("%d people with 50+ activity events never posted; want some who only read", readers)
	}
	multi := false
	for _, c := range w.channels {
		multi = multi || c.Kind == backchannel.KindPublic && len(c.SharedTeamIDs) > 1 && !c.IsOrgWide && !c.IsExternallyShared()
	}
	if !multi || len(s.guestConvs) == 0 {
		t.Errorf("want a multi-workspace channel (%v) and single-channel guests who read (%d)", multi, len(s.guestConvs))
	}
	t.Logf("%d people only read; top tenth of users: %d of %d events; mean weekday reading hour: sales %.1f, engineering %.1f, support %.1f; ",
		readers, top, all, mean("Sales"), mean("Engineering"), mean("Support"))
	t.Logf("activity by type %v, calls %v; single-client user-days %v; weekday %d/day, weekend %d/day; "+
		"most viewers of a channel in a day %d; non-member views %d; shared-globex views %d; public channel-days without viewers %d",
		s.types, s.calls, only, wd/nwd, we/nwe, most, s.nonMember["public"], s.views[res.Channels["shared-globex"]], quiet)
}
