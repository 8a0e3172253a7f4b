// Package storetest is the conformance suite every backchannel.Store must
// pass: the SQLite store runs it against a temp file per test, the
// PostgreSQL store against a fresh schema per test.
package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/backchannel/backchannel"
)

// Run runs the suite. open must return a fresh, migrated, empty store; Run
// closes it.
func Run(t *testing.T, open func(t *testing.T) backchannel.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, backchannel.Store)
	}{
		{"Empty", testEmpty},
		{"Directory", testDirectory},
		{"Membership", testMembership},
		{"UnknownChannel", testUnknownChannel},
		{"AtomicBatch", testAtomicBatch},
		{"IdempotentReplay", testIdempotentReplay},
		{"ReplacedLines", testReplacedLines},
		{"DedupeProperty", testDedupeProperty},
		{"Messages", testMessages},
		{"LastWriteWins", testLastWriteWins},
		{"Edits", testEdits},
		{"Deletes", testDeletes},
		{"Threads", testThreads},
		{"ReplyBeforeParent", testReplyBeforeParent},
		{"Reactions", testReactions},
		{"Pins", testPins},
		{"Stars", testStars},
		{"DecorationsAcrossChannels", testDecorationsAcrossChannels},
		{"HistoryBounds", testHistoryBounds},
		{"HistoryAscending", testHistoryAscending},
		{"HistoryWalk", testHistoryWalk},
		{"HistoryWalkWhileWriting", testHistoryWalkWhileWriting},
		{"ReadYourWrites", testReadYourWrites},
		{"Tokens", testTokens},
		{"AnalyticsFiles", testAnalyticsFiles},
		{"AnalyticsRebuild", testAnalyticsRebuild},
		{"ReplacedMessageCountsOnce", testReplacedMessageCountsOnce},
		{"AnalyticsMemberCounts", testAnalyticsMemberCounts},
		{"ActivityProperty", testActivityProperty},
		{"ActivityBounds", testActivityBounds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *backchannel.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want *backchannel.Error with code %q", err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %q, want %q", e.Code, code)
	}
}

func wantEventError(t *testing.T, err error, line int, field string) {
	t.Helper()
	var e *backchannel.EventError
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want *backchannel.EventError", err)
	}
	if e.Line != line || e.Field != field {
		t.Fatalf("got EventError line %d field %q, want line %d field %q (%v)", e.Line, e.Field, line, field, err)
	}
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func testEmpty(t *testing.T, s backchannel.Store) {
	ctx := t.Context()
	empty, err := s.Empty(ctx)
	if err != nil || !empty {
		t.Fatalf("new store: Empty = %v, %v; want true", empty, err)
	}
	apply(t, s, Channel("C1", backchannel.KindPublic))
	empty, err = s.Empty(ctx)
	if err != nil || empty {
		t.Fatalf("after an event: Empty = %v, %v; want false", empty, err)
	}
}
