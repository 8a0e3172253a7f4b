package demo

import (
	"math/rand/v2"
	"slices"

	"github.com/backchannel/backchannel"
)

// Announcements are read by most of the organisation, not by the few who
// happen to open the channel: on each person's first session after a post
// (on the client they use then), everything broadcast since their last
// visit is read, by most people, over the following days. This is what
// gives admin.analytics.messages.activity realistic numbers out of the box:
// hundreds of distinct viewers per announcement, across departments,
// workspaces and clients. Everything here draws from its own random stream,
// so the rest of the activity of a seed is unchanged.

// broadShare is, per channel, the share of its top-level posts that are
// read org-wide: every announcement, and the odd company-wide post in
// general.
var broadShare = map[string]float64{"announcements": 1, "general": 0.02}

// broad is the announcement readers' state.
type broad struct {
	rng   *rand.Rand
	share []float64                // per conversation, from broadShare
	msgs  [][]backchannel.TS       // per conversation: broadcast posts of the last week, by ts
	read  []map[int]backchannel.TS // per person, per conversation: read up to here
	keen  []float64                // per person: chance of reading a given announcement
}

func newBroad(a *activity) *broad {
	o := a.h.o
	b := &broad{rng: rand.New(rand.NewPCG(uint64(o.cfg.Seed), 0x62726f6164)), // "broad"
		share: make([]float64, len(o.convs)), msgs: make([][]backchannel.TS, len(o.convs)),
		read: make([]map[int]backchannel.TS, len(o.people)), keen: make([]float64, len(o.people))}
	for ci, c := range o.convs {
		if c.Kind == backchannel.KindPublic {
			b.share[ci] = broadShare[c.Name]
		}
	}
	for u := range b.keen {
		b.read[u] = map[int]backchannel.TS{}
		// Most people read most announcements; some skim, a few never do.
		switch x := b.rng.Float64(); {
		case x < 0.1:
		case x < 0.3:
			b.keen[u] = 0.4
		default:
			b.keen[u] = 0.9
		}
	}
	return b
}

// posted notes a top-level post; some are broadcast.
func (b *broad) posted(ci int, ts, gone backchannel.TS) {
	if s := b.share[ci]; s > 0 && gone == 0 && (s >= 1 || b.rng.Float64() < s) {
		b.msgs[ci] = append(b.msgs[ci], ts)
	}
}

// settle forgets posts older than horizon (msgs are sorted: posts of a day
// arrive in random order, so sort them first).
func (b *broad) settle(horizon backchannel.TS) {
	for ci, ts := range b.msgs {
		slices.Sort(ts)
		i := 0
		for i < len(ts) && ts[i] < horizon {
			i++
		}
		b.msgs[ci] = ts[i:]
	}
}

// readBroad has u, at t on client, read the broadcast posts of their
// conversations they have not seen yet; it returns when they are done.
func (a *activity) readBroad(u int, t backchannel.TS, client string) backchannel.TS {
	b := a.broad
	if b.keen[u] == 0 {
		return t
	}
	at := t
	for k := range a.slots[u] {
		s := &a.slots[u][k]
		msgs := b.msgs[s.conv]
		if len(msgs) == 0 || !s.valid(t) {
			continue
		}
		from := b.read[u][s.conv]
		b.read[u][s.conv] = t
		for _, ts := range msgs {
			if ts <= from || ts >= t || ts < s.from || b.rng.Float64() >= b.keen[u] {
				continue
			}
			at += backchannel.TS(2+b.rng.IntN(30)) * second
			l := activityLine{Type: backchannel.EvMessageViewed, User: a.h.o.people[u].ID,
				Channel: a.h.o.convs[s.conv].ID, TS: ts.String(), Client: client}
			a.emit(at, l)
			if b.rng.IntN(100) < 2 { // a link in it
				at += backchannel.TS(1+b.rng.IntN(30)) * second
				l.Type, l.Client = backchannel.EvMessageClicked, ""
				a.emit(at, l)
			}
		}
	}
	return at
}
