package backchannel

import (
	"context"
	"time"
)

// Limit is a GCRA rate limit: Burst requests at once, then one more every
// Interval. A steady caller gets 60s/Interval requests a minute, which is
// what Slack's tiers promise; an idle one may spend a whole minute's worth at
// once, which is how SDK paginators behave.
type Limit struct {
	Burst    int
	Interval time.Duration
}

// LimitKey names one bucket: Slack limits "per method, per workspace, per
// app"; backchannel has no apps, so a bucket is per token and method.
type LimitKey struct {
	Principal string // the token's hash; the client address when there is no token
	Method    string
}

// Limiter decides whether a request may proceed. The Slack layer has an
// in-memory one for a single process; a store shared by several processes
// (PostgreSQL) provides one whose buckets all of them share.
type Limiter interface {
	// Allow records a request under key at now and reports 0 if it may
	// proceed, or how long the caller should wait before retrying.
	Allow(ctx context.Context, key LimitKey, l Limit, now time.Time) (retryAfter time.Duration, err error)
}
