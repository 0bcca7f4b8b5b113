package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
)

// freePorts reserves n loopback ports by binding :0 and releasing them, so
// that every process's peer list can name them before any process starts.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	lns := make([]net.Listener, n)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i], addrs[i] = ln, ln.Addr().String()
	}
	for _, ln := range lns {
		_ = ln.Close()
	}
	return addrs
}

// startCluster starts n camusdb processes as one cluster, concurrently
// (a node is ready only once a quorum runs).
func startCluster(t *testing.T, n int, partitions string) []*node {
	t.Helper()
	nodes := clusterNodes(t, n, partitions)
	startNodes(nodes...)
	return nodes
}

// startNodes starts nodes concurrently and waits until each is ready.
func startNodes(nodes ...*node) {
	var wg sync.WaitGroup
	for _, nd := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); nd.start() }()
	}
	wg.Wait()
}

// clusterNodes prepares (without starting) n processes of one cluster.
func clusterNodes(t *testing.T, n int, partitions string) []*node {
	t.Helper()
	raft, httpAddrs := freePorts(t, n), freePorts(t, n)
	nodes := make([]*node, n)
	for i := range n {
		_, raftPort, _ := net.SplitHostPort(raft[i])
		_, httpPort, _ := net.SplitHostPort(httpAddrs[i])
		nodes[i] = &node{t: t, dataDir: t.TempDir(), args: []string{"start",
			"--raft-host", "127.0.0.1", "--raft-port", raftPort, "--raft-nodename", fmt.Sprintf("n%d", i+1),
			"--http-host", "127.0.0.1", "--http-port", httpPort, "--pg-port", "0",
			"--initial-cluster", strings.Join(raft, ","), "--http-peers", strings.Join(httpAddrs, ","),
			"--initial-cluster-partitions", partitions}}
		nodes[i].args = append(nodes[i].args, "--data-dir", nodes[i].dataDir)
		t.Cleanup(nodes[i].kill)
	}
	return nodes
}

// leaderOf asks a node which node id leads a partition.
func leaderOf(t *testing.T, nd *node, partitionID uint64) uint64 {
	t.Helper()
	var leader uint64
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		resp, err := http.Get(nd.url() + "/cluster/status")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var st struct {
			Partitions []struct{ ID, Leader uint64 } `json:"partitions"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			return err
		}
		for _, p := range st.Partitions {
			if p.ID == partitionID && p.Leader != 0 {
				leader = p.Leader
				return nil
			}
		}
		return fmt.Errorf("no leader for partition %d", partitionID)
	})
	return leader
}

// TestClusterKill9: three processes; kill -9 the leader of a partition
// while clients write through every node; writes continue through the
// others; the killed node restarts, catches up, and no acknowledged write
// is lost or duplicated.
func TestClusterKill9(t *testing.T) {
	nodes := startCluster(t, 3, "2")
	urls := []string{nodes[0].url(), nodes[1].url(), nodes[2].url()}
	ctx := ctxT(t)
	admin := client.New(urls, client.WithTimeout(30*time.Second))
	defer admin.Close()
	if err := admin.CreateDB(ctx, "db", false); err != nil {
		t.Fatal(err)
	}
	if err := admin.ExecDDL(ctx, "db", `CREATE TABLE events (writer INT64 NOT NULL, seq INT64 NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const writers = 3
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		total atomic.Int64
	)
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wc := client.New(urls, client.WithTimeout(30*time.Second))
			defer wc.Close()
			for seq := 0; wctx.Err() == nil; seq++ {
				_, err := wc.Exec(wctx, "db", `INSERT INTO events (writer, seq) VALUES (@w, @s)`,
					map[string]any{"w": w, "s": seq}, nil)
				if err != nil {
					continue // retryable, ambiguous or a dead endpoint: this seq is not acknowledged
				}
				mu.Lock()
				acked[fmt.Sprintf("%d|%d", w, seq)] = true
				mu.Unlock()
				total.Add(1)
			}
		}()
	}
	waitAcks := func(n int64) {
		t.Helper()
		testutil.SucceedsSoon(t, 60*time.Second, func() error {
			if got := total.Load(); got < n {
				return fmt.Errorf("only %d acknowledged writes", got)
			}
			return nil
		})
	}
	waitAcks(50)
	victimID := leaderOf(t, nodes[0], 1)
	victim := nodes[victimID-1]
	victim.kill()
	waitAcks(total.Load() + 50) // writes continue through the others
	victim.start()              // same data dir and ports
	waitAcks(total.Load() + 50)
	stop()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for i, nd := range nodes {
		c := client.New([]string{nd.url()}, client.WithTimeout(30*time.Second))
		var rows []string
		deadline := time.Now().Add(30 * time.Second)
		for {
			res, err := c.Query(ctx, "db", `SELECT writer, seq FROM events`, nil, nil)
			if err == nil {
				rows = rowsOf(res)
				break
			}
			if !client.IsRetryable(err) || time.Now().After(deadline) {
				t.Fatalf("node %d: %v", i, err)
			}
		}
		c.Close()
		seen := map[string]bool{}
		for _, r := range rows {
			if seen[r] {
				t.Fatalf("node %d: row %s twice", i, r)
			}
			seen[r] = true
		}
		for k := range acked {
			if !seen[k] {
				t.Fatalf("node %d: acknowledged write %s lost (%d rows, %d acked)", i, k, len(rows), len(acked))
			}
		}
	}
	t.Logf("%d acknowledged writes, node %d killed and restarted", len(acked), victimID)
}
