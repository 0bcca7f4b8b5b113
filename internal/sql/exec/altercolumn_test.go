package exec_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// ALTER TABLE ... ALTER [COLUMN]: defaults, NOT NULL and the type changes
// that keep every stored value valid; the others are refused with a clear
// code and leave the table as it was.
func TestAlterColumn(t *testing.T) {
	s := newServer(t, catalogtest.NewMemDB())
	mustRun(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, n INTEGER, name VARCHAR(3), price NUMERIC(5,2))")
	mustRun(t, s, "INSERT INTO t VALUES (1, 10, 'abc', 1.25)")
	want := func(sql string, code errcode.Code) {
		t.Helper()
		if _, err := run(t, s, sql); errcode.Of(err) != code {
			t.Fatalf("%s: %v, want %s", sql, err, code)
		}
	}
	rows := func(sql string) string {
		t.Helper()
		return fmt.Sprint(mustRun(t, s, sql).Rows)
	}

	mustRun(t, s, "ALTER TABLE t ALTER COLUMN n SET DEFAULT 7")
	mustRun(t, s, "INSERT INTO t (id, name) VALUES (2, 'x')")
	mustRun(t, s, "ALTER TABLE t ALTER n DROP DEFAULT")
	mustRun(t, s, "INSERT INTO t (id) VALUES (3)")
	if got := rows("SELECT id, n FROM t ORDER BY id"); got != "[[1 10] [2 7] [3 NULL]]" {
		t.Fatalf("defaults: %s", got)
	}
	want("ALTER TABLE t ALTER COLUMN n SET DEFAULT 'text'", errcode.InvalidInput)

	// SET NOT NULL checks the rows; DROP NOT NULL relaxes (not on a key).
	want("ALTER TABLE t ALTER COLUMN n SET NOT NULL", errcode.NotNullViolation)
	mustRun(t, s, "UPDATE t SET n = 0 WHERE n IS NULL")
	mustRun(t, s, "ALTER TABLE t ALTER COLUMN n SET NOT NULL")
	want("INSERT INTO t (id) VALUES (4)", errcode.NotNullViolation)
	mustRun(t, s, "ALTER TABLE t ALTER COLUMN n DROP NOT NULL")
	mustRun(t, s, "INSERT INTO t (id) VALUES (4)")
	want("ALTER TABLE t ALTER COLUMN id DROP NOT NULL", errcode.InvalidInput)

	// Types: widening is metadata only; narrowing or another kind is
	// refused and changes nothing.
	before := rows("SHOW CREATE TABLE t")
	want("ALTER TABLE t ALTER COLUMN n TYPE SMALLINT", errcode.Unsupported)
	want("ALTER TABLE t ALTER COLUMN name TYPE VARCHAR(2)", errcode.Unsupported)
	want("ALTER TABLE t ALTER COLUMN name TYPE INT64", errcode.Unsupported)
	want("ALTER TABLE t ALTER COLUMN price TYPE NUMERIC(6,3)", errcode.Unsupported)
	want("ALTER TABLE t ALTER COLUMN n TYPE BIGINT USING n * 2", errcode.Unsupported)
	want("ALTER TABLE t ALTER COLUMN n SET STATISTICS 100", errcode.Unsupported)
	if after := rows("SHOW CREATE TABLE t"); after != before {
		t.Fatalf("a refused change altered the table:\n%s\n%s", before, after)
	}
	want("INSERT INTO t VALUES (5, 3000000000, 'abc', 1)", errcode.NumericOutOfRange)
	mustRun(t, s, "ALTER TABLE t ALTER COLUMN n TYPE BIGINT")
	mustRun(t, s, "ALTER TABLE t ALTER COLUMN name SET DATA TYPE VARCHAR(10)")
	mustRun(t, s, "ALTER TABLE t ALTER COLUMN price TYPE NUMERIC(9,2)")
	mustRun(t, s, "INSERT INTO t VALUES (5, 3000000000, 'abcdefgh', 1234567.5)")
	if got := rows("SELECT n, name, price FROM t WHERE id = 5"); got != "[[3000000000 abcdefgh 1234567.50]]" {
		t.Fatalf("after widening: %s", got)
	}
	if got := rows("SELECT name FROM t WHERE id = 1"); got != "[[abc]]" {
		t.Fatalf("an old row after widening: %s", got)
	}
	if got := rows("SHOW CREATE TABLE t"); !strings.Contains(got, "VARCHAR(10)") {
		t.Fatalf("SHOW CREATE TABLE does not show the new type: %s", got)
	}
}
