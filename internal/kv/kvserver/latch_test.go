package kvserver

import (
	"context"
	"testing"
	"time"
)

// TestLatchConflicts: which held latches block which requests.
func TestLatchConflicts(t *testing.T) {
	pt := func(k string, w bool) latchSpan { return latchSpan{start: k, write: w} }
	rg := func(s, e string, w bool) latchSpan { return latchSpan{start: s, end: e, write: w} }
	cases := []struct {
		name      string
		held, req latchSpan
		conflict  bool
	}{
		{"read/read same key", pt("a", false), pt("a", false), false},
		{"write/read same key", pt("a", true), pt("a", false), true},
		{"read/write same key", pt("a", false), pt("a", true), true},
		{"write/write other key", pt("a", true), pt("b", true), false},
		{"write point in read range", pt("b", true), rg("a", "c", false), true},
		{"write point at range end", pt("c", true), rg("a", "c", false), false},
		{"read range vs write point inside", rg("a", "c", false), pt("b", true), true},
		{"read ranges overlap", rg("a", "c", false), rg("b", "d", false), false},
		{"write range overlaps read range", rg("a", "c", true), rg("b", "d", false), true},
		{"disjoint ranges", rg("a", "b", true), rg("b", "c", true), false},
		{"point prefix not in range", pt("a", true), rg("a\x00", "b", false), false},
	}
	for _, tc := range cases {
		m := newLatchManager()
		g, _ := m.acquire(context.Background(), []latchSpan{tc.held})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		got, err := m.acquire(ctx, []latchSpan{tc.req})
		cancel()
		if blocked := err != nil; blocked != tc.conflict {
			t.Errorf("%s: blocked=%v, want %v", tc.name, blocked, tc.conflict)
		}
		if got != nil {
			m.release(got)
		}
		m.release(g)
		if m.points.Len() != 0 || len(m.ranges) != 0 {
			t.Fatalf("%s: latches left after release: %v %v", tc.name, m.points, m.ranges)
		}
	}
}

// TestLatchReleaseWakesWaiter: a blocked request proceeds once the
// conflicting latch is released.
func TestLatchReleaseWakesWaiter(t *testing.T) {
	m := newLatchManager()
	held, _ := m.acquire(context.Background(), []latchSpan{{start: "k", write: true}, {start: "k", write: false}})
	got := make(chan *latchGroup)
	go func() {
		g, _ := m.acquire(context.Background(), []latchSpan{{start: "a", end: "z"}})
		got <- g
	}()
	m.release(held)
	g := <-got
	m.release(g)
	if m.points.Len() != 0 || len(m.ranges) != 0 {
		t.Fatal("latches left after release")
	}
}
