package storetest

import (
	"fmt"
	"testing"

	"github.com/backchannel/backchannel"
)

// seed stores n messages in C1 with ts sts(1)..sts(n) and text "m<i>".
func seed(t *testing.T, s backchannel.Store, n int) {
	t.Helper()
	apply(t, s, Channel("C1", backchannel.KindPublic))
	for lo := 1; lo <= n; lo += 1000 {
		var evs []backchannel.Event
		for i := lo; i <= n && i < lo+1000; i++ {
			evs = append(evs, Message("C1", "W1", sts(i), fmt.Sprintf("m%d", i)))
		}
		apply(t, s, evs...)
	}
}

// sts is the ts of seeded message i; seeded messages are 10µs apart, so
// others fit between them.
func sts(i int) string { return TS(i * 10) }

func names(ns ...int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprintf("m%d", n)
	}
	return out
}

func testHistoryBounds(t *testing.T, s backchannel.Store) {
	seed(t, s, 10)
	// A reply (not visible) and a deleted message inside the range must not
	// count toward Limit or Next.
	apply(t, s, Reply("C1", "W2", TS(65), sts(5), "reply", false), Deleted("C1", sts(7)))
	for _, tt := range []struct {
		name     string
		lo, hi   int
		limit    int
		want     []string
		wantNext int
	}{
		{"all", 0, 0, 100, names(10, 9, 8, 6, 5, 4, 3, 2, 1), 0},
		{"inclusive bounds", 3, 6, 100, names(6, 5, 4, 3), 0},
		{"limit", 0, 0, 3, names(10, 9, 8), 6},
		{"limit skips hidden", 0, 8, 2, names(8, 6), 5},
		{"limit with bounds", 2, 9, 4, names(9, 8, 6, 5), 4},
		{"exact limit", 1, 3, 3, names(3, 2, 1), 0},
		{"single message", 4, 4, 1, names(4), 0},
		{"empty range", 11, 20, 10, []string{}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := backchannel.HistoryQuery{Channel: "C1", Limit: tt.limit}
			if tt.lo > 0 {
				q.Lo = mustTS(sts(tt.lo))
			}
			if tt.hi > 0 {
				q.Hi = mustTS(sts(tt.hi))
			}
			msgs, next := history(t, s, q)
			equal(t, "texts", texts(t, msgs), tt.want)
			var wantNext backchannel.TS
			if tt.wantNext > 0 {
				wantNext = mustTS(sts(tt.wantNext))
			}
			if next != wantNext {
				t.Errorf("Next: got %v, want %v", next, wantNext)
			}
		})
	}
}

func testHistoryAscending(t *testing.T, s backchannel.Store) {
	seed(t, s, 10)
	for _, tt := range []struct {
		name     string
		lo, hi   int
		limit    int
		want     []string
		wantNext int
	}{
		{"oldest three", 0, 0, 3, names(3, 2, 1), 4},
		{"from lo", 5, 0, 2, names(6, 5), 7},
		{"to the end", 8, 0, 5, names(10, 9, 8), 0},
		{"bounded", 2, 4, 5, names(4, 3, 2), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := backchannel.HistoryQuery{Channel: "C1", Limit: tt.limit, Ascending: true}
			if tt.lo > 0 {
				q.Lo = mustTS(sts(tt.lo))
			}
			if tt.hi > 0 {
				q.Hi = mustTS(sts(tt.hi))
			}
			msgs, next := history(t, s, q)
			equal(t, "texts", texts(t, msgs), tt.want)
			var wantNext backchannel.TS
			if tt.wantNext > 0 {
				wantNext = mustTS(sts(tt.wantNext))
			}
			if next != wantNext {
				t.Errorf("Next: got %v, want %v", next, wantNext)
			}
		})
	}
}

// walk pages through C1 the way the Slack layer does with cursors (each
// page's Hi is the previous page's Next), calling between after each page.
func walk(t *testing.T, s backchannel.Store, hi backchannel.TS, limit int, between func()) []string {
	t.Helper()
	var all []string
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("walk does not end")
		}
		msgs, next := history(t, s, backchannel.HistoryQuery{Channel: "C1", Hi: hi, Limit: limit})
		all = append(all, texts(t, msgs)...)
		if next == 0 {
			return all
		}
		hi = next
		between()
	}
}

func testHistoryWalk(t *testing.T, s backchannel.Store) {
	const n = 3000
	seed(t, s, n)
	var want []string
	for i := n; i >= 1; i-- {
		want = append(want, fmt.Sprintf("m%d", i))
	}
	for _, limit := range []int{1, 7, 100, 999} {
		if limit == 1 && testing.Short() {
			continue
		}
		got := walk(t, s, backchannel.MaxTS, limit, func() {})
		equal(t, fmt.Sprintf("walk with limit %d", limit), got, want)
	}
}

func testHistoryWalkWhileWriting(t *testing.T, s backchannel.Store) {
	const n = 1000
	seed(t, s, n)
	start := mustTS(sts(n))
	var want []string
	for i := n; i >= 1; i-- {
		want = append(want, fmt.Sprintf("m%d", i))
	}
	next := n + 1
	got := walk(t, s, start, 100, func() {
		// New messages arrive (newer than the walk's start) while paging.
		var evs []backchannel.Event
		for j := 0; j < 10; j++ {
			evs = append(evs, Message("C1", "W2", sts(next), fmt.Sprintf("new%d", next)))
			next++
		}
		apply(t, s, evs...)
	})
	equal(t, "walk", got, want)
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1", Limit: 1})
	equal(t, "newest", texts(t, msgs), []string{fmt.Sprintf("new%d", next-1)})
}

// testReadYourWrites checks that whatever a store caches, a read after an
// acknowledged write sees it, including with a moving upper bound.
func testReadYourWrites(t *testing.T, s backchannel.Store) {
	apply(t, s, Channel("C1", backchannel.KindPublic))
	for i := 1; i <= 50; i++ {
		for _, hi := range []backchannel.TS{backchannel.MaxTS, mustTS(TS(1000)), mustTS(TS(1000)) + backchannel.TS(i)} {
			msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1", Hi: hi, Limit: 1})
			if i > 1 {
				equal(t, fmt.Sprintf("hi %v after %d", hi, i-1), texts(t, msgs), names(i-1))
			}
		}
		apply(t, s, Message("C1", "W1", TS(i), fmt.Sprintf("m%d", i)))
	}
	apply(t, s, Message("C1", "W1", TS(2000), "future"))
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1", Hi: mustTS(TS(1000)), Limit: 1})
	equal(t, "below a newer message", texts(t, msgs), names(50))
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C1", Limit: 1})
	equal(t, "open upper bound", texts(t, msgs), []string{"future"})
}
