package hlc

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// No timestamp the clock returns reaches the bound made durable before it
// was returned, whether the clock moves by itself or is forwarded; the
// bound is persisted once per window, not per timestamp.
func TestPersistedUpperBound(t *testing.T) {
	wall := NewManualClock(1_000)
	c := NewClock(wall.UnixNano)
	defer c.StopBoundRenewal()
	var mu sync.Mutex
	var durable []int64
	c.PersistUpperBound(func(w int64) error { mu.Lock(); durable = append(durable, w); mu.Unlock(); return nil }, 100, 0, nil)
	if len(durable) != 1 || c.UpperBound() != 1_100 {
		t.Fatalf("initial bound: persisted %v, bound %d", durable, c.UpperBound())
	}
	check := func(ts Timestamp) {
		t.Helper()
		if ts.WallTime >= c.UpperBound() {
			t.Fatalf("timestamp %s handed out at or above the durable bound %d", ts, c.UpperBound())
		}
	}
	for range 50 {
		wall.Increment(7)
		check(c.Now())
	}
	mu.Lock()
	persisted := len(durable)
	mu.Unlock()
	if persisted > 9 {
		t.Fatalf("persisted %d bounds for 350 ns of a 100 ns window", persisted)
	}
	c.Update(Timestamp{WallTime: 10_000})
	if c.UpperBound() <= 10_000 {
		t.Fatalf("forwarding to 10000 left the bound at %d", c.UpperBound())
	}
	check(c.Now())
}

func TestPersistFailureIsReported(t *testing.T) {
	wall := NewManualClock(1_000)
	c := NewClock(wall.UnixNano)
	var reported error
	fail := errors.New("disk gone")
	c.PersistUpperBound(func(int64) error { return fail }, 100, 5_000, func(err error) { reported = err })
	wall.Increment(10_000)
	c.Now()
	if !errors.Is(reported, fail) || c.UpperBound() != 5_000 {
		t.Fatalf("reported %v, bound %d", reported, c.UpperBound())
	}
}

func TestWaitForBound(t *testing.T) {
	start := time.Now().UnixNano()
	waited, err := WaitForBound(nil, start+int64(30*time.Millisecond), nil)
	if err != nil || time.Now().UnixNano() <= start+int64(30*time.Millisecond) || waited == 0 {
		t.Fatalf("waited %v, err %v", waited, err)
	}
	done := make(chan struct{})
	close(done)
	if _, err := WaitForBound(nil, start+int64(time.Hour), done); err == nil {
		t.Fatal("a stopped wait reported success")
	}
}

// Within half a window of the bound, Now does not wait for the next
// bound to be persisted: a background renewal does it (a blocked
// persister here would block Now without it).
func TestBoundRenewedAhead(t *testing.T) {
	wall := NewManualClock(1_000)
	c := NewClock(wall.UnixNano)
	c.PersistUpperBound(func(int64) error { return nil }, 100, 0, nil)
	release := make(chan struct{})
	started := make(chan int64, 1)
	c.bound.persist = func(w int64) error {
		started <- w
		<-release
		return nil
	}
	wall.Increment(60) // 1060: within half a window of 1100
	if ts := c.Now(); ts.WallTime >= c.UpperBound() {
		t.Fatalf("timestamp %s at or above the bound %d", ts, c.UpperBound())
	}
	if w := <-started; w != 1_160 {
		t.Fatalf("renewal persisted %d, want 1160", w)
	}
	c.Now() // a second caller neither waits nor starts another renewal
	close(release)
	c.StopBoundRenewal()
	if c.UpperBound() != 1_160 {
		t.Fatalf("bound after the renewal: %d", c.UpperBound())
	}
}
