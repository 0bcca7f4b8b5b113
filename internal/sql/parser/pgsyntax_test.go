package parser

import (
	"os"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
)

// TestPsqlDescribeQueries parses the catalog queries psql 15 sends for
// \d, \dt, \di, \dn, \du, \l and \d+ table (captured with psql -E against
// PostgreSQL 15) and checks that each formats to text that parses again
// to the same text.
func TestPsqlDescribeQueries(t *testing.T) {
	src, err := os.ReadFile("testdata/psql15_describe.sql")
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := ParseMulti(string(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) < 15 {
		t.Fatalf("parsed %d statements", len(stmts))
	}
	for _, s := range stmts {
		text := ast.Format(s)
		again, err := Parse(text)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", text, err)
		}
		if got := ast.Format(again); got != text {
			t.Fatalf("round trip:\n%s\n%s", text, got)
		}
	}
}

func TestPgSyntax(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT a FROM t WHERE a OPERATOR(pg_catalog.~) '^x$' COLLATE pg_catalog.default":   "SELECT a FROM t WHERE a ~ '^x$'",
		"SELECT a !~* 'x', a ~* 'y', a !~ 'z' FROM t":                                       "SELECT a !~* 'x', a ~* 'y', a !~ 'z' FROM t",
		"SELECT 1 = ANY(x), 2 <> ALL (y) FROM t":                                            "SELECT 1 = ANY (x), 2 != ALL (y) FROM t",
		"SELECT 1 = ANY (SELECT b FROM u)":                                                  "SELECT 1 IN (SELECT b FROM u)",
		"SELECT ARRAY(SELECT 1), ARRAY[1, 2], ARRAY[]":                                      "SELECT ARRAY(SELECT 1), ARRAY[1, 2], ARRAY[]",
		"SELECT c.oid::pg_catalog.regclass::pg_catalog.text, x::int2[], y[2] FROM c":        "SELECT CAST(REGCLASS(c.oid) AS STRING), x, ARRAY_SUBSCRIPT(y, 2) FROM c",
		"SELECT * FROM pg_catalog.pg_class c, public.t, pg_catalog.generate_series(1, 3) s": "SELECT * FROM `pg_catalog.pg_class` AS c, t, GENERATE_SERIES(1, 3) AS s",
		"SELECT * FROM generate_series(1, 3) AS g(i)":                                       "SELECT * FROM GENERATE_SERIES(1, 3) AS g(i)",
	} {
		stmts, err := Parse(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if got := ast.Format(stmts); got != want {
			t.Errorf("%s:\n got %s\nwant %s", sql, got, want)
		}
	}
	for _, bad := range []string{"SELECT a COLLATE \"de_DE\" FROM t", "SELECT 1 < ANY (SELECT 1)", "SELECT OPERATOR(+) 1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
