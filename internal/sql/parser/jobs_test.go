package parser_test

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
)

func TestJobStatements(t *testing.T) {
	for sql, want := range map[string]string{
		"SHOW JOBS":          "SHOW JOBS",
		"show job 12":        "SHOW JOB 12",
		"SHOW JOB @id":       "SHOW JOB @id",
		"pause job 3":        "PAUSE JOB 3",
		"RESUME JOB 3":       "RESUME JOB 3",
		"CANCEL JOB 7":       "CANCEL JOB 7",
		"CANCEL QUERY '1-2'": "CANCEL QUERY '1-2'",
	} {
		stmt, err := parser.Parse(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if got := ast.Format(stmt); got != want {
			t.Errorf("%s formats as %q, want %q", sql, got, want)
		}
	}
	for _, bad := range []string{"SHOW JOB", "SHOW JOB 'x'", "PAUSE JOB", "CANCEL JOB x"} {
		if _, err := parser.Parse(bad); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
	// pause and resume stay usable as names.
	if _, err := parser.Parse("SELECT pause, resume FROM job"); err != nil {
		t.Fatal(err)
	}
}
