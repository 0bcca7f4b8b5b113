package testcluster_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/testcluster"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const db = "test"

func setup(t *testing.T, c *testcluster.Cluster, ddl ...string) *client.Client {
	t.Helper()
	cl := client.New(c.URLs())
	t.Cleanup(cl.Close)
	ctx := context.Background()
	// A node answers "not ready" (retryable) while a partition's
	// leadership moves (balancing right after start): retry. A retried DDL
	// that had landed finds its object.
	retry(t, "create database", func() error { return cl.CreateDB(ctx, db, true) })
	for _, stmt := range ddl {
		retry(t, stmt, func() error {
			err := cl.ExecDDL(ctx, db, stmt)
			if client.CodeOf(err) == "CADB0013" {
				return nil
			}
			return err
		})
	}
	return cl
}

// retry runs fn until it succeeds, retrying errors the client calls
// retryable (and unreachable endpoints), for up to 30 s.
func retry(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	ambiguous := false // an earlier attempt may have taken effect
	for {
		err := fn()
		if err == nil {
			return
		}
		if ambiguous && client.CodeOf(err) == client.CodeUniqueViolation {
			return // an earlier attempt of this insert committed
		}
		// Server answers that are not retryable fail the test. Transport
		// errors (a connection to a node that was just stopped ends with EOF)
		// are retried like ambiguous answers.
		var answer *client.Error
		if errors.As(err, &answer) && !answer.Retryable() {
			t.Fatalf("%s: %v", what, err)
		}
		if answer == nil {
			ambiguous = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after 30s: %v", what, err)
		}
	}
}

func count(t *testing.T, url, table string) int64 {
	t.Helper()
	cl := client.New([]string{url})
	defer cl.Close()
	var n int64
	retry(t, "count on "+url, func() error {
		res, err := cl.Query(context.Background(), db, "SELECT COUNT(*) FROM "+table, nil, nil)
		if err == nil {
			n = res.Rows[0][0].(int64)
		}
		return err
	})
	return n
}

func TestEveryNodeServesTheSameData(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4})
	setup(t, c, "CREATE TABLE robots (id INT64 PRIMARY KEY, name STRING NOT NULL)")
	ctx := context.Background()
	for i := range 30 {
		cl := client.New([]string{c.URL(i % 3)})
		retry(t, "insert", func() error {
			_, err := cl.Exec(ctx, db, "INSERT INTO robots (id, name) VALUES (@id, @name)",
				map[string]any{"id": i, "name": fmt.Sprintf("r%d", i)}, nil)
			return err
		})
		cl.Close()
	}
	for i := range 3 {
		if n := count(t, c.URL(i), "robots"); n != 30 {
			t.Fatalf("node %d sees %d robots, want 30", i, n)
		}
	}
	st, err := c.Status(1)
	if err != nil {
		t.Fatal(err)
	}
	if st.NodeID != c.Node(1).ID || len(st.Nodes) != 3 || len(st.Partitions) != 4 {
		t.Fatalf("status: %+v", st)
	}
	leaders := map[uint64]bool{}
	for _, p := range st.Partitions {
		if len(p.Replicas) != 3 || p.Leader == 0 || p.Term == 0 || p.AppliedIndex == 0 {
			t.Fatalf("partition status: %+v", p)
		}
		leaders[p.Leader] = true
	}
	for _, n := range st.Nodes {
		if !n.Live || n.RaftAddress == "" || n.HTTPAddress == "" {
			t.Fatalf("node status: %+v", n)
		}
	}
	if len(leaders) < 2 {
		t.Logf("leaders not spread yet: %v", leaders)
	}
}

func TestLeaderFailoverAndCatchUp(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4})
	cl := setup(t, c, "CREATE TABLE kv (k INT64 PRIMARY KEY, v INT64)")
	ctx := context.Background()
	insert := func(k int) {
		retry(t, "insert", func() error {
			_, err := cl.Exec(ctx, db, "INSERT INTO kv (k, v) VALUES (@k, @k)", map[string]any{"k": k}, nil)
			if client.CodeOf(err) == client.CodeUniqueViolation {
				return nil // an earlier ambiguous attempt committed
			}
			return err
		})
	}
	for k := range 10 {
		insert(k)
	}
	// Every node learned the same cluster id.
	var clusterID string
	c.SucceedsSoon(func() error {
		ids := map[string]bool{}
		for i := range c.Len() {
			st, err := c.Status(i)
			if err != nil {
				return err
			}
			ids[st.ClusterID] = true
			clusterID = st.ClusterID
		}
		if len(ids) != 1 || clusterID == "" {
			return fmt.Errorf("cluster ids %v", ids)
		}
		return nil
	})
	victim := c.LeaderOf(1)
	c.StopNode(victim)
	start := time.Now()
	for k := 10; k < 20; k++ {
		insert(k)
	}
	t.Logf("writes resumed %v after stopping the leader of partition 1 (node %d)", time.Since(start), victim)
	// The survivors elected a new leader among themselves.
	if l := c.LeaderOf(1); l == victim {
		t.Fatalf("partition 1 still led by the stopped node")
	}
	c.RestartNode(victim)
	// It remembered the cluster id across the restart.
	if st, err := c.Status(victim); err != nil || st.ClusterID != clusterID {
		t.Fatalf("restarted node's cluster id: %+v %v, want %s", st, err, clusterID)
	}
	// The restarted node caught up and serves everything written while it was down.
	if n := count(t, c.URL(victim), "kv"); n != 20 {
		t.Fatalf("restarted node sees %d rows, want 20", n)
	}
	insertAt := client.New([]string{c.URL(victim)})
	defer insertAt.Close()
	retry(t, "insert through the restarted node", func() error {
		_, err := insertAt.Exec(ctx, db, "INSERT INTO kv (k, v) VALUES (100, 100)", nil, nil)
		if client.CodeOf(err) == client.CodeUniqueViolation {
			return nil // an earlier ambiguous attempt committed
		}
		return err
	})
}

func TestMinorityRefusesWrites(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 2})
	setup(t, c, "CREATE TABLE kv (k INT64 PRIMARY KEY, v INT64)")
	c.StopNode(1)
	c.StopNode(2)
	// Once the lone node notices it has no quorum (election timeout), it
	// knows no leader and refuses at once.
	c.SucceedsSoon(func() error {
		st, err := c.Status(0)
		if err != nil {
			return err
		}
		for _, p := range st.Partitions {
			if p.Leader == 0 {
				return nil
			}
		}
		return errors.New("node 0 still sees leaders")
	})
	lone := client.New([]string{c.URL(0)}, client.WithTimeout(20*time.Second))
	defer lone.Close()
	_, err := lone.Exec(context.Background(), db, "INSERT INTO kv (k, v) VALUES (1, 1)", nil, nil)
	if err == nil || !client.IsRetryable(err) {
		t.Fatalf("write on a minority node: %v, want a retryable error", err)
	}
	c.RestartNode(1)
	retry(t, "write once a majority is back", func() error {
		_, err := lone.Exec(context.Background(), db, "INSERT INTO kv (k, v) VALUES (1, 1)", nil, nil)
		return err
	})
	// The refused write left nothing behind: exactly one row.
	if n := count(t, c.URL(1), "kv"); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

func TestBankSurvivesLeaderKill(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4})
	const accounts, initial = 10, 100
	cl := setup(t, c, "CREATE TABLE accounts (id INT64 PRIMARY KEY, balance INT64 NOT NULL)")
	ctx := context.Background()
	for i := range accounts {
		retry(t, "seed", func() error {
			_, err := cl.Exec(ctx, db, "INSERT INTO accounts (id, balance) VALUES (@id, @b)", map[string]any{"id": i, "b": initial}, nil)
			if client.CodeOf(err) == client.CodeUniqueViolation {
				return nil
			}
			return err
		})
	}
	var transfers, ambiguous atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wc := client.New(c.URLs())
			defer wc.Close()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				select {
				case <-stop:
					return
				default:
				}
				from, to := rng.IntN(accounts), rng.IntN(accounts)
				if from == to {
					continue
				}
				_, err := wc.RunTxn(ctx, db, 20, func(ctx context.Context, txn *client.Txn) error {
					res, err := wc.Query(ctx, db, "SELECT balance FROM accounts WHERE id = @id", map[string]any{"id": from}, txn)
					if err != nil {
						return err
					}
					if len(res.Rows) != 1 || res.Rows[0][0].(int64) < 1 {
						return nil
					}
					if _, err := wc.Exec(ctx, db, "UPDATE accounts SET balance = balance - 1 WHERE id = @id", map[string]any{"id": from}, txn); err != nil {
						return err
					}
					_, err = wc.Exec(ctx, db, "UPDATE accounts SET balance = balance + 1 WHERE id = @id", map[string]any{"id": to}, txn)
					return err
				})
				switch {
				case err == nil:
					transfers.Add(1)
				case client.CodeOf(err) == client.CodeAmbiguous:
					ambiguous.Add(1) // either outcome keeps the total
				}
			}
		}()
	}
	waitTransfers := func(n int64) {
		testutil.SucceedsSoon(t, 30*time.Second, func() error {
			if got := transfers.Load(); got < n {
				return fmt.Errorf("only %d transfers", got)
			}
			return nil
		})
	}
	waitTransfers(20)
	victim := c.LeaderOf(1)
	c.StopNode(victim)
	before := transfers.Load()
	waitTransfers(before + 20)
	c.RestartNode(victim)
	waitTransfers(transfers.Load() + 10)
	close(stop)
	wg.Wait()
	var total int64
	retry(t, "total", func() error {
		res, err := cl.Query(ctx, db, "SELECT SUM(balance), COUNT(*) FROM accounts", nil, nil)
		if err == nil {
			total = res.Rows[0][0].(int64)
		}
		return err
	})
	if total != accounts*initial {
		t.Fatalf("total balance %d, want %d (%d transfers, %d ambiguous)", total, accounts*initial, transfers.Load(), ambiguous.Load())
	}
	t.Logf("%d transfers, %d ambiguous, total kept", transfers.Load(), ambiguous.Load())
}
