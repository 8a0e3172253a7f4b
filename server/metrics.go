package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// apiMetrics counts Slack API requests and their latency per method. Labels
// are resolved once per known method so the hot path does no map lookups;
// unknown method names share one label to bound cardinality.
type apiMetrics struct {
	next     http.Handler
	known    map[string]*methodMetrics
	unknown  *methodMetrics
	requests *prometheus.CounterVec
}

type methodMetrics struct {
	latency prometheus.Observer
	byCode  map[int]prometheus.Counter // HTTP status → counter (200, 429)
	method  string
}

// methodLister is what apiMetrics needs of the Slack API handler.
type methodLister interface{ Methods() []string }

func newAPIMetrics(next http.Handler, reg prometheus.Registerer) http.Handler {
	m := &apiMetrics{next: next, known: map[string]*methodMetrics{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "backchannel_api_requests_total", Help: "Slack Web API requests by method and HTTP status.",
		}, []string{"method", "status"}),
	}
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "backchannel_api_request_seconds", Help: "Slack Web API request latency by method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"method"})
	reg.MustRegister(m.requests, latency)
	mk := func(name string) *methodMetrics {
		mm := &methodMetrics{method: name, latency: latency.WithLabelValues(name), byCode: map[int]prometheus.Counter{}}
		for _, code := range []int{200, 429} {
			mm.byCode[code] = m.requests.WithLabelValues(name, strconv.Itoa(code))
		}
		return mm
	}
	if l, ok := next.(methodLister); ok {
		for _, name := range l.Methods() {
			m.known[name] = mk(name)
		}
	}
	m.unknown = mk("unknown")
	return m
}

func (m *apiMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mm := m.known[strings.TrimPrefix(r.URL.Path, "/api/")]
	if mm == nil {
		mm = m.unknown
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	start := time.Now()
	m.next.ServeHTTP(sw, r)
	mm.latency.Observe(time.Since(start).Seconds())
	if c := mm.byCode[sw.status]; c != nil {
		c.Inc()
	} else {
		m.requests.WithLabelValues(mm.method, strconv.Itoa(sw.status)).Inc()
	}
}

// statusWriter records the status code a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
