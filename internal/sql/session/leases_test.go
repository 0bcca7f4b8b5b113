package session_test

import (
	"context"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// warm runs a select and waits for the leases it started to be acquired.
func warm(t *testing.T, s *session.Server, sql string) {
	t.Helper()
	mustExec(t, s, session.Request{Database: "d", SQL: sql})
	if err := s.Leases().Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func hits(s *session.Server) int64 { return s.LeaseStats().Hits }

func TestSelectsResolveTablesFromLeases(t *testing.T) {
	s, _ := newServer(t)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v STRING)", "INSERT INTO t VALUES (1, 'a')")
	warm(t, s, "SELECT v FROM t WHERE id = 1")
	before := hits(s)
	for range 3 {
		res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT v FROM t WHERE id = 1"})
		if len(res.Rows) != 1 || res.Rows[0][0].Str != "a" {
			t.Fatalf("rows %v", res.Rows)
		}
	}
	// Two resolutions per statement (database and table), none through KV.
	if got := hits(s) - before; got != 6 {
		t.Fatalf("%d lease hits for 3 selects, want 6", got)
	}
	// Writes too; the descriptor joins their read set.
	before = hits(s)
	mustExec(t, s, session.Request{Database: "d", SQL: "UPDATE t SET v = 'b' WHERE id = 1"})
	if hits(s) == before {
		t.Fatal("an UPDATE did not resolve its table from the lease cache")
	}
}

// A transaction that wrote through a cached descriptor is pinned to it: a
// change of the table committed before it commits fails its commit, as if
// it had read the descriptor.
func TestWriterPinsCachedDescriptor(t *testing.T) {
	s, _ := newServer(t)
	ctx := context.Background()
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v STRING)", "INSERT INTO t VALUES (1, 'a')")
	warm(t, s, "SELECT v FROM t WHERE id = 1")
	h, err := s.Begin(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	before := hits(s)
	mustExec(t, s, session.Request{Database: "d", SQL: "UPDATE t SET v = 'b' WHERE id = 1", Txn: &h})
	if hits(s) == before {
		t.Fatal("the UPDATE did not use the lease cache")
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN w INT64 DEFAULT 5"})
	wantCode(t, s.Commit(ctx, h), errcode.TxnConflict)
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT v, w FROM t"})
	if res.Rows[0][0].Str != "a" || res.Rows[0][1].Int != 5 {
		t.Fatalf("rows %v", res.Rows)
	}
}

// A committed change is seen by the next statement, on the cached path too.
func TestChangeVisibleToNextSelect(t *testing.T) {
	s, _ := newServer(t)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY)", "INSERT INTO t VALUES (1)")
	warm(t, s, "SELECT * FROM t")
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN c INT64 DEFAULT 7"})
	for range 2 {
		res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT * FROM t"})
		if len(res.Columns) != 2 || res.Rows[0][1].Int != 7 {
			t.Fatalf("after ADD COLUMN: columns %v rows %v", res.Columns, res.Rows)
		}
		if err := s.Leases().Settle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t RENAME TO u"})
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "SELECT * FROM t"})
	wantCode(t, err, errcode.UnknownTable)
}

// A transaction that changed a descriptor sees its own change; others
// see the committed version until it commits; a rolled-back change lets
// the table be leased again at once.
func TestChangeInTransaction(t *testing.T) {
	s, _ := newServer(t)
	ctx := context.Background()
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY)", "INSERT INTO t VALUES (1)")
	warm(t, s, "SELECT * FROM t")
	h, err := s.Begin(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN c INT64 DEFAULT 5", Txn: &h})
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT c FROM t", Txn: &h})
	if res.Rows[0][0].Int != 5 {
		t.Fatalf("own change: %v", res.Rows)
	}
	res = mustExec(t, s, session.Request{Database: "d", SQL: "SELECT * FROM t"})
	if len(res.Columns) != 1 {
		t.Fatalf("another statement sees the uncommitted column: %v", res.Columns)
	}
	if err := s.Rollback(ctx, h); err != nil {
		t.Fatal(err)
	}
	warm(t, s, "SELECT * FROM t")
	before := hits(s)
	mustExec(t, s, session.Request{Database: "d", SQL: "SELECT * FROM t"})
	if hits(s) == before {
		t.Fatal("after a rolled-back change the table is not leased again")
	}

	h, err = s.Begin(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN c INT64 DEFAULT 5", Txn: &h})
	if err := s.Commit(ctx, h); err != nil {
		t.Fatal(err)
	}
	res = mustExec(t, s, session.Request{Database: "d", SQL: "SELECT c FROM t"})
	if res.Rows[0][0].Int != 5 {
		t.Fatalf("committed change: %v", res.Rows)
	}
}
