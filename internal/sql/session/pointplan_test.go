package session_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// A point query by primary key runs from its cached template after the
// first execution, and answers exactly what the planner's plan answers
// (the same statement with LIMIT, which never takes the fast path), for
// every parameter value, across schema changes and inside transactions.
func TestPointPlanCacheAgreesWithThePlanner(t *testing.T) {
	db := catalogtest.NewMemDB()
	// The template is kept per parsed statement: the parse cache must be on.
	s := session.NewServer(db, session.Config{ParseCacheTTL: time.Hour})
	t.Cleanup(s.Close)
	setup(t, s,
		"CREATE TABLE t (a INT64, b STRING, c INT64, d STRING, PRIMARY KEY (a, b DESC))",
		"INSERT INTO t VALUES (1, 'x', 10, 'one-x'), (1, 'y', 11, 'one-y'), (2, 'x', 20, NULL)",
		"CREATE TABLE u (id INT64 PRIMARY KEY, v STRING)",
		"INSERT INTO u VALUES (1, 'u1'), (2, 'u2')")

	query := func(sql string, params map[string]types.Value, txn *session.TxnHandle) string {
		t.Helper()
		res, err := s.Execute(t.Context(), session.Request{Database: "d", SQL: sql, Params: params, Txn: txn})
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprint(res.Columns, res.Rows)
	}
	// check runs sql twice (the first plans and remembers) and compares
	// with the planner; wantHit says whether the second run must have
	// skipped the planner.
	check := func(sql string, params map[string]types.Value, txn *session.TxnHandle, wantHit bool) {
		t.Helper()
		want := query(sql+" LIMIT 5", params, txn)
		query(sql, params, txn)
		hits := s.PointPlanHits()
		if got := query(sql, params, txn); got != want {
			t.Fatalf("%s %v: fast path %s, planner %s", sql, params, got, want)
		}
		if hit := s.PointPlanHits() > hits; hit != wantHit {
			t.Fatalf("%s %v: template used = %v, want %v", sql, params, hit, wantHit)
		}
	}
	p := func(kv ...any) map[string]types.Value {
		m := map[string]types.Value{}
		for i := 0; i < len(kv); i += 2 {
			switch v := kv[i+1].(type) {
			case int:
				m[kv[i].(string)] = types.NewInt(int64(v))
			case string:
				m[kv[i].(string)] = types.NewString(v)
			case nil:
				m[kv[i].(string)] = types.Value{}
			}
		}
		return m
	}

	const q = "SELECT d, c FROM t WHERE a = @a AND b = @b"
	for _, params := range []map[string]types.Value{
		p("a", 1, "b", "x"), p("a", 1, "b", "y"), p("a", 2, "b", "x"),
		p("a", 3, "b", "x"), // no such row
	} {
		check(q, params, nil, true)
	}
	// Parameters of other kinds, or NULL, go to the planner.
	check(q, p("a", "1", "b", "x"), nil, false)
	check(q, p("a", 1, "b", nil), nil, false)
	// Other forms of the same query.
	check("SELECT * FROM t WHERE @b = b AND t.a = @a", p("a", 1, "b", "y"), nil, true)
	check("SELECT c AS cc, x.d FROM t x WHERE x.b = @b AND a = @a", p("a", 2, "b", "x"), nil, true)
	check("SELECT v FROM u WHERE id = @id", p("id", 2), nil, true)
	// Not point queries: a partial key, an extra condition, the same
	// column twice.
	check("SELECT d FROM t WHERE a = @a", p("a", 1), nil, false)
	check("SELECT v FROM u WHERE id = @id AND v = @v", p("id", 1, "v", "u1"), nil, false)
	check("SELECT v FROM u WHERE id = @id AND id = @j", p("id", 1, "j", 2), nil, false)

	// A schema change makes the template stale: the renamed column, the
	// new one and the new value are seen at once.
	check("SELECT * FROM u WHERE id = @id", p("id", 1), nil, true)
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE u RENAME COLUMN v TO w"})
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE u ADD COLUMN z INT64 DEFAULT (7)"})
	check("SELECT * FROM u WHERE id = @id", p("id", 1), nil, true)
	if got := query("SELECT * FROM u WHERE id = @id", p("id", 1), nil); !strings.Contains(got, "[[1 u1 7]]") || !strings.Contains(got, "{w ") {
		t.Fatalf("after ALTER TABLE: %s", got)
	}
	// Dropped and created again under the same name: another table.
	mustExec(t, s, session.Request{Database: "d", SQL: "DROP TABLE u"})
	mustExec(t, s, session.Request{Database: "d", SQL: "CREATE TABLE u (id STRING PRIMARY KEY, v INT64)"})
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO u VALUES ('1', 100)"})
	check("SELECT * FROM u WHERE id = @id", p("id", "1"), nil, true)
	check("SELECT v FROM u WHERE id = @id", p("id", 1), nil, false) // an INT parameter for a STRING key
	// Inside a transaction the query sees the transaction's own writes.
	begin := mustExec(t, s, session.Request{Database: "d", SQL: "BEGIN"})
	mustExec(t, s, session.Request{Database: "d", SQL: "UPDATE t SET c = 99 WHERE a = 1 AND b = 'x'", Txn: begin.Txn})
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (5, 'z', 50, 'five')", Txn: begin.Txn})
	check(q, p("a", 1, "b", "x"), begin.Txn, true)
	check(q, p("a", 5, "b", "z"), begin.Txn, true)
	if got := query(q, p("a", 1, "b", "x"), begin.Txn); !strings.Contains(got, "[[one-x 99]]") {
		t.Fatalf("in the transaction: %s", got)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "ROLLBACK", Txn: begin.Txn})
	if got := query(q, p("a", 5, "b", "z"), nil); strings.Contains(got, "five") {
		t.Fatalf("a rolled back row is visible: %s", got)
	}

	// Another database with the same table names and ids.
	mustExec(t, s, session.Request{SQL: "CREATE DATABASE e"})
	mustExec(t, s, session.Request{Database: "e", SQL: "CREATE TABLE t (a INT64, b STRING, c STRING, d INT64, PRIMARY KEY (a, b))"})
	mustExec(t, s, session.Request{Database: "e", SQL: "INSERT INTO t VALUES (1, 'x', 'e-c', 42)"})
	res := mustExec(t, s, session.Request{Database: "e", SQL: q, Params: p("a", 1, "b", "x")})
	if fmt.Sprint(res.Rows) != "[[42 e-c]]" {
		t.Fatalf("database e: %v", res.Rows)
	}
	mustExec(t, s, session.Request{SQL: "DROP DATABASE d"})
	mustExec(t, s, session.Request{SQL: "CREATE DATABASE d"})
	mustExec(t, s, session.Request{Database: "d", SQL: "CREATE TABLE t (a INT64, b STRING, c STRING, d INT64, PRIMARY KEY (a, b))"})
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1, 'x', 'new-c', 7)"})
	res = mustExec(t, s, session.Request{Database: "d", SQL: q, Params: p("a", 1, "b", "x")})
	if fmt.Sprint(res.Rows) != "[[7 new-c]]" {
		t.Fatalf("database d created again: %v", res.Rows)
	}
}
