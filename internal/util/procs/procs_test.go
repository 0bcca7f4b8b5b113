package procs

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// testGovernor returns a governor whose Ps are recorded in *set and whose
// scheduling-latency signal is *waited; the test drives onTick and onKick
// itself.
func testGovernor(set *[]int, waited *bool) *Governor {
	return New(Config{
		Wide:     3,
		Tick:     100 * time.Millisecond,
		Quiet:    300 * time.Millisecond,
		SetProcs: func(n int) { *set = append(*set, n) },
		Waited:   func(time.Duration) bool { return *waited },
	})
}

// narrowed is testGovernor after the quiet ticks that narrow it.
func narrowed(t *testing.T, waited *bool) *Governor {
	t.Helper()
	var set []int
	g := testGovernor(&set, waited)
	ticks(g, 3)
	if !g.Narrow() {
		t.Fatal("an idle node did not narrow")
	}
	return g
}

func ticks(g *Governor, n int) {
	for range n {
		g.onTick()
	}
}

func TestNarrowsAfterQuietAndWidensOnSecondRequest(t *testing.T) {
	var set []int
	waited := false
	g := testGovernor(&set, &waited)

	// One request at a time: narrow once Quiet has passed, not before.
	g.Enter()
	ticks(g, 2)
	if g.Narrow() || len(set) != 0 {
		t.Fatalf("narrowed before the quiet period: %v", set)
	}
	g.Exit()
	g.Enter()
	g.Exit()
	ticks(g, 1)
	if !g.Narrow() || !slices.Equal(set, []int{1}) {
		t.Fatalf("after 3 quiet ticks: narrow=%v set=%v, want narrow and [1]", g.Narrow(), set)
	}

	// A second concurrent request kicks the loop, which widens.
	g.Enter()
	g.Enter()
	select {
	case <-g.kick:
	default:
		t.Fatal("a second request did not kick the governor")
	}
	g.onKick()
	if g.Narrow() || !slices.Equal(set, []int{1, 3}) {
		t.Fatalf("after a second request: narrow=%v set=%v, want wide and [1 3]", g.Narrow(), set)
	}
	g.Exit()
	g.Exit()

	// The tick that saw two requests does not count as quiet.
	ticks(g, 1)
	ticks(g, 2)
	if g.Narrow() {
		t.Fatal("narrowed although the first tick's interval had two requests")
	}
	ticks(g, 1)
	if !g.Narrow() {
		t.Fatal("did not narrow after three quiet ticks")
	}
	if st := g.Stats(); st.Narrowings != 2 || st.Widenings[Requests] != 1 || st.TotalWidenings() != 1 {
		t.Fatalf("stats %+v, want 2 narrowings and 1 widening for requests", st)
	}
}

// TestTickCatchesAMissedKick: two requests that overlapped and ended before
// the loop ran still widen the node at the next tick.
func TestTickCatchesAMissedKick(t *testing.T) {
	waited := false
	g := narrowed(t, &waited)
	g.Enter()
	g.Enter()
	g.Exit()
	g.Exit()
	g.onKick() // the loop ran late: nothing to do any more
	if !g.Narrow() {
		t.Fatal("widened for a load that is gone")
	}
	g.onTick()
	if g.Narrow() {
		t.Fatal("the tick did not see the interval's two requests")
	}
}

func TestHoldKeepsWide(t *testing.T) {
	var set []int
	waited := false
	g := testGovernor(&set, &waited)
	g.Hold()
	ticks(g, 10)
	if g.Narrow() {
		t.Fatal("narrowed during a hold")
	}
	g.Release()
	ticks(g, 3)
	if !g.Narrow() {
		t.Fatal("did not narrow after the hold")
	}
	g.Hold()
	g.onKick()
	if g.Narrow() {
		t.Fatal("a hold did not widen a narrow node")
	}
	if st := g.Stats(); st.Widenings[Held] != 1 || st.TotalWidenings() != 1 {
		t.Fatalf("stats %+v, want 1 widening for a hold", st)
	}
	g.Release()
}

// TestWidensWhenGoroutinesWait: work the governor does not know of shows
// as scheduling latency, and a narrow node widens for it.
func TestWidensWhenGoroutinesWait(t *testing.T) {
	waited := false
	g := narrowed(t, &waited)
	g.onTick()
	if !g.Narrow() {
		t.Fatal("widened without a reason")
	}
	// One tick of long waits (a garbage collection) is not enough; two in
	// a row are.
	waited = true
	g.onTick()
	if !g.Narrow() {
		t.Fatal("widened for one tick of long waits")
	}
	waited = false
	g.onTick()
	waited = true
	g.onTick()
	if !g.Narrow() {
		t.Fatal("widened for two ticks of long waits that were not in a row")
	}
	g.onTick()
	if g.Narrow() {
		t.Fatal("did not widen when goroutines kept waiting")
	}
	if st := g.Stats(); st.Widenings[Waiting] != 1 || st.TotalWidenings() != 1 {
		t.Fatalf("stats %+v, want 1 widening for waiting goroutines", st)
	}
}

// TestLatencyWatch reads the real runtime metric: goroutines kept from
// running by another on a single P show as a long wait.
func TestLatencyWatch(t *testing.T) {
	w := newLatencyWatch()
	w.waited(time.Millisecond) // baseline
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	// The runtime samples one goroutine transition in eight: start many.
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go wg.Done() // runnable now, runs once this goroutine yields the P
	}
	start := time.Now()
	for time.Since(start) < 30*time.Millisecond { // hold the only P
	}
	wg.Wait()
	if !w.waited(time.Millisecond) {
		t.Fatal("goroutines that waited ~30ms for the only P were not seen")
	}
	if w.waited(time.Second) {
		t.Fatal("a wait over 1s reported")
	}
}

func TestPackageFunctionsWithoutGovernor(t *testing.T) {
	if Current() != nil {
		t.Fatal("a governor is installed in tests")
	}
	Enter()
	Exit()
	Hold()()
}

func TestStartStopLeavesWide(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	var mu sync.Mutex
	var set []int
	narrowed := make(chan struct{})
	var once sync.Once
	stop := Start(Config{Wide: prev, Tick: time.Millisecond, Quiet: time.Millisecond,
		SetProcs: func(n int) {
			mu.Lock()
			set = append(set, n)
			mu.Unlock()
			if n == 1 {
				once.Do(func() { close(narrowed) })
			}
		}})
	if Current() == nil {
		t.Fatal("Start installed no governor")
	}
	<-narrowed // an idle process narrows
	stop()
	mu.Lock()
	defer mu.Unlock()
	if set[0] != 1 || set[len(set)-1] != prev {
		t.Fatalf("switches %v: want the first to 1 Ps and the last to %d", set, prev)
	}
	if Current() != nil {
		t.Fatal("Stop left the governor installed")
	}
}
