package server

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/procs"
)

// This file exposes the node's Raft and kv counters on its Prometheus
// registry (GET /metrics, next to the HTTP metrics of internal/httpapi).
// The counters live in the layers as atomics; nodeCollector reads them at
// scrape time, so nothing on the request path updates Prometheus objects
// except the proposal latency histogram (one Observe per Raft command).
// docs/operations.md lists every series.

// raftStats is what the collector needs from the replica store.
type raftStats interface {
	Metrics() replica.Metrics
	PartitionIDs() []uint64
	Status(partitionID uint64) (replica.Status, error)
}

// kvStats is what the collector needs from the kv coordinator.
type kvStats interface {
	Metrics() kv.Metrics
}

// nodeCollector is a prometheus.Collector over one node's store and
// coordinator. Either source may be nil (its series are then omitted).
type nodeCollector struct {
	raft raftStats
	kv   kvStats
}

func metricDesc(subsystem, name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName("camusdb", subsystem, name), help, labels, nil)
}

var (
	descRaftProposals       = metricDesc("raft", "proposals_total", "Commands proposed to Raft by this node.")
	descRaftEntriesAppended = metricDesc("raft", "entries_appended_total", "Raft log entries made durable in this node's log.")
	descRaftEntriesApplied  = metricDesc("raft", "entries_applied_total", "Committed Raft entries applied to this node's state machine.")
	descRaftFsyncs          = metricDesc("raft", "fsyncs_total", "Synced engine batches (group commit: one fsync covers every partition's entries and hard state of one loop iteration).")
	descRaftLoopIterations  = metricDesc("raft", "loop_iterations_total", "Iterations of the Raft driver loop that found work.")
	descRaftSnapshots       = metricDesc("raft", "snapshots_total", "Partition snapshots built for followers (sent) or installed from a leader (applied).", "direction")
	descRaftTruncations     = metricDesc("raft", "log_truncations_total", "Raft log truncations behind the applied index (checkpoints).")

	descPartitionLeader  = metricDesc("partition", "leader", "1 if this node leads the partition, else 0.", "partition")
	descPartitionTerm    = metricDesc("partition", "term", "Current Raft term of the partition on this node.", "partition")
	descPartitionApplied = metricDesc("partition", "applied_index", "Highest Raft index applied on this node.", "partition")
	descPartitionCommit  = metricDesc("partition", "commit_index", "Highest Raft index known committed on this node.", "partition")
	descPartitionLogLen  = metricDesc("partition", "log_entries", "Raft log entries kept on this node (not yet truncated).", "partition")
	descPartitionLag     = metricDesc("partition", "apply_lag_entries", "Committed Raft entries not yet applied on this node (commit index - applied index).", "partition")

	descKVBegun       = metricDesc("kv", "txns_begun_total", "Transactions begun by this node's coordinator.")
	descKVCommits     = metricDesc("kv", "commits_total", "Committed transactions by kind: read_only, 1pc (writes on one partition), 2pc (writes on several).", "kind")
	descKVConflicts   = metricDesc("kv", "conflicts_total", "Commits or reads that failed with a serialization conflict (CADB0502).")
	descKVRetries     = metricDesc("kv", "retries_total", "Commits or reads that failed with a retryable error (CADB0504).")
	descKVAmbiguous   = metricDesc("kv", "ambiguous_total", "Commits whose outcome is unknown (CADB0505).")
	descKVIntentWaits = metricDesc("kv", "intent_waits_total", "Times a request waited for another transaction's intent.")
	descKVPushes      = metricDesc("kv", "intents_pushed_total", "Abandoned transactions aborted by this node.")
	descKVDeadlocks   = metricDesc("kv", "deadlocks_total", "Waits refused because they would close a cycle of waiting transactions.")

	descSchedNarrow   = metricDesc("sched", "narrow", "1 while the scheduler governor runs the node on one P (at most one request at a time), else 0.")
	descSchedSwitches = metricDesc("sched", "switches_total", "Times the scheduler governor switched the node to one P (to=narrow) or back to all of them (to=wide, by reason: requests, background, waiting).", "to", "reason")
)

// Describe implements prometheus.Collector.
func (c nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descRaftProposals, descRaftEntriesAppended, descRaftEntriesApplied, descRaftFsyncs,
		descRaftLoopIterations, descRaftSnapshots, descRaftTruncations,
		descPartitionLeader, descPartitionTerm, descPartitionApplied, descPartitionCommit, descPartitionLogLen, descPartitionLag,
		descKVBegun, descKVCommits, descKVConflicts, descKVRetries, descKVAmbiguous, descKVIntentWaits, descKVPushes, descKVDeadlocks,
		descSchedNarrow, descSchedSwitches,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one snapshot of every counter.
func (c nodeCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	if c.raft != nil {
		m := c.raft.Metrics()
		counter(descRaftProposals, m.Proposals)
		counter(descRaftEntriesAppended, m.EntriesAppended)
		counter(descRaftEntriesApplied, m.EntriesApplied)
		counter(descRaftFsyncs, m.Syncs)
		counter(descRaftLoopIterations, m.LoopIterations)
		counter(descRaftSnapshots, m.SnapshotsSent, "sent")
		counter(descRaftSnapshots, m.SnapshotsApplied, "applied")
		counter(descRaftTruncations, m.Truncations)
		for _, id := range c.raft.PartitionIDs() {
			st, err := c.raft.Status(id)
			if err != nil {
				continue // stopped or failed store: no per-partition series
			}
			label := strconv.FormatUint(id, 10)
			var leader uint64
			if st.Leader {
				leader = 1
			}
			gauge(descPartitionLeader, leader, label)
			gauge(descPartitionTerm, st.Term, label)
			gauge(descPartitionApplied, st.AppliedIndex, label)
			gauge(descPartitionCommit, st.CommitIndex, label)
			gauge(descPartitionLogLen, logEntries(st), label)
			gauge(descPartitionLag, st.CommitIndex-min(st.AppliedIndex, st.CommitIndex), label)
		}
	}
	if c.kv != nil {
		m := c.kv.Metrics()
		counter(descKVBegun, m.Begun)
		counter(descKVCommits, m.CommitsReadOnly, "read_only")
		counter(descKVCommits, m.Commits1PC, "1pc")
		counter(descKVCommits, m.Commits2PC, "2pc")
		counter(descKVConflicts, m.Conflicts)
		counter(descKVRetries, m.Retries)
		counter(descKVAmbiguous, m.Ambiguous)
		counter(descKVIntentWaits, m.IntentWaits)
		counter(descKVPushes, m.IntentsPushed)
		counter(descKVDeadlocks, m.Deadlocks)
	}
	if g := procs.Current(); g != nil { // camusdb start without GOMAXPROCS
		st := g.Stats()
		var narrow uint64
		if st.Narrow {
			narrow = 1
		}
		gauge(descSchedNarrow, narrow)
		counter(descSchedSwitches, uint64(st.Narrowings), "narrow", "quiet")
		for r, n := range st.Widenings {
			counter(descSchedSwitches, uint64(n), "wide", procs.Reason(r).String())
		}
	}
}

// logEntries is the number of entries in [FirstIndex, LastIndex]; a log
// truncated up to its last entry is empty (FirstIndex = LastIndex+1).
func logEntries(st replica.Status) uint64 {
	if st.LastIndex < st.FirstIndex {
		return 0
	}
	return st.LastIndex - st.FirstIndex + 1
}

// newProposeHistogram is the latency of one Raft command, from Propose to
// applied on the leader: it includes the log fsync (and, in a cluster, the
// round trip to a majority).
func newProposeHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "camusdb",
		Subsystem: "raft",
		Name:      "propose_duration_seconds",
		Help:      "Time from proposing a Raft command to its application on this node (includes the log fsync and replication to a majority).",
		// 100µs .. ~3.3s: an fsync is 0.1–10 ms on SSDs, a cluster round
		// trip adds the network; above seconds means an election or a stall.
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
}

// observeSince records the time since start in h (a nil h records nothing).
func observeSince(h prometheus.Observer, start time.Time) {
	if h != nil {
		h.Observe(time.Since(start).Seconds())
	}
}

// registerNodeMetrics registers the node's Raft and kv collectors, the
// proposal latency histogram and the Go runtime and process collectors
// (go_*, process_*) on reg.
// registerSQLMetrics exports the session layer's running statements,
// open transactions and interrupted statements.
func registerSQLMetrics(reg prometheus.Registerer, sql *session.Server) error {
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "camusdb", Subsystem: "sql", Name: "running_statements",
			Help: "Statements running on this node (SHOW QUERIES)."},
			func() float64 { return float64(len(sql.RunningQueries())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "camusdb", Subsystem: "sql", Name: "open_transactions",
			Help: "Explicit transactions open on this node (bounded by txn_max_open)."},
			func() float64 { return float64(sql.OpenTransactions()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "camusdb", Subsystem: "sql", Name: "statements_cancelled_total",
			Help: "Statements stopped by a cancel (CANCEL QUERY, pgwire CancelRequest, client gone): CADB0506."},
			func() float64 { c, _ := sql.InterruptedStatements(); return float64(c) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "camusdb", Subsystem: "sql", Name: "statements_timed_out_total",
			Help: "Statements stopped by their statement timeout: CADB0507."},
			func() float64 { _, t := sql.InterruptedStatements(); return float64(t) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "camusdb", Subsystem: "sql", Name: "schema_lease_hits_total",
			Help: "Descriptor resolutions of queries and DML served from the schema lease cache (no KV read)."},
			func() float64 { return float64(sql.LeaseStats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "camusdb", Subsystem: "sql", Name: "schema_lease_misses_total",
			Help: "Descriptor resolutions of queries and DML read through their transaction (no lease covered them)."},
			func() float64 { return float64(sql.LeaseStats().Misses) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "camusdb", Subsystem: "sql", Name: "schema_leases_held",
			Help: "Descriptor leases this node holds."},
			func() float64 { return float64(sql.LeaseStats().Held) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "camusdb", Subsystem: "jobs", Name: "running_here",
			Help: "Jobs (schema changes) this node's runner runs now."},
			func() float64 { return float64(sql.Jobs().RunningHere()) }),
		jobsCollector{sql: sql},
	}
	for _, col := range cs {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}

func registerNodeMetrics(reg prometheus.Registerer, c *core) error {
	cs := []prometheus.Collector{
		nodeCollector{raft: c.store, kv: c.db},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	if c.proposeLatency != nil {
		cs = append(cs, c.proposeLatency)
	}
	if c.logSyncLatency != nil {
		cs = append(cs, c.logSyncLatency)
	}
	cs = append(cs, engineCollector{c.engine})
	for _, col := range cs {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}

// registerSQLMemoryMetrics exports the node's SQL memory monitor: the
// budget (sql_memory_bytes), what running statements hold now, and the
// most they held at once since the node started.
func registerSQLMemoryMetrics(reg prometheus.Registerer, m *mon.Monitor) error {
	for _, g := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "camusdb_sql_memory_limit_bytes",
			Help: "The node's SQL memory budget (sql_memory_bytes)."}, func() float64 { return float64(m.Limit()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "camusdb_sql_memory_used_bytes",
			Help: "Bytes SQL statements hold now (sorts, hash tables, buffered results)."}, func() float64 { return float64(m.Used()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "camusdb_sql_memory_high_water_bytes",
			Help: "The most bytes SQL statements held at once since the node started."}, func() float64 { return float64(m.HighWater()) }),
	} {
		if err := reg.Register(g); err != nil {
			return err
		}
	}
	return nil
}

// jobsCollector exports the number of jobs per status, cluster-wide (one
// scan of the jobs table per scrape).
type jobsCollector struct{ sql *session.Server }

var jobsDesc = prometheus.NewDesc("camusdb_jobs", "Jobs in the jobs table by status (cluster-wide).", []string{"status"}, nil)

func (c jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (c jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	recs, err := c.sql.Jobs().List(ctx)
	if err != nil {
		return
	}
	counts := map[string]int{}
	for _, s := range []string{"running", "paused", "reverting", "succeeded", "failed", "canceled"} {
		counts[s] = 0
	}
	for _, r := range recs {
		counts[string(r.Status)]++
	}
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), s)
	}
}
