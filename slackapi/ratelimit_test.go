package slackapi

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"slack", "slack", false}, {"SLACK", "slack", false}, {"", "slack", false},
		{"off", "off", false}, {"x10", "x10", false}, {"x0.5", "x0.5", false}, {"X2", "x2", false}, {"x1", "slack", false},
		{"x0", "", true}, {"x-1", "", true}, {"x", "", true}, {"10", "", true}, {"xinf", "", true}, {"xNaN", "", true}, {"fast", "", true},
	}
	for _, tt := range tests {
		got, err := ParseRateLimit(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseRateLimit(%q) error = %v", tt.in, err)
			continue
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("ParseRateLimit(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// burst sends requests until the first 429 and returns how many passed.
func burst(t *testing.T, api http.Handler, c call, max int) (passed int, limited reply) {
	t.Helper()
	for i := 0; i < max; i++ {
		r := do(t, api, c)
		if r.status == http.StatusTooManyRequests {
			return i, r
		}
	}
	return max, reply{}
}

func TestRateLimit(t *testing.T) {
	hist := call{method: "conversations.history", query: "channel=C1", token: tokUser}
	auth := call{method: "auth.test", token: tokUser}
	tests := []struct {
		name  string
		rl    RateLimit
		c     call
		burst int    // requests allowed at once
		retry string // Retry-After of the first 429
		after time.Duration
	}{
		{"tier 3", RateLimitSlack, hist, 50, "2", 1200 * time.Millisecond}, // one more every 1.2 s
		{"tier 4", RateLimitSlack, auth, 100, "1", 600 * time.Millisecond},
		{"x2", RateLimitTimes(2), hist, 100, "1", 600 * time.Millisecond},
		{"x0.5", RateLimitTimes(0.5), hist, 25, "3", 2400 * time.Millisecond},
		{"x0.01 floors at one", RateLimitTimes(0.01), hist, 1, "120", 120 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			api, clk := testAPI(t, w, tt.rl)
			passed, r := burst(t, api, tt.c, 1000)
			if passed != tt.burst {
				t.Fatalf("burst = %d, want %d", passed, tt.burst)
			}
			if got, want := r.body, `{"ok":false,"error":"ratelimited"}`; got != want {
				t.Errorf("body = %s, want %s", got, want)
			}
			if got := r.header.Get("Retry-After"); got != tt.retry {
				t.Errorf("Retry-After = %q, want %q", got, tt.retry)
			}
			if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
			// Other methods and other tokens have their own buckets.
			if got := do(t, api, call{method: "api.test"}); got.status != http.StatusOK {
				t.Errorf("api.test limited too")
			}
			other := tt.c
			other.token = tokBot
			if got := do(t, api, other); got.status != http.StatusOK {
				t.Errorf("another token limited too")
			}
			// Recovery: one interval later exactly one more request passes.
			clk.Advance(tt.after)
			if got := do(t, api, tt.c); got.status != http.StatusOK {
				t.Fatalf("after %v: %d %s", tt.after, got.status, got.body)
			}
			if got := do(t, api, tt.c); got.status != http.StatusTooManyRequests {
				t.Errorf("second request after recovery: %d", got.status)
			}
			// A minute idle refills the whole burst.
			clk.Advance(time.Minute + tt.after)
			if passed, _ := burst(t, api, tt.c, 1000); passed != tt.burst {
				t.Errorf("after a minute: burst %d, want %d", passed, tt.burst)
			}
		})
	}
}

func TestRateLimitOff(t *testing.T) {
	api, _ := testAPI(t, newWorld(), RateLimitOff)
	if passed, _ := burst(t, api, call{method: "conversations.history", query: "channel=C1", token: tokUser}, 500); passed != 500 {
		t.Errorf("limited after %d requests with limits off", passed)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Nanosecond: 1, time.Second: 1,
		time.Second + 1: 2, 59500 * time.Millisecond: 60} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}
