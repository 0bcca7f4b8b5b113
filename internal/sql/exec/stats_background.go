package exec

import (
	"context"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/util/procs"
)

// Background statistics. A node refreshes statistics off the request
// path: the statement whose commit finds the flush interval elapsed only
// hands the written tables to one background goroutine (at most one runs;
// tables written meanwhile wait for the next flush) and returns. The
// goroutine scans each table in a transaction of its own, paced to at most
// StatsRowsPerSecond entries per second, so a refresh of a large table
// takes a bounded share of the CPU and the disk instead of one request's
// latency.

// DefaultStatsRowsPerSecond is the pace of background refreshes.
const DefaultStatsRowsPerSecond = 200_000

// statsPaceEvery is how many entries a refresh reads between two looks
// at its pace.
const statsPaceEvery = 1024

// statsRefreshTimeout bounds one background round.
const statsRefreshTimeout = 5 * time.Minute

type statsBackground struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// rowsPerSecond paces the scans; sleep waits (replaced in tests).
	rowsPerSecond int64
	sleep         func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	running bool
	closed  bool
}

// Background makes MaybeFlush hand refreshes to a background goroutine
// paced to rowsPerSecond entries per second (<= 0: the default). Call it
// before use; Close stops the goroutine.
func (s *Stats) Background(rowsPerSecond int64) {
	if rowsPerSecond <= 0 {
		rowsPerSecond = DefaultStatsRowsPerSecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.bg = &statsBackground{ctx: ctx, cancel: cancel, rowsPerSecond: rowsPerSecond, sleep: sleepCtx}
}

// Close stops a background refresh and waits for it.
func (s *Stats) Close() {
	if s == nil || s.bg == nil {
		return
	}
	s.bg.mu.Lock()
	s.bg.closed = true
	s.bg.mu.Unlock()
	s.bg.cancel()
	s.bg.wg.Wait()
}

// WaitIdle waits until no background refresh runs (tests).
func (s *Stats) WaitIdle() {
	if s != nil && s.bg != nil {
		s.bg.wg.Wait()
	}
}

// start claims the one background slot; false when taken or closed.
func (b *statsBackground) start() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running || b.closed {
		return false
	}
	b.running = true
	b.wg.Add(1)
	return true
}

func (b *statsBackground) run(s *Stats, dirty map[statsTable]string) {
	defer b.wg.Done()
	defer func() {
		b.mu.Lock()
		b.running = false
		b.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(b.ctx, statsRefreshTimeout)
	defer cancel()
	// The scans want a core of their own: a node narrowed to one P for a
	// lone client widens while they run (util/procs).
	defer procs.Hold()()
	_ = s.refreshAll(ctx, dirty) // advisory: failed tables stay dirty
}

// pacer returns the pace of one table's scan: after n entries it sleeps
// until n / rowsPerSecond seconds have passed since the scan started.
func (b *statsBackground) pacer() func(rows int64) error {
	start := time.Now()
	return func(rows int64) error {
		due := time.Duration(float64(rows) / float64(b.rowsPerSecond) * float64(time.Second))
		if ahead := due - time.Since(start); ahead > 0 {
			return b.sleep(b.ctx, ahead)
		}
		return b.ctx.Err()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
