package testcluster_test

import (
	"context"
	"sync"
	"testing"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/testcluster"
)

// TestSequenceValuesUniqueAcrossNodes: clients of every node of a 3-node
// cluster call nextval at once on a sequence without cache, on one with
// CACHE 10 (each node hands out its own blocks) and through a BIGSERIAL
// column; no value is handed out twice cluster-wide.
func TestSequenceValuesUniqueAcrossNodes(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4})
	setup(t, c, "CREATE SEQUENCE plain", "CREATE SEQUENCE cached CACHE 10",
		"CREATE TABLE events (id BIGSERIAL PRIMARY KEY, node INT64)")
	cls := nodeClients(t, c)
	const perNode, calls = 3, 15
	var mu sync.Mutex
	seen := map[string]map[int64]int{"plain": {}, "cached": {}, "events": {}}
	var wg sync.WaitGroup
	for n, cl := range cls {
		for g := 0; g < perNode; g++ {
			wg.Add(1)
			go func(cl *client.Client, node int) {
				defer wg.Done()
				for i := 0; i < calls; i++ {
					var plain, cached, id int64
					retry(t, "nextval", func() error {
						res, err := cl.Query(context.Background(), db, "SELECT nextval('plain'), nextval('cached')", nil, nil)
						if err == nil {
							plain, _ = res.Rows[0][0].(int64)
							cached, _ = res.Rows[0][1].(int64)
						}
						return err
					})
					retry(t, "insert", func() error {
						res, err := cl.Query(context.Background(), db, "INSERT INTO events (node) VALUES (@n) RETURNING id", map[string]any{"n": node}, nil)
						if err == nil {
							id, _ = res.Rows[0][0].(int64)
						}
						return err
					})
					mu.Lock()
					seen["plain"][plain]++
					seen["cached"][cached]++
					seen["events"][id]++
					mu.Unlock()
				}
			}(cl, n)
		}
	}
	wg.Wait()
	const total = 3 * perNode * calls
	for name, values := range seen {
		for v, n := range values {
			if n > 1 || v == 0 {
				t.Errorf("%s: value %d handed out %d times", name, v, n)
			}
		}
		if len(values) != total {
			t.Errorf("%s: %d distinct values for %d calls", name, len(values), total)
		}
	}
	rows, distinct := queryInt(t, cls[1], "SELECT COUNT(*) FROM events"), queryInt(t, cls[2], "SELECT COUNT(DISTINCT id) FROM events")
	if rows != distinct || rows < total {
		t.Errorf("events: %d rows with %d distinct ids, want %d of each", rows, distinct, total)
	}
}
