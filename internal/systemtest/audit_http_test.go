package systemtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests pin SPEC §3 (HTTP API) and §2.7 (transactions over HTTP) on
// the real binary, byte shapes and HTTP statuses included, so a regression
// in any layer between the listener and the engine shows up here.

// httpReply is one decoded HTTP API answer.
type httpReply struct {
	status int
	body   map[string]any
	raw    string
}

func (r httpReply) str(key string) string { s, _ := r.body[key].(string); return s }

// rawPost sends body (a JSON string, sent as is) to path.
func rawPost(t *testing.T, n *node, path, body string) httpReply {
	t.Helper()
	resp, err := http.Post(n.url()+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatalf("POST %s: reading body: %v", path, err)
	}
	r := httpReply{status: resp.StatusCode, raw: buf.String()}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&r.body); err != nil {
		t.Fatalf("POST %s: answer is not a JSON object: %v\n%s", path, err, r.raw)
	}
	return r
}

// postJSON marshals req and posts it.
func postJSON(t *testing.T, n *node, path string, req map[string]any) httpReply {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return rawPost(t, n, path, string(b))
}

func wantOK(t *testing.T, what string, r httpReply) {
	t.Helper()
	if r.status != http.StatusOK || r.str("status") != "ok" {
		t.Fatalf("%s: got HTTP %d %s, want 200 ok", what, r.status, r.raw)
	}
}

func wantFailed(t *testing.T, what string, r httpReply, status int, code string) {
	t.Helper()
	if r.status != status || r.str("status") != "failed" || r.str("code") != code || r.str("message") == "" {
		t.Fatalf("%s: got HTTP %d %s, want %d failed %s with a message", what, r.status, r.raw, status, code)
	}
}

// txnHandle returns the (txnIdPT, txnIdCounter) pair of a BEGIN answer.
func txnHandle(t *testing.T, r httpReply) (json.Number, json.Number) {
	t.Helper()
	pt, ok1 := r.body["txnIdPT"].(json.Number)
	ctr, ok2 := r.body["txnIdCounter"].(json.Number)
	if !ok1 || !ok2 {
		t.Fatalf("answer has no txnIdPT/txnIdCounter: %s", r.raw)
	}
	return pt, ctr
}

func inTxn(req map[string]any, pt, ctr json.Number) map[string]any {
	req["txnIdPT"], req["txnIdCounter"] = pt, ctr
	return req
}

// firstLong returns longValue of the only column of the only row.
func firstLong(t *testing.T, r httpReply) int64 {
	t.Helper()
	rows, _ := r.body["rows"].([]any)
	if len(rows) != 1 {
		t.Fatalf("want one row: %s", r.raw)
	}
	for _, v := range rows[0].(map[string]any) {
		n, err := v.(map[string]any)["longValue"].(json.Number).Int64()
		if err != nil {
			t.Fatalf("longValue: %v in %s", err, r.raw)
		}
		return n
	}
	t.Fatalf("empty row: %s", r.raw)
	return 0
}

func TestAuditHTTPContract(t *testing.T) {
	n := startNode(t, t.TempDir())

	t.Run("ping", func(t *testing.T) {
		resp, err := http.Get(n.url() + "/ping")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body["status"] != "ok" {
			t.Fatalf("ping: %d %v %v", resp.StatusCode, body, err)
		}
		if _, err := time.Parse(time.RFC3339, body["dateTime"]); err != nil {
			t.Fatalf("dateTime %q is not RFC3339: %v", body["dateTime"], err)
		}
	})

	// Statements naming no table need no database.
	for _, sql := range []string{"CREATE DATABASE shop", "CREATE DATABASE spare", "DROP DATABASE spare", "SELECT 1"} {
		wantOK(t, sql, postJSON(t, n, "/execute-sql-query", map[string]any{"databaseName": "", "sql": sql}))
	}
	dbs := postJSON(t, n, "/execute-sql-query", map[string]any{"sql": "SHOW DATABASES"})
	wantOK(t, "SHOW DATABASES", dbs)
	if !strings.Contains(dbs.raw, `"columns":[{"name":"database","type":3}]`) || !strings.Contains(dbs.raw, `"strValue":"shop"`) ||
		strings.Contains(dbs.raw, `"strValue":"spare"`) {
		t.Fatalf("SHOW DATABASES: %s", dbs.raw)
	}

	wantOK(t, "create table", postJSON(t, n, "/execute-sql-ddl", map[string]any{"databaseName": "shop",
		"sql": "CREATE TABLE items (id INT64 PRIMARY KEY, name STRING, price FLOAT64, ok BOOL)"}))
	// Parameters: keys with and without '@'.
	ins := postJSON(t, n, "/execute-sql-non-query", map[string]any{"databaseName": "shop",
		"sql": "INSERT INTO items (id, name, price, ok) VALUES (@id, @name, @price, @ok)",
		"parameters": map[string]any{
			"@id":    map[string]any{"type": 2, "longValue": 1},
			"name":   map[string]any{"type": 3, "strValue": "pen"},
			"@price": map[string]any{"type": 5, "floatValue": 1.5},
			"ok":     map[string]any{"type": 4, "boolValue": true},
		}})
	wantOK(t, "insert with parameters", ins)
	if ins.raw != `{"status":"ok","rows":1}` {
		t.Fatalf("non-query answer: %s", ins.raw)
	}

	t.Run("rows as objects and arrays", func(t *testing.T) {
		sel := postJSON(t, n, "/execute-sql-query", map[string]any{"databaseName": "shop",
			"sql": "SELECT id, name, price, ok, NULL AS nothing FROM items"})
		wantOK(t, "select", sel)
		want := `"total":1,"columns":[{"name":"id","type":2},{"name":"name","type":3},{"name":"price","type":5},{"name":"ok","type":4},{"name":"nothing","type":0}],` +
			`"rows":[{"id":{"type":2,"strValue":null,"longValue":1,"floatValue":0,"boolValue":false},` +
			`"name":{"type":3,"strValue":"pen","longValue":0,"floatValue":0,"boolValue":false},` +
			`"price":{"type":5,"strValue":null,"longValue":0,"floatValue":1.5,"boolValue":false},` +
			`"ok":{"type":4,"strValue":null,"longValue":0,"floatValue":0,"boolValue":true},` +
			`"nothing":{"type":0,"strValue":null,"longValue":0,"floatValue":0,"boolValue":false}}]}`
		if !strings.HasSuffix(sel.raw, want) {
			t.Fatalf("select answer:\n%s\nwant it to end with\n%s", sel.raw, want)
		}
		arr := postJSON(t, n, "/execute-sql-query", map[string]any{"databaseName": "shop",
			"sql": "SELECT name, name FROM items", "rowFormat": "array"})
		wantOK(t, "array rows", arr)
		want = `"total":1,"columns":[{"name":"name","type":3},{"name":"name","type":3}],` +
			`"rows":[[{"type":3,"strValue":"pen","longValue":0,"floatValue":0,"boolValue":false},` +
			`{"type":3,"strValue":"pen","longValue":0,"floatValue":0,"boolValue":false}]]}`
		if !strings.HasSuffix(arr.raw, want) {
			t.Fatalf("array answer:\n%s\nwant it to end with\n%s", arr.raw, want)
		}
		empty := postJSON(t, n, "/execute-sql-query", map[string]any{"databaseName": "shop",
			"sql": "SELECT id FROM items WHERE id > 100 LIMIT @n", "parameters": map[string]any{"n": map[string]any{"type": 2, "longValue": 5}}})
		wantOK(t, "empty select", empty)
		if !strings.HasSuffix(empty.raw, `"total":0,"columns":[{"name":"id","type":2}],"rows":[]}`) {
			t.Fatalf("empty answer: %s", empty.raw)
		}
	})

	t.Run("errors and statuses", func(t *testing.T) {
		q := func(db, sql string) httpReply {
			return postJSON(t, n, "/execute-sql-query", map[string]any{"databaseName": db, "sql": sql})
		}
		wantFailed(t, "syntax", q("shop", "SELEC 1"), 400, "CADB0406")
		wantFailed(t, "unknown database", q("nope", "SELECT * FROM items"), 404, "CADB0010")
		wantFailed(t, "unknown table", q("shop", "SELECT * FROM nope"), 404, "CADB0011")
		wantFailed(t, "unknown index", q("shop", "DROP INDEX nope ON items"), 404, "CADB0016")
		wantFailed(t, "database exists", q("", "CREATE DATABASE shop"), 400, "CADB0012")
		wantFailed(t, "table exists", q("shop", "CREATE TABLE items (id INT64 PRIMARY KEY)"), 400, "CADB0013")
		wantFailed(t, "unique", q("shop", "INSERT INTO items (id) VALUES (1)"), 400, "CADB0300")
		wantFailed(t, "unknown column", q("shop", "SELECT nope FROM items"), 400, "CADB0404")
		wantFailed(t, "missing parameter", q("shop", "SELECT * FROM items WHERE id = @missing"), 400, "CADB0400")
		wantFailed(t, "unknown txn", postJSON(t, n, "/execute-sql-query", map[string]any{"databaseName": "shop",
			"sql": "SELECT 1", "txnIdPT": 12345, "txnIdCounter": 6}), 409, "CADB0501")
		wantFailed(t, "malformed JSON", rawPost(t, n, "/execute-sql-query", `{"databaseName":"shop","sql":`), 400, "CADB0400")
		wantFailed(t, "wrong field type", rawPost(t, n, "/execute-sql-query", `{"databaseName":7,"sql":"SELECT 1"}`), 400, "CADB0400")
		wantFailed(t, "wrong txn field type", rawPost(t, n, "/execute-sql-query", `{"sql":"SELECT 1","txnIdPT":"x","txnIdCounter":1}`), 400, "CADB0400")
		big := `{"sql":"SELECT '` + strings.Repeat("x", 16<<20) + `'"}`
		wantFailed(t, "body over the limit", rawPost(t, n, "/execute-sql-query", big), 413, "CADB0400")
		// The node keeps serving after all of that.
		wantOK(t, "after errors", q("shop", "SELECT 1"))
	})

	t.Run("transactions over HTTP", func(t *testing.T) {
		count := func(extra map[string]any) int64 {
			req := map[string]any{"databaseName": "shop", "sql": "SELECT COUNT(*) AS n FROM items"}
			for k, v := range extra {
				req[k] = v
			}
			r := postJSON(t, n, "/execute-sql-query", req)
			wantOK(t, "count", r)
			return firstLong(t, r)
		}
		before := count(nil)
		begin := postJSON(t, n, "/execute-sql-query", map[string]any{"databaseName": "shop", "sql": "BEGIN"})
		wantOK(t, "BEGIN", begin)
		pt, ctr := txnHandle(t, begin)
		h := map[string]any{"txnIdPT": pt, "txnIdCounter": ctr}
		wantOK(t, "insert in txn", postJSON(t, n, "/execute-sql-non-query", inTxn(map[string]any{"databaseName": "shop",
			"sql": "INSERT INTO items (id, name) VALUES (2, 'ink')"}, pt, ctr)))
		if got := count(h); got != before+1 {
			t.Fatalf("inside the transaction: %d rows, want %d", got, before+1)
		}
		if got := count(nil); got != before {
			t.Fatalf("outside the transaction before COMMIT: %d rows, want %d", got, before)
		}
		wantOK(t, "COMMIT as SQL", postJSON(t, n, "/execute-sql-query", inTxn(map[string]any{"databaseName": "shop", "sql": "COMMIT"}, pt, ctr)))
		if got := count(nil); got != before+1 {
			t.Fatalf("after COMMIT: %d rows, want %d", got, before+1)
		}
		for _, path := range []string{"/commit-transaction", "/rollback-transaction"} {
			wantFailed(t, "ended handle on "+path, postJSON(t, n, path, inTxn(map[string]any{"databaseName": "shop"}, pt, ctr)), 409, "CADB0501")
		}
		wantFailed(t, "ended handle in a statement", postJSON(t, n, "/execute-sql-query",
			inTxn(map[string]any{"databaseName": "shop", "sql": "SELECT 1"}, pt, ctr)), 409, "CADB0501")

		// /start-transaction + ROLLBACK sent as SQL.
		st := postJSON(t, n, "/start-transaction", map[string]any{"databaseName": "shop"})
		wantOK(t, "start-transaction", st)
		pt, ctr = txnHandle(t, st)
		wantOK(t, "delete in txn", postJSON(t, n, "/execute-sql-non-query", inTxn(map[string]any{"databaseName": "shop",
			"sql": "DELETE FROM items WHERE id = 2"}, pt, ctr)))
		wantOK(t, "ROLLBACK as SQL", postJSON(t, n, "/execute-sql-query", inTxn(map[string]any{"databaseName": "shop", "sql": "ROLLBACK"}, pt, ctr)))
		if got := count(nil); got != before+1 {
			t.Fatalf("after ROLLBACK: %d rows, want %d", got, before+1)
		}
		wantFailed(t, "COMMIT without a transaction", postJSON(t, n, "/execute-sql-query",
			map[string]any{"databaseName": "shop", "sql": "COMMIT"}), 409, "CADB0501")
	})

	t.Run("conflict is 409 CADB0502", func(t *testing.T) {
		var handles [2][2]json.Number
		for i := range handles {
			r := postJSON(t, n, "/start-transaction", map[string]any{"databaseName": "shop"})
			wantOK(t, "start", r)
			handles[i][0], handles[i][1] = txnHandle(t, r)
		}
		for i, h := range handles {
			wantOK(t, "read", postJSON(t, n, "/execute-sql-query", inTxn(map[string]any{"databaseName": "shop",
				"sql": "SELECT COUNT(*) FROM items WHERE price IS NULL"}, h[0], h[1])))
			wantOK(t, "write", postJSON(t, n, "/execute-sql-non-query", inTxn(map[string]any{"databaseName": "shop",
				"sql": fmt.Sprintf("INSERT INTO items (id) VALUES (%d)", 10+i)}, h[0], h[1])))
		}
		wantOK(t, "first commit", postJSON(t, n, "/commit-transaction", inTxn(map[string]any{"databaseName": "shop"}, handles[0][0], handles[0][1])))
		wantFailed(t, "second commit", postJSON(t, n, "/commit-transaction",
			inTxn(map[string]any{"databaseName": "shop"}, handles[1][0], handles[1][1])), 409, "CADB0502")
	})

	t.Run("cluster status", func(t *testing.T) {
		resp, err := http.Get(n.url() + "/cluster/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st struct {
			Status string `json:"status"`
			NodeID int    `json:"nodeId"`
			Nodes  []struct {
				ID          int    `json:"id"`
				Name        string `json:"name"`
				RaftAddress string `json:"raftAddress"`
				HTTPAddress string `json:"httpAddress"`
				Live        bool   `json:"live"`
			} `json:"nodes"`
			Partitions []struct {
				ID           int   `json:"id"`
				Leader       int   `json:"leader"`
				Term         int   `json:"term"`
				AppliedIndex int   `json:"appliedIndex"`
				Replicas     []int `json:"replicas"`
			} `json:"partitions"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		if st.Status != "ok" || st.NodeID == 0 || len(st.Nodes) != 1 || !st.Nodes[0].Live || st.Nodes[0].HTTPAddress != n.addr ||
			len(st.Partitions) == 0 || st.Partitions[0].Leader != st.NodeID || st.Partitions[0].Term == 0 ||
			st.Partitions[0].AppliedIndex == 0 || len(st.Partitions[0].Replicas) != 1 {
			t.Fatalf("cluster status: %+v", st)
		}
	})
}

// TestAuditHTTPIdleTransactionTimeout: an explicit transaction idle past
// txn_idle_timeout_ms is rolled back, its locks freed, and its handle then
// answers 409 CADB0501 (SPEC §2.7).
func TestAuditHTTPIdleTransactionTimeout(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte("txn_idle_timeout_ms: 300\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, filepath.Join(dir, "data"), "--config", cfg)
	wantOK(t, "create db", postJSON(t, n, "/create-db", map[string]any{"databaseName": "d"}))
	q := func(sql string) map[string]any { return map[string]any{"databaseName": "d", "sql": sql} }
	wantOK(t, "create table", postJSON(t, n, "/execute-sql-ddl", q("CREATE TABLE a (id INT64 PRIMARY KEY, v INT64)")))
	wantOK(t, "insert", postJSON(t, n, "/execute-sql-non-query", q("INSERT INTO a VALUES (1, 1)")))

	st := postJSON(t, n, "/start-transaction", map[string]any{"databaseName": "d"})
	wantOK(t, "start", st)
	pt, ctr := txnHandle(t, st)
	wantOK(t, "update in txn", postJSON(t, n, "/execute-sql-non-query", inTxn(q("UPDATE a SET v = 2 WHERE id = 1"), pt, ctr)))

	// Wait (with a deadline) for the reaper: the handle turns into 409 CADB0501.
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := postJSON(t, n, "/execute-sql-query", map[string]any{"databaseName": "d", "sql": "SELECT 1",
			"txnIdPT": pt, "txnIdCounter": ctr})
		if r.status == http.StatusConflict {
			wantFailed(t, "expired handle", r, 409, "CADB0501")
			break
		}
		// A probe that succeeds keeps the transaction alive; back off past
		// the timeout before probing again.
		wantOK(t, "probe", r)
		if time.Now().After(deadline) {
			t.Fatal("the idle transaction was never rolled back")
		}
		<-time.After(time.Second)
	}
	// Its write was rolled back and its lock freed: another writer succeeds.
	wantOK(t, "update after expiry", postJSON(t, n, "/execute-sql-non-query", q("UPDATE a SET v = 3 WHERE id = 1")))
	r := postJSON(t, n, "/execute-sql-query", q("SELECT v FROM a WHERE id = 1"))
	wantOK(t, "read", r)
	if got := firstLong(t, r); got != 3 {
		t.Fatalf("v = %d, want 3", got)
	}
	wantFailed(t, "commit after expiry", postJSON(t, n, "/commit-transaction", inTxn(map[string]any{"databaseName": "d"}, pt, ctr)), 409, "CADB0501")
}
