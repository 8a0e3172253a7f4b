package analytics

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
)

const usPerDay = 86_400_000_000

func TestSteps(t *testing.T) {
	at := func(day, sec int64) int64 { return day*usPerDay + sec*1_000_000 }
	log := []Change{
		{at(10, 5), 1, true},
		{at(10, 9), 2, false}, // left the same day: no step on day 10
		{at(12, 0), 3, true},
		{at(12, 0), 4, true}, // a second join changes nothing
		{at(13, 86399), 5, false},
		{at(15, 1), 6, true},
		{at(15, 2), 7, false},
		{at(15, 3), 8, true}, // the day's last change decides
	}
	want := []Step{{12, 1}, {13, -1}, {15, 1}}
	if got := Steps(log); !slices.Equal(got, want) {
		t.Errorf("Steps = %v, want %v", got, want)
	}
	if got := Steps([]Change{{at(-1, 3), 1, true}}); !slices.Equal(got, []Step{{-1, 1}}) {
		t.Errorf("Steps before 1970 = %v", got)
	}
}

// oracle recounts a channel's members at the end of d from every change,
// as closing a day once did: a pair counts when its last change before
// the end of d is a join, with its user's current class.
func oracle(changes map[Pair][]Change, class map[string]MemberClass, ch string, d backchannel.Day) MemberDelta {
	var out MemberDelta
	for p, log := range changes {
		if p.Channel != ch {
			continue
		}
		var last *Change
		for i := range log {
			c := &log[i]
			if c.At < int64(d+1)*usPerDay && (last == nil || compareChanges(*c, *last) > 0) {
				last = c
			}
		}
		if last != nil && last.Joined {
			c, ok := class[p.User]
			if !ok {
				c = ClassFull
			}
			w := c.weight()
			out.Members += w.Members
			out.Guests += w.Guests
		}
	}
	return out
}

// sums adds up deltas per channel through d.
func sums(deltas map[ChannelKey]*MemberDelta, ch string, d backchannel.Day) MemberDelta {
	var out MemberDelta
	for k, v := range deltas {
		if k.Channel == ch && k.Day <= d {
			out.Members += v.Members
			out.Guests += v.Guests
		}
	}
	return out
}

// TestMembershipsAgainstOracle applies random joins, leaves and class
// changes in random batches, out of order (a change may be dated days
// before changes already counted), each batch loading what a store would
// load: after every batch the sum of the deltas equals a recount on every
// day, and a rebuild from the whole log gives the same non-zero deltas.
func TestMembershipsAgainstOracle(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			users := []string{"U1", "U2", "U3", "U4"}
			chans := []string{"C1", "C2"}
			stored := map[Pair][]Change{}           // the membership log
			storedClass := map[string]MemberClass{} // the users table
			deltas := map[ChannelKey]*MemberDelta{} // the stored rows
			seq := int64(0)
			for batch := 0; batch < 12; batch++ {
				type op struct {
					p     Pair
					c     Change
					class MemberClass
					user  bool
				}
				var ops []op
				for range 1 + r.IntN(6) {
					if r.IntN(4) == 0 {
						ops = append(ops, op{p: Pair{User: users[r.IntN(len(users))]}, class: MemberClass(r.IntN(3)), user: true})
						continue
					}
					seq++
					at := int64(r.IntN(8))*usPerDay + int64(r.IntN(3))*3_600_000_000 // few times: ties happen
					ops = append(ops, op{p: Pair{chans[r.IntN(len(chans))], users[r.IntN(len(users))]}, c: Change{at, seq, r.IntN(3) > 0}})
				}
				// What a store loads: the classes of the users named, the
				// logs of the pairs named, the whole logs of users whose
				// class the batch changes.
				b := NewBatch()
				m := NewMemberships(b.Membership)
				for _, o := range ops {
					if c, ok := storedClass[o.p.User]; ok {
						m.LoadClass(o.p.User, c)
					}
					if !o.user {
						for _, c := range stored[o.p] {
							m.Load(o.p, c)
						}
					}
				}
				for _, o := range ops {
					if o.user && o.class != m.Class(o.p.User) {
						for p, log := range stored {
							if p.User == o.p.User {
								for _, c := range log {
									m.Load(p, c)
								}
							}
						}
						m.LoadedUser(o.p.User)
					}
				}
				for _, o := range ops {
					if o.user {
						if err := m.SetClass(o.p.User, o.class); err != nil {
							t.Fatal(err)
						}
						storedClass[o.p.User] = o.class
						continue
					}
					m.Apply(o.p, o.c)
					stored[o.p] = append(stored[o.p], o.c)
					slices.SortFunc(stored[o.p], compareChanges)
				}
				for k, d := range b.Membership {
					if deltas[k] == nil {
						deltas[k] = &MemberDelta{}
					}
					deltas[k].Members += d.Members
					deltas[k].Guests += d.Guests
				}
				for _, ch := range chans {
					for d := backchannel.Day(-1); d <= 9; d++ {
						if got, want := sums(deltas, ch, d), oracle(stored, storedClass, ch, d); got != want {
							t.Fatalf("batch %d: %s at the end of day %d: %+v, want %+v", batch, ch, d, got, want)
						}
					}
				}
			}
			rebuilt := NewBatch()
			rb := NewRebuildMembership(rebuilt, -100, 100, storedClass)
			for p, log := range stored {
				rb.AddPair(p, log)
			}
			for k, d := range deltas {
				if got := rebuilt.Membership[k]; !d.IsZero() && (got == nil || *got != *d) {
					t.Errorf("rebuild %v = %v, want %+v", k, got, *d)
				}
			}
			for _, k := range rebuilt.SortedMembership() {
				if d := deltas[k]; d == nil || d.IsZero() {
					t.Errorf("rebuild has %v = %+v, incremental none", k, *rebuilt.Membership[k])
				}
			}
		})
	}
}

func TestSetClassNeedsTheUsersLog(t *testing.T) {
	m := NewMemberships(NewBatch().Membership)
	m.Apply(Pair{"C1", "U1"}, Change{At: 1, Seq: 1, Joined: true})
	if err := m.SetClass("U1", ClassGuest); err == nil {
		t.Error("SetClass without the user's whole log loaded: no error")
	}
	b := NewBatch()
	m = NewMemberships(b.Membership)
	m.LoadedUser("U1")
	m.Apply(Pair{"C1", "U1"}, Change{At: 1, Seq: 1, Joined: true})
	if err := m.SetClass("U1", ClassGuest); err != nil {
		t.Fatal(err)
	}
	if got := *b.Membership[ChannelKey{0, "C1"}]; got != (MemberDelta{Members: 1, Guests: 1}) {
		t.Errorf("delta after join then guest = %+v", got)
	}
}
