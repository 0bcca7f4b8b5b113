package cli

import (
	"math"
	"math/bits"
	"time"
)

// workloadHistogram records latencies in log-linear buckets: exact below
// 16µs, then 16 buckets per power of two, so a quantile is reported within
// 1/16 (6.25%) of the true value, in constant memory however long the run.
// It is not safe for concurrent use: each worker owns one and they are
// merged at the end.
type workloadHistogram struct {
	counts [workloadHistBuckets]uint64
	n      uint64
	max    time.Duration
}

const (
	workloadHistSub     = 16 // buckets per power of two
	workloadHistBuckets = workloadHistSub + (64-4)*workloadHistSub
)

func workloadHistIndex(d time.Duration) int {
	v := uint64(max(d, 0) / time.Microsecond)
	if v < workloadHistSub {
		return int(v)
	}
	exp := bits.Len64(v) - 1 // >= 4
	sub := (v >> (exp - 4)) & (workloadHistSub - 1)
	return workloadHistSub + (exp-4)*workloadHistSub + int(sub)
}

// workloadHistUpper is the largest latency recorded in bucket idx.
func workloadHistUpper(idx int) time.Duration {
	if idx < workloadHistSub {
		return time.Duration(idx) * time.Microsecond
	}
	exp := (idx-workloadHistSub)/workloadHistSub + 4
	sub := uint64((idx - workloadHistSub) % workloadHistSub)
	upper := (workloadHistSub+sub+1)<<(exp-4) - 1
	if upper > math.MaxInt64/uint64(time.Microsecond) {
		return math.MaxInt64
	}
	return time.Duration(upper) * time.Microsecond
}

func (h *workloadHistogram) record(d time.Duration) {
	h.counts[workloadHistIndex(d)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *workloadHistogram) merge(o *workloadHistogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the latency below which a fraction q of the recorded
// values lie (the upper edge of its bucket, capped by the maximum seen); 0
// when nothing was recorded.
func (h *workloadHistogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(workloadHistUpper(i), h.max)
		}
	}
	return h.max
}
