package storetest

import (
	"context"
	"testing"

	"github.com/backchannel/backchannel"
)

// PageTexts returns one page of q from s, each message as its JSON text.
func PageTexts(ctx context.Context, t testing.TB, s backchannel.Store, q backchannel.HistoryQuery) []string {
	t.Helper()
	p, err := s.History(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range p.Messages {
		out = append(out, string(m))
	}
	return out
}
