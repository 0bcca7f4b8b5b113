package server

import (
	"fmt"
	"strings"
	"testing"
)

// With txn_max_write_bytes at 1.5 MiB, statements whose writes fit commit,
// and an UPDATE whose writes do not (1 000 rows of ~300 bytes) fails with
// CADB0514 / 400 naming the setting, writing nothing: the node never
// holds more than the bound of a transaction's writes.
func TestNodeBoundsTransactionWrites(t *testing.T) {
	cfg := testConfig(t)
	cfg.TxnMaxWriteBytes = 1536 << 10
	tn := startTableNode(t, startTestNode(t, cfg))
	post, count := tn.post, tn.count
	const n = 1000
	for start := 0; start < n; start += 100 {
		values := make([]string, 100)
		for i := range values {
			values[i] = fmt.Sprintf("(%d, 'short')", start+i)
		}
		if status, body := post("/execute-sql-non-query", `{"databaseName":"m","sql":"INSERT INTO t (id, v) VALUES `+strings.Join(values, ", ")+`"}`); status != 200 {
			t.Fatalf("insert of 100 rows: %d %v", status, body)
		}
	}
	long := strings.Repeat("x", 300)
	status, body := post("/execute-sql-non-query", `{"databaseName":"m","sql":"UPDATE t SET v = '`+long+`' WHERE id >= 0"}`)
	if status != 400 || body["code"] != "CADB0514" || !strings.Contains(fmt.Sprint(body["message"]), "txn_max_write_bytes") {
		t.Fatalf("an UPDATE of 1000 rows of 300 bytes (~2.5 MB as counted) under a 1.5 MiB bound: %d %v", status, body)
	}
	if got := count(" WHERE v <> 'short'"); got != float64(0) {
		t.Fatalf("rows changed by the refused UPDATE: %v", got)
	}
	// Half of it fits.
	if status, body := post("/execute-sql-non-query", `{"databaseName":"m","sql":"UPDATE t SET v = '`+long+`' WHERE id < 500"}`); status != 200 {
		t.Fatalf("an UPDATE of half the rows: %d %v", status, body)
	}
	if got := count(" WHERE v = '" + long + "'"); got != float64(n/2) {
		t.Fatalf("rows updated: %v", got)
	}
}

// TRUNCATE is one descriptor write whatever the table's size: a table
// whose deletion key by key would be over the transaction write bound
// (as it was: CADB0514) is emptied, and usable at once.
func TestNodeTruncatesPastTheWriteBound(t *testing.T) {
	cfg := testConfig(t)
	cfg.TxnMaxWriteBytes = 256 << 10
	tn := startTableNode(t, startTestNode(t, cfg))
	const n = 2000 // ~2 MB of deletions as counted (kvpb.WriteCost)
	for start := 0; start < n; start += 100 {
		values := make([]string, 100)
		for i := range values {
			values[i] = fmt.Sprintf("(%d, 'v')", start+i)
		}
		if status, body := tn.post("/execute-sql-non-query", `{"databaseName":"m","sql":"INSERT INTO t (id, v) VALUES `+strings.Join(values, ", ")+`"}`); status != 200 {
			t.Fatalf("insert of 100 rows: %d %v", status, body)
		}
	}
	if status, body := tn.post("/execute-sql-non-query", `{"databaseName":"m","sql":"TRUNCATE t"}`); status != 200 {
		t.Fatalf("TRUNCATE of %d rows under a 256 KiB write bound: %d %v", n, status, body)
	}
	if got := tn.count(""); got != float64(0) {
		t.Fatalf("rows after TRUNCATE: %v", got)
	}
	if status, body := tn.post("/execute-sql-non-query", `{"databaseName":"m","sql":"INSERT INTO t (id, v) VALUES (1, 'after')"}`); status != 200 {
		t.Fatalf("insert after TRUNCATE: %d %v", status, body)
	}
	if got := tn.count(" WHERE v = 'after'"); got != float64(1) {
		t.Fatalf("rows after TRUNCATE and one insert: %v", got)
	}
}
