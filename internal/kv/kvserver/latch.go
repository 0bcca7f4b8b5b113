package kvserver

import (
	"context"
	"sync"
)

// latchSpan is a span of partition-local latch keys. end == "" means the
// single key start.
type latchSpan struct {
	start, end string
	write      bool
}

func (a latchSpan) overlaps(b latchSpan) bool {
	aEnd, bEnd := a.end, b.end
	if aEnd == "" {
		aEnd = a.start + "\x00"
	}
	if bEnd == "" {
		bEnd = b.start + "\x00"
	}
	return a.start < bEnd && b.start < aEnd
}

// latchGroup is the set of latches one request holds.
type latchGroup struct {
	spans []latchSpan
	done  chan struct{}
}

// latchManager serialises conflicting requests on one partition: a write
// latch excludes every overlapping latch, read latches share. A request
// takes all its latches at once (no hold-and-wait), so latches cannot
// deadlock. Write latches are held from evaluation until the proposed
// command is applied, so a later reader or validator sees its effect.
type latchManager struct {
	mu   sync.Mutex
	held map[*latchGroup]struct{} // guarded by mu
}

func newLatchManager() *latchManager {
	return &latchManager{held: make(map[*latchGroup]struct{})}
}

func (m *latchManager) acquire(ctx context.Context, spans []latchSpan) (*latchGroup, error) {
	g := &latchGroup{spans: spans, done: make(chan struct{})}
	for {
		m.mu.Lock()
		blocker := m.conflictLocked(g)
		if blocker == nil {
			m.held[g] = struct{}{}
			m.mu.Unlock()
			return g, nil
		}
		m.mu.Unlock()
		select {
		case <-blocker.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (m *latchManager) conflictLocked(g *latchGroup) *latchGroup {
	for other := range m.held {
		for _, a := range g.spans {
			for _, b := range other.spans {
				if (a.write || b.write) && a.overlaps(b) {
					return other
				}
			}
		}
	}
	return nil
}

func (m *latchManager) release(g *latchGroup) {
	m.mu.Lock()
	delete(m.held, g)
	m.mu.Unlock()
	close(g.done)
}
