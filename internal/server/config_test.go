package server

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestDefaultConfigIsValidAndMatchesSpec(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	checks := []struct {
		key       string
		got, want any
	}{
		{"data_dir", cfg.DataDir, "./camusdb-data"},
		{"mode", cfg.Mode, ModeStandalone},
		{"raft_host", cfg.RaftHost, "localhost"},
		{"raft_port", cfg.RaftPort, 7070},
		{"initial_partitions", cfg.InitialPartitions, 1},
		{"http_host", cfg.HTTPHost, "127.0.0.1"},
		{"http_port", cfg.HTTPPort, 5095},
		{"pg_port", cfg.PGPort, 5433},
		{"schema_ack_wait_timeout_ms", cfg.SchemaAckWaitTimeoutMS, int64(30000)},
		{"schema_ack_live_node_lease_ms", cfg.SchemaAckLiveNodeLeaseMS, int64(-1)},
		{"stats_flush_interval_ms", cfg.StatsFlushIntervalMS, int64(5000)},
		{"sql_parser_cache_ttl_seconds", cfg.SQLParserCacheTTLSeconds, int64(300)},
		{"sql_parser_cache_max_entries", cfg.SQLParserCacheMaxEntries, int64(2048)},
		{"txn_idle_timeout_ms", cfg.TxnIdleTimeoutMS, int64(60000)},
		{"http_max_body_bytes", cfg.HTTPMaxBodyBytes, int64(16 << 20)},
		{"sql_memory_bytes", cfg.SQLMemoryBytes, int64(0)},
		{"sql_query_memory_bytes", cfg.SQLQueryMemoryBytes, int64(256 << 20)},
		{"raft_max_command_bytes", cfg.RaftMaxCommandBytes, int64(64 << 20)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s default = %v, want %v", c.key, c.got, c.want)
		}
	}
	if cfg.NodeName == "" {
		t.Error("node_name default is empty, want the host name")
	}
	if cfg.IsCluster() {
		t.Error("default config is cluster mode")
	}
	if got := cfg.EffectiveNodeID(); got != 1 {
		t.Errorf("standalone EffectiveNodeID = %d, want 1", got)
	}
}

func TestValidateRules(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(existing, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		mutate  func(*Config)
		wantKey string // "" = valid
	}{
		{"empty data dir", func(c *Config) { c.DataDir = " " }, "data_dir"},
		{"bad mode", func(c *Config) { c.Mode = "multi" }, "mode"},
		{"cluster mode ok", func(c *Config) {
			c.Mode = ModeCluster
			c.Peers = PeerList{"localhost:7070", "h2:7070"}
		}, ""},
		{"empty node name", func(c *Config) { c.NodeName = "" }, "node_name"},
		{"empty raft host", func(c *Config) { c.RaftHost = "" }, "raft_host"},
		{"raft port negative", func(c *Config) { c.RaftPort = -1 }, "raft_port"},
		{"raft port too big", func(c *Config) { c.RaftPort = 65536 }, "raft_port"},
		{"raft port zero is ephemeral", func(c *Config) { c.RaftPort = 0 }, ""},
		{"http port too big", func(c *Config) { c.HTTPPort = 70000 }, "http_port"},
		{"http port zero is ephemeral", func(c *Config) { c.HTTPPort = 0 }, ""},
		{"http port max", func(c *Config) { c.HTTPPort = 65535 }, ""},
		{"pg port negative", func(c *Config) { c.PGPort = -5 }, "pg_port"},
		{"pg port zero is off", func(c *Config) { c.PGPort = 0 }, ""},
		{"pg port equals http port", func(c *Config) { c.PGPort, c.HTTPPort = 6000, 6000 }, "pg_port"},
		{"pg port off, http ephemeral", func(c *Config) { c.PGPort, c.HTTPPort = 0, 0 }, ""},
		{"partitions zero", func(c *Config) { c.InitialPartitions = 0 }, "initial_partitions"},
		{"partitions many", func(c *Config) { c.InitialPartitions = 16 }, ""},
		{"ack timeout zero", func(c *Config) { c.SchemaAckWaitTimeoutMS = 0 }, "schema_ack_wait_timeout_ms"},
		{"ack timeout negative", func(c *Config) { c.SchemaAckWaitTimeoutMS = -1 }, "schema_ack_wait_timeout_ms"},
		{"lease zero", func(c *Config) { c.SchemaAckLiveNodeLeaseMS = 0 }, "schema_ack_live_node_lease_ms"},
		{"lease -2", func(c *Config) { c.SchemaAckLiveNodeLeaseMS = -2 }, "schema_ack_live_node_lease_ms"},
		{"lease positive", func(c *Config) { c.SchemaAckLiveNodeLeaseMS = 500 }, ""},
		{"stats -2", func(c *Config) { c.StatsFlushIntervalMS = -2 }, "stats_flush_interval_ms"},
		{"stats never", func(c *Config) { c.StatsFlushIntervalMS = -1 }, ""},
		{"stats every change", func(c *Config) { c.StatsFlushIntervalMS = 0 }, ""},
		{"cache ttl negative", func(c *Config) { c.SQLParserCacheTTLSeconds = -1 }, "sql_parser_cache_ttl_seconds"},
		{"cache ttl off", func(c *Config) { c.SQLParserCacheTTLSeconds = 0 }, ""},
		{"cache entries negative", func(c *Config) { c.SQLParserCacheMaxEntries = -1 }, "sql_parser_cache_max_entries"},
		{"cache entries unbounded", func(c *Config) { c.SQLParserCacheMaxEntries = 0 }, ""},
		{"txn idle zero", func(c *Config) { c.TxnIdleTimeoutMS = 0 }, "txn_idle_timeout_ms"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "log_level"},
		{"log level upper", func(c *Config) { c.LogLevel = "DEBUG" }, ""},
		{"body limit", func(c *Config) { c.HTTPMaxBodyBytes = 0 }, "http_max_body_bytes"},
		{"request timeout", func(c *Config) { c.HTTPRequestTimeoutMS = 0 }, "http_request_timeout_ms"},
		{"shutdown timeout", func(c *Config) { c.ShutdownTimeoutMS = -1 }, "shutdown_timeout_ms"},
		{"node memory negative", func(c *Config) { c.SQLMemoryBytes = -1 }, "sql_memory_bytes"},
		{"node memory auto", func(c *Config) { c.SQLMemoryBytes = 0 }, ""},
		{"query memory tiny", func(c *Config) { c.SQLQueryMemoryBytes = 1000 }, "sql_query_memory_bytes"},
		{"raft command limit tiny", func(c *Config) { c.RaftMaxCommandBytes = 1000 }, "raft_max_command_bytes"},
		{"raft command limit huge", func(c *Config) { c.RaftMaxCommandBytes = 1 << 30 }, "raft_max_command_bytes"},
		{"query memory over node", func(c *Config) { c.SQLMemoryBytes, c.SQLQueryMemoryBytes = 1<<20, 2<<20 }, "sql_query_memory_bytes"},
		{"query memory 16 MiB", func(c *Config) { c.SQLQueryMemoryBytes = 16 << 20 }, ""},
		{"statement timeout negative", func(c *Config) { c.SQLStatementTimeoutMS = -1 }, "sql_statement_timeout_ms"},
		{"statement timeout huge", func(c *Config) { c.SQLStatementTimeoutMS = 1 << 40 }, "sql_statement_timeout_ms"},
		{"statement timeout off", func(c *Config) { c.SQLStatementTimeoutMS = 0 }, ""},
		{"txn max open negative", func(c *Config) { c.TxnMaxOpen = -1 }, "txn_max_open"},
		{"txn max open unbounded", func(c *Config) { c.TxnMaxOpen = 0 }, ""},
		{"result limit", func(c *Config) { c.HTTPMaxResultBytes = 0 }, "http_max_result_bytes"},
		{"concurrency negative", func(c *Config) { c.HTTPMaxConcurrentRequests = -1 }, "http_max_concurrent_requests"},
		{"concurrency unbounded", func(c *Config) { c.HTTPMaxConcurrentRequests = 0 }, ""},
		{"queue negative", func(c *Config) { c.HTTPMaxQueuedRequests = -1 }, "http_max_queued_requests"},
		{"read header timeout", func(c *Config) { c.HTTPReadHeaderTimeoutMS = 0 }, "http_read_header_timeout_ms"},
		{"read timeout", func(c *Config) { c.HTTPReadTimeoutMS = -5 }, "http_read_timeout_ms"},
		{"idle timeout", func(c *Config) { c.HTTPIdleTimeoutMS = 0 }, "http_idle_timeout_ms"},
		{"tls cert without key", func(c *Config) { c.TLSCert = existing }, "tls_cert/tls_key"},
		{"tls files missing", func(c *Config) { c.TLSCert, c.TLSKey = existing, existing+".missing" }, "tls_key"},
		{"tls ok", func(c *Config) { c.TLSCert, c.TLSKey = existing, existing }, ""},
		{"peer without port", func(c *Config) { c.Peers = PeerList{"localhost:7070", "h2"} }, "peers"},
		{"peer without host", func(c *Config) { c.Peers = PeerList{"localhost:7070", ":7070"} }, "peers"},
		{"peer bad port", func(c *Config) { c.Peers = PeerList{"localhost:7070", "h2:0"} }, "peers"},
		{"peer port too big", func(c *Config) { c.Peers = PeerList{"localhost:7070", "h2:99999"} }, "peers"},
		{"peer twice", func(c *Config) { c.Peers = PeerList{"localhost:7070", "LOCALHOST:7070"} }, "peers"},
		{"http peers length", func(c *Config) {
			c.Peers = PeerList{"localhost:7070", "h2:7070"}
			c.HTTPPeers = PeerList{"localhost:5095"}
		}, "http_peers"},
		{"http peers invalid", func(c *Config) {
			c.Peers = PeerList{"localhost:7070", "h2:7070"}
			c.HTTPPeers = PeerList{"localhost:5095", "h2"}
		}, "http_peers"},
		{"http peers ok", func(c *Config) {
			c.Peers = PeerList{"localhost:7070", "h2:7070"}
			c.HTTPPeers = PeerList{"localhost:5095", "h2:5095"}
		}, ""},
		{"cluster without peers", func(c *Config) { c.Mode = ModeCluster }, "peers"},
		{"this node not a peer", func(c *Config) { c.Peers = PeerList{"h1:7070", "h2:7070"} }, "peers"},
		{"this node a peer, host case differs", func(c *Config) { c.Peers = PeerList{"h1:7070", "LocalHost:7070"} }, ""},
		{"node id too big", func(c *Config) { c.NodeID = 1 << 40 }, "raft_nodeid"},
		{"node id collides with another peer", func(c *Config) {
			c.Peers = PeerList{"h1:7070", "localhost:7070"}
			c.NodeID = 1
		}, "raft_nodeid"},
		{"node id equal to own position", func(c *Config) {
			c.Peers = PeerList{"h1:7070", "localhost:7070"}
			c.NodeID = 2
		}, ""},
		{"node id beyond the peers", func(c *Config) {
			c.Peers = PeerList{"h1:7070", "localhost:7070"}
			c.NodeID = 7
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if tc.wantKey == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want error naming %s, got nil", tc.wantKey)
			}
			var coded *errcode.Error
			if !errors.As(err, &coded) || coded.Code != errcode.InvalidConfig {
				t.Fatalf("want *errcode.Error CADB0600, got %#v", err)
			}
			if !strings.Contains(coded.Message, tc.wantKey+":") {
				t.Fatalf("message %q does not name key %q", coded.Message, tc.wantKey)
			}
		})
	}
}

func TestEffectiveNodeID(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Peers = PeerList{"h1:7070", "localhost:7070", "h3:7070"}
	if got := cfg.EffectiveNodeID(); got != 2 {
		t.Errorf("derived node id = %d, want 2 (position in peers)", got)
	}
	cfg.NodeID = 9
	if got := cfg.EffectiveNodeID(); got != 9 {
		t.Errorf("explicit node id = %d, want 9", got)
	}
	cfg.NodeID = 0
	cfg.Peers = PeerList{"h1:7070"}
	if got := cfg.EffectiveNodeID(); got != 0 {
		t.Errorf("node outside peers id = %d, want 0", got)
	}
}

func TestSplitPeerList(t *testing.T) {
	cases := map[string]PeerList{
		"":                      nil,
		" , ":                   nil,
		"a:1":                   {"a:1"},
		"a:1,b:2":               {"a:1", "b:2"},
		"a:1 b:2":               {"a:1", "b:2"},
		" a:1 ,  b:2,c:3 ":      {"a:1", "b:2", "c:3"},
		"[::1]:7070,[::1]:7071": {"[::1]:7070", "[::1]:7071"},
	}
	for in, want := range cases {
		if got := SplitPeerList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitPeerList(%q) = %q, want %q", in, got, want)
		}
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigFile(t *testing.T) {
	path := writeFile(t, t.TempDir(), "c.yml", `
data_dir: /var/lib/camus
mode: cluster
node_name: n1
raft_host: h1
raft_port: 7071
peers: [h1:7071, h2:7071, "h3:7071"]
http_peers: "h1:5095, h2:5095 h3:5095"
initial_partitions: 4
http_host: 0.0.0.0
http_port: 6000
pg_port: 0
schema_ack_wait_timeout_ms: 1000
schema_ack_live_node_lease_ms: 250
stats_flush_interval_ms: -1
sql_parser_cache_ttl_seconds: 0
sql_parser_cache_max_entries: 10
txn_idle_timeout_ms: 5000
log_level: debug
http_max_body_bytes: 1024
http_request_timeout_ms: 100
shutdown_timeout_ms: 200
lease_follow_workload: false
`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.DataDir = "/var/lib/camus"
	want.Mode = ModeCluster
	want.NodeName = "n1"
	want.RaftHost = "h1"
	want.RaftPort = 7071
	want.Peers = PeerList{"h1:7071", "h2:7071", "h3:7071"}
	want.HTTPPeers = PeerList{"h1:5095", "h2:5095", "h3:5095"}
	want.InitialPartitions = 4
	want.HTTPHost = "0.0.0.0"
	want.HTTPPort = 6000
	want.PGPort = 0
	want.SchemaAckWaitTimeoutMS = 1000
	want.SchemaAckLiveNodeLeaseMS = 250
	want.StatsFlushIntervalMS = -1
	want.SQLParserCacheTTLSeconds = 0
	want.SQLParserCacheMaxEntries = 10
	want.TxnIdleTimeoutMS = 5000
	want.LogLevel = "debug"
	want.HTTPMaxBodyBytes = 1024
	want.HTTPRequestTimeoutMS = 100
	want.ShutdownTimeoutMS = 200
	want.LeaseFollowWorkload = false
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("loaded\n%+v\nwant\n%+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("loaded config invalid: %v", err)
	}
	if got := cfg.EffectiveNodeID(); got != 1 {
		t.Errorf("EffectiveNodeID = %d, want 1", got)
	}
}

func TestLoadConfigKeepsDefaultsForMissingKeys(t *testing.T) {
	path := writeFile(t, t.TempDir(), "c.yml", "http_port: 6001\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.HTTPPort = 6001
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v, want %+v", cfg, want)
	}
}

func TestLoadConfigEmptyFile(t *testing.T) {
	path := writeFile(t, t.TempDir(), "c.yml", "")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Fatalf("empty file changed the defaults: %+v", cfg)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, path string
		wantKey    string // the key the message must name ("" = none)
	}{
		{"unknown key", writeFile(t, dir, "unknown.yml", "http_prot: 1\n"), "http_prot:"},
		{"wrong type", writeFile(t, dir, "type.yml", "data_dir: x\nhttp_port: many\n"), "http_port:"},
		{"wrong type later key", writeFile(t, dir, "type2.yml", "pg_port: 1\nstats_flush_interval_ms: often\n"), "stats_flush_interval_ms:"},
		{"duplicate key", writeFile(t, dir, "dup.yml", "pg_port: 1\npg_port: 2\n"), "pg_port:"},
		{"bad yaml", writeFile(t, dir, "bad.yml", "http_port: [1\n"), ""},
		{"not a mapping", writeFile(t, dir, "list.yml", "- http_port\n"), ""},
		{"peers a map", writeFile(t, dir, "peers.yml", "peers: {a: 1}\n"), "peers:"},
		{"missing file", filepath.Join(dir, "nope.yml"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(tc.path)
			if errcode.Of(err) != errcode.InvalidConfig {
				t.Fatalf("want CADB0600, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.wantKey) {
				t.Fatalf("error %q does not name %s", err, tc.wantKey)
			}
		})
	}
}

func TestLoadConfigCommentsOnly(t *testing.T) {
	path := writeFile(t, t.TempDir(), "c.yml", "# nothing set\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Fatalf("comment-only file changed the defaults: %+v", cfg)
	}
}

func TestLoadConfigDefaultFileInWorkingDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cfg, err := LoadConfig("")
	if err != nil {
		t.Fatalf("no config.yml present: %v", err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Fatalf("without config.yml want defaults, got %+v", cfg)
	}
	writeFile(t, dir, DefaultConfigFile, "http_port: 6123\n")
	cfg, err = LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPPort != 6123 {
		t.Fatalf("config.yml in working dir not read: http_port = %d", cfg.HTTPPort)
	}
}

func TestAddresses(t *testing.T) {
	cfg := DefaultConfig()
	if got := cfg.HTTPAddr(); got != "127.0.0.1:5095" {
		t.Errorf("HTTPAddr = %q", got)
	}
	if got := cfg.RaftAddr(); got != "localhost:7070" {
		t.Errorf("RaftAddr = %q", got)
	}
	if got := cfg.PGAddr(); got != "127.0.0.1:5433" {
		t.Errorf("PGAddr = %q", got)
	}
	cfg.PGPort = 0
	if got := cfg.PGAddr(); got != "" {
		t.Errorf("PGAddr with pg off = %q, want empty", got)
	}
	cfg.HTTPHost = "::1"
	if got := cfg.HTTPAddr(); got != "[::1]:5095" {
		t.Errorf("IPv6 HTTPAddr = %q", got)
	}
}
