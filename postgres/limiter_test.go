package postgres_test

import (
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/postgres"
	"github.com/backchannel/backchannel/postgrestest"
)

// Two processes (two DBs over one schema) share one allowance per bucket.
func TestLimiterShared(t *testing.T) {
	ctx := t.Context()
	u := postgrestest.URL(t)
	open := func() *postgres.DB {
		db, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return db
	}
	a, b := open().Limiter(), open().Limiter()
	key := backchannel.LimitKey{Principal: "p1", Method: "conversations.history"}
	lim := backchannel.Limit{Burst: 3, Interval: time.Second}
	now := time.Unix(1_700_000_000, 0)
	allow := func(l *postgres.Limiter, at time.Time) time.Duration {
		t.Helper()
		d, err := l.Allow(ctx, key, lim, at)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// Burst of 3 across both instances, then a wait of one interval.
	for i, l := range []*postgres.Limiter{a, b, a} {
		if d := allow(l, now); d != 0 {
			t.Fatalf("request %d: wait %v, want 0", i+1, d)
		}
	}
	if d := allow(b, now); d != time.Second {
		t.Fatalf("4th request: wait %v, want 1s", d)
	}
	if d := allow(a, now.Add(500*time.Millisecond)); d != 500*time.Millisecond {
		t.Fatalf("after 500ms: wait %v, want 500ms", d)
	}
	if d := allow(a, now.Add(time.Second)); d != 0 {
		t.Fatalf("after 1s: wait %v, want 0", d)
	}
	// Another bucket is independent.
	if d, err := b.Allow(ctx, backchannel.LimitKey{Principal: "p2", Method: "conversations.history"}, lim, now); err != nil || d != 0 {
		t.Fatalf("other bucket: %v, %v", d, err)
	}

	// Concurrent requests from both instances never exceed the burst.
	key = backchannel.LimitKey{Principal: "p3", Method: "m"}
	lim = backchannel.Limit{Burst: 10, Interval: time.Hour}
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := []*postgres.Limiter{a, b}[i%2]
			d, err := l.Allow(ctx, key, lim, now)
			if err != nil {
				t.Error(err)
				return
			}
			if d == 0 {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 10 {
		t.Errorf("concurrent: %d allowed, want 10", allowed)
	}
}
