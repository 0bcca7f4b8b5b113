package testcluster_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/testcluster"
)

// CREATE INDEX through node 0 while nodes 1 and 2 write; node 0 stops
// during the job: another node adopts the job and finishes it, and the
// index then agrees with the table (a forced index scan against a full
// scan).
func TestCreateIndexJobSurvivesNodeStop(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4})
	cl := setup(t, c, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	ctx := context.Background()
	loadRows(t, cl, 8000)
	stopWriters := startWriters(c, 8000, 3)
	defer stopWriters()

	ddl := client.New([]string{c.URL(0)})
	defer ddl.Close()
	go func() { _ = ddl.ExecDDL(ctx, db, "CREATE INDEX v_idx ON t (v)") }()
	watch := client.New([]string{c.URL(1)})
	defer watch.Close()
	stopNodeOnceJobExists(t, c, watch, 0)
	c.SucceedsSoon(func() error {
		res, err := watch.Query(ctx, db, "SHOW JOBS", nil, nil)
		if err != nil {
			return err
		}
		if st := res.Rows[0][4]; st != "succeeded" {
			return fmt.Errorf("job is %v (rows %v, node %v, error %v)", st, res.Rows[0][6], res.Rows[0][7], res.Rows[0][11])
		}
		return nil
	})
	stopWriters()
	var full, viaIndex []any
	retry(t, "full scan", func() error {
		res, err := watch.Query(ctx, db, "SELECT COUNT(*), SUM(id), SUM(v) FROM t", nil, nil)
		if err == nil {
			full = res.Rows[0]
		}
		return err
	})
	retry(t, "index scan", func() error {
		res, err := watch.Query(ctx, db, "SELECT COUNT(*), SUM(id), SUM(v) FROM t@{FORCE_INDEX=v_idx} WHERE v >= 0", nil, nil)
		if err == nil {
			viaIndex = res.Rows[0]
		}
		return err
	})
	if fmt.Sprint(full) != fmt.Sprint(viaIndex) {
		t.Fatalf("index disagrees with the table: full scan %v, index scan %v", full, viaIndex)
	}
}

// loadRows inserts rows (id, id % 97) for id in [0, n) into t through cl,
// a thousand per statement.
func loadRows(t *testing.T, cl *client.Client, n int) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 1000 {
		var rows []string
		for i := start; i < min(start+1000, n); i++ {
			rows = append(rows, fmt.Sprintf("(%d, %d)", i, i%97))
		}
		retry(t, "load", func() error {
			_, err := cl.Exec(ctx, db, "INSERT INTO t (id, v) VALUES "+strings.Join(rows, ", "), nil, nil)
			if client.CodeOf(err) == client.CodeUniqueViolation {
				return nil
			}
			return err
		})
	}
}

// startWriters runs random inserts, updates and deletes of t's rows (ids
// below n, and new ones) through nodes 1 and 2 until the returned stop is
// called (it waits for them; calling it again does nothing).
func startWriters(c *testcluster.Cluster, n int, seed uint64) (stop func()) {
	ctx := context.Background()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for node := 1; node <= 2; node++ {
		wg.Go(func() {
			wc := client.New([]string{c.URL(node)})
			defer wc.Close()
			r := rand.New(rand.NewPCG(uint64(node), seed))
			for {
				select {
				case <-done:
					return
				default:
				}
				id := r.IntN(n)
				var sql string
				switch r.IntN(3) {
				case 0:
					sql = fmt.Sprintf("INSERT INTO t (id, v) VALUES (%d, %d)", 10000+r.IntN(1000000), r.IntN(97))
				case 1:
					sql = fmt.Sprintf("UPDATE t SET v = %d WHERE id = %d", r.IntN(97), id)
				default:
					sql = fmt.Sprintf("DELETE FROM t WHERE id = %d", id)
				}
				_, _ = wc.Exec(ctx, db, sql, nil, nil) // conflicts and the like are fine
			}
		})
	}
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

// stopNodeOnceJobExists waits until watch (a client of another node) sees
// a job in SHOW JOBS, then stops node.
func stopNodeOnceJobExists(t *testing.T, c *testcluster.Cluster, watch *client.Client, node int) {
	t.Helper()
	c.SucceedsSoon(func() error {
		res, err := watch.Query(context.Background(), db, "SHOW JOBS", nil, nil)
		if err != nil {
			return err
		}
		if len(res.Rows) == 0 {
			return fmt.Errorf("no job yet")
		}
		t.Logf("stopping node %d with the job %v at %v rows", node, res.Rows[0][4], res.Rows[0][6])
		return nil
	})
	c.StopNode(node)
}
