package systemtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// TestClusterLeaseFollowsClients: three camusdb processes with the default
// configuration and one partition, which leadership balancing gives to
// node 1; an application reads through node 3 only. Within a few seconds
// node 3 leads the partition (its reads no longer cross to another
// process), the move shows in /metrics, and the data is intact.
func TestClusterLeaseFollowsClients(t *testing.T) {
	nodes := startCluster(t, 3, "1")
	ctx := context.Background()
	admin := nodes[0].client()
	testutil.SucceedsSoon(t, 30*time.Second, func() error { return admin.CreateDB(ctx, "f", true) })
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		err := admin.ExecDDL(ctx, "f", "CREATE TABLE kv (id INT64 PRIMARY KEY, v STRING)")
		if client.CodeOf(err) == "CADB0013" { // created by an attempt whose answer was lost
			return nil
		}
		return err
	})
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		_, err := admin.Exec(ctx, "f", "INSERT INTO kv (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c') ON CONFLICT DO NOTHING", nil, nil)
		return err
	})
	// Balancing settles the partition on node 1 first.
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		if l := leaderOf(t, nodes[2], 1); l != 1 {
			return fmt.Errorf("partition 1 led by node %d, not yet by its preferred node 1", l)
		}
		return nil
	})
	app := nodes[2].client()
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; !stop.Load(); i++ {
				res, err := app.Query(ctx, "f", "SELECT v FROM kv WHERE id = @id", map[string]any{"id": i%3 + 1}, nil)
				switch {
				case err == nil && len(res.Rows) != 1:
					errs <- fmt.Errorf("id %d: %d rows", i%3+1, len(res.Rows))
					return
				case err == nil:
					reads.Add(1)
				case !client.IsRetryable(err): // a leadership move may ask for a retry
					errs <- err
					return
				}
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	testutil.SucceedsSoon(t, 60*time.Second, func() error {
		select {
		case err := <-errs:
			t.Fatalf("read through node 3: %v", err)
		default:
		}
		if l := leaderOf(t, nodes[2], 1); l != 3 {
			return fmt.Errorf("partition 1 led by node %d after %d reads through node 3", l, reads.Load())
		}
		return nil
	})
	var moves string
	for _, nd := range nodes {
		resp, err := http.Get(nd.url() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, "camusdb_cluster_lease_follow_moves_total ") {
				moves += strings.TrimPrefix(line, "camusdb_cluster_lease_follow_moves_total ") + " "
			}
		}
	}
	if moves == "" || moves == "0 0 0 " {
		t.Fatalf("lease follow moves per node: %q", moves)
	}
	stop.Store(true)
	wg.Wait()
	for i, nd := range nodes {
		res, err := nd.client().Query(ctx, "f", "SELECT COUNT(*) FROM kv", nil, nil)
		if err != nil || res.Rows[0][0] != int64(3) {
			t.Fatalf("node %d: count %v, %v", i+1, res, err)
		}
	}
}
