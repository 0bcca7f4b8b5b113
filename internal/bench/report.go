package bench

import (
	"cmp"
	"fmt"
	"io"
	"slices"
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
//
// With several rounds (Config.Rounds) a row shows the target's median
// round by throughput (for an even number of rounds, the lower of the two
// middle ones), and the ratio is the median of the per-round ratios (each
// round's figure over the reference's in the same round) followed by
// their range.
func WriteMarkdown(w io.Writer, results []Result) {
	fmt.Fprintln(w, "| workload | system | clients | throughput | p50 | p95 | p99 | retried | vs PostgreSQL |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, wl := range order(results, func(r Result) string { return r.Workload }) {
		of := func(target string) []Result {
			var rs []Result
			for _, r := range results {
				if r.Workload == wl && r.Target == target {
					rs = append(rs, r)
				}
			}
			return rs
		}
		ref := of(ReferenceTarget)
		for _, target := range order(results, func(r Result) string { return r.Target }) {
			rs := of(target)
			if len(rs) == 0 {
				continue
			}
			m := medianRound(rs)
			ratio := "—"
			if len(ref) > 0 && target != ReferenceTarget {
				ratio = ratioText(wl, rs, ref)
			}
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n",
				wl, m.Target, m.Clients, throughput(m), ms(m.P50), ms(m.P95), ms(m.P99), retried(m), ratio)
		}
	}
}

// medianRound is the result of rs (one workload and target, any number of
// rounds) with the median throughput, the lower middle one of an even
// number.
func medianRound(rs []Result) Result {
	sorted := slices.Clone(rs)
	slices.SortStableFunc(sorted, func(a, b Result) int { return cmp.Compare(a.OpsPerSec(), b.OpsPerSec()) })
	return sorted[(len(sorted)-1)/2]
}

// ratioText compares rs with the reference's results ref, round by round:
// the median ratio, and with more than one round their range.
func ratioText(workload string, rs, ref []Result) string {
	var ratios []float64
	for _, r := range rs {
		for _, p := range ref {
			if p.Round != r.Round {
				continue
			}
			if timed(workload) {
				if p.Ops > 0 && r.Ops > 0 && perOp(p) > 0 {
					ratios = append(ratios, perOp(r).Seconds()/perOp(p).Seconds())
				}
			} else if p.OpsPerSec() > 0 {
				ratios = append(ratios, r.OpsPerSec()/p.OpsPerSec())
			}
		}
	}
	if len(ratios) == 0 {
		return "—"
	}
	slices.Sort(ratios)
	n := len(ratios)
	median := (ratios[(n-1)/2] + ratios[n/2]) / 2
	unit := "×"
	if timed(workload) {
		unit = "× the time"
	}
	if n == 1 {
		return fmt.Sprintf("%.2f%s", median, unit)
	}
	return fmt.Sprintf("%.2f%s (%.2f–%.2f)", median, unit, ratios[0], ratios[n-1])
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

// order lists the distinct keys of results in the order they first
// appear.
func order(results []Result, key func(Result) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range results {
		if k := key(r); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
