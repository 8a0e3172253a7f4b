package storetest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
)

// memberOracle is the brute-force model of channel member counts: every
// join and leave applied (in apply order, replays ignored) and every user's
// class, recounted from scratch for any day.
type memberOracle struct {
	applied map[[32]byte]bool
	changes []oracleChange
	class   map[string]string // user → "full", "guest" or "bot" (absent: full)
}

type oracleChange struct {
	ch, user string
	at       backchannel.TS
	order    int // apply order: the tie-breaker of changes at the same time
	joined   bool
}

// apply records a batch as a store applies it: each new key once, in order.
func (o *memberOracle) apply(evs []backchannel.Event) {
	for _, ev := range evs {
		if o.applied[ev.Key] {
			continue
		}
		o.applied[ev.Key] = true
		switch ev.Type {
		case backchannel.EvMemberJoined, backchannel.EvMemberLeft:
			o.changes = append(o.changes, oracleChange{ev.ChannelID, ev.UserID, ev.EventTS, len(o.applied), ev.Type == backchannel.EvMemberJoined})
		case backchannel.EvUser:
			c := "full"
			if ev.User.IsBot {
				c = "bot"
			} else if ev.User.IsGuest {
				c = "guest"
			}
			o.class[ev.User.ID] = c
		}
	}
}

// counts is "total/full/guest" of ch at the end of d.
func (o *memberOracle) counts(ch string, d backchannel.Day) string {
	last := map[string]oracleChange{}
	for _, c := range o.changes {
		if c.ch != ch || c.at >= backchannel.TS(int64(d+1)*86_400_000_000) {
			continue
		}
		if l, ok := last[c.user]; !ok || cmp.Or(cmp.Compare(c.at, l.at), cmp.Compare(c.order, l.order)) > 0 {
			last[c.user] = c
		}
	}
	var full, guest int
	for u, c := range last {
		if !c.joined {
			continue
		}
		switch o.class[u] {
		case "bot":
		case "guest":
			guest++
		default:
			full++
		}
	}
	return fmt.Sprintf("%d/%d/%d", full+guest, full, guest)
}

// fileCounts reads "total/full/guest" of every channel of a closed day's
// public_channel file.
func fileCounts(t *testing.T, as backchannel.AnalyticsStore, d backchannel.Day) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range lines(t, readFile(t, as, backchannel.FilePublicChannel, d)) {
		var r struct {
			ChannelID string `json:"channel_id"`
			Total     int    `json:"total_members_count"`
			Full      int    `json:"full_members_count"`
			Guest     int    `json:"guest_member_count"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("public_channel %s: %v", d, err)
		}
		out[r.ChannelID] = fmt.Sprintf("%d/%d/%d", r.Total, r.Full, r.Guest)
	}
	return out
}

// testAnalyticsMemberCounts: random joins, leaves and user class changes
// (bot, full, guest), dated days apart and applied out of order, in random
// batches with replays: the member counts of every closed day equal a
// recount from scratch; later events for closed days (late joins, class
// changes) leave the closed files alone until RebuildDays, which rebuilds
// exactly the incrementally kept rows and rewrites the files to the
// recount.
func testAnalyticsMemberCounts(t *testing.T, s backchannel.Store) {
	as := analyticsStore(t, s)
	ctx := t.Context()
	const days = 6
	users := []string{"U0", "U1", "U2", "U3", "U4", "UX"} // UX: no user record until phase 2
	chans := []string{"C1", "C2"}
	o := &memberOracle{applied: map[[32]byte]bool{}, class: map[string]string{}}
	user := func(id string, class int, at backchannel.TS) backchannel.Event {
		return UserAt(backchannel.User{ID: id, TeamID: "T1", Email: lower(id) + "@acme.test", IsGuest: class == 1,
			IsBot: class == 2, DateClaimed: feb}, at)
	}
	setup := []backchannel.Event{EnterpriseAt("E1", "Acme"), TeamAt("T1", "alpha", "E1")}
	for i, u := range users[:5] {
		setup = append(setup, user(u, i%3, sec(d1s-86400*5)))
	}
	for _, c := range chans {
		setup = append(setup, ChannelAt(backchannel.Channel{ID: c, TeamID: "T1", Name: lower(c), Kind: backchannel.KindPublic, Created: jan}, sec(jan)))
	}
	for d := range days { // one event a day: every day has data
		setup = append(setup, Act(backchannel.EvSearch, "U0", sec(d1s+int64(d)*86400+43200)))
	}
	apply(t, s, setup...)
	o.apply(setup)

	r := rand.New(rand.NewPCG(4, 2))
	stamp := 0 // makes every user event distinct
	random := func(n int, classes bool) []backchannel.Event {
		var evs []backchannel.Event
		for range n {
			if classes && r.IntN(5) == 0 {
				stamp++
				evs = append(evs, user(users[r.IntN(len(users))], r.IntN(3), sec(d1s+int64(stamp))))
				continue
			}
			// Days -2 … days-1, at one of a few times: ties happen.
			at := sec(d1s + int64(r.IntN(days+2)-2)*86400 + []int64{0, 21600, 43200, 86399}[r.IntN(4)])
			if r.IntN(3) == 0 {
				at += 999_999 // 23:59:59.999999 and the like
			}
			evs = append(evs, MemberAt(r.IntN(3) > 0, chans[r.IntN(len(chans))], users[r.IntN(len(users))], at))
		}
		return evs
	}
	done := slices.Clone(setup) // what was applied, for replays
	applyRandom := func(evs []backchannel.Event) {
		r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		for len(evs) > 0 {
			n := min(len(evs), 1+r.IntN(12))
			batch := slices.Clone(evs[:n])
			if r.IntN(2) == 0 { // a replay of something applied already
				batch = append(batch, done[r.IntN(len(done))])
			}
			apply(t, s, batch...)
			o.apply(batch)
			done = append(done, batch...)
			evs = evs[n:]
		}
	}
	check := func(what string) {
		t.Helper()
		for d := day1; d < day1+days; d++ {
			got := fileCounts(t, as, d)
			for _, c := range chans {
				if want := o.counts(c, d); got[c] != want {
					t.Errorf("%s: %s on %s: %s, want %s (total/full/guest)", what, c, d, got[c], want)
				}
			}
		}
	}

	applyRandom(random(60, true))
	if _, err := as.FinalizeDays(ctx, day1+days-1); err != nil {
		t.Fatal(err)
	}
	check("closed")
	files, rollups := allChannelFiles(t, as, days), dump(t, s)
	if err := as.RebuildDays(ctx, day1-5, day1+days+5); err != nil {
		t.Fatalf("RebuildDays: %v", err)
	}
	sameRollups(t, "rebuild", dump(t, s), rollups)
	sameFiles(t, "rebuild", allChannelFiles(t, as, days), files)

	// Late: joins and leaves dated on closed days, class changes, UX's
	// first record. Closed files stay as they were until a rebuild.
	late := append(random(40, true), user("UX", 1, sec(d1s+86400*3)))
	applyRandom(late)
	sameFiles(t, "late events", allChannelFiles(t, as, days), files)
	incremental := dump(t, s)
	if rollups != nil && slices.Equal(incremental, rollups) {
		t.Errorf("late joins, leaves and class changes did not update the rollups")
	}
	if err := as.RebuildDays(ctx, day1-5, day1+days+5); err != nil {
		t.Fatalf("RebuildDays: %v", err)
	}
	sameRollups(t, "rebuild after late events", dump(t, s), incremental)
	check("rebuilt")
}

// allChannelFiles reads the public_channel files of the member-count test's days.
func allChannelFiles(t *testing.T, as backchannel.AnalyticsStore, days int) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for d := day1; d < day1+backchannel.Day(days); d++ {
		out[d.String()] = readFile(t, as, backchannel.FilePublicChannel, d)
	}
	return out
}
