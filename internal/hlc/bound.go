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

// BoundPersister makes wallTime durable as the clock's upper bound.
type BoundPersister func(wallTime int64) error

// bound is the persisted-upper-bound state of a Clock.
type bound struct {
	mu        sync.Mutex   // serialises persist calls
	persisted atomic.Int64 // the durable bound; 0: none kept
	persist   BoundPersister
	window    int64
	onError   func(error)
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

// ensureBound persists a new bound when wall reached the current one.
func (c *Clock) ensureBound(wall int64) {
	b := &c.bound
	if b.persist == nil || wall < b.persisted.Load() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if wall < b.persisted.Load() {
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
