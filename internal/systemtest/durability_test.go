package systemtest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKill9Durability: 4 clients insert rows in autocommit while the server
// is killed with SIGKILL; after restart every acknowledged row is present
// exactly once and the secondary index agrees with a full scan. Three
// kill/restart cycles in a row; with 1 partition (1PC commits) and with 4
// (rows and index entries in different partitions: 2PC, intents left behind
// by the kill are resolved after restart).
func TestKill9Durability(t *testing.T) {
	for _, partitions := range []string{"1", "4"} {
		t.Run("partitions="+partitions, func(t *testing.T) { kill9Cycles(t, partitions) })
	}
}

func kill9Cycles(t *testing.T, partitions string) {
	n := startNode(t, t.TempDir(), "--initial-cluster-partitions", partitions)
	c := n.client()
	ctx := ctxT(t)
	if err := c.CreateDB(ctx, "db", false); err != nil {
		t.Fatal(err)
	}
	// No primary key: a duplicated insert would show up as two rows.
	if err := c.ExecDDL(ctx, "db", `CREATE TABLE events (writer INT64 NOT NULL, seq INT64 NOT NULL, payload STRING)`); err != nil {
		t.Fatal(err)
	}
	if err := c.ExecDDL(ctx, "db", `CREATE INDEX by_writer ON events (writer, seq)`); err != nil {
		t.Fatal(err)
	}
	const writers = 4
	acked := make([]map[int64]bool, writers)
	next := make([]int64, writers)
	for w := range acked {
		acked[w] = map[int64]bool{}
	}
	for cycle := 1; cycle <= 3; cycle++ {
		var total atomic.Int64
		reached := make(chan struct{})
		wctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				wc := n.client()
				for wctx.Err() == nil {
					mu.Lock()
					seq := next[w]
					next[w]++
					mu.Unlock()
					_, err := wc.Exec(wctx, "db", `INSERT INTO events (writer, seq, payload) VALUES (@w, @s, @p)`,
						map[string]any{"w": int64(w), "s": seq, "p": fmt.Sprintf("w%d-s%d", w, seq)}, nil)
					if err != nil {
						return // the server was killed (or the test is over)
					}
					mu.Lock()
					acked[w][seq] = true
					mu.Unlock()
					if total.Add(1) == 400 {
						close(reached)
					}
				}
			}(w)
		}
		// Kill once enough inserts were acknowledged in this cycle.
		select {
		case <-reached:
		case <-time.After(90 * time.Second):
		}
		n.kill()
		stop()
		wg.Wait()
		if total.Load() < 400 {
			t.Fatalf("cycle %d: only %d inserts acknowledged", cycle, total.Load())
		}
		n.start()
		c = n.client()
		verifyEvents(t, n, acked)
	}
	n.stop()
}

func verifyEvents(t *testing.T, n *node, acked []map[int64]bool) {
	t.Helper()
	c := n.client()
	// No duplicates at all.
	dups := query(t, c, "db", `SELECT writer, seq, COUNT(*) AS c FROM events GROUP BY writer, seq HAVING COUNT(*) > 1`)
	if len(dups) > 0 {
		t.Fatalf("duplicated rows after restart: %v", dups)
	}
	all := query(t, c, "db", `SELECT writer, seq FROM events`)
	present := map[string]bool{}
	for _, r := range all {
		present[r] = true
	}
	for w, seqs := range acked {
		// Through the index.
		viaIndex := query(t, c, "db", fmt.Sprintf(`SELECT seq FROM events WHERE writer = %d ORDER BY seq`, w))
		var fromScan []string
		for r := range present {
			var rw, rs int64
			if _, err := fmt.Sscanf(r, "%d|%d", &rw, &rs); err == nil && rw == int64(w) {
				fromScan = append(fromScan, fmt.Sprint(rs))
			}
		}
		sort.Slice(fromScan, func(i, j int) bool {
			var a, b int64
			fmt.Sscan(fromScan[i], &a)
			fmt.Sscan(fromScan[j], &b)
			return a < b
		})
		if fmt.Sprint(viaIndex) != fmt.Sprint(fromScan) {
			t.Fatalf("writer %d: index says %v, full scan says %v", w, viaIndex, fromScan)
		}
		for seq := range seqs {
			if !present[fmt.Sprintf("%d|%d", w, seq)] {
				t.Fatalf("acknowledged row writer=%d seq=%d lost after kill -9", w, seq)
			}
		}
	}
}
