package pgwire

import (
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/parser"
)

// countParams reads text with the session's dialect: in standard strings a
// backslash does not hide the closing quote, so $2 after 'a\' counts.
func TestCountParamsFollowsTheDialect(t *testing.T) {
	standard := parser.Options{StandardStrings: true}
	for _, tc := range []struct {
		sql  string
		opts parser.Options
		want int
	}{
		{`SELECT $1, 'a\', $2`, standard, 2},
		{`SELECT $1, 'a\', $2`, parser.Options{}, 1},
		{`SELECT E'a\', $3', $1`, standard, 1},
		{`SELECT '$9' -- $8` + "\n" + `, /* $7 */ "$6", ` + "`$5`" + `, $2`, standard, 2},
		{`SELECT U&'\', $4`, standard, 4},
		{`SELECT $$ $7 $$, $q$ $8 $q$, $2`, standard, 2},
	} {
		got, err := countParams(tc.sql, tc.opts)
		if err != nil || got != tc.want {
			t.Errorf("countParams(%q, %+v) = %d, %v; want %d", tc.sql, tc.opts, got, err, tc.want)
		}
	}
	if _, err := countParams("SELECT $65536", standard); err == nil {
		t.Error("$65536 accepted")
	}
}

func TestHasReturning(t *testing.T) {
	standard := parser.Options{StandardStrings: true}
	for sql, want := range map[string]bool{
		"INSERT INTO t VALUES (1) RETURNING id":       true,
		"delete from t where a = 1 returning *":       true,
		"INSERT INTO t VALUES ('returning')":          false,
		"UPDATE t SET a = 1 -- returning\nWHERE b":    false,
		"UPDATE t SET returning_count = 1 WHERE b":    false,
		"UPDATE t SET a = 'x\\' RETURNING a":          true, // standard strings: the literal ends at '
		"SELECT 1 /* RETURNING */":                    false,
		"INSERT INTO t SELECT x FROM u\nRETURNING\t*": true,
	} {
		if got := hasReturning(sql, standard); got != want {
			t.Errorf("hasReturning(%q) = %v, want %v", sql, got, want)
		}
	}
}

// TestCompactLower: intercept's allocation-free compaction agrees with the
// strings-based one it replaced, and leaves non-ASCII text to it.
func TestCompactLower(t *testing.T) {
	for _, sql := range []string{"SELECT current_user", " select  CURRENT_USER ( ) ;", "select user;;", "SeLeCt\tpg_backend_pid()\n;", ""} {
		got, ok := compactLower(nil, sql)
		want := strings.ToLower(strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimSpace(sql), ";")), ""))
		if !ok || string(got) != want {
			t.Errorf("compactLower(%q) = %q, %v; want %q", sql, got, ok, want)
		}
	}
	if _, ok := compactLower(nil, "select\u00a0user"); ok {
		t.Error("non-ASCII text was compacted")
	}
}
