// Package procs sizes the Go scheduler to the node's load: one P while the
// node serves at most one request at a time, all of them otherwise.
//
// Why. With idle Ps, every goroutine hand-off (a session handing its
// proposal to the Raft driver, the driver handing its batch to the WAL
// writer, and back) makes the runtime wake another OS thread to look for
// work (wakep): a futex call on the waker's path and a thread that spins
// on a core before it sleeps again. A lone client's insert passes through
// five such hand-offs; on the reference VM (2 vCPUs, client on the same
// machine) the execution tracer put its session segment at 64-73 µs with
// the default Ps and 31-39 µs with one, and the whole insert's median went
// from 0.34-0.40 ms to 0.28-0.31 ms over pgwire (interleaved runs). One P
// is no good under concurrency (16 clients: half the throughput), so the
// governor switches: it widens at once when a second request becomes
// active or background work starts, and narrows again once the node has
// been quiet for a while.
//
// What counts. Enter/Exit bracket a request: a SQL statement, a kv request
// served for another node. Hold/Release bracket work that needs the cores
// by itself: a parallel scan, a Pebble flush or compaction, a statistics
// refresh, an MVCC GC round. As a safety net, a narrow node that keeps
// seeing goroutines wait long to run (the runtime's scheduling-latency
// histogram, two ticks in a row) widens too.
//
// The package-level functions are no-ops until Start installs a governor,
// which only `camusdb start` does (and not when GOMAXPROCS is set): tests
// and embedded nodes keep the runtime's own setting.
package procs

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultTick  = 100 * time.Millisecond
	DefaultQuiet = 500 * time.Millisecond
	// DefaultWaitLimit is the scheduling latency that, seen by a narrow
	// node in waitTicks ticks in a row, means goroutines queue behind work
	// the governor does not know of.
	DefaultWaitLimit = 2 * time.Millisecond
)

// waitTicks is how many ticks in a row must see long waits. One is not
// enough: a garbage collection's mark phase on the single P delays
// goroutines by a few milliseconds every few seconds, and is over before
// the tick could widen for it.
const waitTicks = 2

// Config configures a Governor.
type Config struct {
	// Wide is the number of Ps under load.
	Wide int
	// Tick is how often the governor looks at the load; Quiet is how long
	// the node must have had at most one request and no held work before
	// it narrows.
	Tick, Quiet time.Duration
	// WaitLimit: a narrow node widens when goroutines waited longer than
	// this to run in waitTicks ticks in a row (0: DefaultWaitLimit).
	WaitLimit time.Duration
	// SetProcs sets the number of Ps (runtime.GOMAXPROCS; tests record).
	SetProcs func(int)
	// Waited reports whether a goroutine waited more than the limit to run
	// since the last call (nil: the runtime's scheduling-latency metric).
	Waited func(limit time.Duration) bool
}

// Governor is the controller; see the package comment.
type Governor struct {
	cfg Config

	active atomic.Int64 // requests between Enter and Exit
	peak   atomic.Int64 // highest active since the last tick
	holds  atomic.Int64 // Hold without Release
	narrow atomic.Bool
	kick   chan struct{}

	// quiet is how long the load has allowed narrowing, waits the narrow
	// ticks in a row that saw long scheduling waits (the loop only).
	quiet time.Duration
	waits int

	narrowings atomic.Int64
	widenings  [numReasons]atomic.Int64 // by reason

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// New returns a governor running wide; Run (or Start) drives it.
func New(cfg Config) *Governor {
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultTick
	}
	if cfg.Quiet <= 0 {
		cfg.Quiet = DefaultQuiet
	}
	if cfg.WaitLimit <= 0 {
		cfg.WaitLimit = DefaultWaitLimit
	}
	if cfg.SetProcs == nil {
		cfg.SetProcs = func(n int) { runtime.GOMAXPROCS(n) }
	}
	if cfg.Waited == nil {
		cfg.Waited = newLatencyWatch().waited
	}
	return &Governor{
		cfg:  cfg,
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
}

// Enter records the start of a request. A second concurrent request
// widens a narrow node.
func (g *Governor) Enter() {
	n := g.active.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if n >= 2 && g.narrow.Load() {
		g.wake()
	}
}

// Exit records the end of a request begun with Enter.
func (g *Governor) Exit() { g.active.Add(-1) }

// Hold keeps the node wide until the matching Release.
func (g *Governor) Hold() {
	g.holds.Add(1)
	if g.narrow.Load() {
		g.wake()
	}
}

// Release ends a Hold.
func (g *Governor) Release() { g.holds.Add(-1) }

func (g *Governor) wake() {
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// Narrow reports whether the node runs on one P.
func (g *Governor) Narrow() bool { return g.narrow.Load() }

// Reason is why a narrow node widened.
type Reason int

// The reasons, in Stats.Widenings.
const (
	// Requests: a second request became active.
	Requests Reason = iota
	// Held: a parallel scan, flush or compaction started (Hold).
	Held
	// Waiting: goroutines waited longer than the limit to run.
	Waiting
	numReasons
)

// String names the reason as the metrics label does.
func (r Reason) String() string {
	switch r {
	case Requests:
		return "requests"
	case Held:
		return "background"
	case Waiting:
		return "waiting"
	}
	return "unknown"
}

// Stats is what the governor has done.
type Stats struct {
	Narrow     bool
	Narrowings int64
	// Widenings counts the switches back to all Ps, by Reason.
	Widenings [numReasons]int64
}

// Stats returns the governor's counters.
func (g *Governor) Stats() Stats {
	st := Stats{Narrow: g.narrow.Load(), Narrowings: g.narrowings.Load()}
	for i := range st.Widenings {
		st.Widenings[i] = g.widenings[i].Load()
	}
	return st
}

// TotalWidenings is the sum of Widenings.
func (st Stats) TotalWidenings() int64 {
	var n int64
	for _, w := range st.Widenings {
		n += w
	}
	return n
}

// Run drives the governor until Stop; it leaves the node wide.
func (g *Governor) Run() {
	defer close(g.done)
	t := time.NewTicker(g.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			if g.narrow.Load() {
				g.cfg.SetProcs(g.cfg.Wide)
				g.narrow.Store(false)
			}
			return
		case <-g.kick:
			g.onKick()
		case <-t.C:
			g.onTick()
		}
	}
}

// Stop ends Run and waits for it.
func (g *Governor) Stop() {
	g.stopOnce.Do(func() { close(g.stop) })
	<-g.done
}

// onKick widens a narrow node whose load asks for it (a second request, a
// hold).
func (g *Governor) onKick() {
	if !g.narrow.Load() {
		return
	}
	switch {
	case g.active.Load() >= 2:
		g.widen(Requests)
	case g.holds.Load() > 0:
		g.widen(Held)
	}
}

// onTick looks at the load since the last tick.
func (g *Governor) onTick() {
	peak := g.peak.Swap(g.active.Load())
	held := g.holds.Load() > 0
	if g.narrow.Load() {
		// A kick may have been missed (the request ended before the loop
		// ran); the tick's view of the whole interval catches it. So does
		// a goroutine that queued behind another for too long: work this
		// package does not know of.
		if g.cfg.Waited(g.cfg.WaitLimit) {
			g.waits++
		} else {
			g.waits = 0
		}
		switch {
		case peak >= 2:
			g.widen(Requests)
		case held:
			g.widen(Held)
		case g.waits >= waitTicks:
			g.widen(Waiting)
		}
		return
	}
	if peak <= 1 && !held {
		g.quiet += g.cfg.Tick
	} else {
		g.quiet = 0
	}
	if g.quiet >= g.cfg.Quiet {
		g.cfg.Waited(g.cfg.WaitLimit) // start the narrow period's window afresh
		g.cfg.SetProcs(1)
		g.narrow.Store(true)
		g.narrowings.Add(1)
	}
}

func (g *Governor) widen(why Reason) {
	g.cfg.SetProcs(g.cfg.Wide)
	g.narrow.Store(false)
	g.quiet, g.waits = 0, 0
	g.widenings[why].Add(1)
}

// latencyWatch reads the runtime's scheduling-latency histogram (how long
// goroutines waited between becoming runnable and running) and reports
// whether any wait above a limit happened since the last read.
type latencyWatch struct {
	sample []metrics.Sample
	last   []uint64 // bucket counts at the last read
}

const schedLatencies = "/sched/latencies:seconds"

func newLatencyWatch() *latencyWatch {
	return &latencyWatch{sample: []metrics.Sample{{Name: schedLatencies}}}
}

func (w *latencyWatch) waited(limit time.Duration) bool {
	metrics.Read(w.sample)
	if w.sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return false
	}
	h := w.sample[0].Value.Float64Histogram()
	over := false
	if len(w.last) == len(h.Counts) {
		for i, c := range h.Counts {
			// Bucket i spans [Buckets[i], Buckets[i+1]).
			if h.Buckets[i] >= limit.Seconds() && c > w.last[i] {
				over = true
				break
			}
		}
	}
	w.last = append(w.last[:0], h.Counts...)
	return over
}

// The process's governor, if started.
var current atomic.Pointer[Governor]

// Start installs and runs a governor for the process; Stop (the returned
// function) stops it and leaves the process wide.
func Start(cfg Config) (stop func()) {
	g := New(cfg)
	current.Store(g)
	go g.Run()
	return func() {
		current.CompareAndSwap(g, nil)
		g.Stop()
	}
}

// Current is the process's governor, or nil.
func Current() *Governor { return current.Load() }

// Enter calls Enter on the process's governor, if any.
func Enter() {
	if g := current.Load(); g != nil {
		g.Enter()
	}
}

// Exit calls Exit on the process's governor, if any.
func Exit() {
	if g := current.Load(); g != nil {
		g.Exit()
	}
}

// Hold calls Hold on the process's governor, if any, and returns the
// matching Release.
func Hold() (release func()) {
	g := current.Load()
	if g == nil {
		return func() {}
	}
	g.Hold()
	return g.Release
}
