// Package server composes a CamusDB node from its configuration: storage,
// replicas, kv, the SQL session layer and the protocol listeners.
//
// config.go holds Config, the node's whole configuration (SPEC §1.1 plus
// our operational keys), with defaults, YAML loading and Validate; every
// invalid value is reported before anything starts, as CADB0600 naming the
// key and the rule. node.go holds Node, the running server (Start, HTTPAddr,
// Stop). Flags are bound in internal/cli, never here.
package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Modes a node runs in (SPEC §1.1).
const (
	ModeStandalone = "standalone"
	ModeCluster    = "cluster"
)

// DefaultConfigFile is the file LoadConfig reads when no path is given and
// the file exists in the working directory.
const DefaultConfigFile = "config.yml"

// Defaults of the keys that are not obvious from DefaultConfig's body.
const (
	DefaultHTTPMaxBodyBytes     int64 = 16 << 20
	DefaultHTTPRequestTimeoutMS int64 = 30_000
	DefaultShutdownTimeoutMS    int64 = 10_000

	DefaultHTTPMaxResultBytes        int64 = 64 << 20
	DefaultHTTPMaxConcurrentRequests int64 = 256
	DefaultHTTPMaxQueuedRequests     int64 = 1024
	DefaultHTTPReadHeaderTimeoutMS   int64 = 10_000
	DefaultHTTPReadTimeoutMS         int64 = 60_000
	DefaultHTTPIdleTimeoutMS         int64 = 120_000
	DefaultTxnMaxOpen                int64 = 4096
	maxStatementTimeoutMS            int64 = 1<<31 - 1
)

// Config is the whole configuration of one node: every key of SPEC §1.1 plus
// a few operational keys of our own (log level, HTTP limits, shutdown grace).
// The YAML key of each field is in its tag; docs/configuration.md lists
// them with defaults and rules.
//
// A Config is a plain value: build one with DefaultConfig, overlay a file with
// LoadConfig, let flags override fields, then call Validate before starting
// anything.
type Config struct {
	// DataDir is where the node keeps its engine (KV + Raft log).
	DataDir string `yaml:"data_dir"`
	// Mode is ModeStandalone or ModeCluster. A non-empty Peers implies
	// cluster mode even when Mode is left at standalone (see IsCluster).
	Mode string `yaml:"mode"`
	// NodeName is the unique node name; defaults to the host name.
	NodeName string `yaml:"node_name"`
	// NodeID is the numeric node id; 0 means derived (see EffectiveNodeID).
	// It has no YAML key on purpose: SPEC §1.1 sets it by flag only.
	NodeID uint64 `yaml:"-"`
	// RaftHost and RaftPort are the address advertised for node-to-node
	// traffic. RaftPort 0 asks the OS for an ephemeral port (tests only;
	// a cluster needs a fixed port that its peers can name).
	RaftHost string `yaml:"raft_host"`
	RaftPort int    `yaml:"raft_port"`
	// Peers is the static peer list host:port, including this node.
	Peers PeerList `yaml:"peers"`
	// HTTPPeers is the HTTP address of each peer, in the order of Peers.
	HTTPPeers PeerList `yaml:"http_peers"`
	// InitialPartitions is how many partitions a first bootstrap creates.
	InitialPartitions int `yaml:"initial_partitions"`
	// HTTPHost and HTTPPort are the HTTP API listener. HTTPPort 0 asks the OS
	// for an ephemeral port; the node logs the bound address.
	HTTPHost string `yaml:"http_host"`
	HTTPPort int    `yaml:"http_port"`
	// PGPort is the PostgreSQL wire protocol port; 0 turns it off.
	PGPort int `yaml:"pg_port"`
	// TLSCert and TLSKey are PEM files; when both are set HTTP and pgwire
	// serve TLS.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// CertsDir holds ca.crt, node.crt and node.key (camusdb cert ...); when
	// set, tls_cert and tls_key default to its node.crt and node.key
	// (ResolveCertsDir).
	CertsDir string `yaml:"certs_dir"`
	// RootPasswordFile holds root's password; it is applied at start while
	// root has none (auth.go). Required off loopback unless Insecure.
	RootPasswordFile string `yaml:"root_password_file"`
	// Insecure lets a node reachable from the network run without TLS and
	// a root password (CheckExposure).
	Insecure bool `yaml:"insecure"`

	SchemaAckWaitTimeoutMS   int64 `yaml:"schema_ack_wait_timeout_ms"`
	SchemaAckLiveNodeLeaseMS int64 `yaml:"schema_ack_live_node_lease_ms"`
	StatsFlushIntervalMS     int64 `yaml:"stats_flush_interval_ms"`
	SQLParserCacheTTLSeconds int64 `yaml:"sql_parser_cache_ttl_seconds"`
	SQLParserCacheMaxEntries int64 `yaml:"sql_parser_cache_max_entries"`
	TxnIdleTimeoutMS         int64 `yaml:"txn_idle_timeout_ms"`

	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// HTTPMaxBodyBytes bounds a request body; larger bodies get 413.
	HTTPMaxBodyBytes int64 `yaml:"http_max_body_bytes"`
	// HTTPRequestTimeoutMS bounds the execution of one HTTP request.
	HTTPRequestTimeoutMS int64 `yaml:"http_request_timeout_ms"`
	// ShutdownTimeoutMS is how long a stopping node waits for in-flight work.
	ShutdownTimeoutMS int64 `yaml:"shutdown_timeout_ms"`
	// MaxClockOffsetMS is the largest clock difference between two nodes the
	// cluster tolerates: node-to-node frames stamped further ahead are
	// refused, and a partition lease (4x this long) stops serving this long
	// before it expires.
	MaxClockOffsetMS int64 `yaml:"max_clock_offset_ms"`
	// LeaseFollowWorkload lets a partition's lease (and Raft leadership)
	// move to the node most of its requests come from (cluster mode; see
	// docs/cluster.md).
	LeaseFollowWorkload bool `yaml:"lease_follow_workload"`

	// TestingClockOffset shifts this node's physical clock, to test how a
	// cluster copes with clock skew. Never set from the config file: only
	// `camusdb start --testing` with CAMUSDB_TESTING_CLOCK_OFFSET_MS.
	TestingClockOffset time.Duration `yaml:"-"`
	// TestingGCInterval and TestingGCTTL replace how often MVCC garbage is
	// collected and how long old versions are kept (gc.go), and
	// TestingDropDataRetry how often a dropped table's deletion job tries
	// to clear its data (tests only; zero: the defaults).
	TestingGCInterval, TestingGCTTL, TestingDropDataRetry time.Duration `yaml:"-"`
	// TestingFollowInterval replaces how often a cluster node rolls the
	// request counts that move leases to the workload (default 1 s).
	TestingFollowInterval time.Duration `yaml:"-"`

	// SQLMemoryBytes is the node-wide budget of the memory SQL statements
	// hold (0: a quarter of the machine's or cgroup's memory, see
	// EffectiveSQLMemoryBytes). Past it statements fail with CADB0510.
	SQLMemoryBytes int64 `yaml:"sql_memory_bytes"`
	// SQLQueryMemoryBytes is one statement's budget: past it sorts, hash
	// aggregations, DISTINCT and hash joins spill to data_dir/sql-temp;
	// operators that cannot spill fail with CADB0511.
	SQLQueryMemoryBytes int64 `yaml:"sql_query_memory_bytes"`

	// SQLStatementTimeoutMS bounds every statement that sets no timeout of
	// its own (pgwire statement_timeout, HTTP timeoutMs); 0 means none.
	SQLStatementTimeoutMS int64 `yaml:"sql_statement_timeout_ms"`
	// TxnMaxOpen bounds the explicit transactions open at once on the
	// node; BEGIN past it is CADB0508 (retry later). 0 means no bound.
	TxnMaxOpen int64 `yaml:"txn_max_open"`
	// TxnMaxWriteBytes bounds the writes one transaction holds in memory
	// until its commit (EffectiveTxnMaxWriteBytes; 0: the SQL memory
	// budget), counted as kvpb.WriteCost; past it a write fails with
	// CADB0514.
	TxnMaxWriteBytes int64 `yaml:"txn_max_write_bytes"`
	// HTTPMaxResultBytes bounds the JSON of one HTTP query result.
	HTTPMaxResultBytes int64 `yaml:"http_max_result_bytes"`
	// HTTPMaxConcurrentRequests bounds the HTTP requests served at once
	// (0: no bound); HTTPMaxQueuedRequests more wait, the rest get 503.
	HTTPMaxConcurrentRequests int64 `yaml:"http_max_concurrent_requests"`
	HTTPMaxQueuedRequests     int64 `yaml:"http_max_queued_requests"`
	// HTTP connection timeouts (net/http's ReadHeaderTimeout, ReadTimeout,
	// IdleTimeout).
	HTTPReadHeaderTimeoutMS int64 `yaml:"http_read_header_timeout_ms"`
	HTTPReadTimeoutMS       int64 `yaml:"http_read_timeout_ms"`
	HTTPIdleTimeoutMS       int64 `yaml:"http_idle_timeout_ms"`

	// DebugAddr, when set (host:port), serves Go's profiling endpoints
	// (/debug/pprof/) on their own listener; empty means off. Bind it to
	// loopback: it has no authentication.
	DebugAddr string `yaml:"debug_addr"`

	// RaftMaxCommandBytes bounds one replicated command: a write over it
	// is refused with CADB0513; large transactions are split under it.
	RaftMaxCommandBytes int64 `yaml:"raft_max_command_bytes"`
}

// Bounds of raft_max_command_bytes: at least 64 KiB, at most 128 MiB (Raft
// keeps at most 256 MiB of uncommitted entries per partition).
const (
	MinRaftMaxCommandBytes = 64 << 10
	MaxRaftMaxCommandBytes = 128 << 20
)

// LeaseDuration is how long a partition lease lasts after each extension:
// four maximum clock offsets (2 s by default).
func (c *Config) LeaseDuration() time.Duration {
	return 4 * time.Duration(c.MaxClockOffsetMS) * time.Millisecond
}

// MinSQLQueryMemoryBytes is the smallest sql_query_memory_bytes accepted.
const MinSQLQueryMemoryBytes = 64 << 10

// SQLTempDirName is the directory under data_dir where statements spill;
// the node empties it when it starts.
const SQLTempDirName = "sql-temp"

// EffectiveSQLMemoryBytes resolves sql_memory_bytes: the configured value,
// or a quarter of the physical (or cgroup) memory when it is 0.
func (c Config) EffectiveSQLMemoryBytes() int64 {
	if c.SQLMemoryBytes > 0 {
		return c.SQLMemoryBytes
	}
	return mon.DefaultNodeBudget()
}

// MinTxnMaxWriteBytes is the smallest txn_max_write_bytes accepted.
const MinTxnMaxWriteBytes = 64 << 10

// EffectiveTxnMaxWriteBytes resolves txn_max_write_bytes: the configured
// value, or the SQL memory budget (EffectiveSQLMemoryBytes) when it is 0.
func (c Config) EffectiveTxnMaxWriteBytes() int64 {
	if c.TxnMaxWriteBytes > 0 {
		return c.TxnMaxWriteBytes
	}
	return max(MinTxnMaxWriteBytes, c.EffectiveSQLMemoryBytes())
}

// DefaultConfig returns the configuration a bare `camusdb` runs with.
func DefaultConfig() Config {
	hostName, err := os.Hostname()
	if err != nil || hostName == "" {
		hostName = "camusdb"
	}
	return Config{
		DataDir:                  "./camusdb-data",
		Mode:                     ModeStandalone,
		NodeName:                 hostName,
		RaftHost:                 "localhost",
		RaftPort:                 7070,
		InitialPartitions:        1,
		HTTPHost:                 "127.0.0.1",
		HTTPPort:                 5095,
		PGPort:                   5433,
		SchemaAckWaitTimeoutMS:   30_000,
		SchemaAckLiveNodeLeaseMS: -1,
		StatsFlushIntervalMS:     5_000,
		SQLParserCacheTTLSeconds: 300,
		SQLParserCacheMaxEntries: 2048,
		TxnIdleTimeoutMS:         60_000,
		LogLevel:                 "info",
		HTTPMaxBodyBytes:         DefaultHTTPMaxBodyBytes,
		HTTPRequestTimeoutMS:     DefaultHTTPRequestTimeoutMS,
		ShutdownTimeoutMS:        DefaultShutdownTimeoutMS,
		MaxClockOffsetMS:         500,
		LeaseFollowWorkload:      true,
		SQLQueryMemoryBytes:      mon.DefaultQueryBudget,
		RaftMaxCommandBytes:      replica.DefaultMaxCommandBytes,

		TxnMaxOpen:                DefaultTxnMaxOpen,
		HTTPMaxResultBytes:        DefaultHTTPMaxResultBytes,
		HTTPMaxConcurrentRequests: DefaultHTTPMaxConcurrentRequests,
		HTTPMaxQueuedRequests:     DefaultHTTPMaxQueuedRequests,
		HTTPReadHeaderTimeoutMS:   DefaultHTTPReadHeaderTimeoutMS,
		HTTPReadTimeoutMS:         DefaultHTTPReadTimeoutMS,
		HTTPIdleTimeoutMS:         DefaultHTTPIdleTimeoutMS,
	}
}

// PeerList is a list of host:port addresses. In YAML it is either a sequence
// of strings or one string separated by commas and/or spaces (the flag form).
type PeerList []string

// UnmarshalYAML accepts a sequence of strings or a single separated string.
func (p *PeerList) UnmarshalYAML(node *yaml.Node) error {
	switch node.Kind {
	case yaml.ScalarNode:
		var s string
		if err := node.Decode(&s); err != nil {
			return err
		}
		*p = SplitPeerList(s)
		return nil
	case yaml.SequenceNode:
		var list []string
		if err := node.Decode(&list); err != nil {
			return err
		}
		out := make(PeerList, 0, len(list))
		for _, item := range list {
			out = append(out, SplitPeerList(item)...)
		}
		*p = out
		return nil
	}
	return fmt.Errorf("line %d: want a list of host:port or one comma-separated string", node.Line)
}

// SplitPeerList splits a comma- and/or space-separated list of addresses,
// dropping empty items.
func SplitPeerList(s string) PeerList {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	if len(fields) == 0 {
		return nil
	}
	return PeerList(fields)
}

// LoadConfig returns DefaultConfig overlaid with a YAML file. With path ""
// it reads DefaultConfigFile from the working directory if that file exists
// and returns the defaults otherwise; an explicit path that cannot be read
// is an error. Unknown keys are errors, so a misspelt key never silently
// falls back to its default. Errors are *errcode.Error with CADB0600.
//
// LoadConfig does not validate: callers apply flag overrides first and then
// call Validate.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	explicit := path != ""
	if !explicit {
		path = DefaultConfigFile
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return cfg, nil
		}
		return Config{}, errcode.New(errcode.InvalidConfig, "cannot read config file: %v", err)
	}
	if err := cfg.decodeYAML(data); err != nil {
		return Config{}, errcode.New(errcode.InvalidConfig, "config file %s: %v", path, err)
	}
	return cfg, nil
}

// decodeYAML overlays the keys present in data on cfg. It decodes key by
// key so that an error names the key it is about ("http_port: line 3:
// cannot unmarshal ...") rather than only a line and a Go type.
func (c *Config) decodeYAML(data []byte) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file
		}
		return err
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil // a file holding only comments
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping of key: value", root.Line)
	}
	fields := c.yamlFields()
	seen := make(map[string]bool, len(root.Content)/2)
	for i := 0; i+1 < len(root.Content); i += 2 {
		keyNode, valueNode := root.Content[i], root.Content[i+1]
		key := keyNode.Value
		field, ok := fields[key]
		if !ok {
			return fmt.Errorf("%s: line %d: unknown key", key, keyNode.Line)
		}
		if seen[key] {
			return fmt.Errorf("%s: line %d: key given twice", key, keyNode.Line)
		}
		seen[key] = true
		if err := valueNode.Decode(field); err != nil {
			return fmt.Errorf("%s: line %d: %s", key, valueNode.Line, yamlTypeMessage(err))
		}
	}
	return nil
}

// yamlFields maps each YAML key of Config to a pointer to its field.
func (c *Config) yamlFields() map[string]any {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	out := make(map[string]any, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = v.Field(i).Addr().Interface()
	}
	return out
}

// yamlTypeMessage shortens a yaml.v3 decode error to its reason
// ("cannot unmarshal !!str `many` into int").
func yamlTypeMessage(err error) string {
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) && len(typeErr.Errors) > 0 {
		msg := typeErr.Errors[0]
		if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
			return rest
		}
		return msg
	}
	return err.Error()
}

// IsCluster reports whether the node runs in cluster mode: mode is
// "cluster" or a peer list was given.
func (c Config) IsCluster() bool {
	return c.Mode == ModeCluster || len(c.Peers) > 0
}

// RaftAddr is this node's advertised node-to-node address.
func (c Config) RaftAddr() string {
	return net.JoinHostPort(c.RaftHost, strconv.Itoa(c.RaftPort))
}

// HTTPAddr is the address the HTTP listener binds (port may be 0).
func (c Config) HTTPAddr() string {
	return net.JoinHostPort(c.HTTPHost, strconv.Itoa(c.HTTPPort))
}

// PGAddr is the address the pgwire listener binds; "" when it is off.
func (c Config) PGAddr() string {
	if c.PGPort == 0 {
		return ""
	}
	return net.JoinHostPort(c.HTTPHost, strconv.Itoa(c.PGPort))
}

// EffectiveNodeID returns NodeID when set; otherwise, in cluster mode, the
// 1-based position of this node's RaftAddr in Peers, and 1 in standalone.
// It returns 0 only for a cluster config in which this node is not a peer,
// which Validate rejects.
func (c Config) EffectiveNodeID() uint64 {
	if c.NodeID != 0 {
		return c.NodeID
	}
	if !c.IsCluster() {
		return 1
	}
	if i := c.peerIndex(); i >= 0 {
		return uint64(i) + 1
	}
	return 0
}

// peerIndex is the position of this node in Peers, or -1.
func (c Config) peerIndex() int {
	self := c.RaftAddr()
	for i, peer := range c.Peers {
		if sameAddr(peer, self) {
			return i
		}
	}
	return -1
}

// sameAddr compares host:port addresses, hosts case-insensitively.
func sameAddr(a, b string) bool {
	hostA, portA, errA := net.SplitHostPort(a)
	hostB, portB, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return portA == portB && strings.EqualFold(hostA, hostB)
}

// SlogLevel maps LogLevel to a slog.Level. Validate guarantees ok for a
// validated config.
func (c Config) SlogLevel() (level slog.Level, ok bool) {
	return ParseLogLevel(c.LogLevel)
}

// ParseLogLevel maps debug|info|warn|warning|error (any case) to a level.
func ParseLogLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, true
	case "info", "":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

// ResolveCertsDir fills tls_cert/tls_key from certs_dir when they are not
// set; Validate then checks that the files exist.
func (c *Config) ResolveCertsDir() {
	if c.CertsDir == "" || c.TLSCert != "" || c.TLSKey != "" {
		return
	}
	c.TLSCert = filepath.Join(c.CertsDir, "node.crt")
	c.TLSKey = filepath.Join(c.CertsDir, "node.key")
}

// Validate checks every rule of SPEC §1.1 (and of our extra keys) and returns
// the first violation as an *errcode.Error with code CADB0600 whose message
// names the key and the rule.
func (c Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return errcode.New(errcode.InvalidConfig, "invalid configuration: %s: %s", key, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return bad("data_dir", "must not be empty")
	}
	if c.Mode != ModeStandalone && c.Mode != ModeCluster {
		return bad("mode", "must be %q or %q, got %q", ModeStandalone, ModeCluster, c.Mode)
	}
	if strings.TrimSpace(c.NodeName) == "" {
		return bad("node_name", "must not be empty")
	}
	if strings.TrimSpace(c.RaftHost) == "" {
		return bad("raft_host", "must not be empty")
	}
	// Port 0 = ephemeral for http_port and raft_port, = off for pg_port.
	for _, p := range []struct {
		key  string
		port int
	}{{"raft_port", c.RaftPort}, {"http_port", c.HTTPPort}, {"pg_port", c.PGPort}} {
		if p.port < 0 || p.port > 65535 {
			return bad(p.key, "must be in 1..65535 (0 = ephemeral, or off for pg_port), got %d", p.port)
		}
	}
	// pgwire listens on http_host too, so the two ports cannot be the same.
	if c.PGPort != 0 && c.PGPort == c.HTTPPort {
		return bad("pg_port", "must differ from http_port (both listen on http_host), got %d for both", c.PGPort)
	}
	if c.NodeID > session.MaxTxnNodeID {
		return bad("raft_nodeid", "must be at most %d, got %d", session.MaxTxnNodeID, c.NodeID)
	}
	if c.InitialPartitions < 1 {
		return bad("initial_partitions", "must be >= 1, got %d", c.InitialPartitions)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return bad("tls_cert/tls_key", "must be set together")
	}
	for _, f := range []struct{ key, path string }{{"tls_cert", c.TLSCert}, {"tls_key", c.TLSKey}, {"root_password_file", c.RootPasswordFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return bad(f.key, "file must exist: %v", err)
		}
	}
	if c.SchemaAckWaitTimeoutMS <= 0 {
		return bad("schema_ack_wait_timeout_ms", "must be > 0, got %d", c.SchemaAckWaitTimeoutMS)
	}
	if c.SchemaAckLiveNodeLeaseMS <= 0 && c.SchemaAckLiveNodeLeaseMS != -1 {
		return bad("schema_ack_live_node_lease_ms", "must be > 0 or -1, got %d", c.SchemaAckLiveNodeLeaseMS)
	}
	if c.StatsFlushIntervalMS < -1 {
		return bad("stats_flush_interval_ms", "must be >= 0 or -1, got %d", c.StatsFlushIntervalMS)
	}
	if c.SQLParserCacheTTLSeconds < 0 {
		return bad("sql_parser_cache_ttl_seconds", "must be >= 0, got %d", c.SQLParserCacheTTLSeconds)
	}
	if c.SQLParserCacheMaxEntries < 0 {
		return bad("sql_parser_cache_max_entries", "must be >= 0, got %d", c.SQLParserCacheMaxEntries)
	}
	if c.TxnIdleTimeoutMS <= 0 {
		return bad("txn_idle_timeout_ms", "must be > 0, got %d", c.TxnIdleTimeoutMS)
	}
	if c.MaxClockOffsetMS <= 0 || c.MaxClockOffsetMS > 60_000 {
		return bad("max_clock_offset_ms", "must be in 1..60000, got %d", c.MaxClockOffsetMS)
	}
	if _, ok := ParseLogLevel(c.LogLevel); !ok {
		return bad("log_level", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	if c.HTTPMaxBodyBytes <= 0 {
		return bad("http_max_body_bytes", "must be > 0, got %d", c.HTTPMaxBodyBytes)
	}
	if c.HTTPRequestTimeoutMS <= 0 {
		return bad("http_request_timeout_ms", "must be > 0, got %d", c.HTTPRequestTimeoutMS)
	}
	if c.ShutdownTimeoutMS <= 0 {
		return bad("shutdown_timeout_ms", "must be > 0, got %d", c.ShutdownTimeoutMS)
	}
	if c.SQLMemoryBytes < 0 {
		return bad("sql_memory_bytes", "must be >= 0 (0 = a quarter of the memory), got %d", c.SQLMemoryBytes)
	}
	if c.SQLQueryMemoryBytes < MinSQLQueryMemoryBytes {
		return bad("sql_query_memory_bytes", "must be >= %d (64 KiB), got %d", MinSQLQueryMemoryBytes, c.SQLQueryMemoryBytes)
	}
	if c.RaftMaxCommandBytes < MinRaftMaxCommandBytes || c.RaftMaxCommandBytes > MaxRaftMaxCommandBytes {
		return bad("raft_max_command_bytes", "must be between %d (64 KiB) and %d (128 MiB), got %d", MinRaftMaxCommandBytes, MaxRaftMaxCommandBytes, c.RaftMaxCommandBytes)
	}
	if c.SQLMemoryBytes > 0 && c.SQLQueryMemoryBytes > c.SQLMemoryBytes {
		return bad("sql_query_memory_bytes", "must not exceed sql_memory_bytes (%d), got %d", c.SQLMemoryBytes, c.SQLQueryMemoryBytes)
	}
	if err := c.validateLimits(bad); err != nil {
		return err
	}
	return c.validatePeers(bad)
}

// validateLimits checks the statement, transaction and HTTP admission
// limits.
func (c Config) validateLimits(bad func(key, format string, args ...any) error) error {
	if c.SQLStatementTimeoutMS < 0 || c.SQLStatementTimeoutMS > maxStatementTimeoutMS {
		return bad("sql_statement_timeout_ms", "must be in 0..%d (0 = no timeout), got %d", maxStatementTimeoutMS, c.SQLStatementTimeoutMS)
	}
	if c.TxnMaxWriteBytes != 0 && c.TxnMaxWriteBytes < MinTxnMaxWriteBytes {
		return bad("txn_max_write_bytes", "must be 0 (the SQL memory budget) or at least %d (64 KiB), got %d", MinTxnMaxWriteBytes, c.TxnMaxWriteBytes)
	}
	if c.TxnMaxOpen < 0 || c.TxnMaxOpen > 1<<30 {
		return bad("txn_max_open", "must be in 0..%d (0 = no bound), got %d", 1<<30, c.TxnMaxOpen)
	}
	if c.HTTPMaxResultBytes <= 0 {
		return bad("http_max_result_bytes", "must be > 0, got %d", c.HTTPMaxResultBytes)
	}
	if c.HTTPMaxConcurrentRequests < 0 || c.HTTPMaxConcurrentRequests > 1<<20 {
		return bad("http_max_concurrent_requests", "must be in 0..%d (0 = no bound), got %d", 1<<20, c.HTTPMaxConcurrentRequests)
	}
	if c.HTTPMaxQueuedRequests < 0 || c.HTTPMaxQueuedRequests > 1<<20 {
		return bad("http_max_queued_requests", "must be in 0..%d, got %d", 1<<20, c.HTTPMaxQueuedRequests)
	}
	for _, t := range []struct {
		key string
		ms  int64
	}{{"http_read_header_timeout_ms", c.HTTPReadHeaderTimeoutMS}, {"http_read_timeout_ms", c.HTTPReadTimeoutMS}, {"http_idle_timeout_ms", c.HTTPIdleTimeoutMS}} {
		if t.ms <= 0 {
			return bad(t.key, "must be > 0, got %d", t.ms)
		}
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			return bad("debug_addr", "must be host:port, got %q", c.DebugAddr)
		}
	}
	return nil
}

// validatePeers checks peers, http_peers and this node's membership.
func (c Config) validatePeers(bad func(key, format string, args ...any) error) error {
	seen := make(map[string]bool, len(c.Peers))
	for _, peer := range c.Peers {
		if err := checkHostPort(peer); err != nil {
			return bad("peers", "every peer must be a valid host:port: %q: %v", peer, err)
		}
		norm := strings.ToLower(peer)
		if seen[norm] {
			return bad("peers", "peer %q is listed twice", peer)
		}
		seen[norm] = true
	}
	for _, peer := range c.HTTPPeers {
		if err := checkHostPort(peer); err != nil {
			return bad("http_peers", "every peer must be a valid host:port: %q: %v", peer, err)
		}
	}
	if len(c.HTTPPeers) > 0 && len(c.HTTPPeers) != len(c.Peers) {
		return bad("http_peers", "must have as many entries as peers (%d), got %d", len(c.Peers), len(c.HTTPPeers))
	}
	if c.IsCluster() {
		if len(c.Peers) == 0 {
			return bad("peers", "must list every node (this one included) in cluster mode")
		}
		self := c.peerIndex()
		if self < 0 {
			return bad("peers", "must include this node's raft address %s (raft_host:raft_port) in cluster mode", c.RaftAddr())
		}
		// Other peers get the id of their 1-based position, so an explicit
		// id must not be the position of another peer.
		if id := c.NodeID; id != 0 && id <= uint64(len(c.Peers)) && id != uint64(self)+1 {
			return bad("raft_nodeid", "must be unique in the cluster: %d is the id of peer %s", id, c.Peers[id-1])
		}
	}
	return nil
}

// checkHostPort accepts host:port with a non-empty host and a port in 1..65535.
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("missing host")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not in 1..65535", port)
	}
	return nil
}
