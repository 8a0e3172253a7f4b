package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/backchannel/backchannel"
	"github.com/backchannel/backchannel/slackapi"
)

// dayCloser closes analytics days in the background: every interval it
// finalizes every day whose end plus settle has passed. getFile closes a
// requested day itself, so answers never wait for this loop; the loop makes
// files exist (byte-identical ever after) at a predictable time and keeps
// the freshness metrics current.
type dayCloser struct {
	store    backchannel.AnalyticsStore
	settle   time.Duration
	now      func() time.Time
	interval time.Duration
	log      *slog.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	closed     prometheus.Counter
	failures   prometheus.Counter
	lateEvents prometheus.Gauge
	lastClosed prometheus.Gauge
	pending    prometheus.Gauge
}

func newDayCloser(st backchannel.AnalyticsStore, settle time.Duration, now func() time.Time,
	interval time.Duration, log *slog.Logger, reg prometheus.Registerer) *dayCloser {
	c := &dayCloser{store: st, settle: slackapi.SettleOrDefault(settle), now: now, interval: interval, log: log,
		closed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "backchannel_analytics_days_closed_total", Help: "Analytics days this process closed (finalized) in the background.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "backchannel_analytics_close_failures_total", Help: "Background day-closing runs that failed.",
		}),
		lateEvents: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "backchannel_analytics_late_events", Help: "Events stored for days already closed (they change files only through `analytics rebuild`).",
		}),
		lastClosed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "backchannel_analytics_last_closed_day_timestamp_seconds", Help: "Start (UTC) of the latest closed analytics day; 0 when none.",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "backchannel_analytics_pending_days", Help: "Days holding data that are not closed yet.",
		}),
	}
	reg.MustRegister(c.closed, c.failures, c.lateEvents, c.lastClosed, c.pending)
	return c
}

// start runs the loop until stop; a second call does nothing.
func (c *dayCloser) start() {
	c.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		c.cancel = cancel
		c.wg.Add(1)
		go c.loop(ctx)
	})
}

// stop ends the loop and waits for a run in progress to finish.
func (c *dayCloser) stop() {
	c.once.Do(func() {}) // a loop never started must not start later
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
}

func (c *dayCloser) loop(ctx context.Context) {
	defer c.wg.Done()
	// Run at once: a server started at 01:30 closes yesterday now, not in
	// a minute.
	c.runLogged(ctx)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.runLogged(ctx)
		}
	}
}

func (c *dayCloser) runLogged(ctx context.Context) {
	if _, err := c.tick(ctx); err != nil && ctx.Err() == nil {
		c.failures.Inc()
		c.log.Error("analytics: closing days failed", "err", err)
	}
}

// tick closes every day through the last one past settle and refreshes the
// gauges. The loop calls it every interval; tests call it directly.
func (c *dayCloser) tick(ctx context.Context) ([]backchannel.Day, error) {
	through := slackapi.ClosableThrough(c.now(), c.settle)
	days, err := c.store.FinalizeDays(ctx, through)
	if err != nil {
		return nil, fmt.Errorf("finalize through %s: %w", through, err)
	}
	c.closed.Add(float64(len(days)))
	for _, d := range days {
		c.log.Info("analytics: day closed", "day", d.String())
	}
	if _, err := c.refresh(ctx); err != nil {
		return days, err
	}
	return days, nil
}

// freshness is the analytics part of /readyz.
type freshness struct {
	LastClosedDay string `json:"last_closed_day"` // "" when none
	PendingDays   int    `json:"pending_days"`
	// OverdueDays are pending days already past settle: nonzero for more
	// than a minute means the loop is failing (getFile still closes a
	// requested day itself).
	OverdueDays int   `json:"overdue_days"`
	LateEvents  int64 `json:"late_events"`
}

// refresh reads the store's analytics status into the gauges.
func (c *dayCloser) refresh(ctx context.Context) (freshness, error) {
	st, err := c.store.AnalyticsStatus(ctx)
	if err != nil {
		return freshness{}, fmt.Errorf("analytics status: %w", err)
	}
	through := slackapi.ClosableThrough(c.now(), c.settle)
	f := freshness{PendingDays: len(st.Pending), LateEvents: st.LateEvents}
	for _, d := range st.Pending {
		if d <= through {
			f.OverdueDays++
		}
	}
	c.lateEvents.Set(float64(st.LateEvents))
	c.pending.Set(float64(len(st.Pending)))
	// LastClosed is -1 when no day is closed; a store that has no data
	// reports no closed day whatever it puts there.
	if st.LastClosed >= 0 && st.HasData {
		f.LastClosedDay = st.LastClosed.String()
		c.lastClosed.Set(float64(st.LastClosed.Start().Unix()))
	} else {
		c.lastClosed.Set(0)
	}
	return f, nil
}
