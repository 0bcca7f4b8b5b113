package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/httpapi"
	"github.com/camusdb/camusdb-go/internal/httpapi/h1"
	"github.com/camusdb/camusdb-go/internal/pgwire"
	"github.com/camusdb/camusdb-go/internal/server/auth"
	"github.com/camusdb/camusdb-go/internal/sql/exec"
	"github.com/camusdb/camusdb-go/internal/sql/exec/spill"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Node is one CamusDB server process: storage, replicas, kv and SQL layers
// behind the HTTP listener. Standalone and cluster run the same stack; a
// standalone node's partitions are single-voter Raft groups.
type Node struct {
	cfg      Config
	logger   *slog.Logger
	registry *prometheus.Registry
	inMemory bool // the engine lives in memory, nothing under DataDir (demo.go)

	core    *core
	sql     *session.Server
	auth    *auth.Authenticator // auth.go
	certs   *certStore          // the node's key pair; nil without TLS (auth.go)
	forward *forwarder          // cluster mode: sends other nodes' transactions to them (forward.go)
	api     *httpapi.Server
	http    *h1.Server // the HTTP API's connections; unusual ones go to net/http

	cluster  *clusterNode                          // nil in standalone (cluster.go)
	prebound struct{ raft, http, pg net.Listener } // UseListeners (cluster.go), UsePGListener

	pgMu sync.Mutex  // guards pg
	pg   *pgFrontEnd // the pgwire listener; nil when off (pgwire.go)

	httpConns httpConnCounter // open HTTP connections (metrics_sql.go)

	debug struct { // profiling endpoints (debug.go); set by Start
		srv  *http.Server
		addr string
		done chan struct{}
	}

	// fatal receives the first error that makes the node unfit to serve
	// (its clock out of step with the cluster); see Fatal.
	fatal     chan error
	fatalOnce sync.Once

	mu struct {
		sync.Mutex
		started  bool
		stopped  bool
		httpAddr string        // bound address, set by Start
		served   chan struct{} // closed when the HTTP serve loop returns
	}
}

// NewNode validates cfg and builds a node; nothing is opened, bound or
// started until Start.
func NewNode(cfg Config, logger *slog.Logger) (*Node, error) {
	cfg.ResolveCertsDir()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckExposure(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Node{cfg: cfg, logger: logger, registry: prometheus.NewRegistry(), fatal: make(chan error, 1)}, nil
}

// Fatal delivers the error that made the node unfit to serve, if one
// happens; whoever runs the node must then stop it and exit with an error.
func (n *Node) Fatal() <-chan error { return n.fatal }

// fail reports a fatal condition (once) and logs it.
func (n *Node) fail(err error) {
	n.fatalOnce.Do(func() {
		n.logger.Error("camusdb cannot continue", "err", err)
		n.fatal <- err
	})
}

// wallClock is the node's physical clock: real time, shifted by the
// testing-only clock offset (Config.TestingClockOffset).
func (n *Node) wallClock() hlc.WallClock {
	offset := int64(n.cfg.TestingClockOffset)
	if offset == 0 {
		return hlc.UnixNano
	}
	return func() int64 { return hlc.UnixNano() + offset }
}

// open composes the stack below the listeners.
func (n *Node) open(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if n.cfg.TLSCert != "" {
		certs, err := newCertStore(n.cfg.TLSCert, n.cfg.TLSKey)
		if err != nil {
			return err
		}
		n.certs = certs
	}
	cc := coreConfig{
		DataDir:    n.cfg.DataDir,
		NodeID:     n.cfg.EffectiveNodeID(),
		Partitions: n.cfg.InitialPartitions,
		InMemory:   n.inMemory,
		Logger:     n.logger.With("component", "replica"),

		MaxClockOffset: time.Duration(n.cfg.MaxClockOffsetMS) * time.Millisecond,
		LeaseDuration:  n.cfg.LeaseDuration(),

		MaxCommandBytes:  int(n.cfg.RaftMaxCommandBytes),
		MaxTxnWriteBytes: n.cfg.EffectiveTxnMaxWriteBytes(),
		GCInterval:       n.cfg.TestingGCInterval,
		GCTTL:            n.cfg.TestingGCTTL,
	}
	wall := n.wallClock()
	cc.Clock, cc.Wall, cc.OnClockError = hlc.NewClock(wall), wall, n.fail
	if n.cfg.IsCluster() {
		cn, err := n.openCluster(cc.Clock, wall)
		if err != nil {
			return err
		}
		n.cluster = cn
		cn.configure(&cc)
	}
	c, err := openCore(ctx, cc)
	if err != nil {
		if n.cluster != nil {
			n.cluster.close()
		}
		return err
	}
	n.core = c
	if n.cluster != nil {
		n.cluster.attachCoordinator(c.db)
		n.cluster.startClusterID(c.db, c.engine, n.fail)
	}
	if err := registerNodeMetrics(n.registry, c); err != nil { // metrics.go
		n.closeStack()
		return err
	}
	if n.cluster != nil && n.cluster.follower != nil {
		if err := n.registry.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "camusdb", Subsystem: "cluster", Name: "lease_follow_moves_total",
			Help: "Lease moves this node asked for because most of a partition's requests came from another node.",
		}, func() float64 { return float64(n.cluster.followMoves.Load()) })); err != nil {
			n.closeStack()
			return err
		}
	}
	if n.auth, err = n.openAuth(sqlDB{c.db}); err != nil {
		n.closeStack()
		return err
	}
	sqlMemory := mon.NewMonitor(n.cfg.EffectiveSQLMemoryBytes())
	if err := registerSQLMemoryMetrics(n.registry, sqlMemory); err != nil { // metrics.go
		n.closeStack()
		return err
	}
	stmtMetrics := newSQLStatementMetrics()
	if err := stmtMetrics.register(n.registry); err != nil { // metrics_sql.go
		n.closeStack()
		return err
	}
	if err := n.registerConnectionMetrics(n.registry); err != nil {
		n.closeStack()
		return err
	}
	n.sql = session.NewServer(sqlDB{c.db}, session.Config{
		OnStatement:          stmtMetrics.observe,
		OnUsersChanged:       n.auth.Invalidate,
		TxnIdleTimeout:       time.Duration(n.cfg.TxnIdleTimeoutMS) * time.Millisecond,
		ParseCacheTTL:        time.Duration(n.cfg.SQLParserCacheTTLSeconds) * time.Second,
		ParseCacheMaxEntries: int(n.cfg.SQLParserCacheMaxEntries),
		NodeID:               n.cfg.EffectiveNodeID(),
		Stats:                n.newStats(c),
		Memory:               sqlMemory,
		QueryMemoryBytes:     n.cfg.SQLQueryMemoryBytes,
		TempDir:              n.sqlTempDir(),
		StatementTimeout:     time.Duration(n.cfg.SQLStatementTimeoutMS) * time.Millisecond,
		MaxOpenTxns:          int(n.cfg.TxnMaxOpen),
		PGTypeOID:            pgwire.TypeOID,
		DropDataRetry:        n.cfg.TestingDropDataRetry,
	})
	if err := registerSQLMetrics(n.registry, n.sql); err != nil { // metrics.go
		n.closeStack()
		return err
	}
	var executor session.Executor = n.sql
	if n.cluster != nil {
		fw, err := n.openForwarder()
		if err != nil {
			n.closeStack()
			return err
		}
		n.forward, executor = fw, fw
	}
	api, err := httpapi.New(httpapi.Options{
		Executor:         executor,
		Status:           statusProvider{n},
		Auth:             n.auth,
		Ready:            n.ready,
		MaxBodyBytes:     n.cfg.HTTPMaxBodyBytes,
		RequestTimeout:   time.Duration(n.cfg.HTTPRequestTimeoutMS) * time.Millisecond,
		StatementTimeout: time.Duration(n.cfg.SQLStatementTimeoutMS) * time.Millisecond,
		MaxResultBytes:   n.cfg.HTTPMaxResultBytes,
		MaxConcurrent:    int(n.cfg.HTTPMaxConcurrentRequests),
		MaxQueued:        int(n.cfg.HTTPMaxQueuedRequests),
		AdmissionExempt:  func(r *http.Request) bool { return r.Header.Get(forwardedHeader) != "" },
		Registry:         n.registry,
		Logger:           n.logger.With("component", "httpapi"),
	})
	if err != nil {
		n.closeStack()
		return err
	}
	n.api = api
	n.http = &h1.Server{
		Handler:           markForwarded(api),
		ReadHeaderTimeout: time.Duration(n.cfg.HTTPReadHeaderTimeoutMS) * time.Millisecond,
		ReadTimeout:       time.Duration(n.cfg.HTTPReadTimeoutMS) * time.Millisecond,
		IdleTimeout:       time.Duration(n.cfg.HTTPIdleTimeoutMS) * time.Millisecond,
		ErrorLog:          slog.NewLogLogger(n.logger.Handler(), slog.LevelWarn),
		ConnState:         n.httpConns.track,
	}
	return nil
}

// executor is what the front ends call: the forwarder in cluster mode
// (explicit transactions and CANCEL QUERY of other nodes), else the
// session server.
func (n *Node) executor() session.Executor {
	if n.forward != nil {
		return n.forward
	}
	return n.sql
}

// closeStack closes the SQL layer and the core (after the listeners stopped).
func (n *Node) closeStack() {
	if n.forward != nil {
		n.forward.close()
	}
	if n.sql != nil {
		n.sql.Close()
	}
	if n.cluster != nil {
		n.cluster.stopClusterIDWorker() // it uses the core
	}
	if n.core != nil {
		n.core.close(context.Background())
	}
	if n.cluster != nil {
		n.cluster.close()
	}
}

// ready reports whether this node leads every partition (standalone) and
// can serve.
func (n *Node) ready() bool {
	if n.cluster != nil {
		return n.cluster.ready(n.core.store)
	}
	for _, id := range n.core.store.PartitionIDs() {
		st, err := n.core.store.Status(id)
		if err != nil || !st.Ready {
			return false
		}
	}
	return true
}

// Start creates the data directory, binds the listeners and starts serving,
// then returns. It fails if a listener cannot be bound (nothing is left
// running in that case). A node starts at most once.
func (n *Node) Start() error { return n.StartContext(context.Background()) }

// StartContext is Start, abandoned (with nothing left running) when ctx
// ends first — e.g. SIGTERM while a cluster node waits for its peers.
func (n *Node) StartContext(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mu.started {
		return errors.New("server: node already started")
	}
	if err := n.makeDataDir(); err != nil {
		return err
	}
	if err := n.open(ctx); err != nil {
		return err
	}
	if err := n.setUpRoot(ctx); err != nil {
		n.closeStack()
		return err
	}
	ln, err := n.httpListener()
	if err != nil {
		n.closeStack()
		return fmt.Errorf("server: HTTP listener on %s: %w", n.cfg.HTTPAddr(), err)
	}
	if tlsConfig := n.serverTLS(); tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	if err := n.startPGWire(); err != nil {
		_ = ln.Close()
		n.closeStack()
		return err
	}
	if err := n.startDebug(); err != nil {
		_ = ln.Close()
		_ = n.stopPGWire(ctx)
		n.closeStack()
		return err
	}
	n.mu.started = true
	n.mu.httpAddr = ln.Addr().String()
	served := make(chan struct{})
	n.mu.served = served
	go func() {
		defer close(served)
		if err := n.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.logger.Error("HTTP server stopped", "err", err)
		}
	}()
	n.logger.Info("HTTP API listening", "addr", n.mu.httpAddr, "tls", n.cfg.TLSCert != "")
	return nil
}

// makeDataDir creates data_dir (not for an in-memory engine).
func (n *Node) makeDataDir() error {
	if n.inMemory {
		return nil
	}
	if err := os.MkdirAll(n.cfg.DataDir, 0o750); err != nil {
		return errcode.New(errcode.InvalidConfig, "data_dir: cannot create %s: %v", n.cfg.DataDir, err)
	}
	// Spill files of statements that ran before a crash are garbage.
	if err := spill.ResetDir(n.sqlTempDir()); err != nil {
		return errcode.New(errcode.InvalidConfig, "data_dir: %v", err)
	}
	return nil
}

// sqlTempDir is where statements spill (data_dir/sql-temp); "" for an
// in-memory engine, whose statements do not spill.
func (n *Node) sqlTempDir() string {
	if n.inMemory {
		return ""
	}
	return filepath.Join(n.cfg.DataDir, SQLTempDirName)
}

// HTTPAddr is the bound HTTP address (host:port, the real port when the
// configured one was 0); "" before Start.
func (n *Node) HTTPAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.httpAddr
}

// Stop stops accepting connections, lets in-flight requests finish until
// ctx is done (then closes them), and releases everything the node holds.
// It is safe to call more than once and on a node that never started.
func (n *Node) Stop(ctx context.Context) error {
	n.mu.Lock()
	if n.mu.stopped || !n.mu.started {
		n.mu.stopped = true
		n.mu.Unlock()
		return nil
	}
	n.mu.stopped = true
	served := n.mu.served
	n.mu.Unlock()

	_ = n.stopPGWire(ctx) // a ctx expiry cut the remaining connections
	n.stopDebug()
	err := n.http.Shutdown(ctx)
	if err != nil {
		// In-flight requests outlived ctx: cut them.
		_ = n.http.Close()
	}
	<-served
	n.closeStack()
	if err != nil {
		return fmt.Errorf("server: HTTP shutdown: %w", err)
	}
	return nil
}

// clusterStatus is the standalone answer: this node alone, live.
func (n *Node) clusterStatus(context.Context) (httpapi.ClusterStatus, error) {
	if n.cluster != nil {
		return n.cluster.status(n), nil
	}
	id := n.cfg.EffectiveNodeID()
	return httpapi.ClusterStatus{
		NodeID: id,
		Nodes: []httpapi.NodeStatus{{
			ID: id, Name: n.cfg.NodeName, RaftAddress: n.cfg.RaftAddr(), HTTPAddress: n.HTTPAddr(), Live: true,
		}},
		Partitions: n.partitionStatus(),
	}, nil
}

func (n *Node) partitionStatus() []httpapi.PartitionStatus {
	out := []httpapi.PartitionStatus{}
	for _, pid := range n.core.store.PartitionIDs() {
		st, err := n.core.store.Status(pid)
		if err != nil {
			continue
		}
		out = append(out, httpapi.PartitionStatus{
			ID: pid, Leader: st.LeaderID, Term: st.Term, AppliedIndex: st.AppliedIndex,
			Replicas: []uint64{n.cfg.EffectiveNodeID()},
		})
	}
	return out
}

// statusProvider answers /cluster/status, and its consistency checksums.
type statusProvider struct{ n *Node }

func (p statusProvider) ClusterStatus(ctx context.Context) (httpapi.ClusterStatus, error) {
	return p.n.clusterStatus(ctx)
}

// Consistency fingerprints every partition replica of this node.
func (p statusProvider) Consistency(ctx context.Context) ([]httpapi.PartitionChecksum, error) {
	store := p.n.core.store
	var out []httpapi.PartitionChecksum
	for _, pid := range store.PartitionIDs() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cs, err := store.Checksum(pid)
		if err != nil {
			return nil, err
		}
		out = append(out, httpapi.PartitionChecksum{
			ID: pid, AppliedIndex: cs.AppliedIndex, Checksum: fmt.Sprintf("%016x", cs.Sum), Keys: cs.Keys,
		})
	}
	return out, nil
}

// newStats returns the node's planner statistics: refreshed in the
// background, paced (exec/stats_background.go), unless
// stats_flush_interval_ms is 0, which asks for a refresh after every
// change, done inside the statement that made it.
func (n *Node) newStats(c *core) *exec.Stats {
	interval := time.Duration(n.cfg.StatsFlushIntervalMS) * time.Millisecond
	stats := exec.NewStats(sqlDB{c.db}, interval, nil)
	if interval > 0 {
		stats.Background(0)
	}
	return stats
}
