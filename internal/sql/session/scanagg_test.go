package session_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// An aggregate without GROUP BY directly over a table scan runs as one
// fused operator (exec/scanagg.go) that decodes just the columns it needs;
// over a derived table it runs through the general operators. Both must
// give the same answers: with NULLs, strings, expressions, filters, rows
// written before ADD/DROP COLUMN, and a transaction's own writes.
func TestScanAggregateMatchesGeneralPath(t *testing.T) {
	s, _ := newServer(t)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64, s STRING, f FLOAT64)")
	var sb strings.Builder
	sb.WriteString("INSERT INTO t VALUES ")
	for i := 0; i < 500; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		v, str := fmt.Sprint(i%37), fmt.Sprintf("'s%03d'", (i*7)%500)
		if i%11 == 0 {
			v, str = "NULL", "NULL"
		}
		fmt.Fprintf(&sb, "(%d, %s, %s, %d.5)", i, v, str, i)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: sb.String()})
	// Rows 0..499 are at the first layout; 500.. at later ones.
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN w INT64"})
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (500, 5, 'x', 1.0, 7), (501, NULL, 'zzz', 2.0, 8)"})
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t DROP COLUMN f"})
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (502, 9, 'a', 9)"})

	selects := []string{
		"COUNT(*), SUM(v)",
		"COUNT(v), COUNT(s), MIN(s), MAX(s), AVG(v), MIN(v), MAX(v)",
		"SUM(w), COUNT(w), MAX(id)",
		"SUM(v * 2 + id), COUNT(*)",
		"COUNT(*)",
	}
	wheres := []string{"", " WHERE v > 10", " WHERE s LIKE 's1%'", " WHERE id >= 100 AND id < 200", " WHERE id = 7"}
	check := func(txn *session.TxnHandle) {
		t.Helper()
		for _, sel := range selects {
			for _, where := range wheres {
				fused := mustExec(t, s, session.Request{Database: "d", Txn: txn, SQL: "SELECT " + sel + " FROM t" + where})
				general := mustExec(t, s, session.Request{Database: "d", Txn: txn, SQL: "SELECT " + sel + " FROM (SELECT * FROM t) AS u" + where})
				if !reflect.DeepEqual(fused.Rows, general.Rows) {
					t.Fatalf("SELECT %s%s: fused %v, general %v", sel, where, fused.Rows, general.Rows)
				}
			}
		}
	}
	check(nil)
	// Inside a transaction, its own unwritten rows count.
	begin := mustExec(t, s, session.Request{Database: "d", SQL: "BEGIN"})
	mustExec(t, s, session.Request{Database: "d", Txn: begin.Txn, SQL: "INSERT INTO t VALUES (1000, 1000, 'own', 1)"})
	mustExec(t, s, session.Request{Database: "d", Txn: begin.Txn, SQL: "DELETE FROM t WHERE id < 50"})
	check(begin.Txn)
	res := mustExec(t, s, session.Request{Database: "d", Txn: begin.Txn, SQL: "SELECT COUNT(*), SUM(v) FROM t"})
	if res.Rows[0][0].Int != 503-50+1 {
		t.Fatalf("COUNT(*) in the transaction = %v, want %d", res.Rows[0][0], 503-50+1)
	}
	mustExec(t, s, session.Request{Database: "d", Txn: begin.Txn, SQL: "ROLLBACK"})
}

// The fused operator reports what the general path reports: a SUM overflow
// (CADB0400), and a cancelled statement.
func TestScanAggregateErrors(t *testing.T) {
	s, _ := newServer(t)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)",
		"INSERT INTO t VALUES (1, 9223372036854775807), (2, 1)")
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "SELECT SUM(v) FROM t"})
	_, general := s.Execute(context.Background(), session.Request{Database: "d", SQL: "SELECT SUM(v) FROM (SELECT * FROM t) AS u"})
	if errcode.Of(err) != errcode.Of(general) {
		t.Fatalf("SUM overflow: fused %v, general %v", err, general)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Execute(ctx, session.Request{Database: "d", SQL: "SELECT COUNT(*) FROM t"})
	if err == nil || !(errcode.Of(err) == errcode.QueryCancelled || errors.Is(err, context.Canceled)) {
		t.Fatalf("cancelled COUNT(*): %v", err)
	}
}
