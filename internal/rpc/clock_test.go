package rpc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
)

// skewedWalls gives node id a wall clock offset by skew[id].
func skewedWalls(skew map[uint64]time.Duration) func(id uint64) hlc.WallClock {
	return func(id uint64) hlc.WallClock {
		d := int64(skew[id])
		return func() int64 { return hlc.UnixNano() + d }
	}
}

func TestClockOffsetMeasured(t *testing.T) {
	nodes := newTestNodes(t, 2, skewedWalls(map[uint64]time.Duration{2: 300 * time.Millisecond}))
	m, err := nodes[0].net.MeasureClockOffset(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	// The measurement brackets the true offset within its uncertainty
	// (plus a little for the skewed clock's own reading jitter).
	if d := (m.Offset - 300*time.Millisecond).Abs(); d > m.Uncertainty+5*time.Millisecond {
		t.Fatalf("offset %v ± %v, want 300ms", m.Offset, m.Uncertainty)
	}
	back, err := nodes[1].net.MeasureClockOffset(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if d := (back.Offset + 300*time.Millisecond).Abs(); d > back.Uncertainty+5*time.Millisecond {
		t.Fatalf("reverse offset %v ± %v, want -300ms", back.Offset, back.Uncertainty)
	}
}

// With one node 450 ms ahead (beyond 0.8 × 500 ms from both others), that
// node and only that node finds itself out of step; a node 300 ms ahead is
// within the tolerance.
func TestClockOutOfStepIsTheOutlier(t *testing.T) {
	nodes := newTestNodes(t, 3, skewedWalls(map[uint64]time.Duration{3: 450 * time.Millisecond}))
	for _, nd := range nodes {
		nd.net.MeasureClockOffsets(context.Background(), 5*time.Second)
	}
	for i, nd := range nodes {
		err := nd.net.CheckClockOffsets(time.Minute)
		if outlier := i == 2; outlier != errors.Is(err, ErrClockOutOfStep) {
			t.Fatalf("node %d: CheckClockOffsets = %v", i+1, err)
		}
	}

	within := newTestNodes(t, 3, skewedWalls(map[uint64]time.Duration{3: 300 * time.Millisecond}))
	for _, nd := range within {
		nd.net.MeasureClockOffsets(context.Background(), 5*time.Second)
		if err := nd.net.CheckClockOffsets(time.Minute); err != nil {
			t.Fatalf("300 ms of skew refused: %v", err)
		}
	}
	// Measurements older than maxAge do not count.
	if err := nodes[2].net.CheckClockOffsets(0); err != nil {
		t.Fatalf("stale measurements counted: %v", err)
	}
}

func TestClockMonitorReportsOutOfStep(t *testing.T) {
	nodes := newTestNodes(t, 3, skewedWalls(map[uint64]time.Duration{1: -450 * time.Millisecond}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan error, 1)
	go nodes[0].net.RunClockMonitor(ctx, 50*time.Millisecond, func(err error) { got <- err })
	select {
	case err := <-got:
		if !errors.Is(err, ErrClockOutOfStep) {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("monitor never reported the skewed node")
	}
}

func TestPingDecoding(t *testing.T) {
	id, wall, err := decodePing(encodePing(7, 123456789))
	if err != nil || id != 7 || wall != 123456789 {
		t.Fatalf("round trip: %d %d %v", id, wall, err)
	}
	for _, bad := range [][]byte{nil, {2}, {pingVersion}, append(encodePing(1, 2), 0)} {
		if _, _, err := decodePing(bad); err == nil {
			t.Fatalf("decodePing(%x) accepted", bad)
		}
	}
}

func FuzzDecodePing(f *testing.F) {
	f.Add(encodePing(3, 42))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, wall, err := decodePing(b)
		if err == nil {
			if id2, wall2, err2 := decodePing(encodePing(id, wall)); err2 != nil || id2 != id || wall2 != wall {
				t.Fatalf("re-encode of %d/%d: %d/%d %v", id, wall, id2, wall2, err2)
			}
		}
	})
}
