package session_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// CHECK constraints of CREATE TABLE: every INSERT, UPDATE and ON CONFLICT
// DO UPDATE is checked (NULL passes), SHOW CREATE TABLE prints them so its
// output re-creates the table, and DROP CONSTRAINT removes one.
func TestCheckConstraints(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := jobServer(t, db, 1, nil)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64 CHECK (v >= 0), w STRING, CONSTRAINT short CHECK (length(w) < 4))")
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1, 1, 'a'), (2, NULL, NULL)"})
	for _, sql := range []string{
		"INSERT INTO t VALUES (3, -1, 'a')",
		"INSERT INTO t VALUES (3, 1, 'abcd')",
		"UPDATE t SET v = v - 5 WHERE id = 1",
		"INSERT INTO t VALUES (1, 0, 'a') ON CONFLICT (id) DO UPDATE SET w = 'toolong'",
	} {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: sql})
		wantCode(t, err, errcode.CheckViolation)
	}
	if got := query(t, s, "SELECT * FROM t ORDER BY id"); got != "[[1 1 a] [2 NULL NULL]]" {
		t.Fatalf("rows after refused writes: %s", got)
	}
	text := query(t, s, "SHOW CREATE TABLE t")
	if !strings.Contains(text, "CONSTRAINT t_check CHECK (v >= 0)") || !strings.Contains(text, "CONSTRAINT short CHECK (LENGTH(w) < 4)") {
		t.Fatalf("SHOW CREATE TABLE: %s", text)
	}
	ddl := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW CREATE TABLE t"}).Rows[0][1].Str
	mustExec(t, s, session.Request{Database: "d", SQL: strings.Replace(ddl, "CREATE TABLE t ", "CREATE TABLE t2 ", 1)})
	again := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW CREATE TABLE t2"}).Rows[0][1].Str
	if strings.Replace(again, "t2", "t", -1) != ddl {
		t.Fatalf("SHOW CREATE TABLE does not re-create the table:\n%s\n%s", ddl, again)
	}
	// A column a check names cannot be renamed or dropped; the table can.
	for _, sql := range []string{"ALTER TABLE t RENAME COLUMN w TO w2", "ALTER TABLE t DROP COLUMN w"} {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: sql})
		wantCode(t, err, errcode.InvalidInput)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t RENAME TO t3"})
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "INSERT INTO t3 VALUES (3, -1, 'a')"})
	wantCode(t, err, errcode.CheckViolation)
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t3 RENAME TO t"})
	// psql's \d reads them from pg_constraint.
	got := query(t, s, "SELECT r.conname, pg_catalog.pg_get_constraintdef(r.oid, true) FROM pg_catalog.pg_constraint r "+
		"WHERE r.conrelid = (SELECT oid FROM pg_class WHERE relname = 't') AND r.contype = 'c' ORDER BY 1")
	if got != "[[short CHECK (LENGTH(w) < 4)] [t_check CHECK (v >= 0)]]" {
		t.Fatalf("pg_constraint: %s", got)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t DROP CONSTRAINT short"})
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (3, 1, 'abcd')"})
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t RENAME COLUMN w TO w2"})
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t DROP CONSTRAINT short"})
	wantCode(t, err, errcode.UnknownIndex)
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN x INT64 CHECK (x > 0)"})
	wantCode(t, err, errcode.Unsupported)
	for _, sql := range []string{"ALTER TABLE t ADD CHECK (count(*) > 0)", "ALTER TABLE t ADD CHECK (v + 1)", "ALTER TABLE t ADD CONSTRAINT short CHECK (nope > 0)", "ALTER TABLE t ADD CHECK (t.v > 0)"} {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: sql})
		if c := errcode.Of(err); c != errcode.InvalidInput && c != errcode.UnknownColumn {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// ALTER TABLE ... ADD CONSTRAINT ... CHECK runs as a job: the constraint
// is enforced on writes from the statement on (writers running meanwhile
// cannot add a violating row) while the job checks the existing rows in
// chunks; then it is public. A violating row fails the job naming the row
// and leaves the table as before; CANCEL JOB walks it back.
func TestAddCheckConstraintJob(t *testing.T) {
	db := catalogtest.NewMemDB()
	var s *session.Server
	var mu sync.Mutex
	var refused atomic.Int64
	var inShow atomic.Bool
	blocked := make(chan uint64, 1)
	release := make(chan struct{})
	var block atomic.Bool
	hook := func(ctx context.Context, id uint64, phase string) {
		if phase != "validate" {
			return
		}
		if block.Load() {
			blocked <- id
			select {
			case <-release:
			case <-ctx.Done():
			}
			return
		}
		mu.Lock()
		defer mu.Unlock()
		// Validating: writes are checked already; the constraint is not
		// in SHOW CREATE TABLE yet.
		_, err := s.Execute(ctx, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (9000, 500)"})
		if errcode.Of(err) == errcode.CheckViolation {
			refused.Add(1)
		}
		if strings.Contains(query(t, s, "SHOW CREATE TABLE t"), "below") {
			inShow.Store(true)
		}
	}
	s = jobServer(t, db, 1, hook)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 40) // v = id % 13

	// A violation: the table is left as before.
	before := query(t, s, "SHOW CREATE TABLE t")
	keys := db.LiveKeys("t")
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t ADD CONSTRAINT lt12 CHECK (v < 12)"})
	wantCode(t, err, errcode.CheckViolation)
	if !strings.Contains(err.Error(), `"lt12"`) || !strings.Contains(err.Error(), "primary key (12)") {
		t.Fatalf("the error does not name the constraint and the row: %v", err)
	}
	if after := query(t, s, "SHOW CREATE TABLE t"); after != before || !slices.Equal(db.LiveKeys("t"), keys) {
		t.Fatalf("table changed by the failed constraint: %s", after)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1000, 12)"}) // not enforced

	// Success, with a write during the validation.
	mustExec(t, s, session.Request{Database: "d", SQL: "DELETE FROM t WHERE id = 1000"})
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD CONSTRAINT below CHECK (v < 100)"})
	if refused.Load() == 0 || inShow.Load() {
		t.Fatalf("during validation: %d violating inserts refused, constraint shown: %v", refused.Load(), inShow.Load())
	}
	if !strings.Contains(query(t, s, "SHOW CREATE TABLE t"), "CONSTRAINT below CHECK (v < 100)") {
		t.Fatal("the validated constraint is not shown")
	}
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "UPDATE t SET v = 100 WHERE id = 1"})
	wantCode(t, err, errcode.CheckViolation)
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW JOBS"})
	if res.Rows[0][1].Str != session.JobTypeAddConstraint || res.Rows[0][4].Str != "succeeded" || res.Rows[0][6].Int != 40 || res.Rows[1][4].Str != "failed" {
		t.Fatalf("SHOW JOBS: %v", res.Rows)
	}

	// Cancelled: other DDL waits meanwhile, and the constraint goes away.
	block.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t ADD CONSTRAINT pos CHECK (v >= 0)"})
		done <- err
	}()
	var id uint64
	select {
	case id = <-blocked:
	case err := <-done:
		t.Fatalf("ADD CONSTRAINT ended before validating: %v", err)
	}
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t DROP CONSTRAINT below"})
	wantCode(t, err, errcode.SchemaChangeInProgress)
	mustExec(t, s, session.Request{Database: "d", SQL: fmt.Sprintf("CANCEL JOB %d", id)})
	close(release)
	wantCode(t, <-done, errcode.QueryCancelled)
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (2000, -1)"}) // pos is gone
	if strings.Contains(query(t, s, "SHOW CREATE TABLE t"), "pos") {
		t.Fatal("the cancelled constraint remains")
	}
}

// Inside a transaction ADD CONSTRAINT ... CHECK checks the rows in the
// statement.
func TestAddCheckInTransaction(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := jobServer(t, db, 1, nil)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 20)
	tx := mustExec(t, s, session.Request{Database: "d", SQL: "BEGIN"}).Txn
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t ADD CHECK (v < 5)", Txn: tx})
	wantCode(t, err, errcode.CheckViolation)
	_, _ = s.Execute(context.Background(), session.Request{Database: "d", SQL: "ROLLBACK", Txn: tx})
	tx = mustExec(t, s, session.Request{Database: "d", SQL: "BEGIN"}).Txn
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD CHECK (v < 50)", Txn: tx})
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "INSERT INTO t VALUES (100, 60)", Txn: tx})
	wantCode(t, err, errcode.CheckViolation)
	_, _ = s.Execute(context.Background(), session.Request{Database: "d", SQL: "ROLLBACK", Txn: tx})
	tx = mustExec(t, s, session.Request{Database: "d", SQL: "BEGIN"}).Txn
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD CHECK (v < 50)", Txn: tx})
	mustExec(t, s, session.Request{Database: "d", SQL: "COMMIT", Txn: tx})
	if got := query(t, s, "SHOW JOBS"); got != "[]" {
		t.Fatalf("jobs: %s", got)
	}
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "INSERT INTO t VALUES (100, 60)"})
	wantCode(t, err, errcode.CheckViolation)
}

// The node validating a CHECK constraint dies mid-way: another node
// resumes from the checkpoint (at most 1.2x the table's rows read).
func TestAddCheckResumesOnAnotherNode(t *testing.T) {
	s2, _ := failOverMidJob(t, catalogtest.NewMemDB(), "validate", 5, "ALTER TABLE t ADD CONSTRAINT small CHECK (v < 13)")
	_, err := s2.Execute(context.Background(), session.Request{Database: "d", SQL: "INSERT INTO t VALUES (500, 13)"})
	wantCode(t, err, errcode.CheckViolation)
}
