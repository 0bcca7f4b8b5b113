package session_test

import (
	"context"
	"fmt"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func mustExec(t testing.TB, s session.Executor, req session.Request) *session.Result {
	t.Helper()
	res, err := s.Execute(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: %v", req.SQL, err)
	}
	return res
}

func wantCode(t testing.TB, err error, code errcode.Code) {
	t.Helper()
	if err == nil || errcode.Of(err) != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func setup(t testing.TB, s session.Executor, stmts ...string) {
	t.Helper()
	mustExec(t, s, session.Request{SQL: "CREATE DATABASE d"})
	for _, sql := range stmts {
		mustExec(t, s, session.Request{Database: "d", SQL: sql})
	}
}

func TestAutocommitRetriesRetryableErrors(t *testing.T) {
	db := catalogtest.NewMemDB()
	// No schema leases: their acquisitions are commits too, and would take
	// some of the injected failures.
	s := session.NewServer(db, session.Config{MaxRetries: 3, DisableSchemaLeases: true})
	defer s.Close()
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY)")

	db.FailCommits(3)
	res := mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1)"})
	if res.Kind != session.ResultAffected || res.RowsAffected != 1 {
		t.Fatalf("result %+v", res)
	}
	db.FailCommits(4)
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "INSERT INTO t VALUES (2)"})
	wantCode(t, err, errcode.TxnConflict)
	res = mustExec(t, s, session.Request{Database: "d", SQL: "SELECT count(*) FROM t"})
	if got := res.Rows[0][0].Int; got != 1 {
		t.Fatalf("count = %d, want 1", got)
	}
}

// A retry error the router gave up on after its whole wait (no leader for
// that long) reaches the client at once: retrying would wait as long again.
func TestAutocommitDoesNotRetryReroutedErrors(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := session.NewServer(db, session.Config{MaxRetries: 3, DisableSchemaLeases: true})
	defer s.Close()
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY)")

	db.FailCommitsWith(3, &kvpb.RetryError{Reason: "partition 1 has no leader", Rerouted: true})
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1)"})
	wantCode(t, err, errcode.MustRetry)
	if left := db.FailuresLeft(); left != 2 {
		t.Fatalf("%d injected failures left, want 2 (one attempt)", left)
	}
	// An ordinary retry error is still retried.
	db.FailCommitsWith(2, &kvpb.RetryError{Reason: "lease moving"})
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1)"})
}

func TestParametersAndResultShape(t *testing.T) {
	s, _ := newServer(t)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, name STRING)")
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (@id, @name), ($1, 'b')",
		Params: map[string]types.Value{"id": types.NewInt(7), "name": types.NewString("a"), "1": types.NewInt(8)}})
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT id, name FROM t WHERE id >= @lo ORDER BY id LIMIT @n",
		Params: map[string]types.Value{"lo": types.NewInt(7), "n": types.NewInt(1)}})
	if len(res.Rows) != 1 || res.Rows[0][0].Int != 7 || res.Rows[0][1].Str != "a" {
		t.Fatalf("rows %v", res.Rows)
	}
	if res.Columns[0] != (session.Column{Name: "id", Type: types.Int64}) || res.Columns[1].Type != types.String {
		t.Fatalf("columns %+v", res.Columns)
	}
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "SELECT @missing"})
	wantCode(t, err, errcode.InvalidInput)
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "SELEC 1"})
	wantCode(t, err, errcode.SyntaxError)
	_, err = s.Execute(context.Background(), session.Request{SQL: "SELECT * FROM t"})
	wantCode(t, err, errcode.UnknownDatabase)
	res = mustExec(t, s, session.Request{SQL: "USE d"})
	if res.Database != "d" || res.Kind != session.ResultDDL {
		t.Fatalf("USE result %+v", res)
	}
	res = mustExec(t, s, session.Request{Database: "d", SQL: "SELECT id FROM t WHERE id = 99"})
	if res.Rows == nil || len(res.Rows) != 0 {
		t.Fatalf("empty result must have non-nil empty rows: %#v", res.Rows)
	}
}

func TestExplicitTransactions(t *testing.T) {
	ctx := context.Background()
	s, _ := newServer(t)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)", "INSERT INTO t VALUES (1, 0)")

	// Two transactions read and write the same row: the second to commit
	// conflicts.
	h1, err := s.Begin(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := s.Begin(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Fatal("handles collide")
	}
	for _, h := range []session.TxnHandle{h1, h2} {
		mustExec(t, s, session.Request{Database: "d", SQL: "UPDATE t SET v = v + 1 WHERE id = 1", Txn: &h})
	}
	if err := s.Commit(ctx, h1); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.Commit(ctx, h2), errcode.TxnConflict)
	wantCode(t, s.Commit(ctx, h2), errcode.TxnClosed)
	wantCode(t, s.Rollback(ctx, h1), errcode.TxnClosed)
	_, err = s.Execute(ctx, session.Request{Database: "d", SQL: "SELECT 1", Txn: &h1})
	wantCode(t, err, errcode.TxnClosed)
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT v FROM t WHERE id = 1"})
	if res.Rows[0][0].Int != 1 {
		t.Fatalf("v = %v", res.Rows[0][0])
	}

	// BEGIN / COMMIT as SQL.
	res = mustExec(t, s, session.Request{Database: "d", SQL: "BEGIN"})
	if res.Kind != session.ResultBegin || res.Txn == nil {
		t.Fatalf("BEGIN result %+v", res)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (2, 2)", Txn: res.Txn})
	if c := mustExec(t, s, session.Request{Database: "d", SQL: "COMMIT", Txn: res.Txn}); c.Kind != session.ResultCommit {
		t.Fatalf("COMMIT result %+v", c)
	}
	if s.OpenTransactions() != 0 {
		t.Fatalf("%d transactions left open", s.OpenTransactions())
	}
}

// faultyDB injects an error into the next Get of any transaction.
type faultyDB struct {
	catalog.DB
	failGet atomic.Pointer[error]
}

type faultyTxn struct {
	catalog.Txn
	db *faultyDB
}

func (db *faultyDB) Begin(ctx context.Context) (catalog.Txn, error) {
	txn, err := db.DB.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &faultyTxn{Txn: txn, db: db}, nil
}

func (t *faultyTxn) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	if errp := t.db.failGet.Swap(nil); errp != nil {
		return nil, false, *errp
	}
	return t.Txn.Get(ctx, key)
}

func TestRetryableErrorAbortsExplicitTransaction(t *testing.T) {
	ctx := context.Background()
	db := &faultyDB{DB: catalogtest.NewMemDB()}
	s := session.NewServer(db, session.Config{})
	defer s.Close()
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY)")

	for _, end := range []string{"COMMIT", "ROLLBACK"} {
		h, err := s.Begin(ctx, "d")
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1)", Txn: &h})
		var conflict error = &kvpb.ConflictError{Reason: "injected"}
		db.failGet.Store(&conflict)
		_, err = s.Execute(ctx, session.Request{Database: "d", SQL: "SELECT * FROM t", Txn: &h})
		wantCode(t, err, errcode.TxnConflict)
		_, err = s.Execute(ctx, session.Request{Database: "d", SQL: "SELECT 1", Txn: &h})
		wantCode(t, err, errcode.TxnClosed)
		if end == "COMMIT" {
			wantCode(t, s.Commit(ctx, h), errcode.TxnConflict)
		} else if err := s.Rollback(ctx, h); err != nil {
			t.Fatal(err)
		}
		res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT count(*) FROM t"})
		if res.Rows[0][0].Int != 0 {
			t.Fatalf("%s: aborted transaction's write is visible", end)
		}
	}

	// Autocommit: a retryable read error is retried transparently.
	var retry error = &kvpb.RetryError{Reason: "injected"}
	db.failGet.Store(&retry)
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (5)"})
	// A non-retryable kv error is internal.
	var other error = fmt.Errorf("disk on fire")
	db.failGet.Store(&other)
	_, err := s.Execute(ctx, session.Request{Database: "d", SQL: "SELECT * FROM t"})
	wantCode(t, err, errcode.Internal)
	var corrupt error = &kvpb.CorruptionError{What: "x"}
	db.failGet.Store(&corrupt)
	_, err = s.Execute(ctx, session.Request{Database: "d", SQL: "SELECT * FROM t"})
	wantCode(t, err, errcode.Corruption)
}

type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }
func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func newServer(t testing.TB) (*session.Server, *catalogtest.MemDB) {
	db := catalogtest.NewMemDB()
	s := session.NewServer(db, session.Config{ParseCacheTTL: time.Minute, ParseCacheMaxEntries: 100})
	t.Cleanup(s.Close)
	return s, db
}

func TestIdleTransactionsExpire(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	s := session.NewServer(catalogtest.NewMemDB(), session.Config{TxnIdleTimeout: time.Minute, Clock: clock.now})
	defer s.Close()
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY)")
	idle, err := s.Begin(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	busy, err := s.Begin(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1)", Txn: &idle})
	clock.advance(45 * time.Second)
	mustExec(t, s, session.Request{Database: "d", SQL: "SELECT 1", Txn: &busy})
	clock.advance(30 * time.Second)
	if n := s.ExpireIdle(ctx); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	_, err = s.Execute(ctx, session.Request{Database: "d", SQL: "SELECT 1", Txn: &idle})
	wantCode(t, err, errcode.TxnClosed)
	wantCode(t, s.Rollback(ctx, idle), errcode.TxnClosed)
	if err := s.Commit(ctx, busy); err != nil {
		t.Fatal(err)
	}
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT count(*) FROM t"})
	if res.Rows[0][0].Int != 0 {
		t.Fatal("expired transaction's write is visible")
	}
}

func TestReaperRollsBackIdleTransactions(t *testing.T) {
	ctx := context.Background()
	s := session.NewServer(catalogtest.NewMemDB(), session.Config{TxnIdleTimeout: 20 * time.Millisecond})
	defer s.Close()
	if _, err := s.Begin(ctx, ""); err != nil {
		t.Fatal(err)
	}
	testutil.SucceedsSoon(t, 10*time.Second, func() error {
		if n := s.OpenTransactions(); n != 0 {
			return fmt.Errorf("idle transaction was never reaped (%d open)", n)
		}
		return nil
	})
}

// No lost updates: concurrent increments either apply or fail with a
// retryable error.
func TestConcurrentIncrements(t *testing.T) {
	s, _ := newServer(t)
	setup(t, s, "CREATE TABLE c (id INT64 PRIMARY KEY, n INT64)", "INSERT INTO c VALUES (1, 0)")
	var wg sync.WaitGroup
	var ok atomic.Int64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "UPDATE c SET n = n + 1 WHERE id = 1"})
				if err == nil {
					ok.Add(1)
				} else if !errcode.Of(err).Retryable() {
					t.Errorf("unexpected error %v", err)
				}
			}
		}()
	}
	wg.Wait()
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT n FROM c WHERE id = 1"})
	if res.Rows[0][0].Int != ok.Load() {
		t.Fatalf("n = %d after %d successful increments", res.Rows[0][0].Int, ok.Load())
	}
}

// TestTxnOfRestartedCoordinator: a handle opened by an earlier incarnation
// of this node (before the server started) names a transaction that died
// with that process: using it answers a retryable error, not "unknown"; a
// handle of another node, or a later one, is still just unknown.
func TestTxnOfRestartedCoordinator(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	db := catalogtest.NewMemDB()
	before := session.NewServer(db, session.Config{NodeID: 3, Clock: clock.now})
	setup(t, before, "CREATE TABLE t (id INT64 PRIMARY KEY)")
	h, err := before.Begin(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	before.Close() // the process dies
	clock.advance(time.Second)
	after := session.NewServer(db, session.Config{NodeID: 3, Clock: clock.now})
	defer after.Close()
	_, err = after.Execute(ctx, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1)", Txn: &h})
	wantCode(t, err, errcode.MustRetry)
	wantCode(t, after.Commit(ctx, h), errcode.MustRetry)
	clock.advance(time.Second)
	later, err := after.Begin(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if err := after.Rollback(ctx, later); err != nil {
		t.Fatal(err)
	}
	wantCode(t, after.Commit(ctx, later), errcode.TxnClosed)
	other := h
	other.Counter = h.Counter&(1<<session.TxnNodeShift-1) | 4<<session.TxnNodeShift
	wantCode(t, after.Commit(ctx, other), errcode.TxnClosed)
}
