package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestInsertDuplicatePrimaryKey: an autocommit INSERT leaves its primary
// key's check to the commit (kv PutIfAbsent, no read first); the user sees
// the same error as when the key is read first, the statement writes
// nothing, and inside an explicit transaction the INSERT itself fails.
func TestInsertDuplicatePrimaryKey(t *testing.T) {
	ctx, conn := pgConnect(t, startPGNode(t))
	exec := func(sql string, args ...any) error {
		_, err := conn.Exec(ctx, sql, args...)
		return err
	}
	wantDup := func(err error) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" || !strings.Contains(pe.Message, `duplicate primary key in table "t"`) {
			t.Fatalf("got %v, want a unique violation on t's primary key", err)
		}
	}
	count := func() (n int) {
		t.Helper()
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, sql := range []string{
		"CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)",
		"INSERT INTO t VALUES (1, 1)",
	} {
		if err := exec(sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	wantDup(exec("INSERT INTO t VALUES ($1, $2)", 1, 2))
	wantDup(exec("INSERT INTO t VALUES (2, 2), (1, 3)"))
	wantDup(exec("INSERT INTO t VALUES (3, 3), (3, 4)")) // within the statement
	if got := count(); got != 1 {
		t.Fatalf("%d rows after the failed inserts, want 1", got)
	}
	var v int
	if err := conn.QueryRow(ctx, "SELECT v FROM t WHERE id = 1").Scan(&v); err != nil || v != 1 {
		t.Fatalf("row 1: v=%d err=%v", v, err)
	}
	// A deleted key is free again.
	if err := exec("DELETE FROM t WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if err := exec("INSERT INTO t VALUES (1, 5), (2, 5)"); err != nil {
		t.Fatal(err)
	}
	// In an explicit transaction the INSERT fails, not the COMMIT.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "INSERT INTO t VALUES (2, 6)")
	wantDup(err)
	_ = tx.Rollback(ctx)
	if got := count(); got != 2 {
		t.Fatalf("%d rows, want 2", got)
	}
}
