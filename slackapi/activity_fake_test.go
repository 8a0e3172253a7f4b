package slackapi

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/backchannel/backchannel"
)

// activityFake is a Store that also implements MessageActivityStore through
// a function field; newActivityFake's default implements the contract over
// an in-memory list and records every query.
type activityFake struct {
	*fakeStore
	MessageActivityFn func(ctx context.Context, q backchannel.MessageActivityQuery) (backchannel.MessageActivityPage, error)

	mu      sync.Mutex
	queries []backchannel.MessageActivityQuery
}

var _ backchannel.MessageActivityStore = (*activityFake)(nil)

func (f *activityFake) MessageActivity(ctx context.Context, q backchannel.MessageActivityQuery) (backchannel.MessageActivityPage, error) {
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	return f.MessageActivityFn(ctx, q)
}

func (f *activityFake) lastQuery() backchannel.MessageActivityQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) == 0 {
		return backchannel.MessageActivityQuery{}
	}
	return f.queries[len(f.queries)-1]
}

// newActivityFake serves acts (any order, any channel) by the contract:
// the channel's messages with Oldest ≤ ts ≤ Latest, newest first, Limit of
// them, Next the ts of the first one left out.
func newActivityFake(fs *fakeStore, acts []backchannel.MessageActivity) *activityFake {
	f := &activityFake{fakeStore: fs}
	f.MessageActivityFn = func(_ context.Context, q backchannel.MessageActivityQuery) (backchannel.MessageActivityPage, error) {
		var in []backchannel.MessageActivity
		for _, a := range acts {
			if a.ChannelID == q.Channel && a.TS >= q.Oldest && a.TS <= q.Latest {
				in = append(in, a)
			}
		}
		slices.SortFunc(in, func(x, y backchannel.MessageActivity) int { return cmp.Compare(y.TS, x.TS) })
		var p backchannel.MessageActivityPage
		p.Activities = in[:min(q.Limit, len(in))]
		if len(in) > q.Limit {
			p.Next = in[q.Limit].TS
		}
		return p, nil
	}
	return f
}
