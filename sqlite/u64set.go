package sqlite

// u64set is a set of non-zero uint64 keys: open addressing with linear
// probing, one slice without pointers (nothing for the garbage collector to
// scan), about 11 to 21 bytes a key. The distinct users of a day are
// millions of keys (distinct.go).
type u64set struct {
	slots []uint64 // 0: empty; len is a power of two
	n     int
}

const u64setMinSlots = 64

func (s *u64set) len() int { return s.n }

// slot is where k's probe starts.
func (s *u64set) slot(k uint64) int {
	return int((k * 0x9e3779b97f4a7c15) >> 32 & uint64(len(s.slots)-1))
}

func (s *u64set) has(k uint64) bool {
	if s.n == 0 {
		return false
	}
	mask := len(s.slots) - 1
	for i := s.slot(k); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return true
		case 0:
			return false
		}
	}
}

// add adds k (non-zero) and reports whether it was new.
func (s *u64set) add(k uint64) bool {
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	mask := len(s.slots) - 1
	for i := s.slot(k); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return false
		case 0:
			s.slots[i] = k
			s.n++
			return true
		}
	}
}

func (s *u64set) grow() { s.resize(max(u64setMinSlots, 2*len(s.slots))) }

// reserve makes room for n keys in all without growing.
func (s *u64set) reserve(n int) {
	slots := max(u64setMinSlots, len(s.slots))
	for n*4 > slots*3 {
		slots *= 2
	}
	if slots > len(s.slots) {
		s.resize(slots)
	}
}

func (s *u64set) resize(slots int) {
	old := s.slots
	s.slots = make([]uint64, slots)
	s.n = 0
	for _, k := range old {
		if k != 0 {
			s.add(k)
		}
	}
}

// remove removes k, shifting back the keys of its probe run that follow it
// so that no probe meets a hole before its key.
func (s *u64set) remove(k uint64) {
	if s.n == 0 {
		return
	}
	mask := len(s.slots) - 1
	i := s.slot(k)
	for ; s.slots[i] != k; i = (i + 1) & mask {
		if s.slots[i] == 0 {
			return
		}
	}
	s.slots[i] = 0
	s.n--
	for j := (i + 1) & mask; s.slots[j] != 0; j = (j + 1) & mask {
		h := s.slot(s.slots[j])
		// The key at j may move to the hole at i unless its probe starts
		// in (i, j] (cyclically).
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			s.slots[i], s.slots[j] = s.slots[j], 0
			i = j
		}
	}
}
