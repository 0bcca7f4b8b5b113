package bench

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"time"
)

// Waiting for a quiet machine between targets: a CamusDB node that has
// just loaded a million rows keeps compacting for a while, and on a
// machine shared by every system that work would slow the next target
// down (or PostgreSQL, in our favour). Config.Settle bounds the wait.

const (
	// settleWindow is how long the machine must stay quiet.
	settleWindow = time.Second
	// settleBusy is the share of CPU time above which it is not quiet.
	settleBusy = 0.10
)

// cpuSampler returns the machine's cumulative busy and total CPU time (in
// any unit); ok is false where it cannot tell.
type cpuSampler func() (busy, total uint64, ok bool)

// settle waits until the CPUs were busy less than settleBusy of one
// settleWindow, at most max. It reports how long it waited and whether
// the machine went quiet (true too when it cannot tell: nothing to wait
// for).
func settle(ctx context.Context, max, window time.Duration, sample cpuSampler) (time.Duration, bool) {
	start := time.Now()
	b0, t0, ok := sample()
	if !ok {
		return 0, true
	}
	for {
		timer := time.NewTimer(window)
		select {
		case <-ctx.Done():
			timer.Stop()
			return time.Since(start), false
		case <-timer.C:
		}
		b1, t1, ok := sample()
		if !ok {
			return time.Since(start), true
		}
		if t1 > t0 && float64(b1-b0) < settleBusy*float64(t1-t0) {
			return time.Since(start), true
		}
		if time.Since(start) >= max {
			return time.Since(start), false
		}
		b0, t0 = b1, t1
	}
}

// procStat reads the first line of /proc/stat (Linux): busy is every
// field but idle and iowait.
func procStat() (busy, total uint64, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, 0, false
	}
	return parseCPULine(line)
}

func parseCPULine(line string) (busy, total uint64, ok bool) {
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total, true
}
