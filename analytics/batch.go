package analytics

import (
	"cmp"
	"slices"

	"github.com/backchannel/backchannel"
)

// MemberKey keys a member-day row.
type MemberKey struct {
	Day  backchannel.Day
	User string
}

// MemberCounts is a member-day row. Merge rule: counters add, flags OR.
type MemberCounts struct {
	Messages        int64 // messages_posted_count: every conversation kind
	ChannelMessages int64 // channel_messages_posted_count: public and private channels
	Reactions       int64 // reactions_added_count: reaction_added; removals never subtract
	Files           int64 // files_added_count: file_added + files on posted messages
	SlackCalls      int64 // call kind slack
	Huddles         int64 // call kind huddle
	ThirdPartyCalls int64 // call kind third_party
	Searches        int64 // search
	Flags           Flags
}

// Merge adds o into m (the one merge rule of member rows).
func (m *MemberCounts) Merge(o *MemberCounts) {
	m.Messages += o.Messages
	m.ChannelMessages += o.ChannelMessages
	m.Reactions += o.Reactions
	m.Files += o.Files
	m.SlackCalls += o.SlackCalls
	m.Huddles += o.Huddles
	m.ThirdPartyCalls += o.ThirdPartyCalls
	m.Searches += o.Searches
	m.Flags |= o.Flags
}

// TotalCalls is total_calls_count.
func (m *MemberCounts) TotalCalls() int64 { return m.SlackCalls + m.Huddles + m.ThirdPartyCalls }

// ChannelKey keys a channel-day row (public channels only: no file reports
// any other kind).
type ChannelKey struct {
	Day     backchannel.Day
	Channel string
}

// ChannelCounts is a channel-day row. Merge rule: counters add, LastTS max.
// Viewers and Posters are bumped only for new distinct bits (DistinctKey).
type ChannelCounts struct {
	Messages       int64          // messages_posted_count, bots and apps included
	MemberMessages int64          // messages_posted_by_members_count, humans only
	Reactions      int64          // reactions_added_count, humans only
	Viewers        int64          // members_who_viewed_count
	Posters        int64          // members_who_posted_count
	LastTS         backchannel.TS // latest posted message that day, for date_last_active
}

// Merge adds o into c (the one merge rule of channel rows).
func (c *ChannelCounts) Merge(o *ChannelCounts) {
	c.Messages += o.Messages
	c.MemberMessages += o.MemberMessages
	c.Reactions += o.Reactions
	c.Viewers += o.Viewers
	c.Posters += o.Posters
	c.LastTS = max(c.LastTS, o.LastTS)
}

// DistinctKey is one distinct-user bit of a channel-day: the first time a
// store inserts it, the channel-day's Viewers or Posters grows by one.
type DistinctKey struct {
	Day     backchannel.Day
	Channel string
	User    string
	Kind    uint8 // Viewed | Posted
}

// Batch aggregates the rollup deltas of many events in memory, so a store
// writes each touched row once per batch (multi-row upserts) instead of
// once per event.
type Batch struct {
	Members  map[MemberKey]*MemberCounts
	Channels map[ChannelKey]*ChannelCounts
	Distinct map[DistinctKey]struct{}
	// Days counts the events of each day, for the days table and for
	// counting late events (a day already closed).
	Days map[backchannel.Day]int64
	// Membership holds the channel member-count deltas of the batch's
	// joins, leaves and user class changes (Memberships, members.go).
	Membership map[ChannelKey]*MemberDelta

	// The Sorted lists as Presort left them. Keys are added to the maps,
	// never deleted, so a list as long as its map lists it.
	members  []MemberKey
	channels []ChannelKey
	distinct []DistinctKey
}

// Presort sorts the batch's keys now, for the Sorted methods to return
// until keys are added: a store can sort on a goroutine of its choosing.
func (b *Batch) Presort() {
	b.members, b.channels, b.distinct = b.SortedMembers(), b.SortedChannels(), b.SortedDistinct()
}

// NewBatch returns an empty batch.
func NewBatch() *Batch {
	return &Batch{Members: map[MemberKey]*MemberCounts{}, Channels: map[ChannelKey]*ChannelCounts{},
		Distinct: map[DistinctKey]struct{}{}, Days: map[backchannel.Day]int64{}, Membership: map[ChannelKey]*MemberDelta{}}
}

// Empty reports whether the batch holds nothing to write.
func (b *Batch) Empty() bool { return len(b.Days) == 0 }

func (b *Batch) member(d backchannel.Day, user string) *MemberCounts {
	k := MemberKey{d, user}
	m := b.Members[k]
	if m == nil {
		m = &MemberCounts{}
		b.Members[k] = m
	}
	return m
}

// Channel returns the channel-day row of the batch, creating it.
func (b *Batch) Channel(d backchannel.Day, ch string) *ChannelCounts {
	k := ChannelKey{d, ch}
	c := b.Channels[k]
	if c == nil {
		c = &ChannelCounts{}
		b.Channels[k] = c
	}
	return c
}

// Add applies the rules to one new (not duplicate) event. These are the
// only rules: ingest and rebuild both go through here.
func (b *Batch) Add(f *Fact, c *Context) {
	day, ok := DayOf(f)
	if !ok {
		return
	}
	b.Days[day]++
	human := isHuman(f, c)
	public := c.ChannelKind == backchannel.KindPublic
	var m *MemberCounts
	if human {
		m = b.member(day, f.User)
	}
	switch f.Type {
	case backchannel.EvMessage:
		if !countsAsPosted(f, c) {
			return
		}
		if public {
			ch := b.Channel(day, f.Channel)
			ch.Messages++
			ch.LastTS = max(ch.LastTS, f.TS)
			if human {
				ch.MemberMessages++
				b.Distinct[DistinctKey{day, f.Channel, f.User, Posted}] = struct{}{}
			}
		}
		if m != nil {
			m.Messages++
			if c.ChannelKind == backchannel.KindPublic || c.ChannelKind == backchannel.KindPrivate {
				m.ChannelMessages++
			}
			m.Files += int64(f.Files)
			m.Flags |= FlagActive | clientFlag(f.Client) | connect(c)
		}
	case backchannel.EvReactionAdded:
		if m != nil {
			m.Reactions++
		}
		if public && human {
			b.Channel(day, f.Channel).Reactions++
		}
	case backchannel.EvMessageViewed:
		if m != nil {
			m.Flags |= FlagActive | clientFlag(f.Client) | connect(c)
		}
		if public && human {
			b.Channel(day, f.Channel) // the row exists even if the bit is not new
			b.Distinct[DistinctKey{day, f.Channel, f.User, Viewed}] = struct{}{}
		}
	case backchannel.EvClientActive:
		if m != nil {
			m.Flags |= FlagActive | clientFlag(f.Client)
		}
	case backchannel.EvFileAdded:
		if m != nil {
			m.Files++
		}
	case backchannel.EvSearch:
		if m != nil {
			m.Searches++
		}
	case backchannel.EvAppUsed:
		if m != nil {
			m.Flags |= FlagApps
		}
	case backchannel.EvWorkflowUsed:
		if m != nil {
			m.Flags |= FlagWorkflows
		}
	case backchannel.EvCall:
		if m != nil {
			switch f.Subtype {
			case "slack":
				m.SlackCalls++
			case "huddle":
				m.Huddles++
			case "third_party":
				m.ThirdPartyCalls++
			}
		}
	}
}

func connect(c *Context) Flags {
	if c.Shared {
		return FlagSlackConnect
	}
	return 0
}

// SortedDistinct lists the batch's distinct bits in key order, so stores
// write them in a deterministic order (and B-tree friendly).
func (b *Batch) SortedDistinct() []DistinctKey {
	if b.distinct != nil && len(b.distinct) == len(b.Distinct) {
		return b.distinct
	}
	ks := make([]DistinctKey, 0, len(b.Distinct))
	for k := range b.Distinct {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(x, y DistinctKey) int {
		return cmp.Or(cmp.Compare(x.Day, y.Day), cmp.Compare(x.Channel, y.Channel),
			cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.User, y.User))
	})
	return ks
}

// SortedMembers lists the batch's member keys in (user, day) order.
func (b *Batch) SortedMembers() []MemberKey {
	if b.members != nil && len(b.members) == len(b.Members) {
		return b.members
	}
	ks := make([]MemberKey, 0, len(b.Members))
	for k := range b.Members {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(x, y MemberKey) int {
		return cmp.Or(cmp.Compare(x.User, y.User), cmp.Compare(x.Day, y.Day))
	})
	return ks
}

// SortedChannels lists the batch's channel keys in (channel, day) order.
func (b *Batch) SortedChannels() []ChannelKey {
	if b.channels != nil && len(b.channels) == len(b.Channels) {
		return b.channels
	}
	ks := make([]ChannelKey, 0, len(b.Channels))
	for k := range b.Channels {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(x, y ChannelKey) int {
		return cmp.Or(cmp.Compare(x.Channel, y.Channel), cmp.Compare(x.Day, y.Day))
	})
	return ks
}
