// Package server wires the HTTP surface: the Slack Web API under /api/, the
// event ingest endpoint, health, readiness and Prometheus metrics.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/backchannel/backchannel"
)

// Config holds a Server's dependencies.
type Config struct {
	Store  backchannel.Store
	API    http.Handler // the Slack Web API (slackapi.API), mounted at /api/
	Logger *slog.Logger
	// MaxIngestBytes caps an ingest request body, before and after gzip.
	MaxIngestBytes int64
	// MaxIngestEvents caps the lines of one ingest request.
	MaxIngestEvents int
	// Registry receives the server's metrics; nil makes a private one.
	Registry *prometheus.Registry

	// Analytics closes days in the background; default: Store, when it
	// implements backchannel.AnalyticsStore. Without one there is no loop.
	Analytics backchannel.AnalyticsStore
	// Settle is how long after a UTC day ends it is closed: as
	// slackapi.Config.Settle (0 is the 1h default, negative none).
	Settle time.Duration
	// Now is the clock (default time.Now); CloseInterval how often the
	// loop looks for days to close (default a minute; negative: no loop).
	Now           func() time.Time
	CloseInterval time.Duration
}

// Server is backchannel's HTTP server.
type Server struct {
	cfg     Config
	http    *http.Server
	api     http.Handler // cfg.API wrapped with metrics
	ingest  *ingestHandler
	metrics http.Handler
	closer  *dayCloser // nil without an AnalyticsStore
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxIngestBytes <= 0 {
		cfg.MaxIngestBytes = 64 << 20
	}
	if cfg.MaxIngestEvents <= 0 {
		cfg.MaxIngestEvents = 100_000
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	}
	s := &Server{cfg: cfg}
	s.api = newAPIMetrics(cfg.API, cfg.Registry)
	s.ingest = newIngestHandler(cfg.Store, cfg.MaxIngestBytes, cfg.MaxIngestEvents, cfg.Logger, cfg.Registry)
	s.metrics = promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})
	if cfg.Analytics == nil {
		cfg.Analytics, _ = cfg.Store.(backchannel.AnalyticsStore)
	}
	if cfg.Analytics != nil {
		if cfg.Now == nil {
			cfg.Now = time.Now
		}
		if cfg.CloseInterval == 0 {
			cfg.CloseInterval = time.Minute
		}
		s.closer = newDayCloser(cfg.Analytics, cfg.Settle, cfg.Now, cfg.CloseInterval, cfg.Logger, cfg.Registry)
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s
}

// ServeHTTP routes by path prefix by hand: http.ServeMux would redirect
// unclean paths, and a Slack client must never be redirected.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/api/"):
		s.api.ServeHTTP(w, r)
	case p == "/ingest/events":
		s.ingest.ServeHTTP(w, r)
	case p == "/healthz":
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	case p == "/readyz":
		s.readyz(w, r)
	case p == "/metrics":
		s.metrics.ServeHTTP(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "not_found",
			"detail": "the Slack Web API is under /api/<method>; events go to POST /ingest/events"})
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.cfg.Store.Empty(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ok": false, "error": "store_unavailable"})
		return
	}
	if s.closer == nil {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
		return
	}
	// Freshness is reported, not judged: overdue days do not make the
	// server unready, since getFile closes a requested day itself.
	f, err := s.closer.refresh(ctx)
	if err != nil {
		s.cfg.Logger.Error("readyz: analytics status", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ok": false, "error": "analytics_unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "analytics": f})
}

// CloseDays closes every analytics day past settle now, as the background
// loop does each interval, and returns the days it closed.
func (s *Server) CloseDays(ctx context.Context) ([]backchannel.Day, error) {
	if s.closer == nil {
		return nil, nil
	}
	return s.closer.tick(ctx)
}

// Serve accepts connections on ln until Shutdown; the first call also
// starts the day-closing loop.
func (s *Server) Serve(ln net.Listener) error {
	if s.closer != nil && s.cfg.CloseInterval > 0 {
		s.closer.start()
	}
	if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting connections, stops the day-closing loop and
// waits for in-flight requests and a day-closing run in progress.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if s.closer != nil {
		s.closer.stop()
	}
	return err
}
