package testcluster_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/testcluster"
)

// ADD COLUMN ... DEFAULT through node 0 while nodes 1 and 2 write; node 0
// stops during the job: another node adopts it and finishes it, and every
// row then has the default (the writers' rows included). Then DROP COLUMN
// through node 1 with the writers still running: the column is gone on
// every node.
func TestColumnJobsAcrossNodes(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4})
	cl := setup(t, c, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	ctx := context.Background()
	loadRows(t, cl, 3000)
	stopWriters := startWriters(c, 3000, 5)
	defer stopWriters()

	ddl := client.New([]string{c.URL(0)})
	defer ddl.Close()
	go func() { _ = ddl.ExecDDL(ctx, db, "ALTER TABLE t ADD COLUMN w INT64 NOT NULL DEFAULT 5") }()
	watch := client.New([]string{c.URL(1)})
	defer watch.Close()
	jobDone := func(n int) {
		c.SucceedsSoon(func() error {
			res, err := watch.Query(ctx, db, "SHOW JOBS", nil, nil)
			if err != nil {
				return err
			}
			if len(res.Rows) < n {
				return fmt.Errorf("%d jobs", len(res.Rows))
			}
			if st := res.Rows[0][4]; st != "succeeded" {
				return fmt.Errorf("job is %v (rows %v, node %v, error %v)", st, res.Rows[0][6], res.Rows[0][7], res.Rows[0][11])
			}
			return nil
		})
	}
	stopNodeOnceJobExists(t, c, watch, 0)
	jobDone(1)
	for _, node := range []int{1, 2} {
		q := client.New([]string{c.URL(node)})
		retry(t, "check the default", func() error {
			res, err := q.Query(ctx, db, "SELECT COUNT(*) FROM t WHERE w IS NULL OR w <> 5", nil, nil)
			if err != nil {
				return err
			}
			if fmt.Sprint(res.Rows[0][0]) != "0" {
				t.Fatalf("node %d: %v rows lack the default", node, res.Rows[0][0])
			}
			return nil
		})
		q.Close()
	}

	drop := client.New([]string{c.URL(1)})
	defer drop.Close()
	attempted := false
	retry(t, "drop column", func() error {
		err := drop.ExecDDL(ctx, db, "ALTER TABLE t DROP COLUMN w")
		if code := client.CodeOf(err); attempted && (code == "CADB0404" || code == "CADB0032") {
			return nil // an earlier, ambiguous attempt started the job
		}
		attempted = true
		return err
	})
	jobDone(2)
	stopWriters()
	q := client.New([]string{c.URL(2)})
	defer q.Close()
	retry(t, "after the drop", func() error {
		_, err := q.Query(ctx, db, "SELECT w FROM t WHERE id = 1", nil, nil)
		if client.CodeOf(err) == "CADB0404" {
			return nil
		}
		if err == nil {
			t.Fatal("the dropped column is still readable on node 2")
		}
		return err
	})
}
