package session_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// slowQuery pairs every row of t with every row of t twice over: with
// 300 rows that is 27 million pairs, minutes of work unless cancelled.
const slowQuery = "SELECT COUNT(*) FROM t a, t b, t c WHERE a.v + b.v + c.v < 0"

func setupBig(t *testing.T, s session.Executor) {
	t.Helper()
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	var b strings.Builder
	b.WriteString("INSERT INTO t (id, v) VALUES ")
	for i := range 300 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %d)", i, i)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: b.String()})
}

func TestStatementTimeout(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := session.NewServer(db, session.Config{NodeID: 3})
	t.Cleanup(s.Close)
	setupBig(t, s)
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: slowQuery,
		Timeout: 20 * time.Millisecond, TimeoutSetting: "statement_timeout"})
	wantCode(t, err, errcode.StatementTimeout)
	if !strings.Contains(err.Error(), "statement_timeout") {
		t.Fatalf("message does not name the setting: %v", err)
	}
	if n := len(s.RunningQueries()); n != 0 {
		t.Fatalf("%d statements still registered", n)
	}
	if cancelled, timedOut := s.InterruptedStatements(); cancelled != 0 || timedOut != 1 {
		t.Fatalf("counted %d cancelled, %d timed out", cancelled, timedOut)
	}

	// The node default applies when the request gives none; < 0 is none.
	s2 := session.NewServer(db, session.Config{StatementTimeout: 20 * time.Millisecond})
	t.Cleanup(s2.Close)
	_, err = s2.Execute(context.Background(), session.Request{Database: "d", SQL: slowQuery})
	wantCode(t, err, errcode.StatementTimeout)
	if !strings.Contains(err.Error(), "sql_statement_timeout_ms") {
		t.Fatalf("message does not name the setting: %v", err)
	}
	mustExec(t, s2, session.Request{Database: "d", SQL: "SELECT COUNT(*) FROM t", Timeout: -1})
}

func TestCancelQueryAndShowQueries(t *testing.T) {
	s := session.NewServer(catalogtest.NewMemDB(), session.Config{NodeID: 7})
	t.Cleanup(s.Close)
	setupBig(t, s)
	done := make(chan error, 1)
	go func() {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: slowQuery,
			Client: session.ClientInfo{User: "ann", Addr: "10.0.0.1:5000", Protocol: "pgwire"}})
		done <- err
	}()
	var id string
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		res := mustExec(t, s, session.Request{SQL: "SHOW QUERIES"})
		for _, row := range res.Rows {
			if row[9].Str == slowQuery {
				if row[1].Int != 7 || row[2].Str != "ann" || row[3].Str != "10.0.0.1:5000" || row[4].Str != "pgwire" {
					return fmt.Errorf("wrong row %v", row)
				}
				if row[8].IsNull() || row[8].Int < 0 {
					return fmt.Errorf("memory_bytes of a running statement: %v", row[8])
				}
				id = row[0].Str
				return nil
			}
		}
		return fmt.Errorf("slow query not listed in %v", res.Rows)
	})
	if !strings.HasPrefix(id, "7-") {
		t.Fatalf("query id %q does not name node 7", id)
	}
	mustExec(t, s, session.Request{SQL: "CANCEL QUERY @id", Params: map[string]types.Value{"id": types.NewString(id)}})
	wantCode(t, <-done, errcode.QueryCancelled)
	if cancelled, _ := s.InterruptedStatements(); cancelled != 1 {
		t.Fatalf("counted %d cancelled", cancelled)
	}
	for _, row := range mustExec(t, s, session.Request{SQL: "SHOW QUERIES"}).Rows {
		if row[0].Str == id {
			t.Fatalf("cancelled query still listed")
		}
	}
	_, err := s.Execute(context.Background(), session.Request{SQL: "CANCEL QUERY '" + id + "'"})
	wantCode(t, err, errcode.InvalidInput)
	_, err = s.Execute(context.Background(), session.Request{SQL: "CANCEL QUERY '2-1'"})
	wantCode(t, err, errcode.InvalidInput)
	if !strings.Contains(err.Error(), "node 2") {
		t.Fatalf("want the owning node named: %v", err)
	}
}

// With Request.Cancel the statement runs under the caller's context and
// CANCEL QUERY cancels it through Cancel; a statement that ended is never
// cancelled, and the session does not cancel the caller's context itself.
func TestCancelQueryThroughRequestCancel(t *testing.T) {
	s := session.NewServer(catalogtest.NewMemDB(), session.Config{NodeID: 7})
	t.Cleanup(s.Close)
	setupBig(t, s)
	ctx, cancel := context.WithCancelCause(context.Background())
	var calls atomic.Int32
	cancelFn := func(cause error) { calls.Add(1); cancel(cause) }
	mustExec(t, s, session.Request{Database: "d", SQL: "SELECT v FROM t WHERE id = 1", Cancel: cancelFn})
	if calls.Load() != 0 || ctx.Err() != nil {
		t.Fatal("the session cancelled the caller's context of a statement that ended normally")
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Execute(ctx, session.Request{Database: "d", SQL: slowQuery, Cancel: cancelFn})
		done <- err
	}()
	var id string
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		for _, q := range s.RunningQueries() {
			if q.SQL == slowQuery {
				id = q.ID()
				return nil
			}
		}
		return fmt.Errorf("slow query not listed")
	})
	mustExec(t, s, session.Request{SQL: "CANCEL QUERY '" + id + "'"})
	wantCode(t, <-done, errcode.QueryCancelled)
	if calls.Load() != 1 || ctx.Err() == nil {
		t.Fatalf("Cancel called %d times, context err %v: want one call that cancelled it", calls.Load(), ctx.Err())
	}
	if s.CancelQuery(id) || calls.Load() != 1 {
		t.Fatalf("CANCEL of a statement that ended: found it or called its Cancel again (%d calls)", calls.Load())
	}
}

// A statement whose parent context ends while it runs (an HTTP client
// that went away, a caller's deadline) stops, through the registry's
// sweeper, with the code that says why; its context reports the earlier
// of its own deadline and the parent's.
func TestParentContextEndStopsStatement(t *testing.T) {
	s := session.NewServer(catalogtest.NewMemDB(), session.Config{NodeID: 7, StatementTimeout: time.Hour})
	t.Cleanup(s.Close)
	setupBig(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Execute(ctx, session.Request{Database: "d", SQL: slowQuery})
		done <- err
	}()
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		for _, q := range s.RunningQueries() {
			if q.SQL == slowQuery {
				return nil
			}
		}
		return fmt.Errorf("slow query not listed")
	})
	cancel()
	err := <-done
	wantCode(t, err, errcode.QueryCancelled)
	if !strings.Contains(err.Error(), "client went away") {
		t.Fatalf("cancelled by its parent: %v", err)
	}

	// A parent deadline ends it as a timeout.
	dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer dcancel()
	_, err = s.Execute(dctx, session.Request{Database: "d", SQL: slowQuery})
	wantCode(t, err, errcode.StatementTimeout)
}

func TestCancelledStatementAbortsItsTransaction(t *testing.T) {
	s := session.NewServer(catalogtest.NewMemDB(), session.Config{})
	t.Cleanup(s.Close)
	setupBig(t, s)
	h, err := s.Begin(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "UPDATE t SET v = 1 WHERE id = 1", Txn: &h})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone before the statement starts
	_, err = s.Execute(ctx, session.Request{Database: "d", SQL: slowQuery, Txn: &h})
	wantCode(t, err, errcode.QueryCancelled)
	// The transaction is aborted: its locks are gone, a new writer of the
	// same row commits, and the aborted transaction's COMMIT fails.
	mustExec(t, s, session.Request{Database: "d", SQL: "UPDATE t SET v = 2 WHERE id = 1"})
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "SELECT 1", Txn: &h})
	wantCode(t, err, errcode.TxnClosed)
	if err := s.Commit(context.Background(), h); err == nil {
		t.Fatal("COMMIT of a cancelled transaction succeeded")
	}
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT v FROM t WHERE id = 1"})
	if res.Rows[0][0].Int != 2 {
		t.Fatalf("v = %v, want 2", res.Rows[0][0])
	}
}

func TestTxnMaxOpen(t *testing.T) {
	s := session.NewServer(catalogtest.NewMemDB(), session.Config{MaxOpenTxns: 2})
	t.Cleanup(s.Close)
	setup(t, s)
	h1, err := s.Begin(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(context.Background(), "d"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Begin(context.Background(), "d")
	wantCode(t, err, errcode.Overloaded)
	if !strings.Contains(err.Error(), "txn_max_open") || !errcode.Of(err).Retryable() {
		t.Fatalf("want a retryable error naming txn_max_open, got %v", err)
	}
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "BEGIN"})
	wantCode(t, err, errcode.Overloaded)
	if err := s.Rollback(context.Background(), h1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(context.Background(), "d"); err != nil {
		t.Fatalf("BEGIN after a rollback freed a slot: %v", err)
	}
}
