package cli

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestBenchCommandAgainstANode runs every workload, tiny, against a real
// in-process node over HTTP and checks the table: one row per workload,
// no failed operations, and the scan workload's own check (the count of
// the loaded table) passed.
func TestBenchCommandAgainstANode(t *testing.T) {
	url, _ := dumpTestNode(t, 1)
	cmd := NewBenchCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs([]string{"--http", url, "--workloads", "all", "--clients", "2", "--duration", "300ms",
		"--warmup", "0s", "--rows", "200", "--scan-rows", "500", "--tpcb-scale", "1"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	table := out.String()
	for _, wl := range []string{"insert", "point", "bank", "tpcb", "scan", "bulk", "ycsb-a", "ycsb-b", "ycsb-c", "ycsb-e"} {
		if !strings.Contains(table, "| "+wl+" | camusdb-http |") {
			t.Errorf("no row for %s:\n%s", wl, table)
		}
	}
	if strings.Contains(table, "errors)") {
		t.Errorf("operations failed:\n%s", table)
	}
	if !strings.Contains(table, "per query") || !strings.Contains(table, "rows/s") {
		t.Errorf("scan/bulk rows missing their units:\n%s", table)
	}

	// --rounds: one row per system (its median round), and the footer says so.
	out.Reset()
	cmd = NewBenchCommand()
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs([]string{"--http", url, "--workloads", "point", "--clients", "2", "--duration", "100ms",
		"--warmup", "0s", "--rows", "100", "--rounds", "2"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("bench --rounds: %v\n%s", err, errOut.String())
	}
	if n := strings.Count(out.String(), "| point | camusdb-http |"); n != 1 || !strings.Contains(out.String(), "median of 2 rounds") {
		t.Errorf("--rounds 2: %d point rows, want 1, and a footer naming the rounds:\n%s", n, out.String())
	}
	if !strings.Contains(errOut.String(), "round 2/2: camusdb-http: point: running") {
		t.Errorf("--rounds 2: no progress line of the second round:\n%s", errOut.String())
	}
	if !regexp.MustCompile(`round 1/2: camusdb-http: point: [0-9,]+/s, p50 `).MatchString(errOut.String()) {
		t.Errorf("--rounds 2: no result line for round 1:\n%s", errOut.String())
	}

	cmd = NewBenchCommand()
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs([]string{"--http", url, "--workloads", "nope"})
	if err := cmd.Execute(); err == nil || !strings.Contains(errOut.String(), "unknown workload") {
		t.Fatalf("unknown workload: %v %s", err, errOut.String())
	}
}
