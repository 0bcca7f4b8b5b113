package hlc

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// A persisted upper bound keeps the clock from ever going backwards across
// a restart. Before the clock hands out (or is forwarded to) a wall time at
// or above the bound last made durable, it persists a new bound a window
// ahead; a restarted node first reads the bound and starts its clock above
// it (or waits until physical time passes it, see WaitForBound), so no
// timestamp it gives out can fall below one given out before the crash,
// whatever the machine's clock did meanwhile.
//
// The new bound is persisted ahead of need: once the clock comes within
// half a window of the bound, one background goroutine persists the next
// one, so in steady state no caller of Now waits for the fsync (it used
// to cost a request an fsync every window, seconds on a busy disk). A
// caller waits only when the clock reaches the durable bound itself (a
// forward jump, or a renewal that has not finished).

// BoundPersister makes wallTime durable as the clock's upper bound.
type BoundPersister func(wallTime int64) error

// bound is the persisted-upper-bound state of a Clock.
type bound struct {
	mu        sync.Mutex   // serialises persist calls
	persisted atomic.Int64 // the durable bound; 0: none kept
	persist   BoundPersister
	window    int64
	onError   func(error)

	// renewing: a background renewal is running.
	renewing atomic.Bool
	bgMu     sync.Mutex // guards stopped and wg.Add
	stopped  bool       // StopBoundRenewal was called
	wg       sync.WaitGroup
}

// PersistUpperBound makes the clock keep a durable upper bound on every
// wall time it hands out or is forwarded to: whenever the clock reaches
// the bound, persist is called (synchronously, before the timestamp is
// returned) with a new bound window ahead. current is the bound already
// durable. A persist failure is reported to onError (the node must stop:
// the clock can no longer promise monotonicity across a restart) and
// retried at the next timestamp.
func (c *Clock) PersistUpperBound(persist BoundPersister, window time.Duration, current int64, onError func(error)) {
	c.bound.persist, c.bound.window, c.bound.onError = persist, int64(window), onError
	c.bound.persisted.Store(current)
	c.ensureBound(max(c.Peek().WallTime, c.wall()))
}

// UpperBound is the durable upper bound (0 when none is kept).
func (c *Clock) UpperBound() int64 { return c.bound.persisted.Load() }

// ensureBound persists a new bound when wall reached the current one, and
// starts a background renewal when wall is within half a window of it.
func (c *Clock) ensureBound(wall int64) {
	b := &c.bound
	if b.persist == nil {
		return
	}
	p := b.persisted.Load()
	if wall < p-b.window/2 {
		return
	}
	if wall < p {
		b.renewAhead(wall)
		return
	}
	b.persistFrom(wall, 0)
}

// renewAhead persists the next bound on a goroutine of its own, unless one
// is already doing so or renewals were stopped.
func (b *bound) renewAhead(wall int64) {
	if !b.renewing.CompareAndSwap(false, true) {
		return
	}
	b.bgMu.Lock()
	if b.stopped {
		b.bgMu.Unlock()
		b.renewing.Store(false)
		return
	}
	b.wg.Add(1)
	b.bgMu.Unlock()
	go func() {
		defer b.wg.Done()
		defer b.renewing.Store(false)
		b.persistFrom(wall, b.window/2)
	}()
}

// StopBoundRenewal waits for a background renewal in progress and starts
// no more (call it before closing what the persister writes to); a clock
// that reaches its bound afterwards still persists synchronously.
func (c *Clock) StopBoundRenewal() {
	b := &c.bound
	b.bgMu.Lock()
	b.stopped = true
	b.bgMu.Unlock()
	b.wg.Wait()
}

// persistFrom persists wall + window as the bound unless the durable one
// is already more than slack above wall.
func (b *bound) persistFrom(wall, slack int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if wall < b.persisted.Load()-slack {
		return // another caller persisted meanwhile
	}
	next := wall + b.window
	if err := b.persist(next); err != nil {
		if b.onError != nil {
			b.onError(fmt.Errorf("hlc: persisting the clock's upper bound: %w", err))
		}
		return
	}
	b.persisted.Store(next)
}

// WaitForBound blocks until the wall clock reads above bound, so that a
// node whose clock is behind what it handed out before a restart does not
// hand out smaller timestamps. It returns how long it waited, or early
// with done's error.
func WaitForBound(wall WallClock, bound int64, done <-chan struct{}) (time.Duration, error) {
	if wall == nil {
		wall = UnixNano
	}
	var waited time.Duration
	for {
		now := wall()
		if now > bound {
			return waited, nil
		}
		// Re-read the clock at least every 50 ms: it may jump.
		d := min(time.Duration(bound-now)+time.Millisecond, 50*time.Millisecond)
		t := time.NewTimer(d)
		select {
		case <-t.C:
			waited += d
		case <-done:
			t.Stop()
			return waited, fmt.Errorf("hlc: stopped while waiting for the clock to pass its persisted bound")
		}
	}
}
