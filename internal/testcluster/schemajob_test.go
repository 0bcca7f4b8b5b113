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
	for chunk := range 8 {
		var rows []string
		for i := chunk * 1000; i < (chunk+1)*1000; i++ {
			rows = append(rows, fmt.Sprintf("(%d, %d)", i, i%97))
		}
		retry(t, "load", func() error {
			_, err := cl.Exec(ctx, db, "INSERT INTO t VALUES "+strings.Join(rows, ", "), nil, nil)
			if client.CodeOf(err) == client.CodeUniqueViolation {
				return nil
			}
			return err
		})
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for node := 1; node <= 2; node++ {
		wg.Go(func() {
			wc := client.New([]string{c.URL(node)})
			defer wc.Close()
			r := rand.New(rand.NewPCG(uint64(node), 3))
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := r.IntN(8000)
				var sql string
				switch r.IntN(3) {
				case 0:
					sql = fmt.Sprintf("INSERT INTO t VALUES (%d, %d)", 10000+r.IntN(1000000), r.IntN(97))
				case 1:
					sql = fmt.Sprintf("UPDATE t SET v = %d WHERE id = %d", r.IntN(97), id)
				default:
					sql = fmt.Sprintf("DELETE FROM t WHERE id = %d", id)
				}
				_, _ = wc.Exec(ctx, db, sql, nil, nil) // conflicts and the like are fine
			}
		})
	}

	ddl := client.New([]string{c.URL(0)})
	defer ddl.Close()
	go func() { _ = ddl.ExecDDL(ctx, db, "CREATE INDEX v_idx ON t (v)") }()
	// Wait until the job exists (seen from node 1), then stop node 0.
	watch := client.New([]string{c.URL(1)})
	defer watch.Close()
	c.SucceedsSoon(func() error {
		res, err := watch.Query(ctx, db, "SHOW JOBS", nil, nil)
		if err != nil {
			return err
		}
		if len(res.Rows) == 0 {
			return fmt.Errorf("no job yet")
		}
		t.Logf("stopping node 0 with the job %v at %v rows", res.Rows[0][4], res.Rows[0][6])
		return nil
	})
	c.StopNode(0)
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
	close(stop)
	wg.Wait()
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
