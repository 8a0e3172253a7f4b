package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/backchannel/backchannel"
)

var _ backchannel.Limiter = (*Limiter)(nil)

// Limiter is a GCRA rate limiter whose buckets live in the database, so
// every process serving the same database shares one allowance per bucket.
// Same semantics as the Slack layer's in-memory limiter: a bucket stores its
// theoretical arrival time (TAT); a request at now conforms if
// TAT - now ≤ (Burst-1)·Interval, and then moves TAT to max(TAT, now) +
// Interval.
type Limiter struct {
	db    *DB
	calls atomic.Uint64
}

// Limiter returns the shared limiter of this database.
func (db *DB) Limiter() *Limiter { return &Limiter{db: db} }

// allow decides and records in one statement. The upsert's WHERE makes the
// update conditional on conformance, atomically under the row lock, so
// concurrent requests from any process never both take the last slot. A
// denied request changes nothing; the second subquery reads the TAT it lost
// to (from the statement's snapshot, so it may be missing if the bucket was
// created concurrently, which the caller treats as one interval).
const allow = `WITH up AS (
	INSERT INTO rate_limits AS r (principal, method, tat) VALUES ($1::text, $2::text, $3::bigint + $4::bigint)
	ON CONFLICT (principal, method) DO UPDATE SET tat = greatest(r.tat, $3::bigint) + $4::bigint
	WHERE greatest(r.tat, $3::bigint) - $3::bigint <= $5::bigint
	RETURNING tat)
SELECT EXISTS (SELECT 1 FROM up), (SELECT tat FROM rate_limits WHERE principal = $1 AND method = $2)`

// Allow records a request under key at now and reports 0 if it may proceed,
// or how long the caller should wait before retrying.
func (l *Limiter) Allow(ctx context.Context, key backchannel.LimitKey, lim backchannel.Limit, now time.Time) (time.Duration, error) {
	burst := max(lim.Burst, 1)
	interval := lim.Interval.Microseconds()
	tolerance := int64(burst-1) * interval
	nowUS := now.UnixMicro()
	var ok bool
	var tat *int64
	err := l.db.pool.QueryRow(ctx, allow, key.Principal, key.Method, nowUS, interval, tolerance).Scan(&ok, &tat)
	if err != nil {
		return 0, fmt.Errorf("postgres: rate limit: %w", err)
	}
	if l.calls.Add(1)%4096 == 0 {
		l.sweep(ctx, nowUS)
	}
	if ok {
		return 0, nil
	}
	wait := time.Duration(interval) * time.Microsecond
	if tat != nil {
		if w := time.Duration(max(*tat, nowUS)-nowUS-tolerance) * time.Microsecond; w > 0 {
			wait = w
		}
	}
	return wait, nil
}

// sweep forgets buckets whose TAT has passed: they are full again, so
// deleting them changes no decision and bounds the table.
func (l *Limiter) sweep(ctx context.Context, nowUS int64) {
	if _, err := l.db.pool.Exec(ctx, `DELETE FROM rate_limits WHERE tat <= $1`, nowUS); err != nil {
		l.db.log.Warn("postgres: rate limit sweep", "err", err)
	}
}
