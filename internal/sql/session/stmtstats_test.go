package session

import (
	"slices"
	"testing"
)

func TestStatementKind(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT 1":                      "select",
		"  (select 1) union (select 2)": "select",
		"-- c\n/* x */ WITH a AS (SELECT 1) SELECT * FROM a": "select",
		"insert into t values (1)":                           "insert",
		"UPDATE t SET v = 1":                                 "update",
		"delete from t":                                      "delete",
		"CREATE TABLE t (id INT64)":                          "ddl",
		"BEGIN":                                              "txn",
		"show tables":                                        "show",
		"SET statement_timeout = 0":                          "set",
		"":                                                   "other",
		"-- only a comment":                                  "other",
		"selectx 1":                                          "other",
		"/* unterminated":                                    "other",
	} {
		if got := StatementKind(sql); got != want {
			t.Errorf("StatementKind(%q) = %q, want %q", sql, got, want)
		}
	}
	// /metrics looks the series of these kinds up once.
	if got, want := StatementKinds(), []string{"ddl", "delete", "insert", "other", "select", "set", "show", "txn", "update"}; !slices.Equal(got, want) {
		t.Errorf("StatementKinds() = %v, want %v", got, want)
	}
}

func FuzzStatementKind(f *testing.F) {
	f.Add("SELECT 1")
	f.Add("/* a */ -- b\n insert")
	f.Fuzz(func(t *testing.T, sql string) {
		if k := StatementKind(sql); !slices.Contains(StatementKinds(), k) {
			t.Fatalf("kind %q is not among StatementKinds()", k)
		}
	})
}
