package storetest

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
)

// withID gives e an event_id: its key is then the id's, whatever its line.
func withID(e backchannel.Event, id string) backchannel.Event {
	e.ID = id
	e.Key = sha256.Sum256([]byte("id:" + id))
	return e
}

// testReplacedLines: a line replaced by another line for the same message
// (last write wins) is still a duplicate when sent again — A, B, A stores
// B — in one batch or across batches, with or without event_id.
func testReplacedLines(t *testing.T, s backchannel.Store) {
	apply(t, s, Channel("C1", backchannel.KindPublic))
	a, b := Message("C1", "W1", TS(1), "a"), Message("C1", "W1", TS(1), "b")
	steps := []struct {
		evs       []backchannel.Event
		acc, dups int
		want      string
	}{
		{[]backchannel.Event{a}, 1, 0, "a"},
		{[]backchannel.Event{a}, 0, 1, "a"},
		{[]backchannel.Event{b}, 1, 0, "b"},
		{[]backchannel.Event{a}, 0, 1, "b"},
		{[]backchannel.Event{b, a}, 0, 2, "b"},
		{[]backchannel.Event{Message("C1", "W1", TS(1), "c"), a, b}, 1, 2, "c"},
		{[]backchannel.Event{withID(a, "Ev1")}, 1, 0, "a"},
		{[]backchannel.Event{Message("C1", "W1", TS(1), "c"), withID(b, "Ev1")}, 0, 2, "a"},
		// A message not stored before, replaced within its first batch.
		{[]backchannel.Event{Message("C1", "W1", TS(2), "x"), Message("C1", "W1", TS(2), "y")}, 2, 0, "a"},
		{[]backchannel.Event{Message("C1", "W1", TS(2), "x")}, 0, 1, "a"},
	}
	for i, st := range steps {
		res := apply(t, s, st.evs...)
		if res.Accepted != st.acc || res.Duplicates != st.dups {
			t.Errorf("step %d: got %+v, want %d accepted, %d duplicates", i, res, st.acc, st.dups)
		}
		msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1", Hi: mustTS(TS(1))})
		equal(t, fmt.Sprintf("step %d", i), msgs, []string{doc("W1", st.want, TS(1))})
	}
}

// testDedupeProperty replays random batches of messages over a few
// timestamps — new lines, lines sent again, lines replaced and sent again,
// some with event_id — against an oracle: an event is a duplicate exactly
// when its key was accepted before, and each timestamp shows the last
// message accepted for it.
func testDedupeProperty(t *testing.T, s backchannel.Store) {
	for seed := range uint64(6) {
		dedupeRun(t, s, seed, fmt.Sprintf("C%d", seed))
	}
}

func dedupeRun(t *testing.T, s backchannel.Store, seed uint64, ch string) {
	apply(t, s, Channel(ch, backchannel.KindPublic))
	r := rand.New(rand.NewPCG(seed, 11))
	seen := map[[32]byte]bool{}
	last := map[backchannel.TS]string{}
	const stamps = 24 // few enough to replace, many enough to stay new for a while
	for n := range 80 {
		var evs []backchannel.Event
		for range 1 + r.IntN(10) {
			e := Message(ch, "W1", TS(1+r.IntN(stamps)), fmt.Sprintf("v%d", r.IntN(3)))
			if r.IntN(4) == 0 {
				e = withID(e, fmt.Sprintf("Ev%d-%d", seed, r.IntN(6)))
			}
			evs = append(evs, e)
		}
		var want backchannel.ApplyResult
		for _, e := range evs {
			if seen[e.Key] {
				want.Duplicates++
				continue
			}
			seen[e.Key] = true
			want.Accepted++
			last[e.TS] = string(e.Doc)
		}
		if got := apply(t, s, evs...); got != want {
			t.Fatalf("seed %d, batch %d: got %+v, want %+v", seed, n, got, want)
		}
	}
	var want []string
	for ts := stamps; ts >= 1; ts-- {
		if d, ok := last[mustTS(TS(ts))]; ok {
			want = append(want, d)
		}
	}
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: ch})
	if !slices.Equal(msgs, want) {
		t.Errorf("seed %d: history:\n got %q\nwant %q", seed, msgs, want)
	}
}
