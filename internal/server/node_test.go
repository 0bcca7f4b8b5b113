package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func testConfig(t testing.TB) Config {
	cfg := DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.HTTPPort = 0
	cfg.RaftPort = 0
	cfg.PGPort = 0
	return cfg
}

// startTestNode creates and starts a node from cfg and stops it when the
// test ends.
func startTestNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	node, err := NewNode(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := node.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return node
}

func getJSON(t *testing.T, client *http.Client, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s: not JSON: %s", url, data)
	}
	return resp.StatusCode, out
}

// tableNode is a node with database m and table t (id INT64 PRIMARY KEY,
// v STRING), driven over HTTP without keep-alives.
type tableNode struct {
	t      *testing.T
	client *http.Client
	base   string
}

func startTableNode(t *testing.T, node *Node) *tableNode {
	t.Helper()
	n := &tableNode{t: t, client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, base: "http://" + node.HTTPAddr()}
	for _, stmt := range []struct{ path, body string }{
		{"/execute-sql-ddl", `{"sql":"CREATE DATABASE m"}`},
		{"/execute-sql-ddl", `{"databaseName":"m","sql":"CREATE TABLE t (id INT64 PRIMARY KEY, v STRING)"}`},
	} {
		if status, body := n.post(stmt.path, stmt.body); status != 200 {
			t.Fatalf("%s: %d %v", stmt.body, status, body)
		}
	}
	return n
}

func (n *tableNode) post(path, body string) (int, map[string]any) {
	n.t.Helper()
	return getJSON(n.t, n.client, http.MethodPost, n.base+path, body)
}

// count is SELECT COUNT(*) FROM t with the given suffix (e.g. " WHERE ...").
func (n *tableNode) count(where string) any {
	n.t.Helper()
	status, body := n.post("/execute-sql-query", `{"databaseName":"m","sql":"SELECT COUNT(*) FROM t`+where+`"}`)
	rows, _ := body["rows"].([]any)
	if status != 200 || len(rows) != 1 {
		n.t.Fatalf("count: %d %v", status, body)
	}
	return rows[0].(map[string]any)["COUNT(*)"].(map[string]any)["longValue"]
}

func TestNodeServesAndStops(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cfg := testConfig(t)
	node, err := NewNode(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if node.HTTPAddr() != "" {
		t.Fatal("HTTPAddr before Start is not empty")
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err == nil {
		t.Error("second Start succeeded")
	}
	addr := node.HTTPAddr()
	if strings.HasSuffix(addr, ":0") || addr == "" {
		t.Fatalf("HTTPAddr %q is not the bound address", addr)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	base := "http://" + addr

	status, body := getJSON(t, client, http.MethodGet, base+"/ping", "")
	if status != 200 || body["status"] != "ok" {
		t.Fatalf("/ping: %d %v", status, body)
	}
	status, body = getJSON(t, client, http.MethodPost, base+"/execute-sql-query", `{"sql":"SELECT 1 + 1"}`)
	if rows, _ := body["rows"].([]any); status != 200 || len(rows) != 1 || body["total"] != float64(1) {
		t.Fatalf("SELECT through the whole stack: %d %v", status, body)
	}
	status, body = getJSON(t, client, http.MethodGet, base+"/cluster/status", "")
	nodes, _ := body["nodes"].([]any)
	parts, _ := body["partitions"].([]any)
	if status != 200 || body["nodeId"] != float64(1) || len(nodes) != 1 || len(parts) != 1 ||
		nodes[0].(map[string]any)["httpAddress"] != addr {
		t.Fatalf("/cluster/status: %d %v", status, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := node.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := node.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := client.Get(base + "/ping"); err == nil {
		t.Fatal("node still serving after Stop")
	}
}

func TestNodeRejectsInvalidConfig(t *testing.T) {
	cfg := testConfig(t)
	cfg.Mode = "bogus"
	if _, err := NewNode(cfg, nil); err == nil {
		t.Fatal("NewNode accepted an invalid config")
	}
}

func TestNodeStartFailsOnBusyPort(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	first, err := NewNode(testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Stop(context.Background())

	cfg := testConfig(t)
	_, port, err := net.SplitHostPort(first.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPPort, err = strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
	second, err := NewNode(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Start(); err == nil {
		second.Stop(context.Background())
		t.Fatal("second node bound a busy port")
	}
	if err := second.Stop(context.Background()); err != nil {
		t.Fatalf("Stop after failed Start: %v", err)
	}
}
