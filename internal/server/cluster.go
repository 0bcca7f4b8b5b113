package server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/httpapi"
	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvremote"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/rpc"
	"github.com/camusdb/camusdb-go/internal/storage"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// This file wires cluster mode (docs/cluster.md): the node-to-node network
// (internal/rpc) carrying Raft messages and kv requests, and a kv sender
// that routes each request to its partition's leader (internal/kv/kvremote).

// clusterPeer is one member of the static membership.
type clusterPeer struct {
	id                 uint64
	raftAddr, httpAddr string
}

// clusterPeers numbers cfg.Peers: the node at position i has id i+1, except
// this node, which has EffectiveNodeID (--raft-nodeid may override it).
func clusterPeers(cfg Config) ([]clusterPeer, error) {
	self := cfg.EffectiveNodeID()
	selfIndex := cfg.peerIndex()
	peers := make([]clusterPeer, len(cfg.Peers))
	seen := map[uint64]bool{}
	for i, addr := range cfg.Peers {
		id := uint64(i + 1)
		if i == selfIndex {
			id = self
		}
		if seen[id] {
			return nil, errcode.New(errcode.InvalidConfig,
				"invalid configuration: --raft-nodeid %d collides with the position of another peer in peers", self)
		}
		seen[id] = true
		peers[i] = clusterPeer{id: id, raftAddr: addr}
		if len(cfg.HTTPPeers) == len(cfg.Peers) {
			peers[i].httpAddr = cfg.HTTPPeers[i]
		}
	}
	return peers, nil
}

// clusterNode is the cluster half of a Node.
type clusterNode struct {
	self      uint64
	peers     []clusterPeer
	net       *rpc.Network
	transport *rpc.RaftTransport
	kv        *kvremote.Service
	retryWait time.Duration
	store     atomic.Pointer[replica.Store] // set by Attach
	// leaders holds each partition's readiness state (leaderSeen);
	// monoNow reads a monotonic clock in nanoseconds, always > 0 (tests
	// replace it).
	leaders sync.Map
	monoNow func() int64
	// stopMonitor ends the clock offset monitor; monitorDone is closed
	// when it has returned.
	stopMonitor context.CancelFunc
	monitorDone chan struct{}
	// stopClusterID ends establishClusterID; clusterIDDone is closed when
	// it has returned (both nil until it starts).
	stopClusterID context.CancelFunc
	clusterIDDone chan struct{}
	// load and follower move leases to the workload (lease_follow_workload;
	// both nil when it is off); followEvery is the window, stopFollow and
	// followDone end runFollow; followMoves counts the moves asked for.
	load        *kvremote.Load
	follower    *kvremote.Follower
	followEvery time.Duration
	stopFollow  context.CancelFunc
	followDone  chan struct{}
	followMoves atomic.Uint64
	logger      *slog.Logger
}

// clockMonitorInterval is how often a node measures its peers' clocks.
const clockMonitorInterval = 500 * time.Millisecond

// openCluster builds the network, registers the Raft and kv services and
// starts serving them on the raft listener (pre-bound, or raft_host:raft_port).
func (n *Node) openCluster(clock *hlc.Clock, wall hlc.WallClock) (*clusterNode, error) {
	peers, err := clusterPeers(n.cfg)
	if err != nil {
		return nil, err
	}
	rpcPeers := make([]rpc.Peer, len(peers))
	for i, p := range peers {
		rpcPeers[i] = rpc.Peer{ID: p.id, Addr: p.raftAddr}
	}
	serverTLS, clientTLS, err := n.nodeTLS() // auth.go: mutual TLS with certs_dir
	if err != nil {
		return nil, err
	}
	nw, err := rpc.NewNetwork(rpc.Config{
		NodeID: n.cfg.EffectiveNodeID(),
		Peers:  rpcPeers,
		Clock:  clock,
		Wall:   wall,
		Logger: n.logger.With("component", "rpc"),

		ServerTLS: serverTLS,
		ClientTLS: clientTLS,

		MaxClockOffset: time.Duration(n.cfg.MaxClockOffsetMS) * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	cn := &clusterNode{self: n.cfg.EffectiveNodeID(), peers: peers, net: nw, monoNow: monotonicSince(time.Now()),
		logger: n.logger.With("component", "cluster")}
	cn.transport = rpc.NewRaftTransport(nw)
	cn.kv = kvremote.Register(nw)
	if n.cfg.LeaseFollowWorkload {
		ids := make([]uint64, len(peers))
		for i, p := range peers {
			ids[i] = p.id
		}
		cn.load = kvremote.NewLoad(cn.self, ids)
		cn.followEvery = cmp.Or(n.cfg.TestingFollowInterval, time.Second)
		// The minimum is a rate: DefaultFollowMinRequests a second.
		minRequests := max(5, kvremote.DefaultFollowMinRequests*int64(cn.followEvery)/int64(time.Second))
		cn.follower = kvremote.NewFollower(cn.self, kvremote.FollowConfig{MinRequests: minRequests})
		cn.kv.SetLoad(cn.load)
	}
	ln := n.prebound.raft
	n.prebound.raft = nil
	if ln == nil {
		if ln, err = net.Listen("tcp", n.cfg.RaftAddr()); err != nil {
			cn.close()
			return nil, fmt.Errorf("server: raft listener on %s: %w", n.cfg.RaftAddr(), err)
		}
	}
	if err := nw.Serve(ln); err != nil {
		_ = ln.Close()
		cn.close()
		return nil, err
	}
	n.logger.Info("cluster: node-to-node listener", "addr", ln.Addr().String(), "node", cn.self, "peers", len(peers))
	// A node whose clock is out of step with a majority stops rather than
	// risk serving stale reads under its leases (docs/safety.md).
	ctx, stop := context.WithCancel(context.Background())
	cn.stopMonitor, cn.monitorDone = stop, make(chan struct{})
	go func() {
		defer close(cn.monitorDone)
		nw.RunClockMonitor(ctx, clockMonitorInterval, func(err error) {
			n.fail(fmt.Errorf("%w; stopping: clocks must be synchronised (NTP) to within max_clock_offset_ms (%d ms)", err, n.cfg.MaxClockOffsetMS))
		})
	}()
	return cn, nil
}

// configure fills the cluster fields of the core's configuration.
func (cn *clusterNode) configure(cc *coreConfig) {
	cc.Peers = make([]replica.Peer, len(cn.peers))
	for i, p := range cn.peers {
		cc.Peers[i] = replica.Peer{ID: p.id, Addr: p.raftAddr}
	}
	cc.Transport = cn.transport
	cc.Clock = cn.net.Clock()
	cc.Sender = func(local *kvserver.Server) kv.Sender {
		return kvremote.NewSender(kvremote.Config{
			Network:   cn.net,
			Local:     local,
			Leaders:   storeLeaders{cn},
			RetryWait: cn.retryWait,
			Load:      cn.load,
		})
	}
	cc.Attach = func(store *replica.Store, kvs *kvserver.Server) {
		cn.store.Store(store)
		cn.transport.SetHandler(store)
		cn.kv.SetLocal(kvs)
		cn.startFollow(store)
	}
	if cn.follower != nil {
		cc.KeepLeadership = cn.follower.Keep
	}
	cc.BeforeStoreStop = cn.net.StopServing
	cc.OnEngine = cn.loadClusterID
}

// startClusterID runs establishClusterID in the background.
func (cn *clusterNode) startClusterID(db *kv.DB, engine *storage.Engine, fail func(error)) {
	ctx, stop := context.WithCancel(context.Background())
	cn.stopClusterID, cn.clusterIDDone = stop, make(chan struct{})
	go func() {
		defer close(cn.clusterIDDone)
		cn.establishClusterID(ctx, db, engine, fail)
	}()
}

// attachCoordinator lets other nodes probe this node's transactions.
func (cn *clusterNode) attachCoordinator(db *kv.DB) { cn.kv.SetCoordinator(db.CoordinatorStatus) }

// storeLeaders is kvremote.Leaders over the node's Raft view.
type storeLeaders struct{ cn *clusterNode }

func (l storeLeaders) Leader(partitionID uint64) uint64 {
	store := l.cn.store.Load()
	if store == nil {
		return 0
	}
	st, err := store.Status(partitionID)
	if err != nil {
		return 0
	}
	return st.LeaderID
}

// close stops the transport and the network (after the core closed).
// stopClusterIDWorker stops establishClusterID and waits for it (before
// the engine and kv.DB it uses close); idempotent.
func (cn *clusterNode) stopClusterIDWorker() {
	if cn.stopClusterID != nil {
		cn.stopClusterID()
		<-cn.clusterIDDone
	}
}

// startFollow runs runFollow in the background (lease_follow_workload).
func (cn *clusterNode) startFollow(store *replica.Store) {
	if cn.follower == nil || cn.stopFollow != nil {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	cn.stopFollow, cn.followDone = stop, make(chan struct{})
	go func() {
		defer close(cn.followDone)
		cn.runFollow(ctx, store)
	}()
}

// runFollow closes a window of request counts every followEvery and
// applies the follower's decisions: a partition's lease moves to the node
// most of its requests come from (kvremote.Follower has the rules).
func (cn *clusterNode) runFollow(ctx context.Context, store *replica.Store) {
	tick := time.NewTicker(cn.followEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, id := range store.PartitionIDs() {
			st, err := store.Status(id)
			if err != nil {
				continue
			}
			role := kvremote.Role{Leads: st.Ready && st.Lease.Holder == cn.self, RaftLeader: st.Leader}
			act := cn.follower.Decide(id, cn.load.Take(id), role)
			switch {
			case act.MoveTo != 0:
				cn.followMoves.Add(1)
				cn.logger.Info("cluster: moving a partition's lease to the node its requests come from",
					"partition", id, "to", act.MoveTo)
				_ = store.TransferLease(id, act.MoveTo)
			case act.Withdraw:
				_ = store.TransferLease(id, 0)
			}
		}
	}
}

func (cn *clusterNode) close() {
	if cn.stopFollow != nil {
		cn.stopFollow()
		<-cn.followDone
	}
	cn.stopClusterIDWorker()
	cn.stopMonitor()
	<-cn.monitorDone
	cn.transport.Close()
	cn.net.Close()
}

// waitLeader waits until some node leads the partition (cluster start-up:
// this node need not be the leader).
func waitLeader(ctx context.Context, store *replica.Store, partitionID uint64) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := store.Status(partitionID)
		if err != nil {
			return err
		}
		if st.LeaderID != 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// ready: every partition has had a known leader, and none has lacked one
// for leaderlessGrace or longer (as seen by the requests that asked).
func (cn *clusterNode) ready(store *replica.Store) bool {
	return cn.readyOf(store.PartitionIDs(), store.Status)
}

func (cn *clusterNode) readyOf(ids []uint64, status func(uint64) (replica.Status, error)) bool {
	var now int64 // read once, when a partition has no leader
	for _, id := range ids {
		st, err := status(id)
		if err != nil {
			return false
		}
		seen := cn.leaderSeen(id)
		if st.LeaderID != 0 {
			if seen.Load() != leaderKnown {
				seen.Store(leaderKnown)
			}
			continue
		}
		// No leader at this moment. A leadership transfer (balancing,
		// a restart) leaves a partition leaderless on its followers for a
		// few messages: requests then wait in the kv sender's re-routing
		// rather than being refused. Only a partition that never had a
		// leader here, or has had none for an election timeout (the node
		// is cut off from the majority), makes the node unready.
		last := seen.Load()
		if last == leaderNeverKnown {
			return false
		}
		if now == 0 {
			now = cn.monoNow()
		}
		if last == leaderKnown {
			seen.CompareAndSwap(leaderKnown, now)
		} else if now-last >= int64(leaderlessGrace) {
			return false
		}
	}
	return true
}

// leaderlessGrace is how long a partition may have no known leader before
// the node answers "not ready": the election timeout, after which a node
// that still knows no leader cannot reach a majority.
const leaderlessGrace = time.Duration(replica.DefaultElectionTicks) * replica.DefaultTickInterval

// monotonicSince reads the monotonic clock as nanoseconds since start, plus
// one (so never 0: leaderNeverKnown).
func monotonicSince(start time.Time) func() int64 {
	return func() int64 { return int64(time.Since(start)) + 1 }
}

const (
	leaderNeverKnown = 0
	leaderKnown      = -1
)

// leaderSeen is the partition's readiness state for ready:
// leaderNeverKnown, leaderKnown, or the time (cn.monoNow) since which no
// leader is known.
func (cn *clusterNode) leaderSeen(id uint64) *atomic.Int64 {
	if v, ok := cn.leaders.Load(id); ok {
		return v.(*atomic.Int64)
	}
	v, _ := cn.leaders.LoadOrStore(id, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// status answers /cluster/status for a cluster node.
func (cn *clusterNode) status(n *Node) httpapi.ClusterStatus {
	nodes := make([]httpapi.NodeStatus, 0, len(cn.peers))
	replicas := make([]uint64, 0, len(cn.peers))
	for _, p := range cn.peers {
		ns := httpapi.NodeStatus{
			ID: p.id, RaftAddress: p.raftAddr, HTTPAddress: p.httpAddr,
			Live: time.Since(cn.net.LastHeard(p.id)) < rpc.LiveWindow,
		}
		if p.id == cn.self {
			ns.Name, ns.HTTPAddress, ns.Live = n.cfg.NodeName, n.HTTPAddr(), true
		}
		nodes = append(nodes, ns)
		replicas = append(replicas, p.id)
	}
	parts := n.partitionStatus()
	for i := range parts {
		parts[i].Replicas = replicas
	}
	return httpapi.ClusterStatus{NodeID: cn.self, ClusterID: cn.net.ClusterID(), Nodes: nodes, Partitions: parts}
}

// UseListeners makes Start serve on already-bound listeners instead of
// binding raft_host:raft_port and http_host:http_port (either may be nil).
// Test harnesses bind 127.0.0.1:0 first, so that every node's peer list can
// name the real ports before any node starts. Call before Start.
func (n *Node) UseListeners(raft, http net.Listener) {
	n.prebound.raft, n.prebound.http = raft, http
}

// httpListener returns the pre-bound HTTP listener or binds http_host:http_port.
func (n *Node) httpListener() (net.Listener, error) {
	if ln := n.prebound.http; ln != nil {
		n.prebound.http = nil
		return ln, nil
	}
	return net.Listen("tcp", n.cfg.HTTPAddr())
}
