package exec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
)

// execSQL runs statements in their own transactions (no session layer:
// it imports this package).
func execSQL(t testing.TB, db catalog.DB, database string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	for _, sql := range stmts {
		stmt, err := parser.Parse(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		txn, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Execute(ctx, Env{Txn: txn, Database: database}, stmt); err != nil {
			_ = txn.Rollback(ctx)
			t.Fatalf("%s: %v", sql, err)
		}
		if err := txn.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// newStreamDB holds big(id PK, g, v) with n rows, g = id % groups, and
// an index on g.
func newStreamDB(t testing.TB, n, groups int) catalog.DB {
	t.Helper()
	db := catalogtest.NewMemDB()
	execSQL(t, db, "", "CREATE DATABASE d")
	execSQL(t, db, "d", "CREATE TABLE big (id INT64 PRIMARY KEY, g INT64, v STRING)", "CREATE INDEX g_idx ON big (g)")
	var rows []string
	for i := range n {
		rows = append(rows, fmt.Sprintf("(%d, %d, 'v%d')", i, i%groups, i))
		if len(rows) == 500 || i == n-1 {
			execSQL(t, db, "d", "INSERT INTO big VALUES "+strings.Join(rows, ", "))
			rows = rows[:0]
		}
	}
	return db
}

// pullOp plans sql and pulls its operator tree through fn, which sees
// every batch the root returns.
func pullOp(t testing.TB, db catalog.DB, sql string, fn func(batch int)) {
	t.Helper()
	ctx, stmt, txn := parseAndBegin(t, db, sql)
	defer txn.Rollback(ctx)
	b := newBuilder(txn, nil)
	p := &plan.Planner{Ctx: ctx, KV: txn, Database: "d", Runner: &runner{ctx: ctx, b: b}}
	node, err := p.PlanQuery(stmt.(*ast.SelectStmt).Select)
	if err != nil {
		t.Fatal(err)
	}
	op, err := b.build(node)
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	for {
		batch, err := op.Next(ctx)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if len(batch) == 0 {
			return
		}
		fn(len(batch))
	}
}

// Joins stream: whatever the size of their product, no join returns
// more than BatchSize rows at once, so a cross join with a huge result
// (the OOM of issue 9) holds one batch, not the product.
func TestJoinsStreamInBoundedBatches(t *testing.T) {
	db := newStreamDB(t, 3000, 3)
	for _, tc := range []struct {
		sql  string
		want int
	}{
		{"SELECT a.id, b.id FROM big a, big b WHERE a.id < 300", 300 * 3000},                          // nested loop (cross)
		{"SELECT a.id, b.id FROM big a JOIN big b ON b.id >= a.id WHERE a.id < 2", 3000 + 2999},       // nested loop with a condition
		{"SELECT a.id, b.id FROM big a JOIN big b ON a.g = b.g WHERE a.id < 200", 200 * 1000},         // index join, 1000 rows per probe
		{"SELECT a.id, b.id FROM big a JOIN big b ON a.g + 0 = b.g + 0 WHERE a.id < 200", 200 * 1000}, // hash join, buckets of 1000
		{"SELECT a.id, b.id FROM big a LEFT JOIN big b ON a.g = b.g + 3 WHERE a.id < 700", 700},       // left join, no matches
	} {
		got := 0
		pullOp(t, db, tc.sql, func(n int) {
			if n > BatchSize {
				t.Fatalf("%s: a batch of %d rows, want at most %d", tc.sql, n, BatchSize)
			}
			got += n
		})
		if got != tc.want {
			t.Errorf("%s: %d rows, want %d", tc.sql, got, tc.want)
		}
	}
}

// The query of issue 9 on 100k rows: 100,000,000 combinations counted
// while the process holds one batch of them at a time (CAMUS_LONG=1).
func TestCrossJoinCountLong(t *testing.T) {
	if os.Getenv("CAMUS_LONG") == "" {
		t.Skip("CAMUS_LONG=1 runs the 100M-row cross join")
	}
	db := newStreamDB(t, 100_000, 10)
	ctx := context.Background()
	stmt, err := parser.Parse("SELECT COUNT(*) FROM big a, big b WHERE a.id < 1000")
	if err != nil {
		t.Fatal(err)
	}
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Rollback(ctx)
	res, err := Execute(ctx, Env{Txn: txn, Database: "d"}, stmt)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0][0].Int; got != 100_000_000 {
		t.Fatalf("count = %d, want 100000000", got)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("heap in use after the query: %d MiB, total allocated %d MiB", ms.HeapInuse>>20, ms.TotalAlloc>>20)
}

// A cancelled statement stops a join between output batches, even in the
// middle of one left row's matches.
func TestJoinStopsWhenCancelled(t *testing.T) {
	db := newStreamDB(t, 2000, 3)
	ctx, cancel := context.WithCancel(context.Background())
	stmt, err := parser.Parse("SELECT a.id, b.id FROM big a, big b WHERE a.id < 1")
	if err != nil {
		t.Fatal(err)
	}
	txn, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Rollback(context.Background())
	b := newBuilder(txn, nil)
	p := &plan.Planner{Ctx: ctx, KV: txn, Database: "d", Runner: &runner{ctx: ctx, b: b}}
	node, err := p.PlanQuery(stmt.(*ast.SelectStmt).Select)
	if err != nil {
		t.Fatal(err)
	}
	op, err := b.build(node)
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	if batch, err := op.Next(ctx); err != nil || len(batch) != BatchSize {
		t.Fatalf("first batch: %d rows, %v", len(batch), err)
	}
	cancel()
	if _, err := op.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v, want context.Canceled", err)
	}
}
