package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

func opsResult(workload, target string, round int, ops int64, p50 time.Duration) Result {
	return Result{Workload: workload, Target: target, Round: round, Clients: 16, Ops: ops, Attempts: ops,
		Elapsed: time.Second, P50: p50, P95: p50, P99: p50}
}

// With several rounds a row is the system's median round, and the ratio
// the median of the per-round ratios with their range; with one round the
// table is as before.
func TestWriteMarkdownRounds(t *testing.T) {
	results := []Result{
		opsResult("point", "camusdb-pgwire", 0, 100, 1*time.Millisecond),
		opsResult("point", ReferenceTarget, 0, 200, 9*time.Millisecond),
		opsResult("point", ReferenceTarget, 1, 300, 9*time.Millisecond),
		opsResult("point", "camusdb-pgwire", 1, 300, 3*time.Millisecond),
		opsResult("point", "camusdb-pgwire", 2, 200, 2*time.Millisecond),
		opsResult("point", ReferenceTarget, 2, 250, 9*time.Millisecond),
		// scan: 10 queries per second against 20: twice the time per query
		opsResult("scan", "camusdb-pgwire", 0, 10, time.Millisecond),
		opsResult("scan", ReferenceTarget, 0, 20, time.Millisecond),
		opsResult("scan", "camusdb-pgwire", 1, 10, time.Millisecond),
		opsResult("scan", ReferenceTarget, 1, 40, time.Millisecond),
	}
	var b strings.Builder
	WriteMarkdown(&b, results)
	table := b.String()
	// Rounds' ratios 0.50, 1.00, 0.80: median 0.80. The median round by
	// throughput is round 2 (200/s, p50 2 ms).
	for _, want := range []string{
		"| point | camusdb-pgwire | 16 | 200/s | 2.00 ms | 2.00 ms | 2.00 ms | — | 0.80× (0.50–1.00) |",
		"| point | postgresql | 16 | 250/s |",
		// per-round time ratios 2 and 4: median 3
		"| scan | camusdb-pgwire | 16 | 100.00 ms per query |",
		"3.00× the time (2.00–4.00) |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if n := strings.Count(table, "| point |"); n != 2 {
		t.Errorf("%d point rows, want one per system:\n%s", n, table)
	}

	b.Reset()
	WriteMarkdown(&b, []Result{opsResult("point", "camusdb-http", 0, 100, time.Millisecond), opsResult("point", ReferenceTarget, 0, 200, time.Millisecond)})
	if !strings.Contains(b.String(), "| 0.50× |") {
		t.Errorf("one round: want a plain ratio:\n%s", b.String())
	}
}

// fakeTarget is a Target that runs nothing.
type fakeTarget struct{ name string }

func (f fakeTarget) Name() string                                         { return f.name }
func (fakeTarget) Exec(context.Context, string, ...any) error             { return nil }
func (fakeTarget) QueryRows(context.Context, string, ...any) (int, error) { return 0, nil }
func (fakeTarget) QueryInt64s(context.Context, string, ...any) ([]int64, error) {
	return nil, nil
}
func (fakeTarget) Txn(context.Context, func(Tx) error) (int, error) { return 1, nil }
func (fakeTarget) Close()                                           {}

// Each round runs every target, starting with the next one in turn.
func TestRunRotatesTargetsAcrossRounds(t *testing.T) {
	var order []string
	w := &Workload{Name: "w",
		Setup: func(_ context.Context, t Target, _ Config) error { order = append(order, t.Name()); return nil },
		Op:    func(context.Context, Target, *worker) (int, error) { return 1, nil },
	}
	targets := []Target{fakeTarget{"a"}, fakeTarget{"b"}, fakeTarget{"c"}}
	results, err := Run(context.Background(), Config{Rounds: 3, Clients: 1, Duration: time.Millisecond}, []*Workload{w}, targets)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(order, ""), "abcbcacab"; got != want {
		t.Errorf("targets ran in order %s, want %s", got, want)
	}
	if len(results) != 9 {
		t.Fatalf("%d results, want 9", len(results))
	}
	for i, r := range results {
		if r.Round != i/3 || r.Target != order[i] {
			t.Errorf("result %d: round %d target %s, want round %d target %s", i, r.Round, r.Target, i/3, order[i])
		}
	}
}
