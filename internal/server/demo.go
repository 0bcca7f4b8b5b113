package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"
)

// This file is the cluster behind `camusdb demo` (SPEC §1): N nodes in this
// process, each with an in-memory engine, talking over loopback on ports
// the kernel picks. Nothing is written to disk; everything is gone when the
// cluster stops (or the process exits).

// DemoOptions configures StartDemoCluster. Zero values take the defaults.
type DemoOptions struct {
	// Nodes is the number of nodes (default 3). One node runs standalone.
	Nodes int
	// Partitions is initial_partitions (default 3).
	Partitions int
	// Host is the loopback address every listener binds (default 127.0.0.1).
	Host string
	// Configure, if set, adjusts node i's configuration before it starts.
	Configure func(i int, cfg *Config)
	// Logger receives every node's logs, with a "node" attribute (default:
	// discarded).
	Logger *slog.Logger
}

// Demo defaults.
const (
	DemoDefaultNodes      = 3
	DemoDefaultPartitions = 3
	demoMaxNodes          = 9
)

// DemoCluster is a running in-process cluster of in-memory nodes.
type DemoCluster struct {
	nodes []*Node
}

// StartDemoCluster binds every node's listeners, starts the nodes and waits
// (bounded by ctx) until every node is ready: every partition has a leader.
// On failure nothing is left running.
func StartDemoCluster(ctx context.Context, opts DemoOptions) (*DemoCluster, error) {
	if opts.Nodes == 0 {
		opts.Nodes = DemoDefaultNodes
	}
	if opts.Partitions == 0 {
		opts.Partitions = DemoDefaultPartitions
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Nodes < 1 || opts.Nodes > demoMaxNodes {
		return nil, fmt.Errorf("demo: --nodes must be between 1 and %d, got %d", demoMaxNodes, opts.Nodes)
	}
	if opts.Partitions < 1 {
		return nil, fmt.Errorf("demo: --partitions must be at least 1, got %d", opts.Partitions)
	}

	raftLns, httpLns, err := demoListeners(opts.Host, opts.Nodes)
	if err != nil {
		return nil, err
	}
	peers := make(PeerList, opts.Nodes)
	httpPeers := make(PeerList, opts.Nodes)
	for i := range opts.Nodes {
		peers[i], httpPeers[i] = raftLns[i].Addr().String(), httpLns[i].Addr().String()
	}
	c := &DemoCluster{nodes: make([]*Node, opts.Nodes)}
	for i := range opts.Nodes {
		cfg, err := demoConfig(opts, i, peers, httpPeers)
		if err == nil {
			c.nodes[i], err = NewNode(cfg, opts.Logger.With("node", i+1))
		}
		if err != nil {
			closeListeners(raftLns, httpLns)
			return nil, fmt.Errorf("demo: node %d: %w", i+1, err)
		}
		c.nodes[i].inMemory = true
		if opts.Nodes > 1 {
			c.nodes[i].UseListeners(raftLns[i], httpLns[i])
		} else {
			_ = raftLns[i].Close() // standalone: no node-to-node traffic
			c.nodes[i].UseListeners(nil, httpLns[i])
		}
	}

	// Cluster nodes wait for each other's votes while starting, so they
	// start concurrently.
	errs := make([]error, opts.Nodes)
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = n.Start(); errs[i] != nil {
				// Start failed before serving: close what it did not take.
				closeListeners([]net.Listener{n.prebound.raft}, []net.Listener{n.prebound.http})
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		_ = c.Stop(context.Background())
		return nil, fmt.Errorf("demo: starting the cluster: %w", err)
	}
	if err := c.waitReady(ctx); err != nil {
		_ = c.Stop(context.Background())
		return nil, fmt.Errorf("demo: cluster not ready: %w", err)
	}
	return c, nil
}

// demoListeners binds a raft and an HTTP listener per node on host:0, so
// every node's peer list can name the real ports before any node starts.
func demoListeners(host string, nodes int) (raft, http []net.Listener, err error) {
	for range nodes {
		var r, h net.Listener
		if r, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err == nil {
			if h, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
				_ = r.Close()
			}
		}
		if err != nil {
			closeListeners(raft, http)
			return nil, nil, fmt.Errorf("demo: listen on %s: %w", host, err)
		}
		raft, http = append(raft, r), append(http, h)
	}
	return raft, http, nil
}

func closeListeners(lists ...[]net.Listener) {
	for _, list := range lists {
		for _, ln := range list {
			if ln != nil {
				_ = ln.Close()
			}
		}
	}
}

// demoConfig is node i's configuration.
func demoConfig(opts DemoOptions, i int, peers, httpPeers PeerList) (Config, error) {
	cfg := DefaultConfig()
	cfg.NodeName = "demo-n" + strconv.Itoa(i+1)
	cfg.DataDir = cfg.NodeName // a path inside the node's in-memory filesystem
	cfg.InitialPartitions = opts.Partitions
	cfg.PGPort = 0
	var err error
	if cfg.HTTPHost, cfg.HTTPPort, err = splitPort(httpPeers[i]); err != nil {
		return Config{}, err
	}
	if len(peers) > 1 {
		cfg.Mode = ModeCluster
		cfg.Peers, cfg.HTTPPeers = peers, httpPeers
		if cfg.RaftHost, cfg.RaftPort, err = splitPort(peers[i]); err != nil {
			return Config{}, err
		}
	}
	if opts.Configure != nil {
		opts.Configure(i, &cfg)
	}
	return cfg, nil
}

func splitPort(addr string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(portText)
	return host, port, err
}

// waitReady polls every node until it is ready or ctx ends.
func (c *DemoCluster) waitReady(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		notReady := -1
		for i, n := range c.nodes {
			if !n.ready() {
				notReady = i
				break
			}
		}
		if notReady < 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %d: %w", notReady+1, ctx.Err())
		case <-tick.C:
		}
	}
}

// HTTPAddrs are the nodes' HTTP API addresses (host:port), in node order.
func (c *DemoCluster) HTTPAddrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.HTTPAddr()
	}
	return out
}

// Stop stops every node (concurrently: a cluster node's shutdown may wait
// for its peers) and frees their memory. ctx bounds how long in-flight
// requests may finish. Safe to call more than once.
func (c *DemoCluster) Stop(ctx context.Context) error {
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.Stop(ctx); err != nil {
				errs[i] = fmt.Errorf("node %d: %w", i+1, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
