package httpapi

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the HTTP request metrics of one Server.
type metrics struct {
	requests *prometheus.CounterVec   // by endpoint and HTTP status
	latency  *prometheus.HistogramVec // by endpoint and HTTP status
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
			Help:      "HTTP API request latency by endpoint and HTTP status code.",
			Buckets:   []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint", "code"}),
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

// endpointOK caches an endpoint's series of successful requests, so the
// common answer skips the label lookups of the vectors. It is filled on
// the first success: a series appears in /metrics only once it counts.
type endpointOK struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// observe counts one request; cache, when not nil, is the endpoint's
// endpointOK slot.
func (m *metrics) observe(endpoint string, status int, elapsed time.Duration, cache *atomic.Pointer[endpointOK]) {
	if status == 200 && cache != nil {
		ok := cache.Load()
		if ok == nil {
			ok = &endpointOK{requests: m.requests.WithLabelValues(endpoint, "200"), latency: m.latency.WithLabelValues(endpoint, "200")}
			cache.Store(ok)
		}
		ok.requests.Inc()
		ok.latency.Observe(elapsed.Seconds())
		return
	}
	code := statusText(status)
	m.requests.WithLabelValues(endpoint, code).Inc()
	m.latency.WithLabelValues(endpoint, code).Observe(elapsed.Seconds())
}

// statusText renders common statuses without allocating.
func statusText(status int) string {
	switch status {
	case 200:
		return "200"
	case 400:
		return "400"
	case 404:
		return "404"
	case 409:
		return "409"
	case 413:
		return "413"
	case 500:
		return "500"
	case 503:
		return "503"
	}
	return strconv.Itoa(status)
}
