package demo

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/backchannel/backchannel"
)

// activity generates what people do besides posting: reading (views,
// clicks, shares, client_active), searches, files, apps, workflows and
// calls. It runs once per day, after that day's messages exist, and
// schedules its lines into the same per-day queues, so the output stays in
// global time order.
//
// Reading is modelled as sessions: a person opens a client, looks at
// conversations they belong to that have unread messages, and views the
// newest few of them (views are sampled, not one per member per message,
// to keep the demo's volume in budget). A session with nothing unread is a
// client_active.
type activity struct {
	h      *history
	rng    *rand.Rand
	prof   []profile
	slots  [][]slot   // per person, their memberships
	recent [][]msgRef // per conversation, top-level messages of the last week, by ts
	weight []float64  // per conversation: how much it draws readers
	active []bool     // per person: active today
	broad  *broad     // announcements read org-wide (announce.go)
}

// slot is one membership of a person, with their read position.
type slot struct {
	conv     int
	from, to backchannel.TS // to is 0 unless they leave
	read     backchannel.TS // everything up to here has been read
}

// msgRef is a top-level message readers may view until it is gone.
type msgRef struct {
	ts, gone backchannel.TS // gone is 0 unless deleted
	author   int
}

// Reading priorities: DMs first, and announcements is a lurker channel:
// almost nobody posts there but almost everybody reads what is posted.
var readBoost = map[string]float64{"announcements": 40, "general": 3, "shared-globex": 2}

func newActivity(h *history) *activity {
	o := h.o
	a := &activity{
		h: h, rng: rand.New(rand.NewPCG(uint64(o.cfg.Seed), 0x6163746976697479)), // "activity"
		slots:  make([][]slot, len(o.people)),
		recent: make([][]msgRef, len(o.convs)),
		weight: make([]float64, len(o.convs)),
		active: make([]bool, len(o.people)),
	}
	a.prof = o.profiles(a.rng)
	for ci, c := range o.convs {
		w := c.weight
		switch c.Kind {
		case backchannel.KindIM:
			w *= 6
		case backchannel.KindMPIM:
			w *= 3
		}
		if b, ok := readBoost[c.Name]; ok && c.Kind == backchannel.KindPublic {
			w *= b
		}
		a.weight[ci] = w
		for _, m := range c.members {
			if o.people[m.user].IsBot {
				continue
			}
			s := slot{conv: ci, from: backchannel.TSFromTime(m.from)}
			if !m.to.IsZero() {
				s.to = backchannel.TSFromTime(m.to)
			}
			a.slots[m.user] = append(a.slots[m.user], s)
		}
	}
	a.broad = newBroad(a)
	return a
}

// posted records a scheduled message; only top-level ones are viewed.
func (a *activity) posted(ci, u int, ts, thread, gone backchannel.TS) {
	if thread != 0 {
		return
	}
	a.broad.posted(ci, ts, gone)
	a.recent[ci] = append(a.recent[ci], msgRef{ts: ts, gone: gone, author: u})
}

// emit schedules one activity line.
func (a *activity) emit(at backchannel.TS, l activityLine) {
	l.EventTS = at.String()
	if a.h.schedule(at, marshal(l)) {
		a.h.out.counts.Activity++
	}
}

// canAct reports whether person u exists and is not deleted at t.
func (a *activity) canAct(u int, t backchannel.TS) bool {
	p := &a.h.o.people[u]
	tm := t.Time()
	return !tm.Before(p.since) && (p.deleted.IsZero() || tm.Before(p.deleted))
}

func (s *slot) valid(t backchannel.TS) bool { return t >= s.from && (s.to == 0 || t < s.to) }

// day generates the activity of one day; the day's messages are known.
func (a *activity) day(day time.Time, weekend bool) {
	a.settle(day)
	o := a.h.o
	clear(a.active)
	var times []backchannel.TS
	var offs []bool
	for u := range o.cfg.Members {
		pr := &a.prof[u]
		p := pr.activeP
		if weekend {
			p = pr.weekendP
		}
		if a.rng.Float64() >= p {
			continue
		}
		n := 1 + poisson(a.rng, 0.3*pr.engagement)
		if weekend {
			n = 1 + a.rng.IntN(2)
		}
		times, offs = times[:0], offs[:0]
		for range min(n, 12) {
			t, off := pr.sessionTime(a.rng, day, weekend)
			if a.canAct(u, t) {
				times, offs = append(times, t), append(offs, off)
			}
		}
		if len(times) == 0 {
			continue
		}
		a.active[u] = true
		// Sessions in time order, so read positions only move forward.
		idx := make([]int, len(times))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(i, j int) bool { return times[idx[i]] < times[idx[j]] })
		for _, i := range idx {
			a.session(u, times[i], pr.client(a.rng, offs[i]))
		}
		a.extras(u, times)
	}
	a.calls(day, weekend)
}

// settle orders the conversations' new messages and forgets those older
// than a week (nobody scrolls back further in the demo).
func (a *activity) settle(day time.Time) {
	horizon := backchannel.TSFromTime(day.Add(-7 * 24 * time.Hour))
	a.broad.settle(horizon)
	for ci, refs := range a.recent {
		// A day's messages are generated in random order; the week
		// before is sorted already, so this is cheap.
		slices.SortFunc(refs, func(x, y msgRef) int { return cmp.Compare(x.ts, y.ts) })
		i := 0
		for i < len(refs) && refs[i].ts < horizon {
			i++
		}
		a.recent[ci] = refs[i:]
	}
}

// unread returns the index just past the newest message of slot s before
// t, and whether there is anything unread up to it.
func (a *activity) unread(s *slot, t backchannel.TS) (int, bool) {
	refs := a.recent[s.conv]
	end := sort.Search(len(refs), func(i int) bool { return refs[i].ts >= t })
	return end, end > 0 && refs[end-1].ts > s.read
}

// session is one visit: up to two conversations with unread messages, or
// just an open client; now and then a glance at a public channel the
// person is not in.
func (a *activity) session(u int, t backchannel.TS, client string) {
	slots := a.slots[u]
	var cand []int
	var cum []float64
	total := 0.0
	for k := range slots {
		s := &slots[k]
		if !s.valid(t) {
			continue
		}
		if _, ok := a.unread(s, t); ok {
			total += a.weight[s.conv]
			cand, cum = append(cand, k), append(cum, total)
		}
	}
	at := a.readBroad(u, t, client)
	// A third of the sessions are a glance: the app opened, notifications
	// checked, nothing read in full.
	if len(cand) == 0 || a.rng.IntN(100) < 33 {
		cand = nil
		a.emit(at, activityLine{Type: backchannel.EvClientActive, User: a.h.o.people[u].ID, Client: client})
	}
	for visit := 0; len(cand) > 0 && (visit == 0 || visit == 1 && a.rng.IntN(100) < 20); visit++ {
		k := cand[sort.SearchFloat64s(cum, a.rng.Float64()*total)]
		s := &slots[k]
		end, ok := a.unread(s, t)
		if !ok {
			break // the same conversation again: already read
		}
		kind := a.h.o.convs[s.conv].Kind
		most := 1 + a.rng.IntN(2)
		if kind == backchannel.KindIM || kind == backchannel.KindMPIM {
			most = 4
		}
		at = a.view(u, s.conv, end, s.read, most, at, client)
		s.read = t
	}
	if !a.h.o.people[u].IsGuest && a.rng.IntN(100) < 3 {
		a.browse(u, at, client)
	}
}

// view has u view up to most of the newest messages of conversation ci
// with read < ts (below index end), oldest first, starting after at; it
// returns when the person is done. Clicks and shares follow some views.
func (a *activity) view(u, ci, end int, read backchannel.TS, most int, at backchannel.TS, client string) backchannel.TS {
	refs := a.recent[ci]
	first := end
	for first > 0 && refs[first-1].ts > read && end-first < most {
		first--
	}
	c, user := &a.h.o.convs[ci], a.h.o.people[u].ID
	for _, m := range refs[first:end] {
		at += backchannel.TS(1+a.rng.IntN(20)) * second
		if m.author == u || m.gone != 0 && m.gone <= at {
			continue
		}
		l := activityLine{Type: backchannel.EvMessageViewed, User: user, Channel: c.ID, TS: m.ts.String(), Client: client}
		a.emit(at, l)
		l.Client = ""
		switch x := a.rng.IntN(1000); {
		case x < 30: // a link or an attachment in it
			at += backchannel.TS(1+a.rng.IntN(30)) * second
			l.Type = backchannel.EvMessageClicked
		case x < 40 && (c.Kind == backchannel.KindPublic || c.Kind == backchannel.KindPrivate):
			at += backchannel.TS(5+a.rng.IntN(60)) * second
			l.Type = backchannel.EvMessageShared
		default:
			continue
		}
		if m.gone == 0 || at < m.gone {
			a.emit(at, l)
		}
	}
	return at
}

// browse has u look at the newest message or two of a public channel they
// are not a member of: public channels are readable by everyone.
func (a *activity) browse(u int, at backchannel.TS, client string) {
	pub := a.h.kinds[0].convs
	ci := pub[a.rng.IntN(len(pub))]
	if slices.ContainsFunc(a.slots[u], func(s slot) bool { return s.conv == ci }) {
		return
	}
	end, _ := a.unread(&slot{conv: ci}, at)
	a.view(u, ci, end, 0, 1+a.rng.IntN(2), at, client)
}
