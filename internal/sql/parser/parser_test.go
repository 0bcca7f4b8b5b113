package parser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the golden files under testdata/parse. Commands:
//
//	parse        one statement → Format() output (round trip checked) or error
//	parse-multi  a script → one formatted statement per line, or error
//	expr-names   a SELECT → FormatExpr of each item, one per line
//	split        a script → SplitStatements pieces, separated by "---"
//
// Each takes the argument "standard" to read the input with
// Options.StandardStrings (the pgwire dialect); Format output is always in
// the default dialect, and the round trip re-parses it in that one.
//
// Regenerate with: go test ./internal/sql/parser -run TestDataDriven -rewrite
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/parse", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			opts := Options{StandardStrings: d.HasArg("standard")}
			switch d.Cmd {
			case "parse":
				stmt, err := ParseWith(d.Input, opts)
				if err != nil {
					return errString(err) + "\n"
				}
				text, err := checkRoundTrip(stmt)
				if err != nil {
					t.Errorf("%s: %v", d.Pos, err)
				}
				return text + "\n"
			case "parse-multi":
				stmts, err := ParseMultiWith(d.Input, opts)
				if err != nil {
					return errString(err) + "\n"
				}
				var sb strings.Builder
				for _, s := range stmts {
					text, err := checkRoundTrip(s)
					if err != nil {
						t.Errorf("%s: %v", d.Pos, err)
					}
					sb.WriteString(text + "\n")
				}
				return sb.String()
			case "expr-names":
				stmt, err := Parse(d.Input)
				if err != nil {
					return errString(err) + "\n"
				}
				sel, ok := stmt.(*ast.SelectStmt)
				if !ok {
					d.Fatalf(t, "expr-names wants a SELECT")
				}
				var sb strings.Builder
				for _, it := range sel.Select.Items {
					if it.Expr != nil {
						sb.WriteString(ast.FormatExpr(it.Expr) + "\n")
					}
				}
				return sb.String()
			case "split":
				var sb strings.Builder
				for i, s := range SplitStatementsWith(d.Input, opts) {
					if i > 0 {
						sb.WriteString("---\n")
					}
					sb.WriteString(s + "\n")
				}
				return sb.String()
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

func TestPositions(t *testing.T) {
	stmt, err := Parse("SELECT a,\n  b + 1 AS `c`\nFROM t x WHERE é = 'ü'\n AND y > 1")
	if err != nil {
		t.Fatal(err)
	}
	sel := stmt.(*ast.SelectStmt).Select
	want := []struct {
		node ast.Node
		pos  ast.Pos
	}{
		{sel, ast.Pos{Line: 1, Col: 1}},
		{sel.Items[0].Expr, ast.Pos{Line: 1, Col: 8}},
		{sel.Items[1].Expr, ast.Pos{Line: 2, Col: 3}},
		{sel.Items[1].Expr.(*ast.BinaryExpr).R, ast.Pos{Line: 2, Col: 7}},
		{sel.From[0], ast.Pos{Line: 3, Col: 6}},
		{sel.Where.(*ast.BinaryExpr).L.(*ast.BinaryExpr).L, ast.Pos{Line: 3, Col: 16}},
		// Columns count characters, not bytes: 'é' and 'ü' are one each.
		{sel.Where.(*ast.BinaryExpr).L.(*ast.BinaryExpr).R, ast.Pos{Line: 3, Col: 20}},
		{sel.Where.(*ast.BinaryExpr).R.(*ast.BinaryExpr).L, ast.Pos{Line: 4, Col: 6}},
	}
	for i, w := range want {
		if got := w.node.Position(); got != w.pos {
			t.Errorf("%d: %s at %+v, want %+v", i, ast.Format(w.node), got, w.pos)
		}
	}
}

func TestErrorsCarryCodes(t *testing.T) {
	for _, tc := range []struct{ sql, code string }{
		{"SELECT * FORM t", "CADB0406"},
		{"SELECT 9223372036854775808", "CADB0400"},
		{"SELECT -9223372036854775809", "CADB0400"},
		{"SELECT 1e400", "CADB0400"},
		{"CREATE TABLE t (a GEOMETRY)", "CADB0401"},
		{"CREATE TABLE t (a NUMERIC(3,4))", "CADB0400"},
		{"SELECT CAST(1 AS SERIAL)", "CADB0407"},
		{"CREATE TABLE t (a BIGINT GENERATED ALWAYS AS (1) STORED)", "CADB0407"},
		{"CREATE SEQUENCE s AS TEXT", "CADB0435"},
		{"SELECT CAST(1 AS money)", "CADB0401"},
		{"EXPLAIN (VERBOSE) SELECT 1", "CADB0400"},
		{"EXPLAIN DELETE FROM t WHERE a = 1", "CADB0407"},
		{"SELECT 'abc", "CADB0406"},
		{"", "CADB0406"},
	} {
		_, err := Parse(tc.sql)
		if err == nil {
			t.Errorf("%q: no error", tc.sql)
			continue
		}
		if got := errString(err); !strings.HasPrefix(got, "error: "+tc.code) {
			t.Errorf("%q: got %s, want code %s", tc.sql, got, tc.code)
		}
	}
}

func TestDeepNestingIsAnErrorNotACrash(t *testing.T) {
	for _, sql := range []string{
		"SELECT " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000),
		"SELECT " + strings.Repeat("- ", 100000) + "1",
		"SELECT " + strings.Repeat("NOT ", 100000) + "TRUE",
		"SELECT * FROM " + strings.Repeat("(", 100000) + "t" + strings.Repeat(")", 100000),
		strings.Repeat("(", 100000) + "SELECT 1" + strings.Repeat(")", 100000),
	} {
		if _, err := Parse(sql); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
			t.Errorf("%.30q...: got %v, want nesting error", sql, err)
		}
	}
	// Moderate nesting is fine.
	sql := "SELECT " + strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100)
	if _, err := Parse(sql); err != nil {
		t.Fatal(err)
	}
}

func TestKeywordTableConsistent(t *testing.T) {
	for kw := kwNone + 1; kw < numKeywords; kw++ {
		name := keywordNames[kw]
		if name == "" {
			t.Fatalf("keyword %d has no name", kw)
		}
		if len(name) > maxKeywordLen {
			t.Fatalf("keyword %q longer than maxKeywordLen", name)
		}
		if got := lookupKeyword(strings.ToUpper(name)); got != kw {
			t.Errorf("lookupKeyword(%q) = %d, want %d", strings.ToUpper(name), got, kw)
		}
	}
	// Every reserved word must be a keyword the lexer knows, or Format
	// would quote words the parser accepts bare (harmless) or, worse, the
	// parser would accept words Format thinks are reserved.
	for _, w := range []string{"all", "and", "as", "asc", "between", "by", "case", "cast", "create",
		"cross", "default", "desc", "distinct", "else", "end", "except", "exists", "false", "from",
		"group", "having", "ilike", "in", "inner", "intersect", "is", "join", "left", "like", "limit",
		"not", "null", "offset", "on", "or", "order", "outer", "primary", "select", "set", "table",
		"then", "true", "union", "unique", "when", "where", "with"} {
		if !ast.IsReserved(w) {
			t.Errorf("%q should be reserved", w)
		}
		if kw := lookupKeyword(w); kw == kwNone || !reserved[kw] {
			t.Errorf("%q is not a reserved keyword of the lexer", w)
		}
	}
}

func TestParseMultiAndSplitAgree(t *testing.T) {
	script := "CREATE TABLE t (a INT64); -- make it\nINSERT INTO t VALUES (1), (2);\n/* read ; back */ SELECT 'a;b', `c;d` FROM t;;\n"
	stmts, err := ParseMulti(script)
	if err != nil {
		t.Fatal(err)
	}
	parts := SplitStatements(script)
	if len(parts) != len(stmts) {
		t.Fatalf("ParseMulti gave %d statements, SplitStatements %d: %q", len(stmts), len(parts), parts)
	}
	for i, part := range parts {
		one, err := Parse(part)
		if err != nil {
			t.Fatalf("part %d %q: %v", i, part, err)
		}
		if !equalIgnoringPos(one, stmts[i]) {
			t.Errorf("part %d differs: %s vs %s", i, ast.Format(one), ast.Format(stmts[i]))
		}
	}
}

func ExampleParse() {
	stmt, err := Parse("select count(*), `Name` from Robots r where year >= 2020 order by 2 desc limit @n")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ast.Format(stmt))
	_, err = Parse("SELECT * FORM robots")
	fmt.Println(err)
	// Output:
	// SELECT COUNT(*), name FROM robots AS r WHERE year >= 2020 ORDER BY 2 DESC LIMIT @n
	// CADB0406: syntax error at line 1, column 10 near "FORM": expected end of statement
}
