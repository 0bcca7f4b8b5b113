package server

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestDemoClusterServesSQLInMemory(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cwd := t.TempDir()
	t.Chdir(cwd) // a data_dir written to disk would land here

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	c, err := StartDemoCluster(ctx, DemoOptions{Nodes: 3, Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = c.Stop(context.Background())
		}
	}()
	addrs := c.HTTPAddrs()
	if len(addrs) != 3 {
		t.Fatalf("HTTPAddrs = %v, want 3", addrs)
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		if !strings.HasPrefix(a, "127.0.0.1:") || strings.HasSuffix(a, ":0") || seen[a] {
			t.Fatalf("HTTPAddrs = %v: want distinct bound loopback addresses", addrs)
		}
		seen[a] = true
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	// Every node sees a 3-node cluster whose 2 partitions have leaders.
	for i, a := range addrs {
		resp, err := client.Get("http://" + a + "/cluster/status")
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Nodes      []struct{ Live bool }
			Partitions []struct {
				Leader   uint64
				Replicas []uint64
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Nodes) != 3 || len(st.Partitions) != 2 {
			t.Fatalf("node %d status: %+v", i+1, st)
		}
		for _, p := range st.Partitions {
			if p.Leader == 0 || len(p.Replicas) != 3 {
				t.Fatalf("node %d status: partition without leader or replicas: %+v", i+1, st)
			}
		}
	}

	// A write through one node is read through another.
	steps := []struct{ addr, path, body string }{
		{addrs[0], "/execute-sql-ddl", `{"sql":"CREATE DATABASE d"}`},
		{addrs[1], "/execute-sql-ddl", `{"databaseName":"d","sql":"CREATE TABLE t (id INT64 PRIMARY KEY)"}`},
		{addrs[2], "/execute-sql-non-query", `{"databaseName":"d","sql":"INSERT INTO t (id) VALUES (1), (2), (3)"}`},
	}
	for _, s := range steps {
		if status, body := getJSON(t, client, http.MethodPost, "http://"+s.addr+s.path, s.body); status != 200 {
			t.Fatalf("%s %s: %d %v", s.path, s.body, status, body)
		}
	}
	status, body := getJSON(t, client, http.MethodPost, "http://"+addrs[0]+"/execute-sql-query",
		`{"databaseName":"d","sql":"SELECT COUNT(*) AS n FROM t"}`)
	rows, _ := body["rows"].([]any)
	if status != 200 || len(rows) != 1 || rows[0].(map[string]any)["n"].(map[string]any)["longValue"] != float64(3) {
		t.Fatalf("count through node 1: %d %v", status, body)
	}

	// Exactly one node reports itself leader of each partition on /metrics
	// (polled: a leadership change between two scrapes would double-count).
	testutil.SucceedsSoon(t, 10*time.Second, func() error {
		leaders := map[string]float64{}
		for _, a := range addrs {
			samples := scrape(t, client, "http://"+a)
			for _, p := range []string{"1", "2"} {
				leaders[p] += samples[`camusdb_partition_leader{partition="`+p+`"}`]
			}
		}
		if leaders["1"] != 1 || leaders["2"] != 1 {
			return fmt.Errorf("leaders per partition over all nodes' /metrics: %v, want 1 each", leaders)
		}
		return nil
	})

	stopped = true
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	entries, err := os.ReadDir(cwd)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("the demo cluster wrote to disk: %v", entries)
	}
}

func TestDemoClusterSingleNodeAndBadOptions(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, bad := range []DemoOptions{{Nodes: -1}, {Nodes: demoMaxNodes + 1}, {Partitions: -2}} {
		if c, err := StartDemoCluster(ctx, bad); err == nil {
			_ = c.Stop(ctx)
			t.Errorf("StartDemoCluster(%+v) succeeded", bad)
		}
	}
	c, err := StartDemoCluster(ctx, DemoOptions{Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Stop(context.Background()) }()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	status, body := getJSON(t, client, http.MethodPost, "http://"+c.HTTPAddrs()[0]+"/execute-sql-query", `{"sql":"SELECT 1 + 1"}`)
	if status != 200 || body["total"] != float64(1) {
		t.Fatalf("SELECT on a one-node demo: %d %v", status, body)
	}
}
