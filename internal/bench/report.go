package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// ReferenceTarget is the target name the ratio column compares with.
const ReferenceTarget = "postgresql"

// timed workloads are reported by time per run (lower is better), the
// others by operations per second.
func timed(workload string) bool { return workload == "scan" || workload == "bulk" }

// WriteMarkdown prints results as one markdown table: a row per workload
// and target, with the ratio to the reference target's figure of the same
// workload (throughput ratio, or time ratio for scan and bulk).
func WriteMarkdown(w io.Writer, results []Result) {
	ref := map[string]Result{}
	for _, r := range results {
		if r.Target == ReferenceTarget {
			ref[r.Workload] = r
		}
	}
	fmt.Fprintln(w, "| workload | system | clients | throughput | p50 | p95 | p99 | retried | vs PostgreSQL |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, wl := range order(results) {
		for _, r := range results {
			if r.Workload != wl {
				continue
			}
			ratio := "—"
			if p, ok := ref[wl]; ok && r.Target != ReferenceTarget {
				if timed(wl) {
					if p.Elapsed > 0 && r.Ops > 0 && p.Ops > 0 {
						ratio = fmt.Sprintf("%.2f× the time", perOp(r).Seconds()/perOp(p).Seconds())
					}
				} else if p.OpsPerSec() > 0 {
					ratio = fmt.Sprintf("%.2f×", r.OpsPerSec()/p.OpsPerSec())
				}
			}
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n",
				wl, r.Target, r.Clients, throughput(r), ms(r.P50), ms(r.P95), ms(r.P99), retried(r), ratio)
		}
	}
}

// perOp is the time of one scan query, or of the whole bulk load.
func perOp(r Result) time.Duration {
	if r.Workload == "bulk" {
		return r.Elapsed
	}
	if r.Ops == 0 {
		return 0
	}
	return r.Elapsed / time.Duration(r.Ops)
}

func throughput(r Result) string {
	switch {
	case r.Workload == "bulk":
		return fmt.Sprintf("%.1f s (%s rows/s)", r.Elapsed.Seconds(), thousands(r.OpsPerSec()))
	case r.Workload == "scan":
		return fmt.Sprintf("%s per query", ms(perOp(r)))
	}
	s := thousands(r.OpsPerSec()) + "/s"
	if r.Errors > 0 {
		s += fmt.Sprintf(" (%d errors)", r.Errors)
	}
	return s
}

func retried(r Result) string {
	if r.Attempts == 0 || r.Attempts == r.Ops {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*r.RetryRate())
}

func ms(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// thousands renders n rounded, with a thin separator: 40 795.
func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// order lists the workloads in the order they first appear.
func order(results []Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range results {
		if !seen[r.Workload] {
			seen[r.Workload] = true
			out = append(out, r.Workload)
		}
	}
	return out
}
