package systemtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SPEC §1.1 conformance of the real binary: every invalid configuration,
// whether from a flag that does not parse, a YAML value of the wrong type
// or a value that breaks a rule, stops camusdb before anything starts with
// a non-zero exit and a CADB0600 message naming the key or flag.
func TestAuditInvalidConfigStopsTheBinary(t *testing.T) {
	cases := []struct {
		name string
		yaml string // written to config.yml in the working dir when set
		args []string
		want string // besides CADB0600
	}{
		{name: "bad mode flag", args: []string{"--mode", "multi"}, want: "mode:"},
		{name: "flag does not parse", args: []string{"--http-port", "abc"}, want: "--http-port"},
		{name: "unknown flag", args: []string{"--no-such-flag"}, want: "--no-such-flag"},
		{name: "port out of range", args: []string{"--raft-port", "65536"}, want: "raft_port:"},
		{name: "partitions zero", args: []string{"--initial-cluster-partitions", "0"}, want: "initial_partitions:"},
		{name: "peer without port", args: []string{"--initial-cluster", "localhost:7070 other"}, want: "peers:"},
		{name: "node not a peer", args: []string{"--initial-cluster", "h1:7070,h2:7070"}, want: "peers:"},
		{name: "http peers length", args: []string{"--initial-cluster", "localhost:7070", "--http-peers", "a:1,b:2"}, want: "http_peers:"},
		{name: "node id collides", args: []string{"--initial-cluster", "h1:7070,localhost:7070", "--raft-nodeid", "1"}, want: "raft_nodeid:"},
		{name: "yaml wrong type", yaml: "pg_port: lots\n", want: "pg_port:"},
		{name: "yaml unknown key", yaml: "http_prot: 1\n", want: "http_prot:"},
		{name: "yaml ack timeout", yaml: "schema_ack_wait_timeout_ms: 0\n", want: "schema_ack_wait_timeout_ms:"},
		{name: "yaml lease", yaml: "schema_ack_live_node_lease_ms: -2\n", want: "schema_ack_live_node_lease_ms:"},
		{name: "yaml stats", yaml: "stats_flush_interval_ms: -5\n", want: "stats_flush_interval_ms:"},
		{name: "yaml cache ttl", yaml: "sql_parser_cache_ttl_seconds: -1\n", want: "sql_parser_cache_ttl_seconds:"},
		{name: "yaml cache entries", yaml: "sql_parser_cache_max_entries: -1\n", want: "sql_parser_cache_max_entries:"},
		{name: "yaml mode", yaml: "mode: Standalone-ish\n", want: "mode:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.yaml != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			dataDir := filepath.Join(dir, "data")
			args := append([]string{"--data-dir", dataDir, "--http-port", "0", "--pg-port", "0"}, tc.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(binDir, "camusdb"), args...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() == 0 {
				t.Fatalf("want a non-zero exit, got %v:\n%s", err, out)
			}
			if !strings.Contains(string(out), "CADB0600") || !strings.Contains(string(out), tc.want) {
				t.Fatalf("want CADB0600 naming %s, got:\n%s", tc.want, out)
			}
			if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("an invalid configuration created the data dir (validation must come first)")
			}
		})
	}
}

// SPEC §1.1 (flags win over the file), §1 logging, §3.3/§6 status shape and
// §1.1 SIGINT: a node configured by config.yml with a flag override serves
// HTTP and pgwire, logs structured lines, answers /cluster/status with the
// documented shape, and on SIGINT ends an open pgwire transaction, exits 0
// and keeps exactly the committed data.
func TestAuditStandaloneConfigStatusAndSIGINT(t *testing.T) {
	pgAddr := freePorts(t, 1)[0]
	_, pgPort, _ := strings.Cut(pgAddr, ":")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "node.yml")
	// The file asks for pgwire off and the debug level; the flag turns pgwire
	// on and must win.
	if err := os.WriteFile(cfgPath, []byte("pg_port: 0\nlog_level: debug\nnode_name: audit-node\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, filepath.Join(dir, "data"), "--config", cfgPath, "--pg-port", pgPort)

	for _, line := range strings.Split(strings.TrimSpace(n.logs()), "\n") {
		if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " level=") || !strings.Contains(line, " msg=") {
			t.Fatalf("log line is not structured slog text: %q", line)
		}
	}
	if !strings.Contains(n.logs(), "level=DEBUG") {
		t.Errorf("log_level: debug from the file did not apply:\n%s", n.logs())
	}

	checkStandaloneStatus(t, n)

	ctx := ctxT(t)
	if err := n.client().CreateDB(ctx, "audit", false); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("postgres://tester@%s/audit?sslmode=disable", pgAddr)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("pgwire on the flag's port: %v", err)
	}
	defer conn.Close(context.Background())

	// No TLS configured: an SSL request is refused with 'N'.
	if c, err := pgx.Connect(ctx, strings.Replace(url, "sslmode=disable", "sslmode=require", 1)); err == nil {
		c.Close(ctx)
		t.Fatal("sslmode=require connected to a node without TLS")
	}
	// An unknown database is an error, not created on first use.
	if c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://tester@%s/nosuchdb?sslmode=disable", pgAddr)); err == nil {
		c.Close(ctx)
		t.Fatal("connected to a database that does not exist")
	} else if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || !strings.Contains(pgErr.Message, "CADB0010") {
		t.Fatalf("unknown database: want CADB0010, got %v", err)
	}

	mustPg := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustPg("CREATE TABLE kept (id INT64 PRIMARY KEY, v STRING)")
	mustPg("INSERT INTO kept (id, v) VALUES ($1, $2)", 1, "committed")
	// Several writes in one Query message are one implicit transaction on
	// the real stack too: the duplicate undoes the insert before it.
	if _, err := conn.PgConn().Exec(ctx, "INSERT INTO kept VALUES (9, 'undone'); INSERT INTO kept VALUES (1, 'dup')").ReadAll(); err == nil {
		t.Fatal("duplicate key accepted")
	}
	var count int64
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM kept").Scan(&count); err != nil || count != 1 {
		t.Fatalf("after a failed multi-statement message: count=%d err=%v", count, err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO kept (id, v) VALUES (2, 'open')"); err != nil {
		t.Fatal(err)
	}

	// SIGINT with the transaction open: the node exits 0 promptly.
	if err := n.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("camusdb did not exit on SIGINT:\n%s", n.logs())
	}
	if code := n.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d on SIGINT:\n%s", code, n.logs())
	}
	if !strings.Contains(n.logs(), `msg="camusdb stopped"`) {
		t.Errorf("no clean-stop log line:\n%s", n.logs())
	}

	// Restart on the same data: only the committed row is there.
	n.start()
	expectRows(t, n.client(), "audit", "SELECT id, v FROM kept ORDER BY id", "1|committed")
	n.stop()
}

// checkStandaloneStatus checks /cluster/status against SPEC §3.3: the exact
// key sets and the standalone values.
func checkStandaloneStatus(t *testing.T, n *node) {
	t.Helper()
	resp, err := http.Get(n.url() + "/cluster/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/cluster/status: HTTP %d", resp.StatusCode)
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(raw), []string{"nodeId", "nodes", "partitions", "status"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("status keys %v, want %v", got, want)
	}
	var st struct {
		Status string
		NodeID uint64
		Nodes  []map[string]any
		Parts  []map[string]any
	}
	for key, dst := range map[string]any{"status": &st.Status, "nodeId": &st.NodeID, "nodes": &st.Nodes, "partitions": &st.Parts} {
		if err := json.Unmarshal(raw[key], dst); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	if st.Status != "ok" || st.NodeID != 1 || len(st.Nodes) != 1 || len(st.Parts) != 1 {
		t.Fatalf("status %+v", st)
	}
	node := st.Nodes[0]
	if got, want := keysOfAny(node), []string{"httpAddress", "id", "live", "name", "raftAddress"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("node keys %v, want %v", got, want)
	}
	if node["id"] != float64(1) || node["live"] != true || node["name"] != "audit-node" || node["httpAddress"] != n.addr {
		t.Fatalf("node %v", node)
	}
	part := st.Parts[0]
	if got, want := keysOfAny(part), []string{"appliedIndex", "id", "leader", "replicas", "term"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("partition keys %v, want %v", got, want)
	}
	if part["id"] != float64(1) || part["leader"] != float64(1) || part["term"].(float64) < 1 ||
		part["appliedIndex"].(float64) < 1 || !reflect.DeepEqual(part["replicas"], []any{float64(1)}) {
		t.Fatalf("partition %v", part)
	}
}

func keysOf(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keysOfAny(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SPEC §6: the bootstrap flags apply once; a restart recovers the
// partitions from disk and ignores a different initial_partitions.
func TestAuditRestartIgnoresBootstrapPartitions(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	n := startNode(t, dataDir, "--initial-cluster-partitions", "4")
	c := n.client()
	ctx := ctxT(t)
	if err := c.CreateDB(ctx, "boot", false); err != nil {
		t.Fatal(err)
	}
	if err := c.ExecDDL(ctx, "boot", "CREATE TABLE k (id INT64 PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "boot", "INSERT INTO k VALUES (1), (2), (3)", nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := partitionCount(t, n); got != 4 {
		t.Fatalf("bootstrapped %d partitions, want 4", got)
	}
	n.stop()

	n.args = []string{"start", "--data-dir", dataDir, "--http-host", "127.0.0.1", "--http-port", "0",
		"--pg-port", "0", "--raft-port", "0", "--initial-cluster-partitions", "2"}
	n.start()
	if got := partitionCount(t, n); got != 4 {
		t.Fatalf("after a restart with --initial-cluster-partitions 2: %d partitions, want the 4 on disk", got)
	}
	expectRows(t, n.client(), "boot", "SELECT id FROM k ORDER BY id", "1", "2", "3")
	n.stop()
}

func partitionCount(t *testing.T, n *node) int {
	t.Helper()
	resp, err := http.Get(n.url() + "/cluster/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Partitions []json.RawMessage `json:"partitions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return len(st.Partitions)
}
