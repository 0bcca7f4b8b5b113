package testcluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/testcluster"
)

// Explicit transactions in cluster mode: a transaction lives on the node
// that ran BEGIN, and requests carrying its handle may go to any node, which
// forwards them to that coordinator (SPEC §3.3).

// nodeClients returns one client per node, each talking to that node only.
func nodeClients(t *testing.T, c *testcluster.Cluster) []*client.Client {
	t.Helper()
	out := make([]*client.Client, c.Len())
	for i := range out {
		out[i] = client.New([]string{c.URL(i)})
		t.Cleanup(out[i].Close)
	}
	return out
}

// handle is txn as a client that did not open it knows it: no endpoint
// preference, just the ids.
func handle(txn *client.Txn) *client.Txn {
	return &client.Txn{PT: txn.PT, Counter: txn.Counter, Database: txn.Database}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if client.CodeOf(err) != code {
		t.Fatalf("%s: error %v, want %s", what, err, code)
	}
}

// runForwardedTxn runs body in a transaction begun on node begin (see
// retryTxn).
func runForwardedTxn(t *testing.T, cls []*client.Client, begin int, body func(txn *client.Txn) error) {
	t.Helper()
	retryTxn(t, func() error {
		txn, err := cls[begin].Begin(context.Background(), db)
		if err != nil {
			return err
		}
		if err := body(txn); err != nil {
			_ = cls[begin].Rollback(context.Background(), txn)
			return err
		}
		return nil
	})
}

// retryTxn runs a whole transaction again while it fails with a retryable
// error (leader changes), for up to 30 s.
func retryTxn(t *testing.T, attempt func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := attempt()
		if err == nil {
			return
		}
		if !client.IsRetryable(err) {
			t.Fatalf("transaction: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("transaction still failing after 30s: %v", err)
		}
	}
}

func queryInt(t *testing.T, cl *client.Client, sql string) int64 {
	t.Helper()
	var n int64
	retry(t, sql, func() error {
		res, err := cl.Query(context.Background(), db, sql, nil, nil)
		if err == nil {
			n, _ = res.Rows[0][0].(int64)
		}
		return err
	})
	return n
}

func TestTxnStatementsAndCommitThroughOtherNodes(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4})
	setup(t, c,
		"CREATE TABLE accounts (id INT64 PRIMARY KEY, balance INT64 NOT NULL)",
		"CREATE TABLE transfers (id INT64 PRIMARY KEY, src INT64, dst INT64, amount INT64, KEY by_src (src))")
	cls := nodeClients(t, c)
	ctx := context.Background()
	retry(t, "seed", func() error {
		_, err := cls[0].Exec(ctx, db, "INSERT INTO accounts (id, balance) VALUES (1, 100), (2, 100)", nil, nil)
		return err
	})

	runForwardedTxn(t, cls, 0, func(txn *client.Txn) error {
		h := session.TxnHandle{PT: txn.PT, Counter: txn.Counter}
		if got := session.TxnCoordinator(h); got != c.Node(0).ID {
			t.Fatalf("handle %+v names coordinator %d, want node %d", h, got, c.Node(0).ID)
		}
		remote := handle(txn)
		if _, err := cls[1].Exec(ctx, db, "UPDATE accounts SET balance = balance - 30 WHERE id = 1", nil, remote); err != nil {
			return err
		}
		if _, err := cls[2].Exec(ctx, db, "UPDATE accounts SET balance = balance + 30 WHERE id = 2", nil, remote); err != nil {
			return err
		}
		if _, err := cls[2].Exec(ctx, db, "INSERT INTO transfers (id, src, dst, amount) VALUES (@id, 1, 2, 30)",
			map[string]any{"id": 1}, remote); err != nil {
			return err
		}
		// A statement error through another node keeps its code and leaves
		// the transaction usable.
		_, err := cls[1].Exec(ctx, db, "INSERT INTO accounts (id, balance) VALUES (1, 0)", nil, remote)
		if client.IsRetryable(err) {
			return err
		}
		wantCode(t, "duplicate key through node 2", err, client.CodeUniqueViolation)
		// Reads through another node see the transaction's own writes.
		res, err := cls[2].Query(ctx, db,
			"SELECT a.balance, t.amount FROM accounts a JOIN transfers t ON t.dst = a.id WHERE t.src = 1", nil, remote)
		if err != nil {
			return err
		}
		if len(res.Rows) != 1 || res.Rows[0][0] != int64(130) || res.Rows[0][1] != int64(30) {
			t.Fatalf("read inside the transaction through node 3: %v", res.Rows)
		}
		return cls[1].Commit(ctx, remote)
	})

	for i, cl := range cls {
		if got := queryInt(t, cl, "SELECT balance FROM accounts WHERE id = 1"); got != 70 {
			t.Fatalf("node %d: account 1 has %d, want 70", i, got)
		}
		if got := queryInt(t, cl, "SELECT SUM(balance) FROM accounts"); got != 200 {
			t.Fatalf("node %d: total %d, want 200", i, got)
		}
		if got := queryInt(t, cl, "SELECT COUNT(*) FROM transfers WHERE src = 1"); got != 1 {
			t.Fatalf("node %d: %d transfers, want 1", i, got)
		}
	}
}

func TestTxnSQLBeginCommitAndRollbackThroughOtherNodes(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4})
	setup(t, c, "CREATE TABLE items (id INT64 PRIMARY KEY, name STRING)", "CREATE TABLE tags (id INT64 PRIMARY KEY, tag STRING)")
	cls := nodeClients(t, c)
	ctx := context.Background()

	// BEGIN and COMMIT as SQL, each statement through a different node.
	var committed *client.Txn
	retryTxn(t, func() error {
		res, err := cls[2].Query(ctx, db, "BEGIN", nil, nil)
		if err != nil {
			return err
		}
		if res.Txn == nil {
			t.Fatalf("BEGIN answered without a handle: %+v", res)
		}
		remote := handle(res.Txn)
		if _, err := cls[0].Exec(ctx, db, "INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b')", nil, remote); err != nil {
			return err
		}
		if _, err := cls[1].Exec(ctx, db, "INSERT INTO tags (id, tag) VALUES (1, 'x')", nil, remote); err != nil {
			return err
		}
		if _, err := cls[0].Query(ctx, db, "COMMIT", nil, remote); err != nil {
			return err
		}
		committed = remote
		return nil
	})
	// The transaction is gone from its coordinator: ending it again through
	// any node says so.
	wantCode(t, "second COMMIT", cls[1].Commit(ctx, committed), client.CodeTxnClosed)

	// ROLLBACK through another node discards every write.
	runForwardedTxn(t, cls, 1, func(txn *client.Txn) error {
		remote := handle(txn)
		if _, err := cls[2].Exec(ctx, db, "INSERT INTO items (id, name) VALUES (3, 'c')", nil, remote); err != nil {
			return err
		}
		if _, err := cls[0].Exec(ctx, db, "DELETE FROM tags WHERE id = 1", nil, remote); err != nil {
			return err
		}
		return cls[0].Rollback(ctx, remote)
	})
	// And ROLLBACK as SQL.
	runForwardedTxn(t, cls, 0, func(txn *client.Txn) error {
		remote := handle(txn)
		if _, err := cls[1].Exec(ctx, db, "UPDATE items SET name = 'z' WHERE id = 1", nil, remote); err != nil {
			return err
		}
		_, err := cls[2].Query(ctx, db, "ROLLBACK", nil, remote)
		return err
	})

	for i, cl := range cls {
		if got := queryInt(t, cl, "SELECT COUNT(*) FROM items"); got != 2 {
			t.Fatalf("node %d: %d items, want 2", i, got)
		}
		if got := queryInt(t, cl, "SELECT COUNT(*) FROM tags"); got != 1 {
			t.Fatalf("node %d: %d tags, want 1", i, got)
		}
		if got := queryInt(t, cl, "SELECT COUNT(*) FROM items WHERE name = 'z'"); got != 0 {
			t.Fatalf("node %d: rolled-back update visible", i)
		}
	}
}

func TestTxnOfStoppedCoordinatorMustRetry(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Partitions: 4})
	setup(t, c, "CREATE TABLE kv (k INT64 PRIMARY KEY, v INT64)")
	cls := nodeClients(t, c)
	ctx := context.Background()

	var remote *client.Txn
	runForwardedTxn(t, cls, 2, func(txn *client.Txn) error {
		remote = handle(txn)
		_, err := cls[0].Exec(ctx, db, "INSERT INTO kv (k, v) VALUES (1, 1)", nil, remote)
		return err
	})
	c.StopNode(2)

	_, err := cls[0].Exec(ctx, db, "INSERT INTO kv (k, v) VALUES (2, 2)", nil, remote)
	wantCode(t, "statement of a stopped coordinator's transaction", err, client.CodeMustRetry)
	wantCode(t, "COMMIT of a stopped coordinator's transaction", cls[1].Commit(ctx, remote), client.CodeMustRetry)
	_, err = cls[1].Query(ctx, db, "COMMIT", nil, remote)
	wantCode(t, "SQL COMMIT of a stopped coordinator's transaction", err, client.CodeMustRetry)
	wantCode(t, "ROLLBACK of a stopped coordinator's transaction", cls[0].Rollback(ctx, remote), client.CodeMustRetry)

	// The lost transaction wrote nothing and holds nothing: the surviving
	// nodes write the same key.
	retry(t, "insert after the coordinator stopped", func() error {
		_, err := cls[1].Exec(ctx, db, "INSERT INTO kv (k, v) VALUES (1, 10)", nil, nil)
		if client.CodeOf(err) == client.CodeUniqueViolation {
			return nil // an earlier attempt committed; checked below
		}
		return err
	})
	for i := range 2 {
		if got := queryInt(t, cls[i], "SELECT v FROM kv WHERE k = 1"); got != 10 {
			t.Fatalf("node %d: v = %d, want 10", i, got)
		}
	}
	if _, err := cls[2].Query(ctx, db, "SELECT 1", nil, nil); !errors.Is(err, client.ErrNoEndpoint) {
		t.Fatalf("stopped node still answers: %v", err)
	}
}
