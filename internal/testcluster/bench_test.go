package testcluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
)

// The 3-node loopback cluster benchmarks: real nodes in one process, gRPC
// between them, the Go client over HTTP, 16 clients spread over the three
// nodes. Every partition is replicated on every node, so a request that
// reaches a node that does not hold the lease is routed to the one that
// does. Reports ops/s. The Standalone ones run the same workload on one
// node (the ratio the performance issue asks about).
//
//	go test -run '^$' -bench 'Cluster|Standalone' -benchtime 20000x ./internal/testcluster

const benchClients = 16

func benchCluster(b *testing.B) (*Cluster, []*client.Client) {
	return benchNodes(b, 3)
}

func benchNodes(b *testing.B, nodes int) (*Cluster, []*client.Client) {
	c := Start(b, Options{Nodes: nodes, Partitions: 4})
	ctx := context.Background()
	admin := client.New(c.URLs(), client.WithTimeout(30*time.Second))
	b.Cleanup(admin.Close)
	if err := admin.CreateDB(ctx, "bench", false); err != nil {
		b.Fatal(err)
	}
	if err := admin.ExecDDL(ctx, "bench", `CREATE TABLE acct (id INT64 PRIMARY KEY, bal INT64 NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 4*benchClients; i += 16 {
		sql := "INSERT INTO acct (id, bal) VALUES "
		for j := i; j < i+16; j++ {
			if j > i {
				sql += ", "
			}
			sql += fmt.Sprintf("(%d, 100)", j)
		}
		// Right after the start a partition may still be electing or
		// moving its lease (CADB0504): retry those.
		for attempt := 0; ; attempt++ {
			_, err := admin.Exec(ctx, "bench", sql, nil, nil)
			if err == nil {
				break
			}
			if !client.IsRetryable(err) || attempt == 50 {
				b.Fatal(err)
			}
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				b.Fatal(ctx.Err())
			}
		}
	}
	if nodes > 1 {
		waitBalanced(c)
	}
	clients := make([]*client.Client, benchClients)
	for i := range clients {
		clients[i] = client.New([]string{c.URL(i % nodes)}, client.WithTimeout(30*time.Second))
		b.Cleanup(clients[i].Close)
	}
	return c, clients
}

// waitBalanced waits until every node agrees that every partition is led
// by its preferred node (partitions dealt round-robin over the sorted node
// ids): the leadership moves that follow a start are over before the
// measurement begins.
func waitBalanced(c *Cluster) {
	ids := make([]uint64, c.Len())
	for i := range ids {
		ids[i] = c.Node(i).ID
	}
	slices.Sort(ids)
	c.SucceedsSoon(func() error {
		for i := range c.Len() {
			st, err := c.Status(i)
			if err != nil {
				return err
			}
			for _, p := range st.Partitions {
				if want := ids[(p.ID-1)%uint64(len(ids))]; p.Leader != want {
					return fmt.Errorf("node %d sees partition %d led by %d, not %d", i, p.ID, p.Leader, want)
				}
			}
		}
		return nil
	})
}

func runClients(b *testing.B, clients []*client.Client, op func(ctx context.Context, c *client.Client, client, i int) error) {
	ctx := context.Background()
	var next, retried atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for ci, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; next.Add(1) <= int64(b.N); i++ {
				err := op(ctx, cl, ci, i)
				if err != nil && !client.IsRetryable(err) {
					failed.Store(err)
					return
				}
				if err != nil {
					retried.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	// A retryable failure (a leadership move right after the start) is an
	// operation that did not happen: only successes count.
	b.ReportMetric(float64(int64(b.N)-retried.Load())/time.Since(start).Seconds(), "ops/s")
	b.ReportMetric(float64(retried.Load()), "retryable-errors")
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkClusterPointSelect(b *testing.B) {
	_, clients := benchCluster(b)
	runClients(b, clients, pointSelect)
}

// BenchmarkCluster2R2W: an explicit transaction reading two of the
// client's own rows and writing two (no contention between clients).
func BenchmarkCluster2R2W(b *testing.B) {
	_, clients := benchCluster(b)
	runClients(b, clients, func(ctx context.Context, c *client.Client, ci, i int) error {
		_, err := c.RunTxn(ctx, "bench", 10, func(ctx context.Context, txn *client.Txn) error {
			base := ci * 4
			for _, id := range []int{base, base + 1} {
				if _, err := c.Query(ctx, "bench", `SELECT bal FROM acct WHERE id = @id`, map[string]any{"id": id}, txn); err != nil {
					return err
				}
			}
			for _, id := range []int{base + 2, base + 3} {
				if _, err := c.Exec(ctx, "bench", `UPDATE acct SET bal = bal + 1 WHERE id = @id`, map[string]any{"id": id}, txn); err != nil {
					return err
				}
			}
			return nil
		})
		return err
	})
}

// benchInsert: autocommit single-row inserts of new keys.
func benchInsert(b *testing.B, nodes int) {
	_, clients := benchNodes(b, nodes)
	runClients(b, clients, func(ctx context.Context, c *client.Client, ci, i int) error {
		_, err := c.Exec(ctx, "bench", `INSERT INTO acct (id, bal) VALUES (@id, 1)`,
			map[string]any{"id": 1_000_000 + ci*100_000_000 + i}, nil)
		return err
	})
}

func BenchmarkClusterInsert(b *testing.B)    { benchInsert(b, 3) }
func BenchmarkStandaloneInsert(b *testing.B) { benchInsert(b, 1) }

// BenchmarkClusterPointSelectOneGateway and BenchmarkClusterInsertOneGateway:
// every client on one node (the second), as an application connected to
// one node of the cluster. The table's lease follows the clients there
// (lease_follow_workload) during a warm-up of a few seconds of the same
// operations, so the measured ones are served where they arrive.
func BenchmarkClusterPointSelectOneGateway(b *testing.B) {
	benchOneGateway(b, pointSelect)
}

// pointSelect reads one of the acct rows by key (client -1, a warm-up,
// reads client 0's).
func pointSelect(ctx context.Context, c *client.Client, ci, i int) error {
	_, err := c.Query(ctx, "bench", `SELECT bal FROM acct WHERE id = @id`, map[string]any{"id": (max(ci, 0)*4 + i) % (4 * benchClients)}, nil)
	return err
}

func BenchmarkClusterInsertOneGateway(b *testing.B) {
	benchOneGateway(b, func(ctx context.Context, c *client.Client, ci, i int) error {
		id := 1_000_000 + ci*100_000_000 + i
		if ci < 0 { // the warm-up's keys, below the measured ones
			id = 500_000 + i
		}
		_, err := c.Exec(ctx, "bench", `INSERT INTO acct (id, bal) VALUES (@id, 1)`, map[string]any{"id": id}, nil)
		return err
	})
}

// benchOneGateway runs op from benchClients clients of node 1 after a
// warm-up of op (client index -1) through that node.
func benchOneGateway(b *testing.B, op func(ctx context.Context, c *client.Client, ci, i int) error) {
	c, _ := benchNodes(b, 3)
	clients := make([]*client.Client, benchClients)
	for i := range clients {
		clients[i] = client.New([]string{c.URL(1)}, client.WithTimeout(30*time.Second))
		b.Cleanup(clients[i].Close)
	}
	// The follower moves a lease after two one-second windows.
	ctx := context.Background()
	for start, i := time.Now(), 0; time.Since(start) < 3500*time.Millisecond; i++ {
		if err := op(ctx, clients[0], -1, i); err != nil && !client.IsRetryable(err) {
			b.Fatal(err)
		}
	}
	runClients(b, clients, op)
}

func BenchmarkStandalonePointSelect(b *testing.B) {
	_, clients := benchNodes(b, 1)
	runClients(b, clients, pointSelect)
}
