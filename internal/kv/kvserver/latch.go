package kvserver

import (
	"context"
	"strings"
	"sync"

	"github.com/RaduBerinde/btreemap"
)

// latchSpan is a span of partition-local latch keys. end == "" means the
// single key start.
type latchSpan struct {
	start, end string
	write      bool
}

func (a latchSpan) isPoint() bool { return a.end == "" }

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

// pointHolder is one group's latch on a single key.
type pointHolder struct {
	group *latchGroup
	write bool
}

// latchManager serialises conflicting requests on one partition: a write
// latch excludes every overlapping latch, read latches share. A request
// takes all its latches at once (no hold-and-wait), so latches cannot
// deadlock. Write latches are held from evaluation until the proposed
// command is applied, so a later reader or validator sees its effect.
//
// Point latches (the common case) are indexed by key in order, so
// checking one is a lookup plus a look at the (few) range latches held,
// and checking a range visits only the point latches inside it (a large
// transaction's prepare or intent resolution may hold thousands while
// small scans come and go).
type latchManager struct {
	mu     sync.Mutex
	points *btreemap.BTreeMap[string, []pointHolder] // guarded by mu: point latches by key
	ranges map[*latchGroup][]latchSpan               // guarded by mu: groups' range latches
}

func newLatchManager() *latchManager {
	return &latchManager{points: btreemap.New[string, []pointHolder](16, strings.Compare), ranges: make(map[*latchGroup][]latchSpan)}
}

func (m *latchManager) acquire(ctx context.Context, spans []latchSpan) (*latchGroup, error) {
	g := &latchGroup{spans: spans, done: make(chan struct{})}
	for {
		m.mu.Lock()
		blocker := m.conflictLocked(g)
		if blocker == nil {
			m.insertLocked(g)
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

// conflictLocked returns a held group that conflicts with g, or nil.
func (m *latchManager) conflictLocked(g *latchGroup) *latchGroup {
	for _, a := range g.spans {
		// Against held range latches.
		for other, rs := range m.ranges {
			for _, b := range rs {
				if (a.write || b.write) && a.overlaps(b) {
					return other
				}
			}
		}
		// Against held point latches.
		if a.isPoint() {
			_, holders, _ := m.points.Get(a.start)
			for _, h := range holders {
				if a.write || h.write {
					return h.group
				}
			}
			continue
		}
		for _, holders := range m.points.Ascend(btreemap.GE(a.start), btreemap.LT(a.end)) {
			for _, h := range holders {
				if a.write || h.write {
					return h.group
				}
			}
		}
	}
	return nil
}

func (m *latchManager) insertLocked(g *latchGroup) {
	for _, s := range g.spans {
		if s.isPoint() {
			// One descent when the key is free (the common case).
			h := pointHolder{group: g, write: s.write}
			if _, holders, replaced := m.points.ReplaceOrInsert(s.start, []pointHolder{h}); replaced {
				m.points.ReplaceOrInsert(s.start, append(holders, h))
			}
		} else {
			m.ranges[g] = append(m.ranges[g], s)
		}
	}
}

func (m *latchManager) release(g *latchGroup) {
	m.mu.Lock()
	for _, s := range g.spans {
		if !s.isPoint() {
			continue
		}
		// One descent when g held the key alone (the common case).
		_, holders, _ := m.points.Delete(s.start)
		for i, h := range holders {
			if h.group == g {
				holders = append(holders[:i], holders[i+1:]...)
				break
			}
		}
		if len(holders) > 0 {
			m.points.ReplaceOrInsert(s.start, holders)
		}
	}
	delete(m.ranges, g)
	m.mu.Unlock()
	close(g.done)
}
