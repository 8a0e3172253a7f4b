package analytics

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/backchannel/backchannel"
)

// DeltasOf, given what a store's merging upsert reports (the prior bits of
// the rows it changed), computes the same increments as Deltas given the
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
		was := map[ActKey]ActBits{} // what the upsert reports: the rows that gained a bit
		for _, row := range want.Bits {
			was[row.ActKey] = old[row.ActKey]
		}
		got := b.DeltasOf(was)
		want.Bits = nil
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: DeltasOf\n%+v\nDeltas\n%+v", round, got, want)
		}
	}
}
