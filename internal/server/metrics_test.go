package server

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/replica"
)

// scrape fetches /metrics and returns every sample keyed by its series
// text as written, e.g. `camusdb_partition_leader{partition="1"}`.
func scrape(t *testing.T, client *http.Client, base string) map[string]float64 {
	t.Helper()
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %d %s", resp.StatusCode, body)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("/metrics: malformed line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics: malformed value in %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return samples
}

func TestMetricsEndpointExposesRaftAndKV(t *testing.T) {
	// Registered first, so it runs after the node's Stop (cleanups run last-in first-out).
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	cfg := testConfig(t)
	cfg.InitialPartitions = 2
	node := startTestNode(t, cfg)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	base := "http://" + node.HTTPAddr()

	before := scrape(t, client, base)
	for _, stmt := range []struct{ path, body string }{
		{"/execute-sql-ddl", `{"sql":"CREATE DATABASE m"}`},
		{"/execute-sql-ddl", `{"databaseName":"m","sql":"CREATE TABLE t (id INT64 PRIMARY KEY, v STRING)"}`},
		{"/execute-sql-non-query", `{"databaseName":"m","sql":"INSERT INTO t (id, v) VALUES (1, 'a')"}`},
		{"/execute-sql-non-query", `{"databaseName":"m","sql":"INSERT INTO t (id, v) VALUES (2, 'b'), (3, 'c'), (4, 'd')"}`},
		{"/execute-sql-query", `{"databaseName":"m","sql":"SELECT COUNT(*) FROM t"}`},
	} {
		if status, body := getJSON(t, client, http.MethodPost, base+stmt.path, stmt.body); status != 200 {
			t.Fatalf("%s %s: %d %v", stmt.path, stmt.body, status, body)
		}
	}
	after := scrape(t, client, base)

	// Counters that every write moves.
	for _, series := range []string{
		"camusdb_raft_proposals_total",
		"camusdb_raft_entries_appended_total",
		"camusdb_raft_entries_applied_total",
		"camusdb_raft_fsyncs_total",
		"camusdb_raft_loop_iterations_total",
		"camusdb_raft_propose_duration_seconds_count",
		"camusdb_raft_log_sync_duration_seconds_count",
		"camusdb_storage_wal_bytes_written_total",
		"camusdb_kv_txns_begun_total",
		`camusdb_partition_applied_index{partition="1"}`,
	} {
		b, okB := before[series]
		a, okA := after[series]
		if !okB || !okA {
			t.Errorf("series %s missing (before %v, after %v)", series, okB, okA)
			continue
		}
		if a <= b {
			t.Errorf("%s did not move: %v → %v", series, b, a)
		}
	}
	// Commits of some kind happened; whether they were 1PC or 2PC depends
	// on where the keys hash, so only the sum must move.
	commits := func(s map[string]float64) float64 {
		return s[`camusdb_kv_commits_total{kind="1pc"}`] + s[`camusdb_kv_commits_total{kind="2pc"}`]
	}
	if commits(after) <= commits(before) {
		t.Errorf("write commits did not move: %v → %v", commits(before), commits(after))
	}
	// Series that exist without moving here.
	for _, series := range []string{
		`camusdb_kv_commits_total{kind="read_only"}`,
		"camusdb_kv_conflicts_total", "camusdb_kv_retries_total", "camusdb_kv_ambiguous_total",
		"camusdb_kv_intent_waits_total", "camusdb_kv_intents_pushed_total",
		`camusdb_raft_snapshots_total{direction="sent"}`, `camusdb_raft_snapshots_total{direction="applied"}`,
		"camusdb_raft_log_truncations_total",
		`camusdb_raft_propose_duration_seconds_bucket{le="+Inf"}`,
		"go_goroutines", "process_resident_memory_bytes",
		"camusdb_sql_running_statements", "camusdb_sql_open_transactions",
		"camusdb_sql_statements_cancelled_total", "camusdb_sql_statements_timed_out_total",
		"camusdb_storage_read_amplification", "camusdb_storage_compactions_total",
		"camusdb_storage_compaction_debt_bytes", "camusdb_storage_block_cache_hits_total",
		"camusdb_storage_block_cache_misses_total", "camusdb_storage_block_cache_bytes",
		"camusdb_storage_read_cache_hits_total", "camusdb_storage_read_cache_misses_total", "camusdb_storage_read_cache_bytes",
		"camusdb_storage_read_cache_refreshes_total",
		"camusdb_storage_write_stalls_total", "camusdb_storage_write_stall_seconds_total",
		"camusdb_storage_memtable_bytes", `camusdb_partition_apply_lag_entries{partition="1"}`,
		"camusdb_pgwire_open_connections",
		"camusdb_sql_schema_lease_hits_total", "camusdb_sql_schema_lease_misses_total", "camusdb_sql_schema_leases_held",
		"camusdb_jobs_running_here", `camusdb_jobs{status="running"}`, `camusdb_jobs{status="failed"}`,
	} {
		if _, ok := after[series]; !ok {
			t.Errorf("series %s missing", series)
		}
	}
	// Statement figures by kind: 4 rows inserted, one SELECT returning one
	// row; the scrape itself holds an HTTP connection open.
	for series, atLeast := range map[string]float64{
		`camusdb_sql_rows_total{kind="insert"}`:                       4,
		`camusdb_sql_statement_duration_seconds_count{kind="insert"}`: 2,
		`camusdb_sql_statement_duration_seconds_count{kind="select"}`: 1,
		`camusdb_sql_rows_total{kind="select"}`:                       1,
		`camusdb_sql_statement_duration_seconds_count{kind="ddl"}`:    2,
		"camusdb_http_open_connections":                               1,
	} {
		if v := after[series]; v < atLeast {
			t.Errorf("%s = %v, want >= %v", series, v, atLeast)
		}
	}
	// The HTTP layer's series share the registry.
	httpSeries := false
	for k := range after {
		httpSeries = httpSeries || strings.HasPrefix(k, "camusdb_http_requests_total{")
	}
	if !httpSeries {
		t.Error("camusdb_http_requests_total missing from the node registry")
	}
	// Standalone: this node leads both partitions, in a positive term.
	for _, p := range []string{"1", "2"} {
		label := `{partition="` + p + `"}`
		if v := after["camusdb_partition_leader"+label]; v != 1 {
			t.Errorf("camusdb_partition_leader%s = %v, want 1", label, v)
		}
		if v := after["camusdb_partition_term"+label]; v < 1 {
			t.Errorf("camusdb_partition_term%s = %v, want >= 1", label, v)
		}
		if _, ok := after["camusdb_partition_log_entries"+label]; !ok {
			t.Errorf("camusdb_partition_log_entries%s missing", label)
		}
		if after["camusdb_partition_commit_index"+label] < after["camusdb_partition_applied_index"+label] {
			t.Errorf("partition %s: commit index below applied index", p)
		}
	}
}

type fakeRaft struct {
	metrics replica.Metrics
	status  map[uint64]replica.Status
}

func (f fakeRaft) Metrics() replica.Metrics { return f.metrics }
func (f fakeRaft) PartitionIDs() []uint64   { return []uint64{1, 2, 3} }
func (f fakeRaft) Status(id uint64) (replica.Status, error) {
	st, ok := f.status[id]
	if !ok {
		return replica.Status{}, errors.New("no such partition")
	}
	return st, nil
}

type fakeKV struct{ metrics kv.Metrics }

func (f fakeKV) Metrics() kv.Metrics { return f.metrics }

// gather returns every sample of reg keyed like the text format
// (labels in name order).
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			if len(m.GetLabel()) > 0 {
				var parts []string
				for _, l := range m.GetLabel() {
					parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
				}
				key += "{" + strings.Join(parts, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestNodeCollectorMapsEveryField(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(nodeCollector{
		raft: fakeRaft{
			metrics: replica.Metrics{LoopIterations: 1, Syncs: 2, EntriesAppended: 3, EntriesApplied: 4,
				Proposals: 5, SnapshotsSent: 6, SnapshotsApplied: 7, Truncations: 8},
			status: map[uint64]replica.Status{
				1: {Leader: true, LeaderID: 1, Term: 9, AppliedIndex: 40, CommitIndex: 41, FirstIndex: 31, LastIndex: 41},
				// Truncated up to its last entry: an empty log.
				2: {LeaderID: 2, Term: 3, AppliedIndex: 7, CommitIndex: 7, FirstIndex: 8, LastIndex: 7},
				// 3 answers an error: no series for it.
			},
		},
		kv: fakeKV{metrics: kv.Metrics{Begun: 11, CommitsReadOnly: 12, Commits1PC: 13, Commits2PC: 14,
			Conflicts: 15, Retries: 16, Ambiguous: 17, IntentWaits: 18, IntentsPushed: 19, Deadlocks: 20}},
	})
	got := gather(t, reg)
	want := map[string]float64{
		"camusdb_raft_loop_iterations_total":                 1,
		"camusdb_raft_fsyncs_total":                          2,
		"camusdb_raft_entries_appended_total":                3,
		"camusdb_raft_entries_applied_total":                 4,
		"camusdb_raft_proposals_total":                       5,
		`camusdb_raft_snapshots_total{direction="sent"}`:     6,
		`camusdb_raft_snapshots_total{direction="applied"}`:  7,
		"camusdb_raft_log_truncations_total":                 8,
		`camusdb_partition_leader{partition="1"}`:            1,
		`camusdb_partition_term{partition="1"}`:              9,
		`camusdb_partition_applied_index{partition="1"}`:     40,
		`camusdb_partition_commit_index{partition="1"}`:      41,
		`camusdb_partition_log_entries{partition="1"}`:       11,
		`camusdb_partition_leader{partition="2"}`:            0,
		`camusdb_partition_term{partition="2"}`:              3,
		`camusdb_partition_applied_index{partition="2"}`:     7,
		`camusdb_partition_commit_index{partition="2"}`:      7,
		`camusdb_partition_log_entries{partition="2"}`:       0,
		`camusdb_partition_apply_lag_entries{partition="1"}`: 1,
		`camusdb_partition_apply_lag_entries{partition="2"}`: 0,
		"camusdb_kv_txns_begun_total":                        11,
		`camusdb_kv_commits_total{kind="read_only"}`:         12,
		`camusdb_kv_commits_total{kind="1pc"}`:               13,
		`camusdb_kv_commits_total{kind="2pc"}`:               14,
		"camusdb_kv_conflicts_total":                         15,
		"camusdb_kv_retries_total":                           16,
		"camusdb_kv_ambiguous_total":                         17,
		"camusdb_kv_intent_waits_total":                      18,
		"camusdb_kv_intents_pushed_total":                    19,
		"camusdb_kv_deadlocks_total":                         20,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected series %s", k)
		}
	}
}

func BenchmarkNodeCollectorScrape(b *testing.B) {
	status := map[uint64]replica.Status{}
	for id := uint64(1); id <= 3; id++ {
		status[id] = replica.Status{Leader: true, Term: 2, AppliedIndex: 100, CommitIndex: 100, FirstIndex: 50, LastIndex: 100}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(nodeCollector{raft: fakeRaft{status: status}, kv: fakeKV{}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProposeLatencyObserve(b *testing.B) {
	h := newProposeHistogram()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			observeSince(h, time.Now())
		}
	})
}
