package slackapi

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/backchannel/backchannel"
)

// RateLimit is the server-wide rate-limit mode: Slack's tiers, the tiers
// scaled by a multiplier, or off. The zero value is Slack's tiers.
type RateLimit struct {
	off  bool
	mult float64 // 0 means 1
}

// Rate-limit modes for Config.RateLimit.
var (
	RateLimitSlack = RateLimit{}
	RateLimitOff   = RateLimit{off: true}
)

// RateLimitTimes scales Slack's tiers by x (x10 allows ten times as many
// requests, x0.5 half as many).
func RateLimitTimes(x float64) RateLimit { return RateLimit{mult: x} }

// ParseRateLimit parses the --rate-limit flag: "slack", "off" or "xN" with N
// a positive number ("x10", "x0.5").
func ParseRateLimit(s string) (RateLimit, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "slack", "":
		return RateLimitSlack, nil
	case "off":
		return RateLimitOff, nil
	}
	num, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(s)), "x")
	if !ok {
		return RateLimit{}, fmt.Errorf("rate limit %q: want slack, off or xN (e.g. x10, x0.5)", s)
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil || x <= 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return RateLimit{}, fmt.Errorf("rate limit %q: multiplier must be a positive number", s)
	}
	return RateLimitTimes(x), nil
}

// String returns the flag form of r.
func (r RateLimit) String() string {
	switch {
	case r.off:
		return "off"
	case r.mult == 0 || r.mult == 1:
		return "slack"
	}
	return "x" + strconv.FormatFloat(r.mult, 'g', -1, 64)
}

// Set implements flag.Value.
func (r *RateLimit) Set(s string) error {
	v, err := ParseRateLimit(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Off reports whether rate limiting is disabled.
func (r RateLimit) Off() bool { return r.off }

// limitFor turns a tier's per-minute allowance into a Limit under r.
func (r RateLimit) limitFor(perMinute int) Limit {
	m := r.mult
	if m == 0 {
		m = 1
	}
	rate := float64(perMinute) * m // requests per minute
	burst := int(math.Floor(rate))
	if burst < 1 {
		burst = 1
	}
	return Limit{Burst: burst, Interval: time.Duration(float64(time.Minute) / rate)}
}

// Limit, LimitKey and Limiter live in the root package so that a store
// (PostgreSQL) can provide a Limiter shared by several processes without
// importing this package.
type (
	Limit    = backchannel.Limit
	LimitKey = backchannel.LimitKey
	Limiter  = backchannel.Limiter
)

// NewMemoryLimiter returns the in-process Limiter.
func NewMemoryLimiter() Limiter {
	m := &memLimiter{}
	for i := range m.shards {
		m.shards[i].tat = make(map[LimitKey]time.Time)
	}
	return m
}

const limiterShards = 16

// memLimiter implements GCRA: each bucket stores only its theoretical
// arrival time (TAT), so memory is one time per active bucket.
type memLimiter struct {
	shards [limiterShards]struct {
		mu    sync.Mutex
		tat   map[LimitKey]time.Time
		calls int
	}
}

func (m *memLimiter) Allow(_ context.Context, key LimitKey, l Limit, now time.Time) (time.Duration, error) {
	s := &m.shards[shardOf(key.Principal)]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls%4096 == 0 {
		// Buckets whose TAT has passed are full again: forgetting them
		// changes nothing and bounds memory.
		for k, t := range s.tat {
			if !t.After(now) {
				delete(s.tat, k)
			}
		}
	}
	tat, wait := gcra(s.tat[key], l, now)
	if wait > 0 {
		return wait, nil
	}
	s.tat[key] = tat
	return 0, nil
}

// gcra returns the bucket's new TAT if a request at now conforms, or how
// long until one would.
func gcra(tat time.Time, l Limit, now time.Time) (time.Time, time.Duration) {
	if tat.Before(now) {
		tat = now
	}
	tolerance := time.Duration(l.Burst-1) * l.Interval
	if wait := tat.Sub(now) - tolerance; wait > 0 {
		return tat, wait
	}
	return tat.Add(l.Interval), 0
}

func shardOf(s string) int {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return int(h % limiterShards)
}

// retryAfterSeconds renders a wait as Slack does: whole seconds, at least 1,
// because every SDK parses Retry-After as an integer.
func retryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
