package sqlite

import (
	"math/rand/v2"
	"testing"
)

// TestU64Set checks the set against a map through random adds and removes,
// in a small key space so that probe runs collide and wrap around.
func TestU64Set(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s u64set
	want := map[uint64]bool{}
	for i := range 200000 {
		k := 1 + r.Uint64N(3000)
		if r.IntN(3) == 0 {
			s.remove(k)
			delete(want, k)
		} else if got := s.add(k); got == want[k] {
			t.Fatalf("step %d: add(%d) = %v, but present = %v", i, k, got, want[k])
		} else {
			want[k] = true
		}
		if s.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", i, s.len(), len(want))
		}
		if i%1000 == 0 {
			for k := uint64(1); k <= 3000; k++ {
				if s.has(k) != want[k] {
					t.Fatalf("step %d: has(%d) = %v, want %v", i, k, s.has(k), want[k])
				}
			}
		}
	}
}

// TestU64SetReserve: a set reserved for n keys takes them without growing,
// and keeps the keys it held.
func TestU64SetReserve(t *testing.T) {
	var s u64set
	s.add(7)
	s.reserve(100000)
	slots := len(s.slots)
	for k := uint64(1); k <= 100000; k++ {
		s.add(k)
	}
	if len(s.slots) != slots || s.len() != 100000 || !s.has(7) || s.has(100001) {
		t.Fatalf("slots %d → %d, len %d", slots, len(s.slots), s.len())
	}
}
