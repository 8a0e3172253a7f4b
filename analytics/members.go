package analytics

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/backchannel/backchannel"
)

// Channel member counts (total_members_count, full_members_count,
// guest_member_count) as of each day's end are kept as per (channel, day)
// deltas, maintained at ingest in the transaction of the join, leave or
// user event that moves them: the counts at the end of D are the sums of
// the channel's deltas of days up to D. So closing a day reads one small
// row per channel and day with changes instead of recounting the
// membership log.
//
// A (channel, user) pair is a member at the end of D when its last change
// (ordered by when it took effect, then log seq) before the end of D is a
// join. The pair counts, with the weight of the user's current class (bots
// nothing, people one member, guests one guest too), on the days it is a
// member. A change that arrives out of order (dated before changes already
// counted) moves exactly the days it changes; a user whose class changes
// moves every day the user is a member of any channel.

// MemberClass is how a user counts in a channel's member counts.
type MemberClass uint8

const (
	ClassBot   MemberClass = iota // not counted
	ClassFull                     // a full member: counts in total and full
	ClassGuest                    // counts in total and guest
)

// ClassOf is the class of a user record. A user the directory does not know
// counts as a full member (ClassFull).
func ClassOf(isBot, isGuest bool) MemberClass {
	switch {
	case isBot:
		return ClassBot
	case isGuest:
		return ClassGuest
	}
	return ClassFull
}

// weight is what one membership of the class adds to a channel-day row.
func (c MemberClass) weight() MemberDelta {
	switch c {
	case ClassFull:
		return MemberDelta{Members: 1}
	case ClassGuest:
		return MemberDelta{Members: 1, Guests: 1}
	}
	return MemberDelta{}
}

// MemberDelta is a channel-day's change of member counts: people (full
// members and guests) and, of those, guests. Full = Members - Guests.
type MemberDelta struct {
	Members int64
	Guests  int64
}

// IsZero reports whether d changes nothing.
func (d MemberDelta) IsZero() bool { return d.Members == 0 && d.Guests == 0 }

// Pair is a (channel, user) membership.
type Pair struct {
	Channel string
	User    string
}

// Change is one join or leave of a pair: when it took effect (Unix
// microseconds: its event_ts, else when it was ingested) and its log seq,
// which orders changes that took effect at the same time.
type Change struct {
	At     int64
	Seq    int64
	Joined bool
}

func compareChanges(a, b Change) int {
	return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.Seq, b.Seq))
}

// Step is a day on which a pair's membership at the day's end differs from
// the day before: +1 (became a member) or -1 (stopped).
type Step struct {
	Day   backchannel.Day
	Delta int64
}

// Steps lists the days on which a pair's membership changes, given its
// changes in (At, Seq) order: the state at the end of a day is the last
// change of that day, or the day before's.
func Steps(log []Change) []Step {
	var out []Step
	member := false
	for i := 0; i < len(log); {
		d := backchannel.DayOfTS(backchannel.TS(log[i].At))
		j := i
		for j+1 < len(log) && backchannel.DayOfTS(backchannel.TS(log[j+1].At)) == d {
			j++
		}
		if now := log[j].Joined; now != member {
			member = now
			delta := int64(1)
			if !now {
				delta = -1
			}
			out = append(out, Step{d, delta})
		}
		i = j + 1
	}
	return out
}

// Memberships is a batch's view of the membership log: the stored changes
// of the pairs and users its events name (loaded by the store before the
// batch applies), the users' classes, and the member-count deltas its
// events cause, aggregated per (channel, day) for one write per row.
type Memberships struct {
	deltas   map[ChannelKey]*MemberDelta // the batch's Membership
	logs     map[Pair][]Change
	class    map[string]MemberClass
	channels map[string][]string // user → channels with a loaded or new log
	complete map[string]bool     // users whose every stored change is loaded
}

// NewMemberships returns an empty view that adds its deltas to
// into (a Batch's Membership).
func NewMemberships(into map[ChannelKey]*MemberDelta) *Memberships {
	return &Memberships{deltas: into, logs: map[Pair][]Change{},
		class: map[string]MemberClass{}, channels: map[string][]string{}, complete: map[string]bool{}}
}

// LoadClass records a user's stored class.
func (m *Memberships) LoadClass(user string, c MemberClass) { m.class[user] = c }

// Class is the user's class as of the batch's events so far: ClassFull
// for a user the directory does not know.
func (m *Memberships) Class(user string) MemberClass {
	if c, ok := m.class[user]; ok {
		return c
	}
	return ClassFull
}

// Load adds a stored change of p. A store loads every stored change of
// each pair a join or leave of the batch names, and, with LoadedUser,
// every change of each user whose class the batch changes.
func (m *Memberships) Load(p Pair, c Change) {
	log, ok := m.logs[p]
	if !ok {
		m.channels[p.User] = append(m.channels[p.User], p.Channel)
	}
	i, found := slices.BinarySearchFunc(log, c, compareChanges)
	if !found {
		m.logs[p] = slices.Insert(log, i, c)
	}
}

// LoadedUser records that every stored change of user has been loaded.
func (m *Memberships) LoadedUser(user string) { m.complete[user] = true }

// Apply counts a new join or leave of p. Only the days between it and the
// pair's next change (or from it on) can change.
func (m *Memberships) Apply(p Pair, c Change) {
	log, ok := m.logs[p]
	if !ok {
		m.channels[p.User] = append(m.channels[p.User], p.Channel)
	}
	before := Steps(log)
	i, found := slices.BinarySearchFunc(log, c, compareChanges)
	if found {
		return // the same logged change again: it changes nothing
	}
	log = slices.Insert(log, i, c)
	m.logs[p] = log
	w := m.Class(p.User).weight()
	m.addSteps(p.Channel, before, -1, w)
	m.addSteps(p.Channel, Steps(log), 1, w)
}

// SetClass records a user's class as of its place in the batch. A change
// of class moves the user's memberships, on every day they count, from
// the old class to the new one; it needs every stored change of the user
// loaded (LoadedUser).
func (m *Memberships) SetClass(user string, c MemberClass) error {
	old := m.Class(user)
	m.class[user] = c
	if old == c {
		return nil
	}
	if !m.complete[user] {
		return fmt.Errorf("analytics: class of %s changed, but its memberships were not loaded", user)
	}
	ow, nw := old.weight(), c.weight()
	for _, ch := range m.channels[user] {
		steps := Steps(m.logs[Pair{ch, user}])
		m.addSteps(ch, steps, -1, ow)
		m.addSteps(ch, steps, 1, nw)
	}
	return nil
}

// addSteps adds sign × steps × w to the channel's day rows.
func (m *Memberships) addSteps(ch string, steps []Step, sign int64, w MemberDelta) {
	if w.IsZero() {
		return
	}
	for _, s := range steps {
		k := ChannelKey{s.Day, ch}
		d := m.deltas[k]
		if d == nil {
			d = &MemberDelta{}
			m.deltas[k] = d
		}
		d.Members += sign * s.Delta * w.Members
		d.Guests += sign * s.Delta * w.Guests
	}
}

// SortedMembership lists the keys of the batch's non-zero member-count
// deltas in (channel, day) order, so stores write (and lock) rows in one
// order.
func (b *Batch) SortedMembership() []ChannelKey { return sortedDeltas(b.Membership) }

func sortedDeltas(m map[ChannelKey]*MemberDelta) []ChannelKey {
	ks := make([]ChannelKey, 0, len(m))
	for k, d := range m {
		if !d.IsZero() {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(x, y ChannelKey) int {
		return cmp.Or(cmp.Compare(x.Channel, y.Channel), cmp.Compare(x.Day, y.Day))
	})
	return ks
}

// RebuildMembership recomputes member-count deltas of the days [from,
// to] from the whole membership log into the batch's Membership: each
// pair's whole log (in (At, Seq) order) counted with its user's class.
type RebuildMembership struct {
	From, To backchannel.Day
	view     Memberships
	classes  map[string]MemberClass // users who are not full members

	cur Pair     // the pair Add is gathering
	log []Change // its log so far
}

// NewRebuildMembership starts a rebuild of the days [from, to] into b;
// classes holds the users who are not full members.
func NewRebuildMembership(b *Batch, from, to backchannel.Day, classes map[string]MemberClass) *RebuildMembership {
	return &RebuildMembership{From: from, To: to, view: Memberships{deltas: b.Membership}, classes: classes}
}

// Add takes the membership log one row at a time, ordered by pair, then
// (At, Seq); Finish counts the last pair.
func (r *RebuildMembership) Add(p Pair, c Change) {
	if p != r.cur {
		r.Finish()
		r.cur = p
	}
	r.log = append(r.log, c)
}

// Finish counts the pair Add was gathering.
func (r *RebuildMembership) Finish() {
	if len(r.log) > 0 {
		r.AddPair(r.cur, r.log)
	}
	r.log = r.log[:0]
}

// AddPair counts one pair's whole log with its user's class.
func (r *RebuildMembership) AddPair(p Pair, log []Change) {
	c, ok := r.classes[p.User]
	if !ok {
		c = ClassFull
	}
	var steps []Step
	for _, s := range Steps(log) {
		if s.Day >= r.From && s.Day <= r.To {
			steps = append(steps, s)
		}
	}
	r.view.addSteps(p.Channel, steps, 1, c.weight())
}
