package exec

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// loadRows inserts rows (SQL tuples) into table in chunks.
func loadRows(t testing.TB, db catalog.DB, table string, rows []string) {
	t.Helper()
	for len(rows) > 0 {
		n := min(len(rows), 500)
		execSQL(t, db, "d", "INSERT INTO "+table+" VALUES "+strings.Join(rows[:n], ", "))
		rows = rows[n:]
	}
}

// queryRows runs a query, returning its rows or its error.
func queryRows(t testing.TB, db catalog.DB, sql string) ([][]types.Value, error) {
	t.Helper()
	ctx, stmt, txn := parseAndBegin(t, db, sql)
	defer txn.Rollback(ctx)
	res, err := Execute(ctx, Env{Txn: txn, Database: "d"}, stmt.(*ast.SelectStmt))
	if err != nil {
		return nil, err
	}
	return res.Rows, nil
}

// The fused aggregate read in parallel pieces gives what the serial one
// gives, NULLs, strings and every fallback (float sums, overflow) included.
func TestParallelScanAggregateMatchesSerial(t *testing.T) {
	db := catalogtest.NewMemDB()
	execSQL(t, db, "", "CREATE DATABASE d")
	execSQL(t, db, "d", "CREATE TABLE t (k INT64 PRIMARY KEY, v INT64, f FLOAT64, s STRING)",
		"CREATE TABLE o (k INT64 PRIMARY KEY, v INT64)", "CREATE TABLE u (k INT64 PRIMARY KEY, v INT64)")
	var rows []string
	for i := range 5000 {
		v, s := fmt.Sprint(i*37%1001-500), fmt.Sprintf("'s%04d'", (i*7919)%5000)
		if i%11 == 0 {
			v = "NULL"
		}
		if i%13 == 0 {
			s = "NULL"
		}
		rows = append(rows, fmt.Sprintf("(%d, %s, %d.25, %s)", i, v, i%7, s))
	}
	loadRows(t, db, "t", rows)
	// o's running sum overflows after row 300 although no piece's sum
	// does; u's stays just within range.
	const top = "9223372036854775797" // MaxInt64 - 10
	for _, c := range []struct {
		table    string
		from, to int
	}{{"o", 1, -1}, {"u", -1, 1}} {
		rows = rows[:0]
		for i := range 1000 {
			v := 0
			switch {
			case i >= 300 && i < 320:
				v = c.from
			case i >= 320 && i < 340:
				v = c.to
			}
			if i == 0 {
				rows = append(rows, fmt.Sprintf("(0, %s)", top))
				continue
			}
			rows = append(rows, fmt.Sprintf("(%d, %d)", i, v))
		}
		loadRows(t, db, c.table, rows)
	}
	for _, sql := range []string{
		"SELECT COUNT(*), SUM(v) FROM t",
		"SELECT COUNT(v), COUNT(s), AVG(v), MIN(v), MAX(v), MIN(s), MAX(s) FROM t",
		"SELECT SUM(f), COUNT(*) FROM t", // a float sum: serial
		"SELECT MAX(f), MIN(k), MAX(k) FROM t",
		"SELECT SUM(v), AVG(v) FROM o", // overflow: serial
		"SELECT SUM(v), AVG(v), COUNT(*) FROM u",
		"SELECT COUNT(*), SUM(v) FROM t WHERE k >= 4990",
	} {
		db.SerialScans = true
		want, wantErr := queryRows(t, db, sql)
		db.SerialScans = false
		got, gotErr := queryRows(t, db, sql)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: parallel %v (%v), serial %v (%v)", sql, got, gotErr, want, wantErr)
		}
	}
	if _, err := queryRows(t, db, "SELECT SUM(v) FROM o"); err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Errorf("SUM over o: %v, want the overflow error", err)
	}
	if got, err := queryRows(t, db, "SELECT SUM(v) FROM u"); err != nil || got[0][0].Int != 9223372036854775797 {
		t.Errorf("SUM over u: %v %v", got, err)
	}
}

// A whole-table aggregate holds the same memory whatever the size of the
// table: the account's peak is what the parallel scan reserves for its
// goroutines, for 20 000 rows as for 200 000.
func TestScanAggregateMemoryFlat(t *testing.T) {
	peaks := map[int]int64{}
	for _, n := range []int{20_000, 200_000} {
		db := catalogtest.NewMemDB()
		execSQL(t, db, "", "CREATE DATABASE d")
		execSQL(t, db, "d", "CREATE TABLE t (k INT64 PRIMARY KEY, v INT64, s STRING)")
		rows := make([]string, n)
		for i := range rows {
			rows[i] = fmt.Sprintf("(%d, %d, 'row %d')", i, i%1000, i)
		}
		loadRows(t, db, "t", rows)
		got := runBudget(t, db, "SELECT COUNT(*), SUM(v) FROM t", 0, false)
		if len(got.rows) != 1 || got.rows[0][0].Int != int64(n) {
			t.Fatalf("%d rows: %v", n, got.rows)
		}
		peaks[n] = got.highWater
	}
	if peaks[20_000] != peaks[200_000] || peaks[200_000] > int64(parallelWorkers()*parallelBatchBytes) {
		t.Fatalf("memory peaks %v: want the same, at most %d", peaks, parallelWorkers()*parallelBatchBytes)
	}
}

// The server sets the scan's goroutines to its cores before it adds a P
// for blocked system calls; unset, a scan uses one per P.
func TestParallelWorkersSetting(t *testing.T) {
	defer SetParallelWorkers(0)
	SetParallelWorkers(3)
	if got := parallelWorkers(); got != 3 {
		t.Fatalf("set to 3: %d workers", got)
	}
	SetParallelWorkers(0)
	if got, want := parallelWorkers(), runtime.GOMAXPROCS(0); got != want {
		t.Fatalf("unset: %d workers, want GOMAXPROCS %d", got, want)
	}
}
