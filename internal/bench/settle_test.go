package bench

import (
	"context"
	"testing"
	"time"
)

func TestParseCPULine(t *testing.T) {
	busy, total, ok := parseCPULine("cpu  100 5 50 800 40 1 4 0 0 0\n")
	if !ok || busy != 160 || total != 1000 {
		t.Fatalf("busy %d total %d ok %v, want 160 1000 true", busy, total, ok)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5", "cpu 1 x 3 4 5", "cpu 1 2"} {
		if _, _, ok := parseCPULine(bad); ok {
			t.Fatalf("%q parsed", bad)
		}
	}
}

// fakeCPU advances by one window per sample: busy for the first n
// windows, idle after.
type fakeCPU struct {
	busyWindows int
	samples     int
	busy, total uint64
}

func (f *fakeCPU) sample() (uint64, uint64, bool) {
	if f.samples > 0 {
		f.total += 100
		if f.samples <= f.busyWindows {
			f.busy += 80
		} else {
			f.busy += 2
		}
	}
	f.samples++
	return f.busy, f.total, true
}

func TestSettle(t *testing.T) {
	ctx := context.Background()
	// Busy for three windows, then quiet: settles on the fourth.
	f := &fakeCPU{busyWindows: 3}
	if _, quiet := settle(ctx, time.Hour, time.Millisecond, f.sample); !quiet || f.samples != 5 {
		t.Fatalf("quiet %v after %d samples, want true after 5", quiet, f.samples)
	}
	// Always busy: gives up at max.
	f = &fakeCPU{busyWindows: 1 << 30}
	if waited, quiet := settle(ctx, 20*time.Millisecond, time.Millisecond, f.sample); quiet || waited < 20*time.Millisecond {
		t.Fatalf("quiet %v after %v, want a give-up after 20ms", quiet, waited)
	}
	// No CPU figures: nothing to wait for.
	if waited, quiet := settle(ctx, time.Hour, time.Hour, func() (uint64, uint64, bool) { return 0, 0, false }); !quiet || waited != 0 {
		t.Fatalf("without figures: %v %v", waited, quiet)
	}
}
