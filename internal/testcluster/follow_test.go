package testcluster_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/server"
	"github.com/camusdb/camusdb-go/internal/testcluster"
)

// A partition's lease follows its workload: clients on one node move the
// partition's leadership there, it stays there while they keep going
// (leadership balancing does not take it back to its preferred node), and
// it moves again when the clients move to another node.
func TestLeaseFollowsTheWorkload(t *testing.T) {
	// One partition: every request of the test is one of its requests.
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 1, Configure: func(_ int, cfg *server.Config) {
		cfg.TestingFollowInterval = followWindow
	}})
	cl := setup(t, c, "CREATE TABLE f (id INT64 PRIMARY KEY, v STRING)")
	retry(t, "load", func() error {
		if queryInt(t, cl, "SELECT COUNT(*) FROM f") == 10 {
			return nil
		}
		_, err := cl.Exec(context.Background(), db, "INSERT INTO f (id, v) VALUES (0,'a'),(1,'a'),(2,'a'),(3,'a'),(4,'a'),(5,'a'),(6,'a'),(7,'a'),(8,'a'),(9,'a')", nil, nil)
		return err
	})
	cls := nodeClients(t, c)

	// reads runs point selects through node i until n have succeeded.
	reads := func(i, n int) {
		t.Helper()
		var ok atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := g; ok.Load() < int64(n); k++ {
					_, err := cls[i].Query(context.Background(), db, "SELECT v FROM f WHERE id = @id", map[string]any{"id": k % 10}, nil)
					switch {
					case err == nil:
						ok.Add(1)
					case !client.IsRetryable(err): // a leadership move may ask for a retry
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("read through node %d: %v", i, err)
		}
	}
	// readsUntilLeader reads through node i until it leads partition 1.
	readsUntilLeader := func(i int) {
		t.Helper()
		c.SucceedsSoon(func() error {
			reads(i, 200)
			if l := c.LeaderOf(1); l != i {
				return fmt.Errorf("partition 1 led by node %d, clients on node %d", l, i)
			}
			return nil
		})
	}

	// Node index 0 is the partition's preferred node (balancing hands it
	// leadership): the clients go to the two others, so only following
	// them can bring leadership there.
	readsUntilLeader(1)
	moves := followMoves(t, c)
	// The clients keep going on that node for at least twenty windows:
	// leadership stays (balancing would hand it to the preferred node
	// within a tick without the keep rule) and no other move is asked for.
	for start := time.Now(); time.Since(start) < 20*followWindow; {
		reads(1, 500)
	}
	if l := c.LeaderOf(1); l != 1 {
		t.Fatalf("partition 1 went to node %d while its clients stayed on node 1", l)
	}
	if m := followMoves(t, c); m != moves {
		t.Fatalf("%d lease moves after the first %d, with the clients on one node", m-moves, moves)
	}
	// The clients move to the third node; the lease follows.
	readsUntilLeader(2)
	if m := followMoves(t, c); m <= moves {
		t.Fatalf("leadership reached node 2 without a lease move (%d moves)", m)
	}
	countEverywhere(t, cls, "SELECT COUNT(*) FROM f", 10)
}

const followWindow = 50 * time.Millisecond

// followMoves sums camusdb_cluster_lease_follow_moves_total over the nodes.
func followMoves(t *testing.T, c *testcluster.Cluster) int64 {
	t.Helper()
	var total int64
	for i := range c.Len() {
		resp, err := http.Get(c.URL(i) + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		found := false
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "camusdb_cluster_lease_follow_moves_total "); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				total += int64(n)
				found = true
			}
		}
		resp.Body.Close()
		if !found {
			t.Fatalf("node %d exports no camusdb_cluster_lease_follow_moves_total", i)
		}
	}
	return total
}
