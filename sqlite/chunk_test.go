package sqlite_test

import (
	"testing"

	"github.com/backchannel/backchannel"
)

// TestApplyChunks applies batches whose runs of new events (split by
// in-batch duplicates) cross every statement size, then replays them: every
// replayed event must be found through the log (a seq given the wrong
// event's key would make a replay look new).
func TestApplyChunks(t *testing.T) {
	db := openTest(t)
	defer db.Close()
	benchChannels(t, db, 1)
	for _, n := range []int{1, 399, 400, 401, 1037, 2000} {
		msgs := benchMessages("C0", n*10_000, n)
		var batch []backchannel.Event
		dups := 0
		for i, ev := range msgs {
			batch = append(batch, ev)
			if i%97 == 13 { // a repeat inside the batch: a gap in the seqs
				batch = append(batch, ev)
				dups++
			}
		}
		res, err := db.Apply(t.Context(), batch)
		if err != nil {
			t.Fatalf("n=%d: Apply: %v", n, err)
		}
		if got, want := res, (backchannel.ApplyResult{Accepted: n, Duplicates: dups}); got != want {
			t.Fatalf("n=%d: got %+v, want %+v", n, got, want)
		}
		res, err = db.Apply(t.Context(), batch)
		if err != nil {
			t.Fatalf("n=%d: replay: %v", n, err)
		}
		if got, want := res, (backchannel.ApplyResult{Duplicates: len(batch)}); got != want {
			t.Fatalf("n=%d: replay: got %+v, want %+v", n, got, want)
		}
	}
}
