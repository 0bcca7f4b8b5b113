package exec_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/exec"
)

// gatedDB holds every Begin while closed.
type gatedDB struct {
	catalog.DB
	mu   sync.Mutex
	gate chan struct{} // nil: open
}

func (g *gatedDB) Begin(ctx context.Context) (catalog.Txn, error) {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return g.DB.Begin(ctx)
}

// In the background mode a statement that finds the flush interval
// elapsed returns without waiting for the refresh (whose transaction is
// held here), the refresh then lands, and its scan is paced.
func TestStatisticsRefreshInBackground(t *testing.T) {
	db := catalogtest.NewMemDB()
	gated := &gatedDB{DB: db}
	clock := time.Unix(1000, 0)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	stats := exec.NewStats(gated, 5*time.Second, now)
	stats.Background(1000)
	defer stats.Close()
	var slept []time.Duration
	exec.SetStatsSleep(stats, func(_ context.Context, d time.Duration) error {
		slept = append(slept, d) // only the refresh goroutine calls it
		return nil
	})
	newServer(t, db) // creates database d
	statsRun(t, db, stats, "CREATE TABLE m (id INT64 PRIMARY KEY, v INT64)")
	statsRun(t, db, stats, insertRows("m", 0, 5000, 2))

	mu.Lock()
	clock = clock.Add(6 * time.Second)
	mu.Unlock()
	gate := make(chan struct{})
	gated.mu.Lock()
	gated.gate = gate
	gated.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		statsRun(t, db, stats, "INSERT INTO m VALUES (5000, 5000)") // due: flushes
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the statement waited for the statistics refresh")
	}
	gated.mu.Lock()
	gated.gate = nil
	gated.mu.Unlock()
	close(gate)
	stats.WaitIdle()

	got := explainLines(statsRun(t, db, stats, "EXPLAIN SELECT id FROM m WHERE v > 10"))
	if !strings.Contains(got, "table-scan m 5001") {
		t.Fatalf("statistics after the background refresh:\n%s", got)
	}
	// 5001 entries at 1000 a second: the scan asked to wait until ~4.1 s
	// (entry 4096) had passed.
	if len(slept) != 4 || slept[3] <= 3*time.Second || slept[3] > 4096*time.Millisecond {
		t.Fatalf("pace waits %v, want 4 ending near 4.096s", slept)
	}
}

// A write to the table while the background refresh scans it does not
// make the refresh fail: the scan is a read-only transaction of its own
// and the statistics are stored by another, which reads only the table's
// descriptor. (Committed with the scan's table-wide read, the refresh
// would conflict with the write, and, on a real node, latch the whole
// table while committing.)
func TestStatisticsRefreshSurvivesConcurrentWrites(t *testing.T) {
	db := catalogtest.NewMemDB()
	clock := time.Unix(1000, 0)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	stats := exec.NewStats(db, 5*time.Second, now)
	stats.Background(1000)
	defer stats.Close()
	var writeErr error
	wrote := false
	exec.SetStatsSleep(stats, func(_ context.Context, d time.Duration) error {
		if !wrote { // the refresh goroutine, mid-scan
			wrote = true
			_, writeErr = statsExec(db, nil, "INSERT INTO m VALUES (100000, 1)")
		}
		return nil
	})
	newServer(t, db) // creates database d
	statsRun(t, db, stats, "CREATE TABLE m (id INT64 PRIMARY KEY, v INT64)")
	mu.Lock()
	clock = clock.Add(6 * time.Second)
	mu.Unlock()
	statsRun(t, db, stats, insertRows("m", 0, 3000, 2)) // due: flushes
	stats.WaitIdle()
	if !wrote || writeErr != nil {
		t.Fatalf("the write during the scan: ran %v, %v", wrote, writeErr)
	}
	got := explainLines(statsRun(t, db, stats, "EXPLAIN SELECT id FROM m WHERE v > 10"))
	if !strings.Contains(got, "table-scan m 3000") {
		t.Fatalf("the refresh did not store statistics:\n%s", got)
	}
}

// uncertainDB's transactions record whether their uncertainty interval was
// dropped (kv.Txn.DropUncertainty).
type uncertainDB struct {
	catalog.DB
	mu             sync.Mutex
	dropped, begun int
}

type uncertainTxn struct {
	catalog.Txn
	db *uncertainDB
}

func (u *uncertainDB) Begin(ctx context.Context) (catalog.Txn, error) {
	txn, err := u.DB.Begin(ctx)
	u.mu.Lock()
	u.begun++
	u.mu.Unlock()
	return &uncertainTxn{Txn: txn, db: u}, err
}

func (u *uncertainTxn) DropUncertainty() {
	u.db.mu.Lock()
	u.db.dropped++
	u.db.mu.Unlock()
}

// The statistics scan reads without an uncertainty interval: in a cluster,
// under concurrent inserts, every uncertain version it met would make it
// re-validate every row read so far.
func TestStatisticsScanDropsUncertainty(t *testing.T) {
	db := catalogtest.NewMemDB()
	udb := &uncertainDB{DB: db}
	stats := exec.NewStats(udb, 5*time.Second, time.Now)
	newServer(t, db)
	statsRun(t, db, stats, "CREATE TABLE m (id INT64 PRIMARY KEY, v INT64)")
	statsRun(t, db, stats, insertRows("m", 0, 100, 2))
	if err := stats.Refresh(context.Background(), 1, "m"); err != nil {
		t.Fatal(err)
	}
	udb.mu.Lock()
	defer udb.mu.Unlock()
	// Two transactions: the scan (advisory) and the store of the result.
	if udb.begun != 2 || udb.dropped != 1 {
		t.Fatalf("%d transactions, %d without uncertainty; want 2 and 1", udb.begun, udb.dropped)
	}
}
