package exec_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/exec"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// statsRun executes sql in its own transaction with stats attached, and
// flushes them after the commit (as a session would).
func statsRun(t *testing.T, db catalog.DB, stats *exec.Stats, sql string) *exec.Result {
	t.Helper()
	res, err := statsExec(db, stats, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res
}

// statsFixture is database d on the in-memory kv, statistics flushed
// every 5 s of *clock, and the table create makes.
func statsFixture(t *testing.T, create string) (catalog.DB, *time.Time, *exec.Stats) {
	t.Helper()
	db := catalogtest.NewMemDB()
	clock := time.Unix(1000, 0)
	stats := exec.NewStats(db, 5*time.Second, func() time.Time { return clock })
	newServer(t, db) // creates database d
	statsRun(t, db, stats, create)
	return db, &clock, stats
}

// insertRows is an INSERT of the rows (i, i) (cols 2) or (i) (cols 1)
// for i in [from, from+n).
func insertRows(table string, from, n, cols int) string {
	vals := make([]string, 0, n)
	for i := from; i < from+n; i++ {
		if cols == 1 {
			vals = append(vals, fmt.Sprintf("(%d)", i))
		} else {
			vals = append(vals, fmt.Sprintf("(%d, %d)", i, i))
		}
	}
	return "INSERT INTO " + table + " VALUES " + strings.Join(vals, ", ")
}

// statsExec runs one statement in its own transaction with stats, then
// lets stats flush (safe off the test goroutine: no t.Fatal).
func statsExec(db catalog.DB, stats *exec.Stats, sql string) (*exec.Result, error) {
	ctx := context.Background()
	stmt, err := parser.Parse(sql)
	if err != nil {
		return nil, err
	}
	txn, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	res, err := exec.Execute(ctx, exec.Env{Txn: txn, Database: "d", Stats: stats}, stmt)
	if err != nil {
		txn.Rollback(ctx)
		return nil, err
	}
	if err := txn.Commit(ctx); err != nil {
		return nil, err
	}
	return res, stats.MaybeFlush(ctx)
}

func explainLines(res *exec.Result) string {
	var b strings.Builder
	for _, r := range res.Rows {
		fmt.Fprintf(&b, "%s %s %s\n", r[1].Str, r[2].Str, r[3])
	}
	return b.String()
}

// Statistics are kept per flush interval, drive "index range too wide →
// full scan" and show as estimated_rows.
func TestStatisticsDrivePlans(t *testing.T) {
	db, clock, stats := statsFixture(t, "CREATE TABLE m (id INT64 PRIMARY KEY, v INT64, KEY v_idx (v))")
	statsRun(t, db, stats, insertRows("m", 0, 100, 2))

	// Before the interval has passed there are no statistics: rules only.
	res := statsRun(t, db, stats, "EXPLAIN SELECT id FROM m WHERE v > 10")
	if got := explainLines(res); !strings.Contains(got, "index-range-scan m@v_idx") || !strings.Contains(got, "NULL") {
		t.Fatalf("without statistics:\n%s", got)
	}

	*clock = clock.Add(6 * time.Second)
	statsRun(t, db, stats, "INSERT INTO m VALUES (100, 100)") // flushes: 101 rows, v in [0, 100]

	// v > 10 covers ~89% of the table: a full scan is cheaper.
	got := explainLines(statsRun(t, db, stats, "EXPLAIN SELECT id FROM m WHERE v > 10"))
	if !strings.Contains(got, "table-scan m 101") || !strings.Contains(got, "filter v > 10 34") {
		t.Fatalf("wide range:\n%s", got)
	}
	// v < 10 is ~10%: the index range stays, estimated from min/max.
	got = explainLines(statsRun(t, db, stats, "EXPLAIN SELECT id FROM m WHERE v < 10"))
	if !strings.Contains(got, "index-range-scan m@v_idx v < 10 10") {
		t.Fatalf("narrow range:\n%s", got)
	}
	// FORCE_INDEX wins over statistics; point lookups estimate one row.
	got = explainLines(statsRun(t, db, stats, "EXPLAIN SELECT id FROM m@{FORCE_INDEX=v_idx} WHERE v > 10"))
	if !strings.Contains(got, "index-range-scan m@v_idx") {
		t.Fatalf("forced index:\n%s", got)
	}
	got = explainLines(statsRun(t, db, stats, "EXPLAIN SELECT v FROM m WHERE id = 7"))
	if !strings.Contains(got, "index-lookup m@~pk id = 7 1") {
		t.Fatalf("lookup:\n%s", got)
	}
	// Results do not depend on the plan.
	res = statsRun(t, db, stats, "SELECT count(*) FROM m WHERE v > 10")
	if res.Rows[0][0] != types.NewInt(90) {
		t.Fatalf("count = %v, want 90", res.Rows[0][0])
	}

	// The stored statistics are visible to another node's cache.
	other := exec.NewStats(db, -1, nil)
	ctx := context.Background()
	txn, _ := db.Begin(ctx)
	defer txn.Rollback(ctx)
	d, err := catalog.GetDatabase(ctx, txn, "d")
	if err != nil {
		t.Fatal(err)
	}
	desc, err := catalog.GetTable(ctx, txn, d.ID, "m")
	if err != nil {
		t.Fatal(err)
	}
	st, ok := other.TableStats(ctx, desc)
	if !ok || st.Rows != 101 || st.Min[desc.Columns[1].ID] != types.NewInt(0) || st.Max[desc.Columns[1].ID] != types.NewInt(100) {
		t.Fatalf("stored statistics = %+v, %v", st, ok)
	}
	if is := st.Indexes[desc.Indexes[0].ID]; is.Entries != 101 || is.DistinctFirst != 101 || is.Bytes == 0 {
		t.Fatalf("index statistics = %+v", is)
	}
}

// Interval 0 refreshes after every change; -1 only on Refresh.
func TestStatisticsFlushIntervals(t *testing.T) {
	db := catalogtest.NewMemDB()
	newServer(t, db)
	every := exec.NewStats(db, 0, nil)
	statsRun(t, db, every, "CREATE TABLE e (id INT64 PRIMARY KEY)")
	statsRun(t, db, every, "INSERT INTO e VALUES (1), (2), (3)")
	if got := explainLines(statsRun(t, db, every, "EXPLAIN SELECT id FROM e")); !strings.Contains(got, "table-scan e 3") {
		t.Fatalf("interval 0:\n%s", got)
	}
	never := exec.NewStats(db, -1, nil)
	statsRun(t, db, never, "CREATE TABLE n (id INT64 PRIMARY KEY)")
	statsRun(t, db, never, "INSERT INTO n VALUES (1), (2)")
	if got := explainLines(statsRun(t, db, never, "EXPLAIN SELECT id FROM n")); !strings.Contains(got, "table-scan n NULL") {
		t.Fatalf("interval -1 before Refresh:\n%s", got)
	}
	ctx := context.Background()
	txn, _ := db.Begin(ctx)
	d, err := catalog.GetDatabase(ctx, txn, "d")
	txn.Rollback(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := never.Refresh(ctx, d.ID, "n"); err != nil {
		t.Fatal(err)
	}
	if got := explainLines(statsRun(t, db, never, "EXPLAIN SELECT id FROM n")); !strings.Contains(got, "table-scan n 2") {
		t.Fatalf("interval -1 after Refresh:\n%s", got)
	}
	if err := never.Refresh(ctx, d.ID, "dropped"); err != nil {
		t.Fatalf("refresh of a missing table: %v", err)
	}
}

// estimated_cost adds up the rows each node touches once statistics are
// known (NULL before), so a narrow index range costs less than a full scan.
func TestEstimatedCost(t *testing.T) {
	db, clock, stats := statsFixture(t, "CREATE TABLE m (id INT64 PRIMARY KEY, v INT64, KEY v_idx (v))")
	statsRun(t, db, stats, insertRows("m", 0, 100, 2))
	costs := func(sql string) map[string]types.Value {
		res := statsRun(t, db, stats, sql)
		if len(res.Columns) < 5 || res.Columns[4].Name != "estimated_cost" || res.Columns[4].Kind != types.Float64 {
			t.Fatalf("%s: columns %+v", sql, res.Columns)
		}
		out := map[string]types.Value{}
		for _, r := range res.Rows {
			out[r[1].Str] = r[4]
		}
		return out
	}
	if c := costs("EXPLAIN SELECT id FROM m WHERE v > 10"); !c["project"].IsNull() {
		t.Fatalf("without statistics: %v", c)
	}

	*clock = clock.Add(6 * time.Second)
	statsRun(t, db, stats, "INSERT INTO m VALUES (100, 100)") // flushes: 101 rows

	// Full scan of 101 rows (+1 seek), filter over 101, project over 34.
	wide := costs("EXPLAIN SELECT id FROM m WHERE v > 10")
	want := map[string]float64{"table-scan": 102, "filter": 203, "project": 237}
	for node, w := range want {
		if got := wide[node]; got != types.NewFloat(w) {
			t.Fatalf("%s cost = %v, want %v (all: %v)", node, got, w, wide)
		}
	}
	narrow := costs("EXPLAIN SELECT id FROM m WHERE v < 10")
	if n := narrow["project"]; n.Kind != types.Float64 || n.Float >= wide["project"].Float {
		t.Fatalf("narrow range cost %v not below full scan %v", n, wide["project"])
	}
	sorted := costs("EXPLAIN SELECT id FROM m WHERE v > 10 ORDER BY v + id LIMIT 3")
	if s := sorted["limit"]; s.Kind != types.Float64 || s.Float <= wide["project"].Float {
		t.Fatalf("sort+limit cost %v not above the unsorted %v: %v", s, wide["project"], sorted)
	}
}

// A table with statistics is refreshed once the rows written since reach
// 50 plus a tenth of its rows, not at every flush it was written before;
// TRUNCATE makes it due at once.
func TestStatisticsRefreshThreshold(t *testing.T) {
	db, clock, stats := statsFixture(t, "CREATE TABLE m (id INT64 PRIMARY KEY)")
	insert := func(from, n int) { statsRun(t, db, stats, insertRows("m", from, n, 1)) }
	rows := func() string {
		got := explainLines(statsRun(t, db, stats, "EXPLAIN SELECT id FROM m"))
		for _, line := range strings.Split(got, "\n") {
			if strings.Contains(line, "table-scan m") {
				return strings.TrimSpace(line[strings.Index(line, "table-scan m")+len("table-scan m"):])
			}
		}
		t.Fatalf("no table-scan line:\n%s", got)
		return ""
	}
	insert(0, 1000)
	*clock = clock.Add(6 * time.Second)
	insert(1000, 1) // first statistics: due at once
	if got := rows(); got != "1001" {
		t.Fatalf("first refresh: estimated %s rows, want 1001", got)
	}
	// 50 + 100.1 rows are needed; 140 written over two intervals are not.
	for _, from := range []int{2000, 3000} {
		*clock = clock.Add(6 * time.Second)
		insert(from, 70)
		if got := rows(); got != "1001" {
			t.Fatalf("after %d more rows: estimated %s, want the old 1001", from-1930, got)
		}
	}
	*clock = clock.Add(6 * time.Second)
	insert(4000, 20) // 160 written since the refresh: due
	if got := rows(); got != "1161" {
		t.Fatalf("past the threshold: estimated %s rows, want 1161", got)
	}
	*clock = clock.Add(6 * time.Second)
	statsRun(t, db, stats, "TRUNCATE TABLE m")
	if got := rows(); got != "0" {
		t.Fatalf("after TRUNCATE: estimated %s rows, want 0", got)
	}
}

// TestComputeStatsSample: decoding every tenth row for min/max leaves
// the counts, sizes and distinct first-key values of the table and its
// index exactly as a full decode computes them, and takes min/max from
// the sampled rows only.
func TestComputeStatsSample(t *testing.T) {
	db, _, stats := statsFixture(t, "CREATE TABLE t (k INT64 PRIMARY KEY, v INT64, s STRING)")
	statsRun(t, db, stats, "CREATE INDEX t_v ON t (v)")
	var vals []string
	for i := range 1000 {
		vals = append(vals, fmt.Sprintf("(%d, %d, 's%03d')", i, i%7, i))
	}
	statsRun(t, db, stats, "INSERT INTO t VALUES "+strings.Join(vals, ", "))
	ctx := context.Background()
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Rollback(ctx)
	desc := tableIn(t, txn, "t")
	full, err := exec.ComputeStats(ctx, txn, desc, 1)
	if err != nil {
		t.Fatal(err)
	}
	sampled, err := exec.ComputeStats(ctx, txn, desc, 10)
	if err != nil {
		t.Fatal(err)
	}
	kID, sID := desc.Columns[0].ID, desc.Columns[2].ID
	if full.Rows != 1000 || full.Min[kID].Int != 0 || full.Max[kID].Int != 999 || full.Max[sID].Str != "s999" {
		t.Fatalf("full decode: rows %d, k in [%v, %v], max s %v", full.Rows, full.Min[kID], full.Max[kID], full.Max[sID])
	}
	if fmt.Sprint(sampled.Indexes) != fmt.Sprint(full.Indexes) || sampled.Rows != full.Rows {
		t.Fatalf("sampled counts %d %v differ from the full decode's %d %v", sampled.Rows, sampled.Indexes, full.Rows, full.Indexes)
	}
	if idx := full.Indexes[desc.Indexes[0].ID]; idx.Entries != 1000 || idx.DistinctFirst != 7 {
		t.Fatalf("index stats %+v, want 1000 entries and 7 distinct first values", idx)
	}
	if pk := full.Indexes[desc.PrimaryKey.ID]; pk.DistinctFirst != 1000 {
		t.Fatalf("primary key stats %+v, want 1000 distinct", pk)
	}
	// Rows 0, 10, ..., 990 were decoded.
	if sampled.Min[kID].Int != 0 || sampled.Max[kID].Int != 990 || sampled.Max[sID].Str != "s990" {
		t.Fatalf("sampled min/max of k %v/%v, max s %v; want 0, 990 and s990 (every tenth row)", sampled.Min[kID], sampled.Max[kID], sampled.Max[sID])
	}
}
