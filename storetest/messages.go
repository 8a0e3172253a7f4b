package storetest

import (
	"strings"
	"testing"

	"github.com/backchannel/backchannel"
)

func testMessages(t *testing.T, s backchannel.Store) {
	apply(t, s, Channel("C1", backchannel.KindPublic), Channel("C2", backchannel.KindPublic))
	apply(t, s, Message("C1", "W1", TS(1), "one"), Message("C2", "W1", TS(2), "other"),
		Message("C1", "W2", TS(3), "three \"quoted\" / é"))
	msgs, next := history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "C1", msgs, []string{doc("W2", "three \"quoted\" / é", TS(3)), doc("W1", "one", TS(1))})
	if next != 0 {
		t.Errorf("Next = %v, want 0", next)
	}
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C3"})
	equal(t, "unknown channel", msgs, []string{})
}

func testLastWriteWins(t *testing.T, s backchannel.Store) {
	apply(t, s, Channel("C1", backchannel.KindPublic), Message("C1", "W1", TS(1), "first"))
	apply(t, s, Message("C1", "W1", TS(1), "second"))
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "history", msgs, []string{doc("W1", "second", TS(1))})
}

func testEdits(t *testing.T, s backchannel.Store) {
	apply(t, s, Channel("C1", backchannel.KindPublic), Message("C1", "W1", TS(1), "typo"))
	apply(t, s, Changed("C1", TS(1), "fixed", "W1", TS(5)))
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	want := `{"type":"message","user":"W1","text":"fixed","ts":"` + TS(1) + `","edited":{"user":"W1","ts":"` + TS(5) + `"}}`
	equal(t, "edited", msgs, []string{want})

	// Edit in the same batch as the message, and an edit of a message the
	// store does not hold (kept in the log only, no failure).
	apply(t, s, Message("C1", "W2", TS(2), "a"), Changed("C1", TS(2), "b", "W2", TS(6)), Changed("C1", TS(3), "c", "W2", TS(6)))
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "texts", texts(t, msgs), []string{"b", "fixed"})
}

func testDeletes(t *testing.T, s backchannel.Store) {
	apply(t, s, Channel("C1", backchannel.KindPublic), Message("C1", "W1", TS(1), "one"),
		Message("C1", "W1", TS(2), "two"), Message("C1", "W1", TS(3), "three"))
	apply(t, s, Deleted("C1", TS(2)))
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "after delete", texts(t, msgs), []string{"three", "one"})

	// A delete that arrives before its message keeps it hidden.
	apply(t, s, Deleted("C1", TS(4)))
	apply(t, s, Message("C1", "W1", TS(4), "four"))
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "delete before message", texts(t, msgs), []string{"three", "one"})
}

func testThreads(t *testing.T, s backchannel.Store) {
	apply(t, s, Channel("C1", backchannel.KindPublic),
		Message("C1", "W1", TS(1), "parent"),
		Reply("C1", "W2", TS(2), TS(1), "r1", false),
		Reply("C1", "W3", TS(3), TS(1), "r2", false),
		Message("C1", "W1", TS(4), "after"))
	apply(t, s, Reply("C1", "W2", TS(5), TS(1), "r3", false),
		Reply("C1", "W4", TS(6), TS(1), "also sent to channel", true))
	parent := `{"type":"message","user":"W1","text":"parent","ts":"` + TS(1) + `","thread_ts":"` + TS(1) +
		`","reply_count":4,"reply_users_count":3,"latest_reply":"` + TS(6) + `","reply_users":["W2","W3","W4"]}`
	broadcast := `{"type":"message","user":"W4","text":"also sent to channel","ts":"` + TS(6) +
		`","subtype":"thread_broadcast","thread_ts":"` + TS(1) + `"}`
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "history", msgs, []string{broadcast, doc("W1", "after", TS(4)), parent})

	// Deleting replies updates the parent: W3's only reply goes, and the
	// latest reply.
	apply(t, s, Deleted("C1", TS(3)), Deleted("C1", TS(6)))
	parent = `{"type":"message","user":"W1","text":"parent","ts":"` + TS(1) + `","thread_ts":"` + TS(1) +
		`","reply_count":2,"reply_users_count":1,"latest_reply":"` + TS(5) + `","reply_users":["W2"]}`
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "after deleting replies", msgs, []string{doc("W1", "after", TS(4)), parent})

	// A deleted parent is gone, replies and all.
	apply(t, s, Deleted("C1", TS(1)))
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "after deleting the parent", texts(t, msgs), []string{"after"})
}

func testReplyBeforeParent(t *testing.T, s backchannel.Store) {
	apply(t, s, Channel("C1", backchannel.KindPublic), Channel("C2", backchannel.KindPublic))
	// Separate batches: the replies are stored first.
	apply(t, s, Reply("C1", "W3", TS(3), TS(1), "b", false), Reply("C1", "W2", TS(2), TS(1), "a", false))
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "replies alone", msgs, []string{})
	apply(t, s, Message("C1", "W1", TS(1), "parent"))
	want := `{"type":"message","user":"W1","text":"parent","ts":"` + TS(1) + `","thread_ts":"` + TS(1) +
		`","reply_count":2,"reply_users_count":2,"latest_reply":"` + TS(3) + `","reply_users":["W2","W3"]}`
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "parent after replies", msgs, []string{want})

	// Same batch, and a parent whose Doc has no thread_ts.
	apply(t, s, Reply("C2", "W2", TS(2), TS(1), "a", false), Message("C2", "W1", TS(1), "parent"))
	want = `{"type":"message","user":"W1","text":"parent","ts":"` + TS(1) + `","thread_ts":"` + TS(1) +
		`","reply_count":1,"reply_users_count":1,"latest_reply":"` + TS(2) + `","reply_users":["W2"]}`
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C2"})
	equal(t, "same batch", msgs, []string{want})
}

func testReactions(t *testing.T, s backchannel.Store) {
	apply(t, s, Channel("C1", backchannel.KindPublic), Message("C1", "W1", TS(1), "hi"))
	apply(t, s,
		Reaction(true, "C1", TS(1), "W2", "thumbsup", TS(10)),
		Reaction(true, "C1", TS(1), "W3", "smile", TS(11)),
		Reaction(true, "C1", TS(1), "W1", "thumbsup", TS(12)),
		Reaction(true, "C1", TS(1), "W2", "thumbsup", TS(13))) // again: listed once
	base := `{"type":"message","user":"W1","text":"hi","ts":"` + TS(1) + `"`
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "reactions", msgs, []string{base +
		`,"reactions":[{"name":"thumbsup","users":["W2","W1"],"count":2},{"name":"smile","users":["W3"],"count":1}]}`})

	apply(t, s, Reaction(false, "C1", TS(1), "W2", "thumbsup", TS(14)), Reaction(false, "C1", TS(1), "W3", "smile", TS(15)))
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "after removals", msgs, []string{base + `,"reactions":[{"name":"thumbsup","users":["W1"],"count":1}]}`})

	apply(t, s, Reaction(false, "C1", TS(1), "W1", "thumbsup", TS(16)))
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "no reactions left", msgs, []string{base + `}`})

	// Adds and removals in one batch apply in order: W3 re-adds after its
	// removal, so it is listed after W2; W1's removal comes last.
	apply(t, s,
		Reaction(true, "C1", TS(1), "W3", "wave", TS(20)),
		Reaction(true, "C1", TS(1), "W1", "wave", TS(21)),
		Reaction(true, "C1", TS(1), "W2", "wave", TS(22)),
		Reaction(false, "C1", TS(1), "W3", "wave", TS(23)),
		Reaction(true, "C1", TS(1), "W3", "wave", TS(24)),
		Reaction(true, "C1", TS(1), "W2", "wave", TS(25)), // again: nothing
		Reaction(false, "C1", TS(1), "W1", "wave", TS(26)))
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "one batch of adds and removals", msgs, []string{base + `,"reactions":[{"name":"wave","users":["W2","W3"],"count":2}]}`})
	apply(t, s, Reaction(false, "C1", TS(1), "W2", "wave", TS(27)), Reaction(false, "C1", TS(1), "W3", "wave", TS(28)))

	// A reaction to a message that arrives later.
	apply(t, s, Reaction(true, "C1", TS(2), "W1", "eyes", TS(17)))
	apply(t, s, Message("C1", "W2", TS(2), "late"))
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C1", Lo: mustTS(TS(2))})
	equal(t, "reaction before message", msgs, []string{`{"type":"message","user":"W2","text":"late","ts":"` + TS(2) +
		`","reactions":[{"name":"eyes","users":["W1"],"count":1}]}`})
}

func testPins(t *testing.T, s backchannel.Store) {
	ctx := t.Context()
	apply(t, s, Channel("C1", backchannel.KindPublic), Message("C1", "W1", TS(1), "hi"),
		Changed("C1", TS(1), "hi!", "W1", TS(2)))
	apply(t, s, Pin(true, "C1", TS(1), "W2", TS(3)), Pin(true, "C1", TS(1), "W3", TS(4)), Pin(true, "C1", TS(9), "W2", TS(5)))
	pinCount := func() int {
		t.Helper()
		c, err := s.Channel(ctx, "C1")
		if err != nil {
			t.Fatalf("Channel: %v", err)
		}
		return c.PinCount
	}
	if got, want := pinCount(), 2; got != want {
		t.Errorf("pin_count: got %d, want %d", got, want)
	}
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "pinned", msgs, []string{`{"type":"message","user":"W1","text":"hi!","ts":"` + TS(1) +
		`","edited":{"user":"W1","ts":"` + TS(2) + `"},"pinned_to":["C1"]}`})

	apply(t, s, Pin(false, "C1", TS(1), "W2", TS(6)), Pin(false, "C1", TS(1), "W2", TS(7)))
	if got, want := pinCount(), 1; got != want {
		t.Errorf("pin_count after unpin: got %d, want %d", got, want)
	}
	msgs, _ = history(t, s, backchannel.HistoryQuery{Channel: "C1"})
	equal(t, "unpinned", texts(t, msgs), []string{"hi!"})
	if len(msgs) == 1 && len(msgs[0]) != len(`{"type":"message","user":"W1","text":"hi!","ts":"`+TS(1)+`","edited":{"user":"W1","ts":"`+TS(2)+`"}}`) {
		t.Errorf("unpinned message still decorated: %s", msgs[0])
	}
}

func testStars(t *testing.T, s backchannel.Store) {
	apply(t, s, Channel("C1", backchannel.KindPublic), Message("C1", "W1", TS(1), "one"), Message("C1", "W1", TS(2), "two"))
	apply(t, s, Star(true, "C1", TS(1), "W2", TS(3)))
	starred := `{"type":"message","user":"W1","text":"one","ts":"` + TS(1) + `","is_starred":true}`
	for _, tt := range []struct {
		caller string
		want   []string
	}{
		{"W2", []string{doc("W1", "two", TS(2)), starred}},
		{"W3", []string{doc("W1", "two", TS(2)), doc("W1", "one", TS(1))}},
		{"", []string{doc("W1", "two", TS(2)), doc("W1", "one", TS(1))}},
		{"W2", []string{doc("W1", "two", TS(2)), starred}}, // cached page, same answer
	} {
		msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1", Caller: tt.caller})
		equal(t, "caller "+tt.caller, msgs, tt.want)
	}
	apply(t, s, Star(false, "C1", TS(1), "W2", TS(4)))
	msgs, _ := history(t, s, backchannel.HistoryQuery{Channel: "C1", Caller: "W2"})
	equal(t, "after unstar", msgs, []string{doc("W1", "two", TS(2)), doc("W1", "one", TS(1))})
}

// testDecorationsAcrossChannels: a batch that touches stored messages of
// several channels (a stream of activity meets thousands of channels a
// batch) reads their rows, reactions, pins and replies together; each must
// come out as if its channel's events had been applied alone. C3's are, and
// are the reference.
func testDecorationsAcrossChannels(t *testing.T, s backchannel.Store) {
	chans := []string{"C1", "C2", "C3"}
	var first []backchannel.Event
	for _, ch := range chans {
		first = append(first, Channel(ch, backchannel.KindPublic),
			Message(ch, "W1", TS(1), "parent"), Reply(ch, "W2", TS(2), TS(1), "r1", false),
			Message(ch, "W1", TS(3), "plain"),
			Reaction(true, ch, TS(1), "W2", "thumbsup", TS(10)), Reaction(true, ch, TS(3), "W3", "eyes", TS(11)),
			Pin(true, ch, TS(1), "W2", TS(12)))
	}
	apply(t, s, first...)
	second := func(ch string) []backchannel.Event {
		return []backchannel.Event{Reaction(true, ch, TS(1), "W3", "smile", TS(20)), Reply(ch, "W3", TS(4), TS(1), "r2", false),
			Changed(ch, TS(3), "plain!", "W1", TS(21)), Reaction(true, ch, TS(3), "W1", "eyes", TS(22))}
	}
	apply(t, s, append(second("C1"), second("C2")...)...)
	apply(t, s, second("C3")...)

	want, _ := history(t, s, backchannel.HistoryQuery{Channel: "C3"})
	for _, part := range []string{`"reply_count":2`, `"reply_users":["W2","W3"]`, `"pinned_to":["C3"]`,
		`{"name":"thumbsup","users":["W2"],"count":1},{"name":"smile","users":["W3"],"count":1}`,
		`"text":"plain!"`, `{"name":"eyes","users":["W3","W1"],"count":2}`} {
		if !strings.Contains(strings.Join(want, "\n"), part) {
			t.Fatalf("C3's history %q lacks %s", want, part)
		}
	}
	for _, ch := range chans[:2] {
		got, _ := history(t, s, backchannel.HistoryQuery{Channel: ch})
		for i := range got {
			got[i] = strings.ReplaceAll(got[i], `"`+ch+`"`, `"C3"`)
		}
		equal(t, ch+" against C3", got, want)
	}
}
