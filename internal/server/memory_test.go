package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A node empties data_dir/sql-temp when it starts, spills statements over
// sql_query_memory_bytes there (leaving nothing behind), and answers
// operators that cannot spill with CADB0511 / 400, whose message names
// the setting.
func TestNodeSpillsUnderQueryBudget(t *testing.T) {
	cfg := testConfig(t)
	cfg.SQLQueryMemoryBytes = MinSQLQueryMemoryBytes
	tempDir := filepath.Join(cfg.DataDir, SQLTempDirName)
	leftover := filepath.Join(tempDir, "query-crashed", "run-1")
	if err := os.MkdirAll(filepath.Dir(leftover), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(leftover, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	node := startTestNode(t, cfg)
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Fatalf("spill file of a previous run survived the start: %v", err)
	}
	tn := startTableNode(t, node)
	post := tn.post
	const n = 2000
	var values []string
	for i := range n {
		// v is a permutation of the ids (7919 is prime to 2000), so the
		// ORDER BY v is not the scan order.
		values = append(values, fmt.Sprintf("(%d, 'k%05d')", i, (i*7919)%n))
		if len(values) == 500 {
			if status, body := post("/execute-sql-non-query", `{"databaseName":"m","sql":"INSERT INTO t (id, v) VALUES `+strings.Join(values, ", ")+`"}`); status != 200 {
				t.Fatalf("insert: %d %v", status, body)
			}
			values = values[:0]
		}
	}
	// 2000 rows do not fit 64 KiB (nor do the 1003 a top-k would keep):
	// the sort spills (without spilling it would fail) and still orders.
	status, body := post("/execute-sql-query", `{"databaseName":"m","sql":"SELECT v FROM t ORDER BY v DESC LIMIT 3 OFFSET 1000"}`)
	rows, _ := body["rows"].([]any)
	strValue := func(i int) any { return rows[i].(map[string]any)["v"].(map[string]any)["strValue"] }
	if status != 200 || len(rows) != 3 || strValue(0) != "k00999" || strValue(2) != "k00997" {
		t.Fatalf("spilled ORDER BY: %d %v", status, body)
	}
	if entries, err := os.ReadDir(tempDir); err != nil || len(entries) != 0 {
		t.Fatalf("sql-temp after the statement: %v, %v", entries, err)
	}
	// The monitor is exported: a budget, nothing held between statements,
	// and a high-water mark the sort left.
	metrics := scrape(t, tn.client, tn.base)
	if metrics["camusdb_sql_memory_limit_bytes"] <= 0 || metrics["camusdb_sql_memory_used_bytes"] != 0 ||
		metrics["camusdb_sql_memory_high_water_bytes"] <= 0 {
		t.Fatalf("SQL memory metrics: limit %v used %v high water %v", metrics["camusdb_sql_memory_limit_bytes"],
			metrics["camusdb_sql_memory_used_bytes"], metrics["camusdb_sql_memory_high_water_bytes"])
	}
	// A nested loop's inner side spills too: 2000*1999/2 pairs.
	status, body = post("/execute-sql-query", `{"databaseName":"m","sql":"SELECT COUNT(*) FROM t a JOIN t b ON a.v < b.v"}`)
	if rows, _ := body["rows"].([]any); status != 200 || len(rows) != 1 ||
		rows[0].(map[string]any)["COUNT(*)"].(map[string]any)["longValue"] != float64(2000*1999/2) {
		t.Fatalf("spilled nested loop: %d %v", status, body)
	}
	// So does a semi-join's key set: 2000 rows, none in the subquery.
	status, body = post("/execute-sql-query", `{"databaseName":"m","sql":"SELECT COUNT(*) FROM t WHERE v NOT IN (SELECT v || 'x' FROM t)"}`)
	if rows, _ := body["rows"].([]any); status != 200 || len(rows) != 1 ||
		rows[0].(map[string]any)["COUNT(*)"].(map[string]any)["longValue"] != float64(n) {
		t.Fatalf("spilled anti-join: %d %v", status, body)
	}
	// A subquery compiled into an expression (IN under OR) gathers its
	// rows in memory: it cannot spill.
	status, body = post("/execute-sql-query", `{"databaseName":"m","sql":"SELECT COUNT(*) FROM t WHERE id < 2 AND (v IN (SELECT v FROM t) OR id = -1)"}`)
	if status != 400 || body["code"] != "CADB0511" || !strings.Contains(fmt.Sprint(body["message"]), "sql_query_memory_bytes") {
		t.Fatalf("subquery over the budget: %d %v", status, body)
	}
}
