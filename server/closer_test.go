package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel"
)

// fakeAnalytics is a Store (only Empty) and an AnalyticsStore whose days
// with data are pending until FinalizeDays closes them.
type fakeAnalytics struct {
	backchannel.Store // nil: any other call panics

	mu      sync.Mutex
	status  backchannel.AnalyticsStatus
	through []backchannel.Day // every FinalizeDays argument
	fail    error
}

func (f *fakeAnalytics) Empty(context.Context) (bool, error) { return false, nil }

func (f *fakeAnalytics) AnalyticsStatus(context.Context) (backchannel.AnalyticsStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.status
	st.Pending = slices.Clone(st.Pending)
	return st, f.fail
}

func (f *fakeAnalytics) FinalizeDays(_ context.Context, through backchannel.Day) ([]backchannel.Day, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.through = append(f.through, through)
	var done, rest []backchannel.Day
	for _, d := range f.status.Pending {
		if d <= through {
			done = append(done, d)
			f.status.LastClosed = max(f.status.LastClosed, d)
		} else {
			rest = append(rest, d)
		}
	}
	f.status.Pending = rest
	return done, nil
}

func (f *fakeAnalytics) RebuildDays(context.Context, backchannel.Day, backchannel.Day) error {
	return errors.New("unused")
}
func (f *fakeAnalytics) OpenAnalyticsFile(context.Context, string, backchannel.Day) (io.ReadCloser, error) {
	return nil, errors.New("unused")
}
func (f *fakeAnalytics) WriteMetadataFile(context.Context, io.Writer, backchannel.Day) error {
	return errors.New("unused")
}

func mustDay(t *testing.T, s string) backchannel.Day {
	t.Helper()
	d, err := backchannel.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func closerServer(t *testing.T) (*Server, *fakeAnalytics, *testClock) {
	t.Helper()
	f := &fakeAnalytics{status: backchannel.AnalyticsStatus{HasData: true, FirstDay: mustDay(t, "2024-02-27"),
		LastDay: mustDay(t, "2024-03-01"), LastClosed: -1, LateEvents: 7,
		Pending: []backchannel.Day{mustDay(t, "2024-02-27"), mustDay(t, "2024-02-28"), mustDay(t, "2024-02-29"), mustDay(t, "2024-03-01")}}}
	c := &testClock{t: time.Date(2024, 3, 1, 0, 59, 59, 0, time.UTC)}
	s := New(Config{Store: f, API: stubAPI{}, Now: c.Now, CloseInterval: -1})
	return s, f, c
}

// Each tick closes exactly the days whose end plus settle has passed.
func TestCloseDays(t *testing.T) {
	s, f, c := closerServer(t)
	ctx := context.Background()
	steps := []struct {
		now    time.Time
		closed []string
	}{
		{time.Date(2024, 3, 1, 0, 59, 59, 0, time.UTC), []string{"2024-02-27", "2024-02-28"}}, // Feb 29 + 1h not yet
		{time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC), []string{"2024-02-29"}},                 // exactly end + settle
		{time.Date(2024, 3, 1, 23, 0, 0, 0, time.UTC), nil},
		{time.Date(2024, 3, 2, 1, 0, 0, 0, time.UTC), []string{"2024-03-01"}},
	}
	for _, st := range steps {
		c.Set(st.now)
		days, err := s.CloseDays(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range days {
			got = append(got, d.String())
		}
		if !slices.Equal(got, st.closed) {
			t.Errorf("at %v closed %v, want %v", st.now, got, st.closed)
		}
	}
	want := []backchannel.Day{mustDay(t, "2024-02-28"), mustDay(t, "2024-02-29"), mustDay(t, "2024-02-29"), mustDay(t, "2024-03-01")}
	if !slices.Equal(f.through, want) {
		t.Errorf("FinalizeDays through %v, want %v", f.through, want)
	}
	_, m := serveGet(t, s, "/metrics")
	for _, line := range []string{
		"backchannel_analytics_days_closed_total 4",
		"backchannel_analytics_late_events 7",
		"backchannel_analytics_pending_days 0",
		"backchannel_analytics_last_closed_day_timestamp_seconds 1.7092512e+09", // 2024-03-01
	} {
		if !strings.Contains(m, line) {
			t.Errorf("metrics lack %q", line)
		}
	}
}

func TestReadyzAnalytics(t *testing.T) {
	s, f, c := closerServer(t)
	c.Set(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	if _, err := s.CloseDays(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.status.Pending = append(f.status.Pending, mustDay(t, "2024-02-20")) // late data for an old day
	f.mu.Unlock()
	code, body := serveGet(t, s, "/readyz")
	var got struct {
		OK        bool      `json:"ok"`
		Analytics freshness `json:"analytics"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != 200 || !got.OK {
		t.Fatalf("%d %s %v", code, body, err)
	}
	want := freshness{LastClosedDay: "2024-02-29", PendingDays: 2, OverdueDays: 1, LateEvents: 7}
	if got.Analytics != want {
		t.Errorf("analytics = %+v, want %+v", got.Analytics, want)
	}
	f.mu.Lock()
	f.fail = errors.New("db down")
	f.mu.Unlock()
	if code, body := serveGet(t, s, "/readyz"); code != 503 || !strings.Contains(body, "analytics_unavailable") {
		t.Errorf("failing status: %d %s", code, body)
	}
}

// The loop runs once at start and stops with Shutdown.
func TestCloseLoopStopsOnShutdown(t *testing.T) {
	f := &fakeAnalytics{status: backchannel.AnalyticsStatus{HasData: true, LastClosed: -1,
		Pending: []backchannel.Day{mustDay(t, "2024-02-27")}}}
	now := func() time.Time { return time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC) }
	s := New(Config{Store: f, API: stubAPI{}, Now: now, CloseInterval: time.Hour})
	ln := newLocalListener(t)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		n := len(f.through)
		f.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the loop did not run at start")
		}
		time.Sleep(time.Millisecond) // waiting on a goroutine, not on the clock
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.closer.wg.Wait() // returns: the loop has exited
}

func serveGet(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

func newLocalListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
