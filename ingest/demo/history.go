package demo

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/backchannel/backchannel"
)

// item is one history line and when it happens.
type item struct {
	at   backchannel.TS
	line []byte
}

// history generates the timeline day by day. Follow-ups (replies,
// reactions, edits, ...) are scheduled into the day they fall on, so each
// day's lines can be sorted and emitted before the next is generated.
type history struct {
	o       *org
	out     *batcher
	rng     *rand.Rand
	pending [][]item // per day
	used    map[backchannel.TS]bool
	end     backchannel.TS
	kinds   [4]pool // public, private, im, mpim
	botConv [][]int // per bot, the conversations it is in
	act     *activity
}

// pool picks conversations of one kind by weight.
type pool struct {
	convs []int
	cum   []float64
}

func (p *pool) pick(r *rand.Rand) int {
	x := r.Float64() * p.cum[len(p.cum)-1]
	return p.convs[sort.SearchFloat64s(p.cum, x)]
}

var kindOrder = []string{backchannel.KindPublic, backchannel.KindPrivate, backchannel.KindIM, backchannel.KindMPIM}

// kindShare is the percentage of top-level messages per kind.
var kindShare = [4]int{50, 16, 22, 12}

// hourWeight shapes a working day (UTC).
var hourWeight = [24]int{1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 16, 12, 16, 18, 17, 14, 10, 6, 4, 3, 2, 2, 1}

func newHistory(o *org, out *batcher) *history {
	h := &history{
		o: o, out: out, used: map[backchannel.TS]bool{},
		rng:     rand.New(rand.NewPCG(uint64(o.cfg.Seed), 0x686973746f7279)), // "history"
		pending: make([][]item, o.cfg.Days),
		end:     backchannel.TSFromTime(o.cfg.Now),
		botConv: make([][]int, len(o.bots)),
	}
	for ci, c := range o.convs {
		k := slices.Index(kindOrder, c.Kind)
		p := &h.kinds[k]
		p.convs = append(p.convs, ci)
		p.cum = append(p.cum, c.weight+cmp.Or(lastOf(p.cum), 0))
		for b, u := range o.bots {
			if slices.ContainsFunc(c.members, func(m member) bool { return m.user == u }) {
				h.botConv[b] = append(h.botConv[b], ci)
			}
		}
	}
	h.act = newActivity(h)
	return h
}

func lastOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)-1]
}

// schedule queues a line at t; lines at or after Now are dropped (and so
// are their follow-ups, which come later still).
func (h *history) schedule(t backchannel.TS, line []byte) bool {
	if t >= h.end {
		return false
	}
	d := int((t.Time().Sub(h.o.start)) / (24 * time.Hour))
	if d < 0 || d >= len(h.pending) {
		return false
	}
	h.pending[d] = append(h.pending[d], item{t, line})
	return true
}

// uniqueTS returns the first unused timestamp at or after t: message ts
// are unique across the organisation, so they are unique per channel.
func (h *history) uniqueTS(t backchannel.TS) backchannel.TS {
	for h.used[t] {
		t++
	}
	h.used[t] = true
	return t
}

func (h *history) run() {
	h.scheduleDirectoryChanges()
	for d := range h.pending {
		if h.out.err != nil {
			return
		}
		day := h.o.start.Add(time.Duration(d) * 24 * time.Hour)
		weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
		n := h.o.cfg.Members * (50 + h.rng.IntN(25)) / 100
		if weekend {
			n = h.o.cfg.Members * (3 + h.rng.IntN(5)) / 100
		}
		for range n {
			h.topLevel(day)
		}
		if !weekend {
			h.botPosts(day)
		}
		h.act.day(day, weekend)
		items := h.pending[d]
		slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.at, b.at) })
		for _, it := range items {
			h.out.add(it.line)
		}
		h.pending[d] = nil
	}
}

// scheduleDirectoryChanges queues the departures and deletions that
// happen during the history.
func (h *history) scheduleDirectoryChanges() {
	for _, c := range h.o.convs {
		for _, m := range c.members {
			if !m.to.IsZero() {
				h.schedule(backchannel.TSFromTime(m.to), marshal(memberLine{backchannel.EvMemberLeft, c.ID, h.o.people[m.user].ID, tsOf(m.to)}))
			}
		}
	}
	for _, p := range h.o.people {
		if !p.deleted.IsZero() {
			u := p.User
			u.Deleted = true
			h.schedule(backchannel.TSFromTime(p.deleted), marshal(userLine{"user", u, tsOf(p.deleted)}))
		}
	}
}

// at returns a random moment of day shaped by hourWeight.
func (h *history) at(day time.Time) backchannel.TS {
	x := h.rng.IntN(160)
	hour := 0
	for ; x >= hourWeight[hour]; hour++ {
		x -= hourWeight[hour]
	}
	off := time.Duration(hour)*time.Hour + time.Duration(h.rng.Int64N(int64(time.Hour)))
	return backchannel.TSFromTime(day.Add(off))
}

// author picks a member of conversation ci who can post at t.
func (h *history) author(ci int, t backchannel.TS) (int, bool) {
	c := &h.o.convs[ci]
	tm := t.Time()
	for range 6 {
		m := c.members[h.rng.IntN(len(c.members))]
		p := &h.o.people[m.user]
		if p.IsBot || h.act.prof[m.user].readOnly || tm.Before(m.from) || !m.to.IsZero() && !tm.Before(m.to) ||
			tm.Before(p.since) || !p.deleted.IsZero() && !tm.Before(p.deleted) {
			continue
		}
		return m.user, true
	}
	return 0, false
}

func (h *history) topLevel(day time.Time) {
	x, k := h.rng.IntN(100), 0
	for ; x >= kindShare[k]; k++ {
		x -= kindShare[k]
	}
	ci := h.kinds[k].pick(h.rng)
	t := h.at(day)
	if u, ok := h.author(ci, t); ok {
		h.post(ci, u, h.uniqueTS(t), 0)
	}
}

// botPosts has each bot post a few messages in its channels.
func (h *history) botPosts(day time.Time) {
	for b, u := range h.o.bots {
		for range h.rng.IntN(4) {
			p := &h.o.people[u]
			ci := h.botConv[b][h.rng.IntN(len(h.botConv[b]))]
			ts := h.uniqueTS(h.at(day))
			line := marshal(messageLine{
				Type: "message", Channel: h.o.convs[ci].ID, User: p.ID, BotID: p.botID, Subtype: "bot_message",
				Username: p.Name, TS: ts.String(), Text: h.botText(),
				Client: "web",
			})
			if h.schedule(ts, line) {
				h.out.counts.Messages++
				h.act.posted(ci, u, ts, 0, 0)
				h.reactions(ci, ts)
			}
		}
	}
}
