package analytics

import (
	"cmp"
	"slices"

	"github.com/backchannel/backchannel"
)

// The messages.activity rules: every count of a message's activity is of
// distinct people, kept exact at ingest by one bit per (message, user,
// action). A store remembers each (message, user)'s bits; when an event sets
// a bit the store did not hold, and only then, the message's counters, its
// client counter and its department and team rows grow by one. So repeats
// and replays change nothing, and nothing ever un-counts (a removed reaction
// leaves its bit set). docs/analytics.md defines every count in words.

// ActBits are what one user has done to one message.
type ActBits uint8

const (
	ActViewed  ActBits = 1 << iota // message_viewed, any client
	ActReacted                     // reaction_added
	ActShared                      // message_shared
	ActClicked                     // message_clicked
	ActDesktop                     // message_viewed from the desktop app
	ActMobile                      // message_viewed from ios or android
	ActWeb                         // message_viewed from the web
)

// actCounted are the bits counted per department and per team.
var actCounted = [4]ActBits{ActViewed, ActReacted, ActShared, ActClicked}

// ActBitsOf is the bits an event sets: 0 for events that are not about a
// message, and for bots and apps (not people). Reaction removals set
// nothing: they never un-count.
func ActBitsOf(f *Fact, c *Context) ActBits {
	if f.Channel == "" || f.TS == 0 || !isHuman(f, c) {
		return 0
	}
	switch f.Type {
	case backchannel.EvMessageViewed:
		switch f.Client {
		case "desktop":
			return ActViewed | ActDesktop
		case "ios", "android":
			return ActViewed | ActMobile
		case "web":
			return ActViewed | ActWeb
		}
		return ActViewed // an unknown client counts in the total only
	case backchannel.EvReactionAdded:
		return ActReacted
	case backchannel.EvMessageShared:
		return ActShared
	case backchannel.EvMessageClicked:
		return ActClicked
	}
	return 0
}

// ActMessage keys a message's counters; the message need not be stored yet
// (its counters wait for it).
type ActMessage struct {
	Channel string
	TS      backchannel.TS
}

// ActKey keys one (message, user)'s bits.
type ActKey struct {
	ActMessage
	User string
}

// Person is who a user is for the breakdowns, as of a moment: "" when the
// user has no department (counted only in the totals) or no known team.
type Person struct {
	Department, Team string
}

// Group kinds of ActGroup rows.
const (
	GroupDepartment uint8 = 1 // unique_stats_by_department
	GroupTeam       uint8 = 2 // unique_stats_by_org
)

// ActGroup keys a message's department or team row.
type ActGroup struct {
	ActMessage
	Kind uint8 // GroupDepartment | GroupTeam
	Name string
}

// MessageCounts is a message's counter row. Merge rule: every field adds.
type MessageCounts struct {
	backchannel.ActivityCounts
	Desktop, Mobile, Web int64
}

// actEntry is what a batch did to one (message, user): the bits it set and,
// for each counted bit, who the user was when the batch first set it.
type actEntry struct {
	bits ActBits
	who  [4]Person
}

// ActBatch aggregates a batch's activity in memory, in event order. A store
// reads the bits it holds for Keys, then writes what Deltas returns.
type ActBatch struct {
	entries map[ActKey]*actEntry
	order   []ActKey
	keys    []ActKey // Keys, until a key is added
}

// NewActBatch returns an empty batch.
func NewActBatch() *ActBatch { return &ActBatch{entries: map[ActKey]*actEntry{}} }

// Add records that user k.User, who is p at this point of the batch, set
// bits on k's message.
func (b *ActBatch) Add(k ActKey, bits ActBits, p Person) {
	if bits == 0 {
		return
	}
	e := b.entries[k]
	if e == nil {
		e = &actEntry{}
		b.entries[k] = e
		b.order = append(b.order, k)
		b.keys = nil
	}
	for i, bit := range actCounted {
		if bits&bit != 0 && e.bits&bit == 0 {
			e.who[i] = p // the first touch in the batch; Deltas drops it if the store had it
		}
	}
	e.bits |= bits
}

// Bits is what the batch set on k (0 if nothing).
func (b *ActBatch) Bits(k ActKey) ActBits {
	if e := b.entries[k]; e != nil {
		return e.bits
	}
	return 0
}

// Empty reports whether the batch set no bits.
func (b *ActBatch) Empty() bool { return len(b.order) == 0 }

// Keys lists the (message, user)s of the batch in key order, so that
// stores read and lock rows in the same order. The order is the message's
// ts first, then its channel, then the user: a batch's activity is mostly
// about recent messages, so in that order its rows are neighbours. The
// slice is the batch's, not to be changed.
func (b *ActBatch) Keys() []ActKey {
	if b.keys == nil {
		b.keys = b.sortKeys()
	}
	return b.keys
}

func (b *ActBatch) sortKeys() []ActKey {
	// By message, then by user within each: a batch has thousands of keys
	// but only a few per message, so this compares far fewer strings than
	// sorting the keys whole.
	at := make(map[ActMessage]int) // a message's place in msgs
	var msgs []ActMessage
	var per []int                   // keys per message
	of := make([]int, len(b.order)) // b.order[j]'s message
	for j, k := range b.order {
		i, ok := at[k.ActMessage]
		if !ok {
			i = len(msgs)
			at[k.ActMessage] = i
			msgs, per = append(msgs, k.ActMessage), append(per, 0)
		}
		per[i]++
		of[j] = i
	}
	idx := make([]int, len(msgs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(x, y int) int {
		return cmp.Or(cmp.Compare(msgs[x].TS, msgs[y].TS), cmp.Compare(msgs[x].Channel, msgs[y].Channel))
	})
	start := make([]int, len(msgs)) // where each message's keys begin
	n := 0
	for _, i := range idx {
		start[i] = n
		n += per[i]
	}
	keys := make([]ActKey, len(b.order))
	next := slices.Clone(start)
	for j, k := range b.order {
		i := of[j]
		keys[next[i]] = k
		next[i]++
	}
	for i := range msgs {
		if ks := keys[start[i] : start[i]+per[i]]; len(ks) > 1 {
			slices.SortFunc(ks, func(x, y ActKey) int { return cmp.Compare(x.User, y.User) })
		}
	}
	return keys
}

func compareActKey(a, b ActKey) int {
	return cmp.Or(cmp.Compare(a.TS, b.TS), cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.User, b.User))
}

// ActBitsRow is the new value of one (message, user)'s bits.
type ActBitsRow struct {
	ActKey
	Bits ActBits
}

// ActDeltas is what a batch changes, each slice in key order: the bits rows
// that gained a bit (written as old | new) and the increments of message and
// group rows. Only bits the store did not hold count.
type ActDeltas struct {
	Bits     []ActBitsRow
	Messages []ActMessage
	Counts   []MessageCounts // Counts[i] is Messages[i]'s increment
	Groups   []ActGroup
	Group    []backchannel.ActivityCounts // Group[i] is Groups[i]'s increment
}

// Empty reports whether nothing changes.
func (d *ActDeltas) Empty() bool { return len(d.Messages) == 0 }

// Deltas computes the batch's changes given the bits the store holds (old;
// a missing key is 0).
func (b *ActBatch) Deltas(old map[ActKey]ActBits) ActDeltas {
	return b.deltas(b.Keys(), func(_ int, k ActKey) ActBits { return old[k] }, true)
}

// DeltasOf computes the counter increments of a batch whose bits a store
// has already merged: keys are the (message, user)s that gained a bit, in
// key order (a subsequence of Keys), and was[i] the bits keys[i] held
// before. The Bits of the result are left empty (written).
func (b *ActBatch) DeltasOf(keys []ActKey, was []ActBits) ActDeltas {
	return b.deltas(keys, func(i int, _ ActKey) ActBits { return was[i] }, false)
}

// deltas computes the changes of keys (in key order) given what the store
// held of each before the batch (was of keys[i]).
func (b *ActBatch) deltas(keys []ActKey, was func(int, ActKey) ActBits, bits bool) ActDeltas {
	var d ActDeltas
	// Keys come in message order: a message's counters and its group rows
	// (a few: one per department and team of its new users) are complete
	// when the next message begins.
	var m *MessageCounts
	var groups []ActGroup
	var counts []backchannel.ActivityCounts
	bump := func(g ActGroup, i int) {
		j := 0
		for j < len(groups) && (groups[j].Kind != g.Kind || groups[j].Name != g.Name) {
			j++
		}
		if j == len(groups) {
			groups, counts = append(groups, g), append(counts, backchannel.ActivityCounts{})
		}
		*countOf(&counts[j], i)++
	}
	endMessage := func() {
		idx := make([]int, len(groups))
		for j := range idx {
			idx[j] = j
		}
		slices.SortFunc(idx, func(x, y int) int {
			return cmp.Or(cmp.Compare(groups[x].Kind, groups[y].Kind), cmp.Compare(groups[x].Name, groups[y].Name))
		})
		for _, j := range idx {
			d.Groups, d.Group = append(d.Groups, groups[j]), append(d.Group, counts[j])
		}
		groups, counts = groups[:0], counts[:0]
	}
	for i, k := range keys {
		e := b.entries[k]
		old := was(i, k)
		gained := e.bits &^ old
		if gained == 0 {
			continue
		}
		if bits {
			d.Bits = append(d.Bits, ActBitsRow{ActKey: k, Bits: old | e.bits})
		}
		if m == nil || k.ActMessage != d.Messages[len(d.Messages)-1] {
			endMessage()
			d.Messages, d.Counts = append(d.Messages, k.ActMessage), append(d.Counts, MessageCounts{})
		}
		m = &d.Counts[len(d.Counts)-1]
		for i, bit := range actCounted {
			if gained&bit == 0 {
				continue
			}
			*countOf(&m.ActivityCounts, i)++
			if p := e.who[i]; p.Department != "" {
				bump(ActGroup{k.ActMessage, GroupDepartment, p.Department}, i)
			}
			if p := e.who[i]; p.Team != "" {
				bump(ActGroup{k.ActMessage, GroupTeam, p.Team}, i)
			}
		}
		for _, c := range [...]struct {
			bit ActBits
			n   *int64
		}{{ActDesktop, &m.Desktop}, {ActMobile, &m.Mobile}, {ActWeb, &m.Web}} {
			if gained&c.bit != 0 {
				*c.n++
			}
		}
	}
	endMessage()
	return d
}

// countOf is the counter of actCounted[i].
func countOf(c *backchannel.ActivityCounts, i int) *int64 {
	return [4]*int64{&c.Views, &c.Reactions, &c.Shares, &c.Clicks}[i]
}

// SortActivity puts a message's breakdowns in the contract's order: by
// views descending, then department name or team id ascending.
func SortActivity(m *backchannel.MessageActivity) {
	slices.SortFunc(m.ByDepartment, func(a, b backchannel.DepartmentActivity) int {
		return cmp.Or(cmp.Compare(b.Views, a.Views), cmp.Compare(a.Department, b.Department))
	})
	slices.SortFunc(m.ByTeam, func(a, b backchannel.TeamActivity) int {
		return cmp.Or(cmp.Compare(b.Views, a.Views), cmp.Compare(a.TeamID, b.TeamID))
	})
}
