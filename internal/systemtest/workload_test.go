package systemtest

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var workloadSummaryLine = regexp.MustCompile(`bank summary: (\d+) txns in [\d.]+s, [\d.]+ txn/s, latency p50 [\d.]+ms p95 [\d.]+ms p99 [\d.]+ms max [\d.]+ms, retries \d+, errors \d+`)

// TestWorkloadBankWithTheRealBinaries runs camus-cli workload init + a short
// bank run against a real node, then breaks the total through SQL and
// checks that verification fails with a non-zero exit.
func TestWorkloadBankWithTheRealBinaries(t *testing.T) {
	n := startNode(t, filepath.Join(t.TempDir(), "data"), "--initial-cluster-partitions", "4")
	if out, errOut, code := n.cli("", "workload", "init", "bank", "--rows", "200"); code != 0 ||
		!strings.Contains(out, "initialized database bank") || !strings.Contains(errOut, "200/200") {
		t.Fatalf("init: %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code := n.cli("", "workload", "run", "bank", "--duration", "2", "--concurrency", "4")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	m := workloadSummaryLine.FindStringSubmatch(out)
	if m == nil || m[1] == "0" || !strings.Contains(out, "total balance 200000") || !strings.Contains(out, "txn/s") {
		t.Fatalf("run output:\n%s", out)
	}

	if _, errOut, code := n.cli("", "bank", "-e", "UPDATE accounts SET balance = balance + 5 WHERE id = 17"); code != 0 {
		t.Fatal(errOut)
	}
	out, errOut, code = n.cli("", "workload", "run", "bank", "--verify-only")
	if code == 0 || !strings.Contains(errOut, "total balance 200005") {
		t.Fatalf("verify-only on a broken total: exit %d\n%s\n%s", code, out, errOut)
	}
}
