package rpc

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/camusdb/camusdb-go/internal/hlc"
)

// DefaultMaxClockOffset is the largest clock skew tolerated between nodes.
const DefaultMaxClockOffset = 500 * time.Millisecond

// Peer is one node of the static membership.
type Peer struct {
	ID   uint64
	Addr string // host:port of its gRPC listener
}

// Config configures a Network.
type Config struct {
	// NodeID is this node's id; it must appear in Peers.
	NodeID uint64
	// Peers is the static membership, this node included.
	Peers []Peer
	// Clock is the node's HLC: stamped on every outgoing frame and forwarded
	// by every incoming one.
	Clock *hlc.Clock
	// MaxClockOffset (default DefaultMaxClockOffset): a frame stamped further
	// ahead of this node's physical time is rejected.
	MaxClockOffset time.Duration
	// Wall is the physical time the offset check compares with (default
	// hlc.UnixNano); tests inject a manual one.
	Wall hlc.WallClock
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// ServerTLS and ClientTLS, when set, make node-to-node traffic mutual
	// TLS: the server requires a client certificate signed by the cluster
	// CA (ServerTLS.ClientCAs, RequireAndVerifyClientCert) and dialers
	// present theirs and verify the peer against the CA (ClientTLS). Set
	// both or neither.
	ServerTLS *tls.Config
	ClientTLS *tls.Config
}

// ErrClockOffset is returned for a frame stamped too far in the future.
var ErrClockOffset = errors.New("rpc: remote clock is ahead by more than the maximum offset")

// ErrUnknownNode is returned for a node id outside the membership.
var ErrUnknownNode = errors.New("rpc: unknown node")

// Network is one node's end of the cluster network: its gRPC server, a
// client connection per peer, the HLC exchange and the liveness table.
type Network struct {
	cfg    Config
	logger *slog.Logger
	server *grpc.Server
	addrs  map[uint64]string
	// heard holds, per peer, the Unix nanoseconds of the last frame received
	// from it (0 = never). The map itself is immutable after NewNetwork.
	heard map[uint64]*atomic.Int64
	// offsets are the clock offset measurements (clock.go).
	offsets clockOffsets
	// unknownLogged: a frame from an unknown node was logged already.
	unknownLogged atomic.Bool
	// clusterID is this node's cluster id (clusterid.go); foreignLogged
	// holds the other clusters' ids already logged.
	clusterID     atomic.Pointer[string]
	foreignMu     sync.Mutex
	foreignLogged map[string]bool
	// callHandler serves other nodes' calls; mux holds this node's call
	// streams to them (mux.go).
	callHandler atomic.Pointer[CallHandler]
	mux         muxClients

	mu struct {
		sync.Mutex
		conns   map[uint64]*grpc.ClientConn // guarded by mu: lazily dialled
		serving bool
		closed  bool
		served  chan struct{} // closed when Serve's goroutine returns
	}
}

// NewNetwork validates cfg and builds the server; nothing listens until
// Serve. Services register on it with Register before Serve.
func NewNetwork(cfg Config) (*Network, error) {
	if cfg.MaxClockOffset <= 0 {
		cfg.MaxClockOffset = DefaultMaxClockOffset
	}
	if cfg.Wall == nil {
		cfg.Wall = hlc.UnixNano
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		return nil, errors.New("rpc: a clock is required")
	}
	if (cfg.ServerTLS == nil) != (cfg.ClientTLS == nil) {
		return nil, errors.New("rpc: ServerTLS and ClientTLS must be set together")
	}
	n := &Network{
		cfg:    cfg,
		logger: cfg.Logger,
		addrs:  make(map[uint64]string, len(cfg.Peers)),
		heard:  make(map[uint64]*atomic.Int64, len(cfg.Peers)),
	}
	serverOpts := append(ServerOptions(), grpc.WaitForHandlers(true),
		grpc.ChainUnaryInterceptor(n.unaryServerCheck), grpc.ChainStreamInterceptor(n.streamServerCheck))
	if cfg.ServerTLS != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(cfg.ServerTLS)))
	}
	n.server = grpc.NewServer(serverOpts...)
	for _, p := range cfg.Peers {
		if p.ID == 0 || p.Addr == "" {
			return nil, fmt.Errorf("rpc: bad peer %+v", p)
		}
		if _, dup := n.addrs[p.ID]; dup {
			return nil, fmt.Errorf("rpc: duplicate peer id %d", p.ID)
		}
		n.addrs[p.ID] = p.Addr
		n.heard[p.ID] = new(atomic.Int64)
	}
	if _, ok := n.addrs[cfg.NodeID]; !ok {
		return nil, fmt.Errorf("rpc: node %d is not among the peers", cfg.NodeID)
	}
	n.mu.conns = make(map[uint64]*grpc.ClientConn)
	n.offsets.m = make(map[uint64]ClockOffset)
	n.server.RegisterService(&clockServiceDesc, n)
	n.server.RegisterService(&muxServiceDesc, n)
	return n, nil
}

// NodeID is this node's id.
func (n *Network) NodeID() uint64 { return n.cfg.NodeID }

// Clock is the node's HLC.
func (n *Network) Clock() *hlc.Clock { return n.cfg.Clock }

// Peers returns the membership, sorted by id.
func (n *Network) Peers() []Peer {
	out := slices.Clone(n.cfg.Peers)
	slices.SortFunc(out, func(a, b Peer) int { return int(a.ID) - int(b.ID) })
	return out
}

// Register adds a service to the server. Call it before Serve.
func (n *Network) Register(desc *grpc.ServiceDesc, impl any) {
	n.server.RegisterService(desc, impl)
}

// Serve serves the registered services on ln in a goroutine until Close.
func (n *Network) Serve(ln net.Listener) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mu.closed {
		return errors.New("rpc: network closed")
	}
	if n.mu.serving {
		return errors.New("rpc: already serving")
	}
	n.mu.serving = true
	served := make(chan struct{})
	n.mu.served = served
	go func() {
		defer close(served)
		if err := n.server.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			n.logger.Error("rpc: server stopped", "err", err)
		}
	}()
	return nil
}

// connectBackoff retries a lost peer quickly: a restarted node must be
// reachable again within about a second, not grpc's default two minutes.
var connectBackoff = backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second}

// Conn returns the (shared, lazily created) client connection to a peer.
// Creating it does not connect; calls connect on demand.
func (n *Network) Conn(nodeID uint64) (*grpc.ClientConn, error) {
	addr, ok := n.addrs[nodeID]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrUnknownNode, nodeID)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.mu.closed {
		return nil, errors.New("rpc: network closed")
	}
	if c := n.mu.conns[nodeID]; c != nil {
		return c, nil
	}
	creds := insecure.NewCredentials()
	if n.cfg.ClientTLS != nil {
		creds = credentials.NewTLS(n.cfg.ClientTLS)
	}
	c, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(callOptions()...),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: connectBackoff, MinConnectTimeout: time.Second}),
		grpc.WithChainUnaryInterceptor(n.unaryClientStamp),
		grpc.WithChainStreamInterceptor(n.streamClientStamp),
	)
	if err != nil {
		return nil, fmt.Errorf("rpc: dial node %d at %s: %w", nodeID, addr, err)
	}
	n.mu.conns[nodeID] = c
	return c, nil
}

// Stamp returns the timestamp to put on an outgoing frame.
func (n *Network) Stamp() hlc.Timestamp { return n.cfg.Clock.Now() }

// Receive checks the timestamp of a frame from node from: more than
// MaxClockOffset ahead of local physical time is rejected with
// ErrClockOffset (and logged); otherwise the clock is forwarded to it and
// the node is marked heard.
func (n *Network) Receive(from uint64, ts hlc.Timestamp) error {
	h := n.heard[from]
	if h == nil || from == n.cfg.NodeID {
		if !n.unknownLogged.Swap(true) {
			n.logger.Warn("rpc: refusing frames from a node outside the membership (logged once)", "from", from)
		}
		return fmt.Errorf("%w: %d", ErrUnknownNode, from)
	}
	now := n.cfg.Wall()
	if ts.WallTime-now > int64(n.cfg.MaxClockOffset) {
		n.logger.Warn("rpc: rejecting message from a node whose clock is too far ahead",
			"from", from, "ahead", time.Duration(ts.WallTime-now), "max", n.cfg.MaxClockOffset)
		return fmt.Errorf("%w: node %d is %v ahead", ErrClockOffset, from, time.Duration(ts.WallTime-now))
	}
	n.cfg.Clock.Update(ts)
	h.Store(time.Now().UnixNano())
	return nil
}

// LastHeard is when a frame from nodeID was last received (zero if never).
// This node always counts as heard now.
func (n *Network) LastHeard(nodeID uint64) time.Time {
	if nodeID == n.cfg.NodeID {
		return time.Now()
	}
	h := n.heard[nodeID]
	if h == nil || h.Load() == 0 {
		return time.Time{}
	}
	return time.Unix(0, h.Load())
}

// StopServing stops the server: open streams and calls are cut (their
// contexts cancelled) and StopServing waits for their handlers to return,
// so nothing reaches the node's state afterwards. Client connections stay
// usable until Close.
func (n *Network) StopServing() {
	n.mu.Lock()
	served := n.mu.served
	n.mu.Unlock()
	n.server.Stop()
	if served != nil {
		<-served
	}
}

// Close stops the server (cutting open streams) and closes every client
// connection. Services' own goroutines must be stopped first.
func (n *Network) Close() {
	n.mu.Lock()
	if n.mu.closed {
		n.mu.Unlock()
		return
	}
	n.mu.closed = true
	conns := n.mu.conns
	n.mu.conns = nil
	served := n.mu.served
	n.mu.Unlock()
	n.server.Stop()
	if served != nil {
		<-served
	}
	n.closeMux()
	for _, c := range conns {
		_ = c.Close()
	}
}
