package kvserver

import (
	"context"
	"strings"
	"sync"

	"github.com/RaduBerinde/btreemap"

	"github.com/camusdb/camusdb-go/internal/hlc"
)

// latchSpan is a span of partition-local latch keys. end == "" means the
// single key start.
//
// ts, when set, bounds the versions the request touches: a read observes
// nothing above it (its read timestamp, or its uncertainty limit), a write
// lands at or above it (the lowest timestamp it may commit at). A read
// and a write then exclude each other only when the write may land at or
// below what the read observes: a long scan at t does not hold up writes
// above t, which it would not see anyway, and they do not hold it up. An
// unset ts conflicts with every overlapping latch of the other kind.
type latchSpan struct {
	start, end string
	write      bool
	ts         hlc.Timestamp
}

// latchesConflict reports whether two overlapping latches exclude each
// other: two writes always, two reads never, a read and a write unless
// both know their timestamps and the write's is above the read's.
func latchesConflict(aWrite bool, aTS hlc.Timestamp, bWrite bool, bTS hlc.Timestamp) bool {
	if aWrite == bWrite {
		return aWrite
	}
	read, write := aTS, bTS
	if aWrite {
		read, write = bTS, aTS
	}
	return read.IsEmpty() || write.IsEmpty() || write.LessEq(read)
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
	// one holds the span of a single-latch request (spans points to it).
	one [1]latchSpan
	// done is closed when the group is released; made (under the
	// manager's mu) only by a request that waits for it.
	done chan struct{}
}

// pointHolder is one group's latch on a single key.
type pointHolder struct {
	group *latchGroup
	write bool
	ts    hlc.Timestamp
}

// pointHolders are the latches held on one key: first (always set in
// the index), then more. Usually there is one, kept without a slice.
type pointHolders struct {
	first pointHolder
	more  []pointHolder
}

// conflict returns a holder's group that latch a on the key conflicts
// with, or nil.
func (hs *pointHolders) conflict(a latchSpan) *latchGroup {
	if hs.first.group != nil && (a.write || hs.first.write) && latchesConflict(a.write, a.ts, hs.first.write, hs.first.ts) {
		return hs.first.group
	}
	for _, h := range hs.more {
		if (a.write || h.write) && latchesConflict(a.write, a.ts, h.write, h.ts) {
			return h.group
		}
	}
	return nil
}

// remove removes one latch of g; it reports whether any holder is left.
func (hs *pointHolders) remove(g *latchGroup) bool {
	if hs.first.group == g {
		if len(hs.more) == 0 {
			hs.first = pointHolder{}
			return false
		}
		hs.first, hs.more = hs.more[0], hs.more[1:]
		return true
	}
	for i, h := range hs.more {
		if h.group == g {
			hs.more = append(hs.more[:i], hs.more[i+1:]...)
			break
		}
	}
	return true
}

// latchManager serialises conflicting requests on one partition: a write
// latch excludes every overlapping write latch and every overlapping read
// latch it may land under (latchSpan.ts), read latches share. A request
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
	points *btreemap.BTreeMap[string, pointHolders] // guarded by mu: point latches by key
	ranges map[*latchGroup][]latchSpan              // guarded by mu: groups' range latches
}

func newLatchManager() *latchManager {
	return &latchManager{points: btreemap.New[string, pointHolders](16, strings.Compare), ranges: make(map[*latchGroup][]latchSpan)}
}

func (m *latchManager) acquire(ctx context.Context, spans []latchSpan) (*latchGroup, error) {
	g := &latchGroup{spans: spans}
	if err := m.acquireInto(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// acquireInto takes the latches of g.spans for g (a group the caller
// allocated, e.g. inside its evaluation), waiting for conflicting ones.
func (m *latchManager) acquireInto(ctx context.Context, g *latchGroup) error {
	for {
		m.mu.Lock()
		blocker := m.conflictLocked(g)
		if blocker == nil {
			m.insertLocked(g)
			m.mu.Unlock()
			return nil
		}
		if blocker.done == nil {
			blocker.done = make(chan struct{})
		}
		done := blocker.done
		m.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// conflictLocked returns a held group that conflicts with g, or nil.
func (m *latchManager) conflictLocked(g *latchGroup) *latchGroup {
	for _, a := range g.spans {
		// Against held range latches.
		for other, rs := range m.ranges {
			for _, b := range rs {
				if (a.write || b.write) && a.overlaps(b) && latchesConflict(a.write, a.ts, b.write, b.ts) {
					return other
				}
			}
		}
		// Against held point latches.
		if a.isPoint() {
			if _, holders, found := m.points.Get(a.start); found {
				if g := holders.conflict(a); g != nil {
					return g
				}
			}
			continue
		}
		for _, holders := range m.points.Ascend(btreemap.GE(a.start), btreemap.LT(a.end)) {
			if g := holders.conflict(a); g != nil {
				return g
			}
		}
	}
	return nil
}

func (m *latchManager) insertLocked(g *latchGroup) {
	for _, s := range g.spans {
		if s.isPoint() {
			// One descent when the key is free (the common case).
			h := pointHolder{group: g, write: s.write, ts: s.ts}
			if _, holders, replaced := m.points.ReplaceOrInsert(s.start, pointHolders{first: h}); replaced {
				holders.more = append(holders.more, h)
				m.points.ReplaceOrInsert(s.start, holders)
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
		if _, holders, found := m.points.Delete(s.start); found && holders.remove(g) {
			m.points.ReplaceOrInsert(s.start, holders)
		}
	}
	delete(m.ranges, g)
	done := g.done
	m.mu.Unlock()
	if done != nil {
		close(done)
	}
}
