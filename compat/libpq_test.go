package compat

import (
	"database/sql"
	"testing"

	"github.com/lib/pq"
)

// TestLibPQ: database/sql with lib/pq — prepared statements, a
// transaction, NULLs, and COPY through pq.CopyIn.
func TestLibPQ(t *testing.T) {
	name := newDatabase(t)
	db, err := sql.Open("postgres", dsn(name))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := ctxFor(t)
	if _, err := db.ExecContext(ctx, `CREATE TABLE people (id BIGINT PRIMARY KEY, name TEXT, age BIGINT)`); err != nil {
		t.Fatal(err)
	}
	stmt, err := db.PrepareContext(ctx, "INSERT INTO people (id, name, age) VALUES ($1, $2, $3)")
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 3; i++ {
		var age any = i * 10
		if i == 3 {
			age = nil
		}
		if _, err := stmt.ExecContext(ctx, i, "p", age); err != nil {
			t.Fatal(err)
		}
	}
	_ = stmt.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE people SET name = $1 WHERE id = $2", "first", 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var got string
	var age sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT name, age FROM people WHERE id = 1").Scan(&got, &age); err != nil || got != "first" || age.Int64 != 10 {
		t.Fatalf("%q %v %v", got, age, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT age FROM people WHERE id = 3").Scan(&age); err != nil || age.Valid {
		t.Fatalf("NULL age: %v %v", age, err)
	}
	// COPY FROM STDIN through lib/pq.
	txn, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	copyStmt, err := txn.Prepare(pq.CopyIn("people", "id", "name", "age"))
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(10); i < 20; i++ {
		if _, err := copyStmt.Exec(i, "copied", i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := copyStmt.Exec(); err != nil {
		t.Fatal(err)
	}
	if err := copyStmt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM people WHERE name = 'copied'").Scan(&n); err != nil || n != 10 {
		t.Fatalf("copied rows: %d %v", n, err)
	}
}
