package testcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/server"
)

// Options configures a cluster.
type Options struct {
	// Nodes is the number of nodes (default 3).
	Nodes int
	// Partitions is initial_partitions (default 4).
	Partitions int
	// Configure, if set, adjusts each node's configuration (index i).
	Configure func(i int, cfg *server.Config)
	// Logger receives every node's logs (default: discarded).
	Logger *slog.Logger
}

// Node is one member of the cluster.
type Node struct {
	Index    int
	ID       uint64
	DataDir  string
	RaftAddr string
	HTTPAddr string
	cfg      server.Config
	node     *server.Node // nil while stopped
}

// Cluster is a running in-process cluster.
type Cluster struct {
	t      testing.TB
	opts   Options
	client *http.Client

	mu    sync.Mutex
	nodes []*Node // guarded by mu: node pointers are stable, .node changes
}

// Start binds every node's listeners, starts all nodes concurrently and
// waits until each is ready (every partition has a leader).
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Nodes <= 0 {
		opts.Nodes = 3
	}
	if opts.Partitions <= 0 {
		opts.Partitions = 4
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{t: t, opts: opts, client: &http.Client{Timeout: 30 * time.Second}}
	raftLns := make([]net.Listener, opts.Nodes)
	httpLns := make([]net.Listener, opts.Nodes)
	var peers, httpPeers []string
	for i := range opts.Nodes {
		raftLns[i], httpLns[i] = listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
		peers = append(peers, raftLns[i].Addr().String())
		httpPeers = append(httpPeers, httpLns[i].Addr().String())
	}
	root := t.TempDir()
	for i := range opts.Nodes {
		cfg := server.DefaultConfig()
		cfg.Mode = server.ModeCluster
		cfg.DataDir = filepath.Join(root, fmt.Sprintf("n%d", i+1))
		cfg.NodeName = fmt.Sprintf("n%d", i+1)
		cfg.RaftHost, cfg.RaftPort = splitHostPort(t, peers[i])
		cfg.HTTPHost, cfg.HTTPPort = splitHostPort(t, httpPeers[i])
		cfg.PGPort = 0
		cfg.Peers, cfg.HTTPPeers = peers, httpPeers
		cfg.InitialPartitions = opts.Partitions
		if opts.Configure != nil {
			opts.Configure(i, &cfg)
		}
		c.nodes = append(c.nodes, &Node{Index: i, ID: cfg.EffectiveNodeID(), DataDir: cfg.DataDir,
			RaftAddr: peers[i], HTTPAddr: httpPeers[i], cfg: cfg})
	}
	t.Cleanup(c.Stop)
	errs := make([]error, opts.Nodes)
	var wg sync.WaitGroup
	for i := range opts.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.startNode(i, raftLns[i], httpLns[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("testcluster: node %d: %v", i, err)
		}
	}
	for i := range opts.Nodes {
		c.WaitReady(i)
	}
	return c
}

func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("testcluster: listen %s: %v", addr, err)
	}
	return ln
}

func splitHostPort(t testing.TB, addr string) (string, int) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var p int
	fmt.Sscan(port, &p)
	return host, p
}

func (c *Cluster) startNode(i int, raftLn, httpLn net.Listener) error {
	n := c.nodes[i]
	node, err := server.NewNode(n.cfg, c.opts.Logger.With("node", n.ID))
	if err != nil {
		_ = raftLn.Close()
		_ = httpLn.Close()
		return err
	}
	node.UseListeners(raftLn, httpLn)
	if err := node.Start(); err != nil {
		_ = raftLn.Close()
		_ = httpLn.Close()
		return err
	}
	c.mu.Lock()
	n.node = node
	c.mu.Unlock()
	return nil
}

// Len is the number of nodes.
func (c *Cluster) Len() int { return len(c.nodes) }

// Node returns node i.
func (c *Cluster) Node(i int) *Node { return c.nodes[i] }

// URL is node i's HTTP endpoint.
func (c *Cluster) URL(i int) string { return "http://" + c.nodes[i].HTTPAddr }

// URLs are the HTTP endpoints of every node.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.nodes))
	for i := range c.nodes {
		out[i] = c.URL(i)
	}
	return out
}

// Running reports whether node i is started.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i].node != nil
}

// StopNode stops node i cleanly (its data stays).
func (c *Cluster) StopNode(i int) {
	c.t.Helper()
	c.mu.Lock()
	node := c.nodes[i].node
	c.nodes[i].node = nil
	c.mu.Unlock()
	if node == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.Stop(ctx); err != nil {
		c.t.Errorf("testcluster: stopping node %d: %v", i, err)
	}
}

// RestartNode starts a stopped node again on its ports and data, waiting
// until it is ready.
func (c *Cluster) RestartNode(i int) {
	c.t.Helper()
	n := c.nodes[i]
	var raftLn, httpLn net.Listener
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		raftLn, err = net.Listen("tcp", n.RaftAddr)
		if err == nil {
			httpLn, err = net.Listen("tcp", n.HTTPAddr)
			if err != nil {
				_ = raftLn.Close()
			}
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("testcluster: rebinding node %d: %v", i, err)
		}
		time.Sleep(50 * time.Millisecond) // the port is released asynchronously by the kernel
	}
	if err := c.startNode(i, raftLn, httpLn); err != nil {
		c.t.Fatalf("testcluster: restarting node %d: %v", i, err)
	}
	c.WaitReady(i)
}

// Stop stops every running node.
func (c *Cluster) Stop() {
	var wg sync.WaitGroup
	for i := range c.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); c.StopNode(i) }()
	}
	wg.Wait()
}

// Status is the /cluster/status answer.
type Status struct {
	NodeID    uint64 `json:"nodeId"`
	ClusterID string `json:"clusterId"`
	Nodes     []struct {
		ID          uint64 `json:"id"`
		Name        string `json:"name"`
		RaftAddress string `json:"raftAddress"`
		HTTPAddress string `json:"httpAddress"`
		Live        bool   `json:"live"`
	} `json:"nodes"`
	Partitions []struct {
		ID           uint64   `json:"id"`
		Leader       uint64   `json:"leader"`
		Term         uint64   `json:"term"`
		AppliedIndex uint64   `json:"appliedIndex"`
		Replicas     []uint64 `json:"replicas"`
	} `json:"partitions"`
}

// Status fetches node i's /cluster/status.
func (c *Cluster) Status(i int) (*Status, error) {
	resp, err := c.client.Get(c.URL(i) + "/cluster/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// WaitReady waits until node i answers /ping with 200 and every partition
// it reports has a leader.
func (c *Cluster) WaitReady(i int) {
	c.t.Helper()
	c.SucceedsSoon(func() error {
		resp, err := c.client.Get(c.URL(i) + "/ping")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("node %d ping: %d", i, resp.StatusCode)
		}
		st, err := c.Status(i)
		if err != nil {
			return err
		}
		for _, p := range st.Partitions {
			if p.Leader == 0 {
				return fmt.Errorf("node %d: partition %d has no leader", i, p.ID)
			}
		}
		return nil
	})
}

// LeaderOf returns the index of the node that leads partition partitionID
// according to a majority of the running nodes' views (waiting until
// they agree on a running node).
func (c *Cluster) LeaderOf(partitionID uint64) int {
	c.t.Helper()
	leader := -1
	c.SucceedsSoon(func() error {
		votes := map[uint64]int{}
		running := 0
		for i := range c.nodes {
			if !c.Running(i) {
				continue
			}
			running++
			st, err := c.Status(i)
			if err != nil {
				return err
			}
			for _, p := range st.Partitions {
				if p.ID == partitionID && p.Leader != 0 {
					votes[p.Leader]++
				}
			}
		}
		for id, v := range votes {
			idx := c.indexOf(id)
			if v == running && idx >= 0 && c.Running(idx) {
				leader = idx
				return nil
			}
		}
		return fmt.Errorf("no agreed running leader for partition %d: %v", partitionID, votes)
	})
	return leader
}

func (c *Cluster) indexOf(id uint64) int {
	for i, n := range c.nodes {
		if n.ID == id {
			return i
		}
	}
	return -1
}

// SucceedsSoon retries fn with backoff until it returns nil, failing the
// test after 30 s.
func (c *Cluster) SucceedsSoon(fn func() error) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	wait := 10 * time.Millisecond
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("testcluster: condition not met within 30s: %v", err)
		}
		time.Sleep(wait) // backoff between polls of a condition, not synchronisation
		wait = min(wait*2, 250*time.Millisecond)
	}
}
