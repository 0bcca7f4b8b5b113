package compat

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestPgx: simple and extended protocol, every column type in binary and
// text, CopyFrom and a batch.
func TestPgx(t *testing.T) {
	db := newDatabase(t)
	ctx := ctxFor(t)
	conn := connect(t, db)
	if _, err := conn.Exec(ctx, `CREATE TABLE things (id BIGINT PRIMARY KEY, name TEXT NOT NULL, score DOUBLE PRECISION, ok BOOLEAN)`); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec, pgx.QueryExecModeDescribeExec} {
		id := int64(mode) + 1
		if _, err := conn.Exec(ctx, "INSERT INTO things VALUES ($1, $2, $3, $4)", mode, id, "n", 1.5, true); err != nil {
			t.Fatalf("mode %v insert: %v", mode, err)
		}
		var name string
		var score float64
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT name, score, ok FROM things WHERE id = $1", mode, id).Scan(&name, &score, &ok); err != nil || name != "n" || score != 1.5 || !ok {
			t.Fatalf("mode %v select: %v %q %v %v", mode, err, name, score, ok)
		}
	}
	rows := [][]any{{int64(100), "a", 0.25, false}, {int64(101), "b", nil, nil}}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"things"}, []string{"id", "name", "score", "ok"}, pgx.CopyFromRows(rows))
	if err != nil || n != 2 {
		t.Fatalf("CopyFrom: %d %v", n, err)
	}
	batch := &pgx.Batch{}
	batch.Queue("UPDATE things SET score = score + 1 WHERE id = $1", int64(100))
	batch.Queue("SELECT count(*) FROM things")
	br := conn.SendBatch(ctx, batch)
	if _, err := br.Exec(); err != nil {
		t.Fatal(err)
	}
	var count int
	if err := br.QueryRow().Scan(&count); err != nil || count != 5 {
		t.Fatalf("batch count: %d %v", count, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
}
