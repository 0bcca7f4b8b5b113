package server

import (
	"net"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camusdb/camusdb-go/internal/sql/session"
)

// Statement latency, rows and connection figures on /metrics
// (docs/operations.md).

// sqlStatementMetrics observes every statement the session layer runs.
type sqlStatementMetrics struct {
	duration *prometheus.HistogramVec
	rows     *prometheus.CounterVec
	errors   *prometheus.CounterVec
	// byKind holds each kind's series, looked up once: WithLabelValues
	// hashes the label and takes a lock, which showed in the point-select
	// profile (2% of the server's CPU). Read-only after construction.
	byKind map[string]kindMetrics
}

type kindMetrics struct {
	duration     prometheus.Observer
	rows, errors prometheus.Counter
}

func newSQLStatementMetrics() *sqlStatementMetrics {
	m := &sqlStatementMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "camusdb", Subsystem: "sql", Name: "statement_duration_seconds",
			Help:    "Time to execute one SQL statement (to its full result), by kind.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 20), // 50µs .. ~26s
		}, []string{"kind"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "camusdb", Subsystem: "sql", Name: "rows_total",
			Help: "Rows returned (queries) or affected (writes) by SQL statements, by kind.",
		}, []string{"kind"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "camusdb", Subsystem: "sql", Name: "statement_errors_total",
			Help: "SQL statements that failed, by kind.",
		}, []string{"kind"}),
	}
	m.byKind = make(map[string]kindMetrics)
	for _, kind := range session.StatementKinds() {
		m.byKind[kind] = m.kind(kind)
	}
	return m
}

func (m *sqlStatementMetrics) kind(kind string) kindMetrics {
	return kindMetrics{
		duration: m.duration.WithLabelValues(kind),
		rows:     m.rows.WithLabelValues(kind),
		errors:   m.errors.WithLabelValues(kind),
	}
}

func (m *sqlStatementMetrics) observe(st session.StatementStats) {
	km, ok := m.byKind[st.Kind]
	if !ok {
		km = m.kind(st.Kind)
	}
	km.duration.Observe(st.Elapsed.Seconds())
	if st.Rows > 0 {
		km.rows.Add(float64(st.Rows))
	}
	if st.Failed {
		km.errors.Inc()
	}
}

func (m *sqlStatementMetrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.duration, m.rows, m.errors} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// httpConnCounter counts open HTTP connections (http.Server.ConnState).
type httpConnCounter struct{ open atomic.Int64 }

func (c *httpConnCounter) track(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		c.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.open.Add(-1)
	}
}

// registerConnectionMetrics exports the open HTTP and pgwire connections.
func (n *Node) registerConnectionMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "camusdb", Subsystem: "http", Name: "open_connections",
			Help: "HTTP connections open now."}, func() float64 { return float64(n.httpConns.open.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "camusdb", Subsystem: "pgwire", Name: "open_connections",
			Help: "pgwire connections open now (past startup)."}, func() float64 {
			n.pgMu.Lock()
			defer n.pgMu.Unlock()
			if n.pg == nil {
				return 0
			}
			return float64(n.pg.srv.Connections())
		}),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
