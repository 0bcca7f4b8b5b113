package testcluster_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/testcluster"
)

// Schema leases across a 3-node cluster: ALTERs through node 0 (each adds
// a column with a default, rewriting every row) while every node serves
// SELECT * from its descriptor cache. A statement that starts after the
// k-th ALTER returned must see at least its k columns (a node may not
// serve a version older than the newest committed one: no statement sees
// a descriptor two versions apart), every value must be its column's
// default (a stale descriptor over rewritten rows would mis-decode them),
// and the column count seen by one client never goes down.
func TestSchemaLeasesAcrossNodes(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4})
	cl := setup(t, c, "CREATE TABLE t (id INT64 PRIMARY KEY)")
	ctx := context.Background()
	var values []string
	for i := range 20 {
		values = append(values, fmt.Sprintf("(%d)", i))
	}
	retry(t, "insert", func() error {
		_, err := cl.Exec(ctx, db, "INSERT INTO t (id) VALUES "+strings.Join(values, ", "), nil, nil)
		if client.CodeOf(err) == client.CodeUniqueViolation {
			return nil
		}
		return err
	})

	const alters = 8
	var done atomic.Int64 // ALTERs that returned
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	var served atomic.Int64
	for node := range 3 {
		wg.Go(func() {
			rc := client.New([]string{c.URL(node)})
			defer rc.Close()
			last := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				floor := int(done.Load())
				res, err := rc.Query(ctx, db, "SELECT * FROM t", nil, nil)
				if err != nil {
					if client.IsRetryable(err) {
						continue
					}
					errs <- fmt.Errorf("node %d: %v", node, err)
					return
				}
				cols := len(res.Columns) - 1 // beyond id
				if cols < floor || cols < last {
					errs <- fmt.Errorf("node %d: a statement saw %d added columns after %d ALTERs had returned (previously %d)", node, cols, floor, last)
					return
				}
				last = cols
				for _, row := range res.Rows {
					for j := 1; j < len(row); j++ {
						if v, ok := row[j].(int64); !ok || v != int64(j) {
							errs <- fmt.Errorf("node %d: column c%d holds %v, want %d", node, j, row[j], j)
							return
						}
					}
				}
				served.Add(1)
			}
		})
	}
	for k := 1; k <= alters; k++ {
		retry(t, "alter", func() error {
			err := cl.ExecDDL(ctx, db, fmt.Sprintf("ALTER TABLE t ADD COLUMN c%d INT64 DEFAULT %d", k, k))
			if client.CodeOf(err) == "CADB0403" { // an ambiguous earlier attempt landed
				return nil
			}
			return err
		})
		done.Store(int64(k))
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if served.Load() == 0 {
		t.Fatal("no SELECT completed")
	}
}
