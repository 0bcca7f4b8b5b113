package parser

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// seedStatements covers every statement form; the golden files add more.
var seedStatements = []string{
	"SHOW QUERIES", "CANCEL QUERY '1-42'", "CANCEL QUERY @id", "cancel query $1",
	"CREATE DATABASE IF NOT EXISTS d", "DROP DATABASE IF EXISTS d", "RENAME DATABASE a TO b",
	"CREATE TABLE IF NOT EXISTS t (id OID PRIMARY KEY NOT NULL, n STRING UNIQUE, y INT64 DEFAULT (2024), " +
		"c VARCHAR(20) NULL, PRIMARY KEY (id), UNIQUE KEY u (n), KEY k (y DESC)) PRIMARY KEY (id ASC)",
	"DROP TABLE IF EXISTS t",
	"ALTER TABLE t ADD COLUMN c INT64 NOT NULL DEFAULT (1)", "ALTER TABLE t DROP COLUMN c",
	"ALTER TABLE t RENAME TO u", "ALTER TABLE t RENAME COLUMN a TO b",
	"ALTER TABLE t ADD PRIMARY KEY (a)", "ALTER TABLE t DROP PRIMARY KEY",
	"ALTER TABLE t ADD UNIQUE INDEX i (a ASC, b DESC)", "ALTER TABLE t DROP INDEX i",
	"ALTER TABLE t ALTER COLUMN c SET DEFAULT 1 + 2", "ALTER TABLE t ALTER c DROP DEFAULT",
	"ALTER TABLE t ALTER COLUMN c SET NOT NULL", "ALTER TABLE t ALTER c DROP NOT NULL",
	"ALTER TABLE t ALTER COLUMN c TYPE VARCHAR(20)", "ALTER TABLE t ALTER c SET DATA TYPE BIGINT",
	"CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a, b DESC)", "DROP INDEX IF EXISTS i ON t",
	"INSERT INTO t (a, b) VALUES (1, DEFAULT), (-2, 'x')", "INSERT INTO t SELECT * FROM u",
	"UPDATE t SET a = a + 1, b = @b WHERE id = $1", "DELETE FROM t AS x WHERE x.a IS NOT NULL",
	"SELECT DISTINCT a AS x, t.*, * FROM t AS a @{FORCE_INDEX=i}, (SELECT 1) d JOIN u ON d.x = u.x " +
		"LEFT OUTER JOIN v ON TRUE WHERE a IN (1, 2) AND b NOT IN (SELECT c FROM w) AND EXISTS (SELECT 1) " +
		"GROUP BY a HAVING COUNT(*) > 1 ORDER BY 1 DESC NULLS LAST LIMIT @n OFFSET $2",
	"WITH c AS (SELECT 1) SELECT * FROM c UNION ALL SELECT 2 INTERSECT SELECT 3 EXCEPT (SELECT 4 LIMIT 1) ORDER BY 1",
	"SELECT CASE a WHEN 1 THEN 'x' ELSE \"y\" END, CASE WHEN a THEN b END, CAST(a AS VARCHAR(3)), " +
		"COALESCE(a, NULL), COUNT(DISTINCT a), a LIKE 'x%', a NOT ILIKE b, a BETWEEN -1 AND +2, " +
		"a || 'it''s\\n', -9223372036854775808, 1.5e-3, .5, NOT a = b OR c <> d, (SELECT MAX(a) FROM t)",
	"BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK", "USE d",
	"SHOW TABLES", "SHOW DATABASES", "SHOW DATABASE", "SHOW COLUMNS FROM t", "SHOW INDEX FROM t",
	"SHOW INDEXES FROM t", "SHOW CREATE TABLE t", "DESCRIBE t", "DESC t",
	"EXPLAIN (ANALYZE) SELECT * FROM a JOIN b ON a.x = b.x", "EXPLAIN SELECT 1",
	"SELECT `a``b` FROM `T` -- c\n/* d */;",
}

// goldenInputs extracts the inputs of the golden files, as more seeds.
func goldenInputs(tb testing.TB) []string {
	files, err := filepath.Glob("testdata/parse/*")
	if err != nil {
		tb.Fatal(err)
	}
	var inputs []string
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		for i := 0; i < len(lines); i++ {
			switch lines[i] {
			case "parse", "parse-multi", "split", "expr-names":
				var in []string
				for i++; i < len(lines) && lines[i] != "----"; i++ {
					in = append(in, lines[i])
				}
				inputs = append(inputs, strings.Join(in, "\n"))
			}
		}
	}
	return inputs
}

// FuzzParse checks that parsing never panics, errors always carry a CADB
// code other than CADB0099, and Format output re-parses to an equal tree
// that formats identically.
//
//	go test ./internal/sql/parser -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	for _, s := range seedStatements {
		f.Add(s)
	}
	for _, s := range goldenInputs(f) {
		f.Add(s)
	}
	f.Add(`SELECT 'a\nb', E'c\'d\x41\u00e9', U&'\0041!' UESCAPE '!'; SELECT 'C:\new'`)
	f.Fuzz(func(t *testing.T, sql string) {
		for _, opts := range []Options{{}, {StandardStrings: true}} {
			fuzzParseOne(t, sql, opts)
		}
	})
}

// fuzzParseOne checks one dialect: no panic, coded errors, Format output
// (always the default dialect) re-parsing to an equal tree, and
// SplitStatementsWith cutting where ParseMultiWith does.
func fuzzParseOne(t *testing.T, sql string, opts Options) {
	stmt, err := ParseWith(sql, opts)
	if err != nil {
		var ce *errcode.Error
		if !errors.As(err, &ce) {
			t.Fatalf("%+v: error without a code: %v", opts, err)
		}
		if ce.Code == errcode.Internal {
			t.Fatalf("%+v: internal error: %v", opts, err)
		}
	} else if _, err := checkRoundTrip(stmt); err != nil {
		t.Fatalf("%+v: %v", opts, err)
	}
	stmts, err := ParseMultiWith(sql, opts)
	parts := SplitStatementsWith(sql, opts)
	if err == nil {
		for _, s := range stmts {
			if _, err := checkRoundTrip(s); err != nil {
				t.Fatalf("%+v: %v", opts, err)
			}
		}
		if len(parts) != len(stmts) {
			t.Fatalf("%+v: ParseMulti gave %d statements, SplitStatements %d: %q", opts, len(stmts), len(parts), parts)
		}
		for i, part := range parts {
			one, err := ParseWith(part, opts)
			if err != nil || !equalIgnoringPos(one, stmts[i]) {
				t.Fatalf("%+v: piece %d %q does not parse to statement %d (%v)", opts, i, part, i, err)
			}
		}
	} else if errcode.Of(err) == errcode.Internal {
		t.Fatalf("%+v: internal error: %v", opts, err)
	}
	for _, part := range parts {
		if trimSpace(part) != part || part == "" {
			t.Fatalf("%+v: SplitStatements returned untrimmed or empty %q", opts, part)
		}
	}
}

// FuzzSplitter checks that feeding a script to a Splitter in two pieces
// cut anywhere gives what SplitStatementsWith gives for the whole, in
// both dialects.
//
//	go test ./internal/sql/parser -run '^$' -fuzz FuzzSplitter -fuzztime 60s
func FuzzSplitter(f *testing.F) {
	for _, s := range []string{
		"SELECT 'a;b' -- x;y\n; /* c;d */ SELECT \"e\\\";f\"; SELECT `g;h`;SELECT 1-2/3;",
		`SELECT E'it''s\';'; SELECT U&'\';x'; SELECT 'a\'; SELECT "b\"`,
		"e'x';E'y'';';u&'z';U&'\\';",
		"SELECT $$a;b$$; SELECT $t$ $$ ; $t$; SELECT $1;",
	} {
		f.Add(s, uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, script string, cut uint16) {
		at := int(cut) % (len(script) + 1)
		for _, opts := range []Options{{}, {StandardStrings: true}} {
			want := SplitStatementsWith(script, opts)
			sp := NewSplitter(opts)
			got := append(sp.Feed(script[:at]), sp.Feed(script[at:])...)
			if last, ok := sp.Flush(); ok {
				got = append(got, last)
			}
			if len(got) != len(want) {
				t.Fatalf("%+v cut %d: %q, want %q", opts, at, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%+v cut %d: %q, want %q", opts, at, got, want)
				}
			}
		}
	})
}
