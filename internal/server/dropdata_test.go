package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// DROP TABLE of a loaded table clears its data with one range deletion
// once old transactions can no longer read it, instead of writing a
// tombstone per row through Raft: the drop and the clear write a small
// fraction of what loading the table wrote. (GC every 50 ms keeping 300 ms
// of history, so the clear comes within a second.)
func TestDropTableClearsItsDataCheaply(t *testing.T) {
	cfg := testConfig(t)
	cfg.TestingGCInterval, cfg.TestingGCTTL, cfg.TestingDropDataRetry = 50*time.Millisecond, 300*time.Millisecond, 20*time.Millisecond
	node := startTestNode(t, cfg)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	base := "http://" + node.HTTPAddr()
	post := func(path, body string) map[string]any {
		t.Helper()
		status, out := getJSON(t, client, http.MethodPost, base+path, body)
		if status != http.StatusOK {
			t.Fatalf("%s %s: %d %v", path, body, status, out)
		}
		return out
	}
	walBytes := func() float64 { return scrape(t, client, base)["camusdb_storage_wal_bytes_written_total"] }

	post("/execute-sql-ddl", `{"sql":"CREATE DATABASE m"}`)
	post("/execute-sql-ddl", `{"databaseName":"m","sql":"CREATE TABLE t (id INT64 PRIMARY KEY, v STRING, INDEX v_idx (v))"}`)
	before := walBytes()
	pad := strings.Repeat("x", 100)
	for batch := range 6 {
		var b strings.Builder
		b.WriteString("INSERT INTO t VALUES ")
		for i := range 500 {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%d, '%s-%d')", batch*500+i, pad, i)
		}
		post("/execute-sql-non-query", fmt.Sprintf(`{"databaseName":"m","sql":%q}`, b.String()))
	}
	loaded := walBytes()
	post("/execute-sql-ddl", `{"databaseName":"m","sql":"DROP TABLE t"}`)

	testutil.SucceedsSoon(t, time.Minute, func() error {
		out := post("/execute-sql-query", `{"databaseName":"m","sql":"SHOW JOBS"}`)
		rows, _ := out["rows"].([]any)
		str := func(v any) string { // a CamusDB value: {"type": 3, "strValue": ...}
			m, _ := v.(map[string]any)
			s, _ := m["strValue"].(string)
			return s
		}
		for _, r := range rows {
			if row, _ := r.(map[string]any); str(row["job_type"]) == "DROP TABLE DATA" {
				switch st := str(row["status"]); st {
				case "succeeded":
					return nil
				case "running", "pending":
					return fmt.Errorf("the drop job is %s", st)
				default:
					t.Fatalf("drop job status %q: %v", st, row)
				}
			}
		}
		return fmt.Errorf("no drop job in %v", rows)
	})
	dropped := walBytes()
	load, drop := loaded-before, dropped-loaded
	t.Logf("WAL bytes: loading 3000 rows %.0f, dropping them %.0f", load, drop)
	if drop*10 > load {
		t.Fatalf("dropping the table wrote %.0f WAL bytes, more than a tenth of the %.0f its load wrote", drop, load)
	}
}
