package exec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/exec"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// fill creates authors(id PK) with n rows and books(id PK, author_id,
// title) with per books per author.
func fill(t testing.TB, s session.Executor, n, per int) {
	t.Helper()
	mustRun(t, s, "CREATE TABLE authors (id INT64 PRIMARY KEY, name STRING)")
	mustRun(t, s, "CREATE TABLE books (id INT64 PRIMARY KEY, author_id INT64, title STRING)")
	var b strings.Builder
	insert := func(table string, rows []string) {
		for len(rows) > 0 {
			k := min(len(rows), 500)
			b.Reset()
			fmt.Fprintf(&b, "INSERT INTO %s VALUES %s", table, strings.Join(rows[:k], ", "))
			mustRun(t, s, b.String())
			rows = rows[k:]
		}
	}
	var authors, books []string
	for i := range n {
		authors = append(authors, fmt.Sprintf("(%d, 'a%d')", i, i))
		for j := range per {
			books = append(books, fmt.Sprintf("(%d, %d, 'b%d')", i*per+j, i, i*per+j))
		}
	}
	insert("authors", authors)
	insert("books", books)
}

func column(res *session.Result, name string) int {
	for i, c := range res.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// EXPLAIN ANALYZE runs the query and reports per node the rows produced,
// the rows read and the KV operations it issued.
func TestExplainAnalyzeCounts(t *testing.T) {
	s := newServer(t, catalogtest.NewMemDB())
	fill(t, s, 20, 3)
	res := mustRun(t, s, "EXPLAIN ANALYZE SELECT a.name, b.title FROM authors a JOIN books b ON b.author_id = a.id WHERE a.id < 5")
	want := []string{"actual_rows", "rows_read", "actual_time_ms", "kv_lookups", "kv_scan_entries"}
	for _, w := range want {
		if column(&session.Result{Columns: res.Columns}, w) < 0 {
			t.Fatalf("EXPLAIN ANALYZE lacks column %s: %v", w, res.Columns)
		}
	}
	byNode := map[string][]int64{}
	for _, r := range res.Rows {
		var counts []int64
		for _, w := range []string{"actual_rows", "rows_read", "kv_lookups", "kv_scan_entries"} {
			counts = append(counts, r[column(res, w)].Int)
		}
		byNode[r[column(res, "node")].Str] = counts
	}
	// 5 authors (range scan of the primary key), 15 books via a hash join
	// (books.author_id has no index) over a full scan of 60 books.
	if got := byNode["hash-join"]; got == nil || got[0] != 15 || got[1] != 5+60 {
		t.Errorf("hash-join actual_rows/rows_read = %v, want 15/65 (plan %v)", got, res.Rows)
	}
	if got := byNode["index-range-scan"]; got == nil || got[0] != 5 || got[3] != 5 {
		t.Errorf("authors range scan = %v, want 5 rows from 5 entries", got)
	}
	if got := byNode["table-scan"]; got == nil || got[0] != 60 || got[3] != 60 {
		t.Errorf("books scan = %v, want 60 rows from 60 entries", got)
	}
	if got := byNode["project"]; got == nil || got[0] != 15 {
		t.Errorf("project = %v, want 15 rows", got)
	}

	// An index join does one point read per probing row.
	mustRun(t, s, "CREATE INDEX author_idx ON books (author_id)")
	res = mustRun(t, s, "EXPLAIN ANALYZE SELECT a.name, b.title FROM books b JOIN authors a ON a.id = b.author_id WHERE b.id < 10")
	found := false
	for _, r := range res.Rows {
		if r[column(res, "node")].Str == "index-lookup" {
			found = true
			if got := r[column(res, "kv_lookups")].Int; got != 10 {
				t.Errorf("index-lookup kv_lookups = %d, want 10", got)
			}
			if got := r[column(res, "actual_rows")].Int; got != 10 {
				t.Errorf("index-lookup actual_rows = %d, want 10", got)
			}
		}
	}
	if !found {
		t.Fatalf("no index-lookup in %v", res.Rows)
	}
}

// Without a temp dir nothing spills: hash joins, aggregates, sorts,
// DISTINCT, semi-joins and nested loops fail cleanly with CADB0511 past the
// query budget, and pass under it.
func TestMemoryLimitFailsCleanly(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := newServer(t, db)
	fill(t, s, 200, 5)
	for _, sql := range []string{
		"SELECT count(*) FROM authors a JOIN books b ON b.title = a.name",
		"SELECT title, count(*) FROM books GROUP BY title",
		"SELECT title FROM books ORDER BY title",
		"SELECT DISTINCT title FROM books",
		"SELECT count(*) FROM authors WHERE name NOT IN (SELECT title FROM books)",
		"SELECT count(*) FROM authors a JOIN books b ON b.id > a.id",
	} {
		if _, err := execWithLimit(t, db, sql, 16<<10); errcode.Of(err) != errcode.QueryMemoryExceeded {
			t.Errorf("%s with a 16 KiB limit and no temp dir: err = %v, want CADB0511", sql, err)
		}
		var st *exec.StatementError
		if _, err := execWithLimit(t, db, sql, 16<<10); !errors.As(err, &st) {
			t.Errorf("%s: a budget error must leave the transaction usable, got %T", sql, err)
		}
		if _, err := execWithLimit(t, db, sql, 64<<20); err != nil {
			t.Errorf("%s with a 64 MiB limit: %v", sql, err)
		}
	}
}

func execWithLimit(t *testing.T, db catalog.DB, sql string, limit int64) (*exec.Result, error) {
	t.Helper()
	ctx := context.Background()
	stmt, err := parser.Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Rollback(ctx)
	return exec.Execute(ctx, exec.Env{Txn: txn, Database: "d", MemoryLimit: limit}, stmt)
}

// Past the node's budget a statement fails with CADB0510 naming the
// setting, whatever its own budget; the monitor is empty afterwards.
func TestNodeBudgetFailsCleanly(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := newServer(t, db)
	fill(t, s, 200, 5)
	monitor := mon.NewMonitor(32 << 10)
	ctx := context.Background()
	for _, sql := range []string{
		"SELECT * FROM books", // the buffered result
		"SELECT title FROM books ORDER BY title",
	} {
		stmt, err := parser.Parse(sql)
		if err != nil {
			t.Fatal(err)
		}
		txn, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		acct := monitor.NewAccount(64 << 20)
		_, err = exec.Execute(ctx, exec.Env{Txn: txn, Database: "d", Memory: acct}, stmt)
		acct.Close()
		_ = txn.Rollback(ctx)
		if errcode.Of(err) != errcode.NodeMemoryExhausted || !strings.Contains(err.Error(), mon.NodeSetting) {
			t.Errorf("%s: err = %v, want CADB0510 naming %s", sql, err, mon.NodeSetting)
		}
		if monitor.Used() != 0 {
			t.Fatalf("monitor holds %d bytes after the statement", monitor.Used())
		}
	}
}

// A spill that cannot write its files fails the statement with CADB0512
// (and the transaction stays usable): here the temp dir is a file.
func TestSpillFailureIsCoded(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := newServer(t, db)
	fill(t, s, 200, 5)
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stmt, err := parser.Parse("SELECT title FROM books ORDER BY title")
	if err != nil {
		t.Fatal(err)
	}
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Rollback(ctx)
	_, err = exec.Execute(ctx, exec.Env{Txn: txn, Database: "d", MemoryLimit: 16 << 10, TempDir: notADir}, stmt)
	var st *exec.StatementError
	if errcode.Of(err) != errcode.TempStorageFailed || !errors.As(err, &st) {
		t.Fatalf("err = %v, want a CADB0512 statement error", err)
	}
}

// An equality join of two large inputs is a hash join: linear, where a
// nested loop would take n*m comparisons.
func TestEqualityJoinsAreNeverNestedLoops(t *testing.T) {
	s := newServer(t, catalogtest.NewMemDB())
	fill(t, s, 10, 2)
	for _, sql := range []string{
		"SELECT * FROM authors a JOIN books b ON b.author_id = a.id",
		"SELECT * FROM authors a, books b WHERE a.name = b.title",
		"SELECT * FROM authors a LEFT JOIN books b ON b.author_id + 1 = a.id + 1",
		"SELECT * FROM authors a JOIN books b ON b.author_id = a.id AND b.id > a.id",
	} {
		res := mustRun(t, s, "EXPLAIN "+sql)
		for _, r := range res.Rows {
			if r[1].Str == "nested-loop-join" {
				t.Errorf("%s: planned a nested-loop-join: %v", sql, res.Rows)
			}
		}
	}
}

func BenchmarkHashJoin(b *testing.B) {
	s := newServer(b, catalogtest.NewMemDB())
	fill(b, s, 1000, 5)
	b.ResetTimer()
	for range b.N {
		res := mustRun(b, s, "SELECT count(*) FROM authors a JOIN books b ON b.title = a.name")
		_ = res
	}
}

func BenchmarkIndexJoin(b *testing.B) {
	s := newServer(b, catalogtest.NewMemDB())
	fill(b, s, 1000, 5)
	b.ResetTimer()
	for range b.N {
		mustRun(b, s, "SELECT count(*) FROM books b JOIN authors a ON a.id = b.author_id")
	}
}

func BenchmarkSemiJoin(b *testing.B) {
	s := newServer(b, catalogtest.NewMemDB())
	fill(b, s, 1000, 5)
	b.ResetTimer()
	for range b.N {
		mustRun(b, s, "SELECT count(*) FROM books WHERE author_id IN (SELECT id FROM authors WHERE name > 'a5')")
	}
}
