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
	load, drop := loadAndDrop(t, "DROP TABLE t", "DROP TABLE DATA")
	t.Logf("WAL bytes: loading 3000 rows %.0f, dropping them %.0f", load, drop)
	if drop*10 > load {
		t.Fatalf("dropping the table wrote %.0f WAL bytes, more than a tenth of the %.0f its load wrote", drop, load)
	}
}

// DROP INDEX on a real node leaves the index's entries to a DROP INDEX
// DATA job, which clears their span with one range deletion: deleting
// them one by one wrote 1.06 MB of WAL for the 3 000 entries here (half
// the load's 2.06 MB); the range deletion 23 KB.
func TestDropIndexClearsItsEntriesCheaply(t *testing.T) {
	load, drop := loadAndDrop(t, "DROP INDEX v_idx ON t", "DROP INDEX DATA")
	t.Logf("WAL bytes: loading 3000 rows %.0f, dropping their index %.0f", load, drop)
	if drop*10 > load {
		t.Fatalf("dropping the index wrote %.0f WAL bytes, more than a tenth of the %.0f the load wrote", drop, load)
	}
}

// loadAndDrop loads 3000 rows with a 100-byte indexed string into a fresh
// node (GC every 50 ms keeping 300 ms of history), runs drop and waits for
// the job of jobType to succeed; it returns the WAL bytes the load and the
// drop (with its job) wrote.
func loadAndDrop(t *testing.T, drop, jobType string) (loadBytes, dropBytes float64) {
	t.Helper()
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
	post("/execute-sql-ddl", fmt.Sprintf(`{"databaseName":"m","sql":%q}`, drop))

	testutil.SucceedsSoon(t, time.Minute, func() error {
		out := post("/execute-sql-query", `{"databaseName":"m","sql":"SHOW JOBS"}`)
		rows, _ := out["rows"].([]any)
		str := func(v any) string { // a CamusDB value: {"type": 3, "strValue": ...}
			m, _ := v.(map[string]any)
			s, _ := m["strValue"].(string)
			return s
		}
		for _, r := range rows {
			if row, _ := r.(map[string]any); str(row["job_type"]) == jobType {
				switch st := str(row["status"]); st {
				case "succeeded":
					return nil
				case "running", "pending":
					return fmt.Errorf("the %s job is %s", jobType, st)
				default:
					t.Fatalf("%s job status %q: %v", jobType, st, row)
				}
			}
		}
		return fmt.Errorf("no %s job in %v", jobType, rows)
	})
	return loaded - before, walBytes() - loaded
}
