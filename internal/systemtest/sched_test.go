package systemtest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

var (
	schedNarrow   = regexp.MustCompile(`(?m)^camusdb_sched_narrow (\S+)$`)
	schedSwitches = regexp.MustCompile(`(?m)^camusdb_sched_switches_total\{reason="(\w+)",to="(narrow|wide)"\} (\S+)$`)
)

// schedState reads the scheduler governor's series from /metrics: whether
// the node is narrow and its switches by reason ("quiet" to narrow;
// "requests", "background", "waiting" to wide).
func schedState(t *testing.T, n *node) (narrow bool, switches map[string]int) {
	t.Helper()
	resp, err := http.Get(n.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	m := schedNarrow.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("/metrics has no camusdb_sched_narrow")
	}
	switches = map[string]int{}
	for _, m := range schedSwitches.FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.ParseFloat(m[3], 64)
		switches[m[1]] = int(v)
	}
	if len(switches) != 4 {
		t.Fatalf("/metrics has camusdb_sched_switches_total for %v, want 4 reasons", switches)
	}
	return m[1] == "1", switches
}

// TestSchedulerGovernor: `camusdb start` runs an idle node (and one
// serving a single client) on one P, widens while two statements run at
// once, and narrows again when they are done.
func TestSchedulerGovernor(t *testing.T) {
	if os.Getenv("GOMAXPROCS") != "" {
		t.Skip("GOMAXPROCS is set: the governor is off")
	}
	n, c := startCancelNode(t)
	waitNarrow := func() {
		testutil.SucceedsSoon(t, 30*time.Second, func() error {
			if narrow, _ := schedState(t, n); !narrow {
				return fmt.Errorf("not narrow")
			}
			return nil
		})
	}
	// One client's statements keep it narrow. (A storage flush or
	// compaction widens it too: a round that met one is tried again.)
	var before map[string]int
	for round := 0; ; round++ {
		waitNarrow()
		_, before = schedState(t, n)
		for i := range 20 {
			expectRows(t, c, "cx", fmt.Sprintf("SELECT v FROM t WHERE id = %d", i), fmt.Sprint(i))
		}
		narrow, after := schedState(t, n)
		if after["requests"] != before["requests"] {
			t.Fatalf("one client's point selects widened the node for requests: %v -> %v", before, after)
		}
		if narrow && after["quiet"] == before["quiet"] {
			break
		}
		if round == 4 {
			t.Fatalf("one client's point selects: narrow=%v, switches %v -> %v", narrow, before, after)
		}
	}

	// Two statements at once widen it, even when neither uses the CPU:
	// two COPY FROM STDIN whose clients have not sent their rows yet.
	ctx := ctxT(t)
	release := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		conn := pgConnect(t, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := &heldRows{release: release, row: []any{int64(cancelRows + i), int64(i)}}
			_, errs[i] = conn.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"id", "v"}, src)
		}()
	}
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		if narrow, now := schedState(t, n); narrow || now["requests"] <= before["requests"] {
			return fmt.Errorf("narrow=%v, switches %v (before the statements: %v)", narrow, now, before)
		}
		return nil
	})
	close(release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("COPY %d: %v", i, err)
		}
	}
	// Quiet again: narrow.
	waitNarrow()
	expectRows(t, c, "cx", "SELECT COUNT(*) FROM t", fmt.Sprint(cancelRows+2))
}

// heldRows is a COPY source whose one row comes once release is closed.
type heldRows struct {
	release <-chan struct{}
	row     []any
	done    bool
}

func (h *heldRows) Next() bool {
	if h.done {
		return false
	}
	<-h.release
	h.done = true
	return true
}

func (h *heldRows) Values() ([]any, error) { return h.row, nil }
func (h *heldRows) Err() error             { return nil }
