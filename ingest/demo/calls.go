package demo

import (
	"slices"
	"time"

	"github.com/backchannel/backchannel"
)

// delay returns a random delay of at least a second and at most max, from
// the activity stream (the history's stream must not move).
func (a *activity) delay(max backchannel.TS) backchannel.TS {
	return second + backchannel.TS(a.rng.Int64N(int64(max)))
}

// extras adds what an active person does besides reading, at moments of
// their sessions: searches (heavy users search far more), app and
// workflow use (only some people, on some days), and file uploads.
func (a *activity) extras(u int, times []backchannel.TS) {
	pr, user := &a.prof[u], a.h.o.people[u].ID
	when := func() backchannel.TS { return times[a.rng.IntN(len(times))] + a.delay(10*minute) }
	for range poisson(a.rng, 0.15*pr.engagement) {
		a.emit(when(), activityLine{Type: backchannel.EvSearch, User: user})
	}
	if a.rng.Float64() < pr.apps {
		for range 1 + a.rng.IntN(2) {
			a.emit(when(), activityLine{Type: backchannel.EvAppUsed, User: user})
		}
	}
	if a.rng.Float64() < pr.workflows {
		a.emit(when(), activityLine{Type: backchannel.EvWorkflowUsed, User: user})
	}
	if pr.readOnly || a.rng.IntN(100) >= 5 {
		return
	}
	// A file shared into a channel the person is in, or uploaded to their
	// own files (no channel).
	at, l := when(), activityLine{Type: backchannel.EvFileAdded, User: user}
	if s := &a.slots[u]; len(*s) > 0 && a.rng.IntN(2) == 0 {
		sl := &(*s)[a.rng.IntN(len(*s))]
		if k := a.h.o.convs[sl.conv].Kind; sl.valid(at) && (k == backchannel.KindPublic || k == backchannel.KindPrivate) {
			l.Channel = a.h.o.convs[sl.conv].ID
		}
	}
	a.emit(at, l)
}

// calls has some of today's active people start a call in one of their
// conversations, joined by other members active today: mostly huddles,
// Slack calls in DMs, and third-party (say, Zoom) meetings, which sales
// and support hold most.
func (a *activity) calls(day time.Time, weekend bool) {
	o := a.h.o
	var actives []int
	for u, ok := range a.active {
		if ok {
			actives = append(actives, u)
		}
	}
	if len(actives) == 0 {
		return
	}
	// About one call a day per 25 members on weekdays and per 300 on
	// weekends; the fraction is drawn, so small demos get calls too.
	per := 25
	if weekend {
		per = 300
	}
	n := o.cfg.Members / per
	if a.rng.IntN(per) < o.cfg.Members%per {
		n++
	}
	for range n {
		host := actives[a.rng.IntN(len(actives))]
		slots := a.slots[host]
		if len(slots) == 0 {
			continue
		}
		t, _ := a.prof[host].sessionTime(a.rng, day, false)
		s := &slots[a.rng.IntN(len(slots))]
		if !s.valid(t) || !a.canAct(host, t) {
			continue
		}
		kind, most := "huddle", 2+a.rng.IntN(4)
		switch x := a.rng.IntN(100); {
		case x < 50 && (o.people[host].Department == "Sales" || o.people[host].Department == "Support"),
			x < 15:
			kind, most = "third_party", 1+a.rng.IntN(4)
		case x < 35:
			kind, most = "slack", 2+a.rng.IntN(2)
		}
		a.call(host, s.conv, t, kind, most)
	}
}

// call has the host and up to most-1 other members of conversation ci who
// are active today join a call of kind at about t.
func (a *activity) call(host, ci int, t backchannel.TS, kind string, most int) {
	ms := a.h.o.convs[ci].members
	joined := []int{host}
	// Random draws rather than a shuffle: general has every member.
	for range 8 * most {
		if len(joined) == most {
			break
		}
		u := ms[a.rng.IntN(len(ms))].user
		if !slices.Contains(joined, u) && a.active[u] && a.canAct(u, t) &&
			slices.ContainsFunc(a.slots[u], func(s slot) bool { return s.conv == ci && s.valid(t) }) {
			joined = append(joined, u)
		}
	}
	for _, u := range joined {
		a.emit(t+a.delay(3*minute), activityLine{Type: backchannel.EvCall, User: a.h.o.people[u].ID, Kind: kind})
	}
}
