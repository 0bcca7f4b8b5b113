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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camusdb/camusdb-go/internal/httpapi"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Node is one CamusDB server process: its listeners and, once wired, its
// storage, replicas, kv and SQL layers.
//
// PLACEHOLDER: this version serves the HTTP API with an Executor that answers
// every SQL request with CADB0099 "not wired"; /ping, /metrics and
// /cluster/status are real. The storage+replica+kv+session composition
// replaces notWiredExecutor without changing the exported API below.
type Node struct {
	cfg      Config
	logger   *slog.Logger
	registry *prometheus.Registry
	api      *httpapi.Server
	http     *http.Server

	mu struct {
		sync.Mutex
		started  bool
		stopped  bool
		httpAddr string        // bound address, set by Start
		served   chan struct{} // closed when the HTTP serve loop returns
	}
}

// NewNode validates cfg and builds a node; nothing is bound or started.
func NewNode(cfg Config, logger *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg, logger: logger, registry: prometheus.NewRegistry()}
	api, err := httpapi.New(httpapi.Options{
		Executor:       notWiredExecutor{},
		Status:         httpapi.StatusFunc(n.clusterStatus),
		Ready:          func() bool { return true },
		MaxBodyBytes:   cfg.HTTPMaxBodyBytes,
		RequestTimeout: time.Duration(cfg.HTTPRequestTimeoutMS) * time.Millisecond,
		Registry:       n.registry,
		Logger:         logger.With("component", "httpapi"),
	})
	if err != nil {
		return nil, err
	}
	n.api = api
	n.http = &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return n, nil
}

// Start creates the data directory, binds the listeners and starts serving,
// then returns. It fails if a listener cannot be bound (nothing is left
// running in that case). A node starts at most once.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mu.started {
		return errors.New("server: node already started")
	}
	if err := os.MkdirAll(n.cfg.DataDir, 0o750); err != nil {
		return errcode.New(errcode.InvalidConfig, "data_dir: cannot create %s: %v", n.cfg.DataDir, err)
	}
	ln, err := net.Listen("tcp", n.cfg.HTTPAddr())
	if err != nil {
		return fmt.Errorf("server: HTTP listener on %s: %w", n.cfg.HTTPAddr(), err)
	}
	if n.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(n.cfg.TLSCert, n.cfg.TLSKey)
		if err != nil {
			_ = ln.Close()
			return errcode.New(errcode.InvalidConfig, "tls_cert/tls_key: %v", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
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

	err := n.http.Shutdown(ctx)
	if err != nil {
		// In-flight requests outlived ctx: cut them.
		_ = n.http.Close()
	}
	<-served
	if err != nil {
		return fmt.Errorf("server: HTTP shutdown: %w", err)
	}
	return nil
}

// clusterStatus is the standalone answer: this node alone, live.
func (n *Node) clusterStatus(context.Context) (httpapi.ClusterStatus, error) {
	id := n.cfg.EffectiveNodeID()
	return httpapi.ClusterStatus{
		NodeID: id,
		Nodes: []httpapi.NodeStatus{{
			ID: id, Name: n.cfg.NodeName, RaftAddress: n.cfg.RaftAddr(), HTTPAddress: n.HTTPAddr(), Live: true,
		}},
		Partitions: []httpapi.PartitionStatus{},
	}, nil
}

// notWiredExecutor stands in for the SQL layer until the node composes it.
type notWiredExecutor struct{}

func errNotWired() error {
	return errcode.New(errcode.Internal, "SQL execution is not wired into this node yet")
}

func (notWiredExecutor) Execute(context.Context, session.Request) (*session.Result, error) {
	return nil, errNotWired()
}

func (notWiredExecutor) Begin(context.Context, string) (session.TxnHandle, error) {
	return session.TxnHandle{}, errNotWired()
}

func (notWiredExecutor) Commit(context.Context, session.TxnHandle) error   { return errNotWired() }
func (notWiredExecutor) Rollback(context.Context, session.TxnHandle) error { return errNotWired() }
