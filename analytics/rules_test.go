package analytics

import (
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
)

const (
	d0 = 19700 // an arbitrary day
	// usOf is the first microsecond of day d0.
	us0 = backchannel.TS(d0) * 86_400_000_000
)

func TestDayOf(t *testing.T) {
	last := us0 + 86_400_000_000 - 1 // 23:59:59.999999
	for _, tt := range []struct {
		name string
		f    Fact
		want backchannel.Day
		ok   bool
	}{
		{"message by ts", Fact{Type: backchannel.EvMessage, TS: last, EventTS: last + 1}, d0, true},
		{"view by event_ts", Fact{Type: backchannel.EvMessageViewed, TS: us0 - 1, EventTS: last}, d0, true},
		{"reaction without event_ts", Fact{Type: backchannel.EvReactionAdded, TS: last}, d0, true},
		{"next day starts at midnight", Fact{Type: backchannel.EvSearch, EventTS: last + 1}, d0 + 1, true},
		{"directory has no day", Fact{Type: backchannel.EvUser, EventTS: last}, 0, false},
		{"edits have no day", Fact{Type: backchannel.EvMessageChanged, TS: last}, 0, false},
	} {
		got, ok := DayOf(&tt.f)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: DayOf = %d, %v; want %d, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRules(t *testing.T) {
	b := NewBatch()
	pub := &Context{ChannelKind: backchannel.KindPublic, NewMessage: true}
	shared := &Context{ChannelKind: backchannel.KindPrivate, Shared: true, NewMessage: true}
	im := &Context{ChannelKind: backchannel.KindIM, NewMessage: true}
	bot := &Context{ChannelKind: backchannel.KindPublic, ActorBot: true, NewMessage: true}
	ts := us0 + 5
	add := func(f Fact, c *Context) { t.Helper(); b.Add(&f, c) }

	// W1 posts on desktop with 2 files in a public channel, on the web in a
	// shared private channel, in an IM; a replacement and a join message
	// do not count.
	add(Fact{Type: backchannel.EvMessage, User: "W1", Channel: "C1", TS: ts, Client: "desktop", Files: 2}, pub)
	add(Fact{Type: backchannel.EvMessage, User: "W1", Channel: "G1", TS: ts + 1, Client: "web"}, shared)
	add(Fact{Type: backchannel.EvMessage, User: "W1", Channel: "D1", TS: ts + 2}, im)
	add(Fact{Type: backchannel.EvMessage, User: "W1", Channel: "C1", TS: ts}, &Context{ChannelKind: backchannel.KindPublic})
	add(Fact{Type: backchannel.EvMessage, User: "W1", Channel: "C1", TS: ts + 3, Subtype: "channel_join"}, pub)
	// A bot user and an app post in C1: channel counts only.
	add(Fact{Type: backchannel.EvMessage, User: "WBOT", Channel: "C1", TS: ts + 9}, bot)
	add(Fact{Type: backchannel.EvMessage, BotID: "B1", Subtype: "bot_message", Channel: "C1", TS: ts + 4}, pub)
	// W2 only views on the web, twice in C1; reacts twice (one removed);
	// a bot reaction is ignored.
	add(Fact{Type: backchannel.EvMessageViewed, User: "W2", Channel: "C1", TS: ts, EventTS: ts, Client: "web"}, pub)
	add(Fact{Type: backchannel.EvMessageViewed, User: "W2", Channel: "C1", TS: ts, EventTS: ts + 1, Client: "web"}, pub)
	add(Fact{Type: backchannel.EvReactionAdded, User: "W2", Channel: "C1", TS: ts, EventTS: ts}, pub)
	add(Fact{Type: backchannel.EvReactionAdded, User: "W2", Channel: "C1", TS: ts}, pub)
	add(Fact{Type: backchannel.EvReactionRemoved, User: "W2", Channel: "C1", TS: ts, EventTS: ts}, pub)
	add(Fact{Type: backchannel.EvReactionAdded, User: "WBOT", Channel: "C1", TS: ts, EventTS: ts}, bot)
	// W3: activity without messages.
	for _, f := range []Fact{
		{Type: backchannel.EvClientActive, Client: "android"}, {Type: backchannel.EvSearch}, {Type: backchannel.EvSearch},
		{Type: backchannel.EvFileAdded}, {Type: backchannel.EvAppUsed}, {Type: backchannel.EvWorkflowUsed},
		{Type: backchannel.EvCall, Subtype: "slack"}, {Type: backchannel.EvCall, Subtype: "huddle"},
		{Type: backchannel.EvCall, Subtype: "huddle"}, {Type: backchannel.EvCall, Subtype: "third_party"},
		{Type: backchannel.EvMessageClicked, Channel: "C1", TS: ts}, {Type: backchannel.EvMessageShared, Channel: "C1", TS: ts},
	} {
		f.User, f.EventTS = "W3", ts
		add(f, &Context{})
	}
	// W3 views G1 on iOS: Slack Connect, no channel row (not public).
	add(Fact{Type: backchannel.EvMessageViewed, User: "W3", Channel: "G1", TS: ts, EventTS: ts, Client: "ios"}, shared)

	wantMembers := map[MemberKey]MemberCounts{
		{d0, "W1"}: {Messages: 3, ChannelMessages: 2, Files: 2, Flags: FlagActive | FlagDesktop | FlagSlackConnect},
		{d0, "W2"}: {Reactions: 2, Flags: FlagActive},
		{d0, "W3"}: {Searches: 2, Files: 1, SlackCalls: 1, Huddles: 2, ThirdPartyCalls: 1,
			Flags: FlagActive | FlagAndroid | FlagIOS | FlagApps | FlagWorkflows | FlagSlackConnect},
	}
	if len(b.Members) != len(wantMembers) {
		t.Errorf("member rows: got %d, want %d (%v)", len(b.Members), len(wantMembers), b.SortedMembers())
	}
	for k, want := range wantMembers {
		if got := b.Members[k]; got == nil || *got != want {
			t.Errorf("member %v:\n got %+v\nwant %+v", k, got, want)
		}
	}
	if got := b.Members[MemberKey{d0, "W3"}].TotalCalls(); got != 4 {
		t.Errorf("total calls: got %d, want 4", got)
	}
	wantCh := ChannelCounts{Messages: 3, MemberMessages: 1, Reactions: 2, LastTS: ts + 9}
	if len(b.Channels) != 1 || *b.Channels[ChannelKey{d0, "C1"}] != wantCh {
		t.Errorf("channel rows: got %v, want C1 %+v", b.Channels, wantCh)
	}
	wantBits := []DistinctKey{{d0, "C1", "W2", Viewed}, {d0, "C1", "W1", Posted}}
	if got := b.SortedDistinct(); len(got) != 2 || got[0] != wantBits[0] || got[1] != wantBits[1] {
		t.Errorf("distinct bits: got %v, want %v", got, wantBits)
	}
	if b.Days[d0] != 26 {
		t.Errorf("events of the day: got %d, want 26", b.Days[d0])
	}
}

func TestMerge(t *testing.T) {
	a := MemberCounts{Messages: 1, Flags: FlagActive}
	a.Merge(&MemberCounts{Messages: 2, Searches: 1, Flags: FlagApps})
	if want := (MemberCounts{Messages: 3, Searches: 1, Flags: FlagActive | FlagApps}); a != want {
		t.Errorf("member merge: got %+v, want %+v", a, want)
	}
	c := ChannelCounts{Messages: 1, LastTS: 9}
	c.Merge(&ChannelCounts{Messages: 1, Viewers: 2, LastTS: 5})
	if want := (ChannelCounts{Messages: 2, Viewers: 2, LastTS: 9}); c != want {
		t.Errorf("channel merge: got %+v, want %+v", c, want)
	}
}

// TestDayTypes: DayTypes lists exactly the types HasDay accepts.
func TestDayTypes(t *testing.T) {
	for _, typ := range DayTypes {
		if !HasDay(typ) {
			t.Errorf("DayTypes lists %q, HasDay says no day", typ)
		}
	}
	n := 0
	for _, typ := range []string{backchannel.EvMessage, backchannel.EvReactionAdded, backchannel.EvReactionRemoved,
		backchannel.EvMessageViewed, backchannel.EvMessageClicked, backchannel.EvMessageShared, backchannel.EvClientActive,
		backchannel.EvFileAdded, backchannel.EvSearch, backchannel.EvAppUsed, backchannel.EvWorkflowUsed, backchannel.EvCall,
		backchannel.EvUser, backchannel.EvChannel, backchannel.EvMemberJoined, backchannel.EvMemberLeft,
		backchannel.EvMessageChanged, backchannel.EvMessageDeleted, backchannel.EvPinAdded, backchannel.EvStarAdded} {
		if HasDay(typ) {
			n++
			if !slices.Contains(DayTypes, typ) {
				t.Errorf("HasDay(%q), but DayTypes does not list it", typ)
			}
		}
	}
	if n != len(DayTypes) {
		t.Errorf("%d types have a day, DayTypes lists %d", n, len(DayTypes))
	}
}
