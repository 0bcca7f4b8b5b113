package systemtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
)

// peakRSS is the process's high-water resident set (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// The query of issue 9 against a real process (CAMUS_LONG=1): a cross
// join of 1000 x 100 000 rows returns 100,000,000 with the server's
// peak RSS far under 1.5 GiB, because the join streams its product; then
// eight of them at once, with point reads answered meanwhile and the peak
// RSS under sql_memory_bytes + 512 MiB.
func TestCrossJoinStreamsInBoundedMemory(t *testing.T) {
	if os.Getenv("CAMUS_LONG") == "" {
		t.Skip("CAMUS_LONG=1 runs the 100M-row cross join against a real node")
	}
	cfg := filepath.Join(t.TempDir(), "config.yml")
	// The request deadline must outlast the query.
	if err := os.WriteFile(cfg, []byte("http_request_timeout_ms: 600000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, t.TempDir(), "--config", cfg)
	c := client.New([]string{n.url()}, client.WithTimeout(10*time.Minute))
	t.Cleanup(c.Close)
	ctx := context.Background()
	if err := c.CreateDB(ctx, "d", false); err != nil {
		t.Fatal(err)
	}
	if err := c.ExecDDL(ctx, "d", `CREATE TABLE big (id INT64 PRIMARY KEY, name STRING NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const rows, batch = 100_000, 1000
	for i := 0; i < rows; i += batch {
		sql := []byte("INSERT INTO big (id, name) VALUES ")
		for j := i; j < i+batch; j++ {
			if j > i {
				sql = append(sql, ", "...)
			}
			sql = fmt.Appendf(sql, "(%d, 'name-%d')", j, j)
		}
		if _, err := c.Exec(ctx, "d", string(sql), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	before := peakRSS(t, n.cmd.Process.Pid)
	// A point reader runs alongside the join: its latencies are logged
	// (p50/p99/max; no timed assertion), the bar being p99 < 100 ms.
	readerCtx, stopReader := context.WithCancel(ctx)
	latencies := make(chan []time.Duration, 1)
	go func() {
		var lat []time.Duration
		defer func() { latencies <- lat }()
		for readerCtx.Err() == nil {
			start := time.Now()
			res, err := c.Query(readerCtx, "d", "SELECT name FROM big WHERE id = @id", map[string]any{"id": len(lat) % rows}, nil)
			if readerCtx.Err() != nil {
				return
			}
			if err != nil || len(res.Rows) != 1 {
				t.Errorf("point query during the join: %v %v", res, err)
				return
			}
			lat = append(lat, time.Since(start))
		}
	}()
	start := time.Now()
	res, err := c.Query(ctx, "d", "SELECT COUNT(*) FROM big a, big b WHERE a.id < 1000", nil, nil)
	stopReader()
	lat := <-latencies
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		t.Logf("point queries during the cross join: %d, p50 %v, p99 %v, max %v", len(lat),
			lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	}
	if len(res.Rows) != 1 || res.Rows[0][0] != int64(100_000_000) {
		t.Fatalf("count = %v, want 100000000", res.Rows)
	}
	peak := peakRSS(t, n.cmd.Process.Pid)
	t.Logf("cross join: %v; peak RSS %d MiB (before the query %d MiB)", time.Since(start).Round(time.Second), peak>>20, before>>20)
	if peak >= 1536<<20 {
		t.Fatalf("peak RSS %d MiB, want under 1.5 GiB", peak>>20)
	}

	// Eight clients at once, while a ninth keeps reading one row: every
	// query completes (or fails with a budget error), the node stays up
	// and its peak RSS stays under 1.5 GiB. Point-read latency is logged,
	// not asserted (no timed assertions).
	const clients = 8
	errs := make(chan error, clients)
	for range clients {
		go func() {
			res, err := c.Query(ctx, "d", "SELECT COUNT(*) FROM big a, big b WHERE a.id < 1000", nil, nil)
			if err == nil && (len(res.Rows) != 1 || res.Rows[0][0] != int64(100_000_000)) {
				err = fmt.Errorf("count = %v", res.Rows)
			}
			if err != nil && (strings.Contains(err.Error(), "CADB0510") || strings.Contains(err.Error(), "CADB0511")) {
				err = nil // a budget error is an allowed outcome
			}
			errs <- err
		}()
	}
	var slowest time.Duration
	finished := 0
	for finished < clients {
		select {
		case err := <-errs:
			finished++
			if err != nil {
				t.Error(err)
			}
		default:
			start := time.Now()
			res, err := c.Query(ctx, "d", "SELECT name FROM big WHERE id = 4242", nil, nil)
			if err != nil || len(res.Rows) != 1 {
				t.Fatalf("point query during the joins: %v %v", res, err)
			}
			slowest = max(slowest, time.Since(start))
		}
	}
	peak = peakRSS(t, n.cmd.Process.Pid)
	t.Logf("%d concurrent cross joins: peak RSS %d MiB; slowest point query meanwhile %v", clients, peak>>20, slowest)
	// The bound: sql_memory_bytes (the node's default here) plus
	// 512 MiB. (Measured: ~1.7 GiB on a 2-core VM, mostly the garbage of
	// eight joins' output batches between GC cycles; the accounted memory
	// is the eight materialised inner sides, ~15 MiB each.)
	if limit := mon.DefaultNodeBudget() + 512<<20; peak >= limit {
		t.Fatalf("peak RSS %d MiB with %d concurrent joins, want under sql_memory_bytes + 512 MiB = %d MiB", peak>>20, clients, limit>>20)
	}
}
