package cli

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWorkloadHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h workloadHistogram
	var exact []time.Duration
	for range 20000 {
		// Log-uniform from 1µs to ~1s.
		d := time.Duration(float64(time.Microsecond) * math.Pow(10, rng.Float64()*6))
		h.record(d)
		exact = append(exact, d)
	}
	slices.Sort(exact)
	for _, q := range []float64{0.5, 0.95, 0.99, 1} {
		want := exact[int(q*float64(len(exact)))-1]
		got := h.quantile(q)
		if got < want-time.Microsecond || float64(got) > float64(want)*1.07+float64(time.Microsecond) {
			t.Errorf("p%v: got %v, exact %v", q*100, got, want)
		}
	}
	var merged, empty workloadHistogram
	if empty.quantile(0.5) != 0 {
		t.Error("empty histogram has a median")
	}
	merged.merge(&h)
	merged.merge(&empty)
	if merged.n != h.n || merged.quantile(0.99) != h.quantile(0.99) || merged.max != exact[len(exact)-1] {
		t.Error("merge lost counts")
	}
	// Every bucket's upper edge maps back to the bucket.
	for i := range workloadHistIndex(time.Hour) {
		if up := workloadHistUpper(i); workloadHistIndex(up) != i || workloadHistIndex(up+time.Microsecond) != i+1 {
			t.Fatalf("bucket %d: upper %v maps to %d, next to %d", i, up, workloadHistIndex(up), workloadHistIndex(up+time.Microsecond))
		}
	}
}

func TestWorkloadParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"3": 3 * time.Second, "0.5": 500 * time.Millisecond, "2s": 2 * time.Second, "1m": time.Minute} {
		if got, err := workloadParseDuration(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"0", "-1", "x", "-2s", ""} {
		if _, err := workloadParseDuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// workloadTestRun runs init and a short run of a workload on an in-process
// node and returns run's output.
func workloadTestRun(t *testing.T, url, name string, o WorkloadOptions) string {
	t.Helper()
	var out, stderr bytes.Buffer
	o.Name, o.Endpoints, o.Stdout, o.Stderr = name, []string{url}, &out, &stderr
	if err := RunWorkloadInit(context.Background(), o); err != nil {
		t.Fatalf("init %s: %v\n%s", name, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "100%") {
		t.Errorf("init showed no finished progress bar: %q", stderr.String())
	}
	out.Reset()
	o.Duration, o.Interval = 1500*time.Millisecond, 300*time.Millisecond
	if err := RunWorkloadRun(context.Background(), o); err != nil {
		t.Fatalf("run %s: %v\n%s\n%s", name, err, out.String(), stderr.String())
	}
	return out.String()
}

var workloadSummaryLine = regexp.MustCompile(`summary: (\d+) txns in [\d.]+s, [\d.]+ txn/s, latency p50 [\d.]+ms p95 [\d.]+ms p99 [\d.]+ms max [\d.]+ms, retries \d+, errors 0\n`)

func TestWorkloadBankRunsAndDetectsABrokenTotal(t *testing.T) {
	checkShellLeaks(t)
	url, c := dumpTestNode(t, 4)
	out := workloadTestRun(t, url, "bank", WorkloadOptions{Rows: 50, Concurrency: 4, Seed: 7})
	m := workloadSummaryLine.FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Fatalf("no summary with committed transactions:\n%s", out)
	}
	if strings.Count(out, "\n") < 5 || !strings.Contains(out, "total balance 50000 (expected 50 accounts, 50000)") ||
		!strings.Contains(out, ": OK\n") {
		t.Fatalf("missing live lines or verification:\n%s", out)
	}
	// The transfers moved money: the run did write.
	if got := dumpRows(t, c, "bank", "SELECT COUNT(*) FROM accounts WHERE balance != 1000"); got[0] == `int64:"0"` {
		t.Fatal("no balance changed")
	}

	// Tamper with one balance: verification fails with the invariant code,
	// with or without a run.
	dumpExec(t, c, "bank", "UPDATE accounts SET balance = balance + 1 WHERE id = 3")
	for _, verifyOnly := range []bool{true, false} {
		var stdout, stderr bytes.Buffer
		err := RunWorkloadRun(context.Background(), WorkloadOptions{
			Name: "bank", Endpoints: []string{url}, VerifyOnly: verifyOnly, Duration: 300 * time.Millisecond,
			Concurrency: 2, Stdout: &stdout, Stderr: &stderr,
		})
		if ShellExitCode(err) != WorkloadExitInvariant || !strings.Contains(stderr.String(), "invariant violated") {
			t.Fatalf("verify-only=%v on a broken total: %v\n%s", verifyOnly, err, stderr.String())
		}
	}
	// Deleting an account is caught too (count and total).
	dumpExec(t, c, "bank", "UPDATE accounts SET balance = balance - 1 WHERE id = 3", "DELETE FROM accounts WHERE id = 4")
	err := RunWorkloadRun(context.Background(), WorkloadOptions{Name: "bank", Endpoints: []string{url}, VerifyOnly: true,
		Stdout: new(bytes.Buffer), Stderr: new(bytes.Buffer)})
	if ShellExitCode(err) != WorkloadExitInvariant {
		t.Fatalf("deleted account: %v", err)
	}
}

func TestWorkloadNorthwindRuns(t *testing.T) {
	checkShellLeaks(t)
	url, c := dumpTestNode(t, 2)
	out := workloadTestRun(t, url, "northwind", WorkloadOptions{Rows: 100, Concurrency: 4, Database: "nw", Seed: 3})
	if m := workloadSummaryLine.FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Fatalf("no summary with committed transactions:\n%s", out)
	}
	if !strings.Contains(out, "(expected 10 products, 10000000)") || !strings.Contains(out, ": OK\n") {
		t.Fatalf("verification missing:\n%s", out)
	}
	if got := dumpRows(t, c, "nw", "SELECT COUNT(*) FROM orders"); got[0] == `int64:"100"` {
		t.Fatal("the run placed no order")
	}
	dumpExec(t, c, "nw", "UPDATE products SET stock = stock - 1 WHERE id = 0")
	err := RunWorkloadRun(context.Background(), WorkloadOptions{Name: "northwind", Database: "nw", Endpoints: []string{url},
		VerifyOnly: true, Stdout: new(bytes.Buffer), Stderr: new(bytes.Buffer)})
	if ShellExitCode(err) != WorkloadExitInvariant {
		t.Fatalf("broken stock: %v", err)
	}
}

func TestWorkloadCommandFlagsAndErrors(t *testing.T) {
	checkShellLeaks(t)
	url, _ := dumpTestNode(t, 1)
	run := func(args ...string) (string, string, int) {
		root := NewShellCommand()
		AddWorkloadCommand(root)
		var out, errb bytes.Buffer
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&errb)
		root.SetIn(strings.NewReader(""))
		code := ShellExitCode(root.Execute())
		return out.String(), errb.String(), code
	}
	// Connection flags before or after the subcommand; run before init
	// fails clearly; unknown workloads and bad durations are usage errors.
	if out, errOut, code := run("workload", "run", "bank", "--url", url, "--verify-only"); code != ShellExitFailed || !strings.Contains(errOut, "workload init") {
		t.Fatalf("run before init: %d %q %q", code, out, errOut)
	}
	if _, errOut, code := run("workload", "--url", url, "init", "bank", "--rows", "20", "-d", "b2"); code != 0 {
		t.Fatalf("init: %d %q", code, errOut)
	}
	if out, errOut, code := run("workload", "run", "bank", "-c", "Endpoint="+url+";Database=b2", "--duration", "0.3", "--concurrency", "2"); code != 0 ||
		!strings.Contains(out, "total balance 20000") {
		t.Fatalf("run: %d %q %q", code, out, errOut)
	}
	for _, args := range [][]string{
		{"workload", "init", "tpcc", "--url", url},
		{"workload", "run", "bank", "--url", url, "--duration", "soon"},
		{"workload", "run", "--url", url},
	} {
		if _, _, code := run(args...); code != ShellExitFailed {
			t.Errorf("%v: exit %d, want %d", args, code, ShellExitFailed)
		}
	}
	if _, _, code := run("workload", "run", "bank", "--url", "http://127.0.0.1:1"); code != ShellExitUnreachable {
		t.Errorf("unreachable: exit %d", code)
	}
	// The shell still takes a positional database.
	if out, errOut, code := run("--url", url, "b2", "-e", "SELECT COUNT(*) FROM accounts"); code != 0 || !strings.Contains(out, "20") {
		t.Fatalf("shell after adding workload: %d %q %q", code, out, errOut)
	}
}
