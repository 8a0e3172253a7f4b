package analytics

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
)

// DeltasOf, given what a store's merge reports (the keys that gained a bit
// and their prior bits), computes the same increments as Deltas given the
// prior bits of every key.
func TestDeltasOfMatchesDeltas(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	bitsOf := []ActBits{ActViewed | ActDesktop, ActViewed | ActMobile, ActViewed | ActWeb, ActViewed, ActReacted, ActShared, ActClicked}
	people := []Person{{}, {Department: "Eng"}, {Team: "T1"}, {Department: "Sales", Team: "T2"}}
	for round := range 200 {
		b := NewActBatch()
		old := map[ActKey]ActBits{}
		for range 1 + r.IntN(60) {
			k := ActKey{ActMessage: ActMessage{Channel: fmt.Sprintf("C%d", r.IntN(3)), TS: backchannel.TS(r.IntN(4))},
				User: fmt.Sprintf("W%d", r.IntN(8))}
			b.Add(k, bitsOf[r.IntN(len(bitsOf))], people[r.IntN(len(people))])
			if r.IntN(2) == 0 {
				old[k] |= bitsOf[r.IntN(len(bitsOf))]
			}
		}
		want := b.Deltas(old)
		var keys []ActKey // what the store reports: the keys that gained a bit, in key order
		var was []ActBits
		for _, row := range want.Bits {
			keys, was = append(keys, row.ActKey), append(was, old[row.ActKey])
		}
		got := b.DeltasOf(keys, was)
		if ref := naiveDeltas(b, old); !reflect.DeepEqual(flatten(want), ref) {
			t.Fatalf("round %d: Deltas\n%v\nby hand\n%v", round, flatten(want), ref)
		}
		want.Bits = nil
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: DeltasOf\n%+v\nDeltas\n%+v", round, got, want)
		}
	}
}

// naiveDeltas is the rule by hand: every bit a key gains bumps its message's
// counter and the rows of its first toucher's department and team.
func naiveDeltas(b *ActBatch, old map[ActKey]ActBits) []string {
	counts := map[string]int64{}
	for k, e := range b.entries {
		gained := e.bits &^ old[k]
		for i, bit := range []ActBits{ActViewed, ActReacted, ActShared, ActClicked, ActDesktop, ActMobile, ActWeb} {
			if gained&bit == 0 {
				continue
			}
			counts[fmt.Sprintf("%s/%d msg bit%d", k.Channel, k.TS, i)]++
			if i < 4 && e.who[i].Department != "" {
				counts[fmt.Sprintf("%s/%d dept %s bit%d", k.Channel, k.TS, e.who[i].Department, i)]++
			}
			if i < 4 && e.who[i].Team != "" {
				counts[fmt.Sprintf("%s/%d team %s bit%d", k.Channel, k.TS, e.who[i].Team, i)]++
			}
		}
	}
	var out []string
	for k, n := range counts {
		out = append(out, fmt.Sprintf("%s=%d", k, n))
	}
	slices.Sort(out)
	return out
}

// flatten lists d's increments as naiveDeltas does, after checking that its
// rows come in key order.
func flatten(d ActDeltas) []string {
	var out []string
	add := func(key string, i int, n int64) {
		if n != 0 {
			out = append(out, fmt.Sprintf("%s bit%d=%d", key, i, n))
		}
	}
	for j, m := range d.Messages {
		c := d.Counts[j]
		for i, n := range []int64{c.Views, c.Reactions, c.Shares, c.Clicks, c.Desktop, c.Mobile, c.Web} {
			add(fmt.Sprintf("%s/%d msg", m.Channel, m.TS), i, n)
		}
	}
	for j, g := range d.Groups {
		if j > 0 {
			p := d.Groups[j-1]
			if cmp.Or(cmp.Compare(p.TS, g.TS), cmp.Compare(p.Channel, g.Channel), cmp.Compare(p.Kind, g.Kind), cmp.Compare(p.Name, g.Name)) >= 0 {
				out = append(out, fmt.Sprintf("groups out of order at %d", j))
			}
		}
		kind := map[uint8]string{GroupDepartment: "dept", GroupTeam: "team"}[g.Kind]
		c := d.Group[j]
		for i, n := range []int64{c.Views, c.Reactions, c.Shares, c.Clicks} {
			add(fmt.Sprintf("%s/%d %s %s", g.Channel, g.TS, kind, g.Name), i, n)
		}
	}
	slices.Sort(out)
	return out
}

// Keys is the batch's keys sorted by compareActKey, each once.
func TestActKeysOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 100 {
		b := NewActBatch()
		seen := map[ActKey]bool{}
		var want []ActKey
		for range r.IntN(300) {
			k := ActKey{ActMessage: ActMessage{Channel: fmt.Sprintf("C%d", r.IntN(5)), TS: backchannel.TS(r.IntN(20))},
				User: fmt.Sprintf("W%d", r.IntN(30))}
			b.Add(k, ActViewed, Person{})
			if !seen[k] {
				seen[k] = true
				want = append(want, k)
			}
		}
		slices.SortFunc(want, compareActKey)
		if got := b.Keys(); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("round %d: Keys\n%v\nwant\n%v", round, got, want)
		}
		// Keys is kept until a key is added: then it lists that one too.
		k := ActKey{ActMessage: ActMessage{Channel: "C9", TS: 1}, User: "W1"}
		b.Add(k, ActClicked, Person{})
		want = append(want, k)
		slices.SortFunc(want, compareActKey)
		if got := b.Keys(); !slices.Equal(got, want) {
			t.Fatalf("round %d: Keys after a new key\n%v\nwant\n%v", round, got, want)
		}
	}
}

// The Sorted lists Presort keeps are the ones the Sorted methods compute,
// also after Add brings new keys.
func TestPresort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	pub := &Context{ChannelKind: backchannel.KindPublic, NewMessage: true}
	add := func(b *Batch, n int) {
		for range n {
			f := Fact{Type: backchannel.EvMessageViewed, User: fmt.Sprintf("W%d", r.IntN(40)), Channel: fmt.Sprintf("C%d", r.IntN(6)),
				TS: us0 + backchannel.TS(r.IntN(3)*86_400_000_000), Client: "web"}
			f.EventTS = f.TS
			b.Add(&f, pub)
		}
	}
	for round := range 50 {
		b := NewBatch()
		add(b, 1+r.IntN(100))
		b.Presort()
		add(b, r.IntN(3)) // none, or a few: maybe new keys
		fresh := &Batch{Members: b.Members, Channels: b.Channels, Distinct: b.Distinct}
		if !slices.Equal(b.SortedMembers(), fresh.SortedMembers()) || !slices.Equal(b.SortedChannels(), fresh.SortedChannels()) ||
			!slices.Equal(b.SortedDistinct(), fresh.SortedDistinct()) {
			t.Fatalf("round %d: presorted keys differ from sorting them again", round)
		}
	}
}
