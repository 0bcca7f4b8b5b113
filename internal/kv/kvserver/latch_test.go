package kvserver

import (
	"context"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
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

// TestLatchTimestamps: a read latch and a write latch that both know
// their timestamps exclude each other only when the write may land at or
// below what the read observes; an unset timestamp conflicts as before.
func TestLatchTimestamps(t *testing.T) {
	ts := func(w int64) hlc.Timestamp { return hlc.Timestamp{WallTime: w} }
	read := func(s, e string, at hlc.Timestamp) latchSpan { return latchSpan{start: s, end: e, ts: at} }
	write := func(k string, from hlc.Timestamp) latchSpan { return latchSpan{start: k, write: true, ts: from} }
	cases := []struct {
		name      string
		held, req latchSpan
		conflict  bool
	}{
		{"scan at 10, write from 11", read("a", "z", ts(10)), write("m", ts(11)), false},
		{"scan at 10, write from 10", read("a", "z", ts(10)), write("m", ts(10)), true},
		{"scan at 10, write from 5", read("a", "z", ts(10)), write("m", ts(5)), true},
		{"scan at 10, write of unknown timestamp", read("a", "z", ts(10)), write("m", hlc.Timestamp{}), true},
		{"scan of unknown timestamp, write from 11", read("a", "z", hlc.Timestamp{}), write("m", ts(11)), true},
		{"write from 11 held, scan at 10", write("m", ts(11)), read("a", "z", ts(10)), false},
		{"write from 9 held, scan at 10", write("m", ts(9)), read("a", "z", ts(10)), true},
		{"write from 11 held, point read at 10", write("m", ts(11)), read("m", "", ts(10)), false},
		{"write from 11 held, point read unset", write("m", ts(11)), read("m", "", hlc.Timestamp{}), true},
		{"writes at any timestamps", write("m", ts(11)), write("m", ts(20)), true},
		{"reads at any timestamps", read("a", "z", ts(10)), read("b", "c", hlc.Timestamp{}), false},
	}
	for _, tc := range cases {
		m := newLatchManager()
		g, err := m.acquire(context.Background(), []latchSpan{tc.held})
		if err != nil {
			t.Fatal(err)
		}
		m.mu.Lock()
		blocker := m.conflictLocked(&latchGroup{spans: []latchSpan{tc.req}})
		m.mu.Unlock()
		if got := blocker != nil; got != tc.conflict {
			t.Errorf("%s: conflict=%v, want %v", tc.name, got, tc.conflict)
		}
		m.release(g)
	}
}
