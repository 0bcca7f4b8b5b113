package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/camusdb/camusdb-go/internal/server"
	"github.com/camusdb/camusdb-go/internal/sql/exec"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
	"github.com/camusdb/camusdb-go/internal/util/procs"
)

// ReadyMessage is the log message camusdb writes (to stderr, once) when the
// node is serving; its "http" attribute is the bound HTTP address, e.g.
//
//	time=... level=INFO msg="camusdb ready" http=127.0.0.1:5095 node=1
//
// Scripts and tests wait for this line (matching `camusdb ready.*http=(\S+)`)
// instead of polling a port, which also works with --http-port 0.
const ReadyMessage = "camusdb ready"

// startOptions are the flags of `camusdb start` (and of bare `camusdb`).
// Only flags the user set override the config file; the defaults shown in
// --help are the built-in defaults.
type startOptions struct {
	flags *pflag.FlagSet

	configPath string
	logLevel   string

	dataDir           string
	mode              string
	nodeName          string
	nodeID            uint64
	raftHost          string
	raftPort          int
	peers             string
	httpPeers         string
	initialPartitions int
	httpHost          string
	debugAddr         string
	httpPort          int
	pgPort            int
	tlsCert           string
	tlsKey            string
	testing           bool
	rootPasswordFile  string
	certsDir          string
	insecure          bool
}

// testingClockOffsetEnv shifts the node's clock by this many milliseconds
// (a testing knob for clock-skew faults; refused without --testing).
const testingClockOffsetEnv = "CAMUSDB_TESTING_CLOCK_OFFSET_MS"

func newStartCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run a CamusDB node (the default command)",
		Long: `Run a CamusDB node until SIGINT or SIGTERM.

Configuration comes from a YAML file (--config, default ./config.yml when
present) and flags; a flag that is set wins over the file. See
docs/configuration.md for every key, its default and its rule. When the node
serves, it logs one line with msg="` + ReadyMessage + `" and http=ADDR.`,
		Args: cobra.NoArgs,
	}
	opts := addStartFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return runStart(cmd, opts) }
	return cmd
}

// addStartFlags declares the start flags on cmd and returns their values.
func addStartFlags(cmd *cobra.Command) *startOptions {
	def := server.DefaultConfig()
	o := &startOptions{flags: cmd.Flags()}
	fs := cmd.Flags()
	fs.StringVar(&o.configPath, "config", "", "YAML config file (default ./"+server.DefaultConfigFile+" when present)")
	fs.StringVar(&o.logLevel, "log-level", def.LogLevel, "log level: debug, info, warn or error")
	fs.StringVar(&o.dataDir, "data-dir", def.DataDir, "directory of the node's engine (created if missing)")
	fs.StringVar(&o.mode, "mode", def.Mode, "standalone or cluster (a non-empty --initial-cluster implies cluster)")
	fs.StringVar(&o.nodeName, "raft-nodename", def.NodeName, "unique node name")
	fs.Uint64Var(&o.nodeID, "raft-nodeid", 0, "numeric node id, unique in the cluster (0 = derived from the position in --initial-cluster)")
	fs.StringVar(&o.raftHost, "raft-host", def.RaftHost, "address advertised for node-to-node traffic")
	fs.IntVar(&o.raftPort, "raft-port", def.RaftPort, "node-to-node port (0 = ephemeral)")
	fs.StringVar(&o.peers, "initial-cluster", "", "static peer list host:port, comma- or space-separated, including this node")
	fs.StringVar(&o.httpPeers, "http-peers", "", "HTTP address of each peer, in --initial-cluster order")
	fs.IntVar(&o.initialPartitions, "initial-cluster-partitions", def.InitialPartitions, "partitions created when the cluster is first bootstrapped")
	fs.StringVar(&o.httpHost, "http-host", def.HTTPHost, "HTTP API listen host (also used by the pgwire listener)")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "serve Go's /debug/pprof/ profiles on this host:port (no authentication: use loopback); empty: off")
	fs.IntVar(&o.httpPort, "http-port", def.HTTPPort, "HTTP API port (0 = ephemeral)")
	fs.IntVar(&o.pgPort, "pg-port", def.PGPort, "PostgreSQL wire protocol port (0 = off)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate; with --tls-key, HTTP and pgwire serve TLS")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key")
	fs.BoolVar(&o.testing, "testing", false, "allow testing knobs (such as "+testingClockOffsetEnv+"); never in production")
	_ = fs.MarkHidden("testing")
	fs.StringVar(&o.certsDir, "certs-dir", "", "directory of node.crt/node.key (camusdb cert); sets --tls-cert/--tls-key")
	fs.StringVar(&o.rootPasswordFile, "root-password-file", "", "file holding root's password, applied at start while root has none")
	fs.BoolVar(&o.insecure, "insecure", false, "let a node reachable from the network run without TLS and a root password (not recommended)")
	return o
}

// loadConfig reads the config file, applies the flags that were set and
// validates the result (errors are CADB0600).
func (o *startOptions) loadConfig() (server.Config, error) {
	cfg, err := server.LoadConfig(o.configPath)
	if err != nil {
		return server.Config{}, err
	}
	set := o.flags.Changed
	if set("log-level") {
		cfg.LogLevel = o.logLevel
	}
	if set("data-dir") {
		cfg.DataDir = o.dataDir
	}
	if set("mode") {
		cfg.Mode = o.mode
	}
	if set("raft-nodename") {
		cfg.NodeName = o.nodeName
	}
	if set("raft-nodeid") {
		cfg.NodeID = o.nodeID
	}
	if set("raft-host") {
		cfg.RaftHost = o.raftHost
	}
	if set("raft-port") {
		cfg.RaftPort = o.raftPort
	}
	if set("initial-cluster") {
		cfg.Peers = server.SplitPeerList(o.peers)
	}
	if set("http-peers") {
		cfg.HTTPPeers = server.SplitPeerList(o.httpPeers)
	}
	if set("initial-cluster-partitions") {
		cfg.InitialPartitions = o.initialPartitions
	}
	if set("http-host") {
		cfg.HTTPHost = o.httpHost
	}
	if set("debug-addr") {
		cfg.DebugAddr = o.debugAddr
	}
	if set("http-port") {
		cfg.HTTPPort = o.httpPort
	}
	if set("pg-port") {
		cfg.PGPort = o.pgPort
	}
	if set("tls-cert") {
		cfg.TLSCert = o.tlsCert
	}
	if set("tls-key") {
		cfg.TLSKey = o.tlsKey
	}
	if set("certs-dir") {
		cfg.CertsDir = o.certsDir
	}
	if set("root-password-file") {
		cfg.RootPasswordFile = o.rootPasswordFile
	}
	if set("insecure") {
		cfg.Insecure = o.insecure
	}
	cfg.ResolveCertsDir()
	if v := os.Getenv(testingClockOffsetEnv); v != "" {
		if !o.testing {
			return server.Config{}, errcode.New(errcode.InvalidConfig,
				"%s is a testing knob that skews the node's clock: it is refused unless --testing is given", testingClockOffsetEnv)
		}
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < -3_600_000 || ms > 3_600_000 {
			return server.Config{}, errcode.New(errcode.InvalidConfig, "%s: want milliseconds in ±3600000, got %q", testingClockOffsetEnv, v)
		}
		cfg.TestingClockOffset = time.Duration(ms) * time.Millisecond
	}
	if err := cfg.Validate(); err != nil {
		return server.Config{}, err
	}
	return cfg, nil
}

// runStart runs a node until the command's context is cancelled or the
// process gets SIGINT/SIGTERM, then stops it within shutdown_timeout_ms.
func runStart(cmd *cobra.Command, opts *startOptions) error {
	cfg, err := opts.loadConfig()
	if err != nil {
		return err
	}
	level, _ := cfg.SlogLevel() // validated
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	tuneGC()
	defer tuneProcs()()

	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stopSignals := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stopSignals()

	node, err := server.NewNode(cfg, logger)
	if err != nil {
		return err
	}
	if err := node.StartContext(ctx); err != nil {
		// Start leaves nothing running on failure, but Stop is harmless and
		// releases anything a future Start might hold.
		_ = node.Stop(context.Background())
		if ctx.Err() != nil {
			// SIGINT/SIGTERM while starting (e.g. a cluster node waiting for
			// its peers): a requested stop, not a failure.
			logger.Info("camusdb stopped before it was ready", "reason", context.Cause(ctx))
			return nil
		}
		return err
	}
	logger.Info(ReadyMessage, "http", node.HTTPAddr(), "pg", node.PGAddr(), "node", cfg.EffectiveNodeID(),
		"mode", modeName(cfg), "data_dir", cfg.DataDir)

	if cfg.TestingClockOffset != 0 {
		logger.Warn("TESTING: this node's clock is skewed", "offset", cfg.TestingClockOffset)
	}
	// SIGHUP reloads the TLS key pair (docs/security.md).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var fatal error
	for waiting := true; waiting; {
		select {
		case <-ctx.Done():
			waiting = false
		case fatal = <-node.Fatal():
			waiting = false
		case <-hup:
			if err := node.ReloadCertificates(); err != nil {
				logger.Error("reloading certificates failed; the previous ones stay in use", "err", err)
			} else {
				logger.Info("certificates reloaded")
			}
		}
	}
	signal.Stop(hup)
	stopSignals() // a second signal now kills the process the default way
	if fatal != nil {
		logger.Error("camusdb stopping", "reason", fatal)
	} else {
		logger.Info("camusdb stopping", "reason", context.Cause(ctx))
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeoutMS)*time.Millisecond)
	defer cancel()
	if err := node.Stop(shutdownCtx); err != nil {
		return errcode.Wrap(errcode.Internal, fmt.Errorf("stopping node: %w", err))
	}
	if fatal != nil {
		return fatal
	}
	logger.Info("camusdb stopped")
	return nil
}

func modeName(cfg server.Config) string {
	if cfg.IsCluster() {
		return server.ModeCluster
	}
	return server.ModeStandalone
}

// serverGCPercent is the garbage collector target of the server process
// unless GOGC is set: the request path allocates many short-lived objects,
// and at the default of 100 the collector took a fifth of the CPU of the
// point-select benchmark; 400 gave +35% point selects and +10% inserts
// (README "Performance").
const serverGCPercent = 400

// serverMemoryLimitShare is the share of the machine's (or cgroup's)
// memory given to the Go runtime as its soft memory limit unless
// GOMEMLIMIT is set. At GOGC=400 the heap may grow to five times what is
// live before a collection; near the limit the collector runs as often as
// it must instead, so a node holding a large live heap (statements'
// buffers, transactions' writes) collects rather than being killed for
// its garbage.
const serverMemoryLimitShare = 0.75

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serverGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if mem, ok := mon.PhysicalMemory(); ok {
			debug.SetMemoryLimit(int64(float64(mem) * serverMemoryLimitShare))
		}
	}
}

// extraProcs is how many more Ps than cores the server runs with unless
// GOMAXPROCS is set. A goroutine in a blocking system call keeps its P
// until the runtime's monitor takes it back, and the write path is full of
// them: the WAL fdatasync (~150-200 µs on the reference VM) and socket
// writes. With one P per core, a 2-core node spent much of each fsync with
// one core idle. Measured on 2 cores, 16 clients, pgwire, interleaved
// runs: autocommit insert +7-10%, bank +5-8%, point selects unchanged with
// p99 halved. Not more: every idle P is one more thread to wake when a
// goroutine becomes runnable, and at +2 a single client's insert latency
// rose ~10% while +1 measured the same as +0 (and +2 as +1 at 16 clients).
const extraProcs = 1

// On top of that, the scheduler governor (util/procs) runs the node on one P
// while it serves at most one request at a time, and widens back to
// cores + extraProcs as soon as a second one, a parallel scan or a Pebble
// flush or compaction starts. tuneProcs returns the function that stops it.
func tuneProcs() (stop func()) {
	if os.Getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	cores := runtime.GOMAXPROCS(0) // the cores Go sees (CPU quota aware)
	exec.SetParallelWorkers(cores)
	runtime.GOMAXPROCS(cores + extraProcs)
	return procs.Start(procs.Config{Wide: cores + extraProcs})
}
