// Package bench runs the same workloads against CamusDB (HTTP API and
// pgwire) and any PostgreSQL, one system after the other on one machine,
// and prints one table: operations per second, latency percentiles and the
// ratio to PostgreSQL. camus-cli bench is its command line; every
// performance figure in the README comes from it (see docs/benchmarks.md).
package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a run.
type Config struct {
	Clients  int           // concurrent clients (default 16)
	Duration time.Duration // measured time per workload (default 15 s)
	Warmup   time.Duration // unmeasured time before (default 2 s)
	Rows     int           // rows of the point/YCSB table (default 100 000)
	ScanRows int           // rows of the scan and bulk tables (default 1 000 000)
	// TPCBScale is the tpcb workload's scale, as pgbench's -s (default 10):
	// branches; ten tellers and 100 000 accounts per branch.
	TPCBScale int
	Seed      uint64
	// Settle, when > 0, waits before each target (at most this long) until
	// the machine's CPUs were under 10% busy for a second, so that what an
	// earlier target left running (a node's compactions after a load) does
	// not slow the next one. Linux only; elsewhere it does not wait.
	Settle time.Duration
	// Rounds (default 1) repeats the whole run: each round runs every
	// target, starting with a different one each time (round r starts
	// with target r mod the number of targets), so that no system is
	// always the one to find the machine freshest. The report
	// shows each system's median round and the range of the per-round
	// ratios (WriteMarkdown).
	Rounds int
	// Progress receives one line per step (setup, run); nil: none.
	Progress io.Writer
}

func (c Config) withDefaults() Config {
	if c.Clients <= 0 {
		c.Clients = 16
	}
	if c.Duration <= 0 {
		c.Duration = 15 * time.Second
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.Rows <= 0 {
		c.Rows = 100_000
	}
	if c.ScanRows <= 0 {
		c.ScanRows = 1_000_000
	}
	if c.TPCBScale <= 0 {
		c.TPCBScale = 10
	}
	if c.Seed == 0 {
		c.Seed = rand.Uint64()
	}
	if c.Rounds < 1 {
		c.Rounds = 1
	}
	return c
}

// Result is one workload on one target.
type Result struct {
	Workload, Target string
	Round            int // 0-based (Config.Rounds)
	Clients          int
	Ops              int64         // measured operations (bulk: rows loaded)
	Elapsed          time.Duration // measured time
	Errors           int64         // failed operations (not counted in Ops)
	Attempts         int64         // transaction attempts (retries = Attempts - Ops)
	P50, P95, P99    time.Duration
	FirstError       string
}

// OpsPerSec is the throughput.
func (r Result) OpsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// RetryRate is the fraction of transaction attempts that were retries.
func (r Result) RetryRate() float64 {
	if r.Attempts == 0 {
		return 0
	}
	return float64(r.Attempts-r.Ops) / float64(r.Attempts)
}

// Run runs every workload against every target, Config.Rounds times. A
// target runs all its workloads before the next target starts, so the
// systems never compete for the machine; each round starts with the next
// target in turn.
func Run(ctx context.Context, cfg Config, workloads []*Workload, targets []Target) ([]Result, error) {
	cfg = cfg.withDefaults()
	var out []Result
	for round := range cfg.Rounds {
		for i := range targets {
			t := targets[(i+round)%len(targets)]
			name := t.Name()
			if cfg.Rounds > 1 {
				name = fmt.Sprintf("round %d/%d: %s", round+1, cfg.Rounds, name)
			}
			rs, err := runTarget(ctx, cfg, name, workloads, t)
			for _, r := range rs {
				r.Round = round
				out = append(out, r)
			}
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// runTarget runs every workload on t (name labels its progress lines).
func runTarget(ctx context.Context, cfg Config, name string, workloads []*Workload, t Target) ([]Result, error) {
	if cfg.Settle > 0 {
		progress(cfg, "%s: waiting up to %v for a quiet machine", name, cfg.Settle)
		waited, quiet := settle(ctx, cfg.Settle, settleWindow, procStat)
		if quiet {
			progress(cfg, "%s: quiet after %v", name, waited.Round(100*time.Millisecond))
		} else {
			progress(cfg, "%s: still busy after %v; measuring anyway", name, waited.Round(time.Second))
		}
	}
	var out []Result
	for _, w := range workloads {
		progress(cfg, "%s: %s: setting up", name, w.Name)
		if err := w.Setup(ctx, t, cfg); err != nil {
			return out, fmt.Errorf("bench: %s on %s: setup: %w", w.Name, t.Name(), err)
		}
		var r Result
		var err error
		if w.Load != nil {
			progress(cfg, "%s: %s: loading %d rows", name, w.Name, cfg.ScanRows)
			start := time.Now()
			err = w.Load(ctx, t, cfg)
			r = Result{Ops: int64(cfg.ScanRows), Elapsed: time.Since(start), Clients: 2}
		} else {
			progress(cfg, "%s: %s: running", name, w.Name)
			r, err = runOps(ctx, cfg, w, t)
		}
		if err != nil {
			return out, fmt.Errorf("bench: %s on %s: %w", w.Name, t.Name(), err)
		}
		if w.Check != nil {
			if err := w.Check(ctx, t, cfg); err != nil {
				return out, fmt.Errorf("bench: %s on %s: consistency check: %w", w.Name, t.Name(), err)
			}
		}
		r.Workload, r.Target = w.Name, t.Name()
		progress(cfg, "%s: %s: %s, p50 %s", name, w.Name, throughput(r), ms(r.P50))
		out = append(out, r)
	}
	return out, nil
}

func progress(cfg Config, format string, args ...any) {
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, format+"\n", args...)
	}
}

// runOps runs w's operation on its clients: warm-up, then the measured
// window. Latencies are those of whole operations (transactions with their
// retries).
func runOps(ctx context.Context, cfg Config, w *Workload, t Target) (Result, error) {
	clients := cfg.Clients
	if w.Clients > 0 {
		clients = w.Clients
	}
	var measuring atomic.Bool
	var ops, errs, attempts atomic.Int64
	var firstErr atomic.Pointer[string]
	stop := make(chan struct{})
	lat := make([][]time.Duration, clients)
	var next atomic.Int64
	next.Store(1 << 40) // above every preloaded key
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := &worker{rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i))), cfg: cfg, next: &next}
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				n, err := w.Op(ctx, t, wk)
				d := time.Since(start)
				if !measuring.Load() {
					continue
				}
				if err != nil {
					errs.Add(1)
					msg := err.Error()
					firstErr.CompareAndSwap(nil, &msg)
					continue
				}
				ops.Add(1)
				attempts.Add(int64(n))
				lat[i] = append(lat[i], d)
			}
		}()
	}
	sleep(ctx, cfg.Warmup)
	measuring.Store(true)
	start := time.Now()
	sleep(ctx, cfg.Duration)
	measuring.Store(false)
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := Result{Clients: clients, Ops: ops.Load(), Elapsed: elapsed, Errors: errs.Load(), Attempts: attempts.Load(),
		P50: percentile(all, 0.50), P95: percentile(all, 0.95), P99: percentile(all, 0.99)}
	if p := firstErr.Load(); p != nil {
		r.FirstError = *p
	}
	if r.Ops == 0 && r.Errors > 0 {
		return r, fmt.Errorf("every operation failed, first: %s", r.FirstError)
	}
	return r, ctx.Err()
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}
