package httpapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the HTTP request metrics of one Server.
type metrics struct {
	requests *prometheus.CounterVec   // by endpoint and HTTP status
	latency  *prometheus.HistogramVec // by endpoint
	errors   *prometheus.CounterVec   // by endpoint and CADB code
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "camusdb",
			Subsystem: "http",
			Name:      "requests_total",
			Help:      "HTTP API requests by endpoint and HTTP status code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "camusdb",
			Subsystem: "http",
			Name:      "request_duration_seconds",
			Help:      "HTTP API request latency by endpoint.",
			Buckets:   []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "camusdb",
			Subsystem: "http",
			Name:      "errors_total",
			Help:      "HTTP API failed requests by endpoint and CADB error code.",
		}, []string{"endpoint", "cadb_code"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.errors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(endpoint string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(endpoint).Observe(elapsed.Seconds())
}
