package rpc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
)

// The clock offset monitor. Leases are safe only while no two nodes' clocks
// differ by more than MaxClockOffset (docs/safety.md), so every node
// measures its offset from every peer, Cristian-style: it sends its
// physical time, the peer answers with its own, and the offset is the
// peer's reading minus the midpoint of the round trip, give or take half
// the round trip. A node whose offset from a majority of the cluster
// exceeds ClockOffsetTolerance of the maximum is the one out of step, and
// must stop serving (CheckClockOffsets).

// ClockOffsetTolerance is the fraction of MaxClockOffset a measured offset
// may reach before the node counts as out of step with that peer.
const ClockOffsetTolerance = 0.8

// ClockOffset is one measurement of a peer's clock against this node's.
type ClockOffset struct {
	// Offset is the peer's physical clock minus this node's (positive:
	// the peer is ahead).
	Offset time.Duration
	// Uncertainty bounds the error of Offset (half the round trip).
	Uncertainty time.Duration
	// Measured is when (this node's physical time) it was measured.
	Measured time.Time
}

const clockServiceName = "camus.Clock"

var clockServiceDesc = grpc.ServiceDesc{
	ServiceName: clockServiceName,
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Ping", Handler: pingHandler}},
	Metadata:    "internal/rpc/clock.go",
}

// Ping frames: version | uvarint node id | 8-byte physical time (ns).
const pingVersion byte = 1

func encodePing(nodeID uint64, wall int64) []byte {
	b := []byte{pingVersion}
	b = binary.AppendUvarint(b, nodeID)
	return binary.BigEndian.AppendUint64(b, uint64(wall))
}

var errBadPing = errors.New("rpc: malformed clock ping")

func decodePing(b []byte) (nodeID uint64, wall int64, err error) {
	if len(b) == 0 || b[0] != pingVersion {
		return 0, 0, errBadPing
	}
	nodeID, n := binary.Uvarint(b[1:])
	if n <= 0 || len(b) != 1+n+8 {
		return 0, 0, errBadPing
	}
	return nodeID, int64(binary.BigEndian.Uint64(b[1+n:])), nil
}

func pingHandler(srv any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	var req Frame
	if err := dec(&req); err != nil {
		return nil, err
	}
	n := srv.(*Network)
	from, _, err := decodePing(req.Data)
	if err != nil {
		return nil, err
	}
	if _, ok := n.addrs[from]; !ok {
		n.logger.Warn("rpc: clock ping from a node outside the membership", "from", from)
		return nil, fmt.Errorf("%w: %d", ErrUnknownNode, from)
	}
	return &Frame{Data: encodePing(n.cfg.NodeID, n.cfg.Wall())}, nil
}

// clockOffsets is the latest measurement per peer.
type clockOffsets struct {
	mu sync.Mutex
	m  map[uint64]ClockOffset // guarded by mu
}

// MeasureClockOffset measures peer's clock against this node's once.
func (n *Network) MeasureClockOffset(ctx context.Context, peer uint64) (ClockOffset, error) {
	conn, err := n.Conn(peer)
	if err != nil {
		return ClockOffset{}, err
	}
	start := n.cfg.Wall()
	var resp Frame
	if err := conn.Invoke(ctx, "/"+clockServiceName+"/Ping", &Frame{Data: encodePing(n.cfg.NodeID, start)}, &resp); err != nil {
		return ClockOffset{}, err
	}
	end := n.cfg.Wall()
	from, remote, err := decodePing(resp.Data)
	if err != nil {
		return ClockOffset{}, err
	}
	if from != peer {
		return ClockOffset{}, fmt.Errorf("rpc: clock ping to node %d answered by node %d", peer, from)
	}
	rtt := max(end-start, 0)
	m := ClockOffset{
		Offset:      time.Duration(remote - (start + rtt/2)),
		Uncertainty: time.Duration(rtt / 2),
		Measured:    time.Unix(0, end),
	}
	n.offsets.mu.Lock()
	n.offsets.m[peer] = m
	n.offsets.mu.Unlock()
	return m, nil
}

// MeasureClockOffsets measures every peer once, concurrently, each bounded
// by timeout; unreachable peers keep their older measurement.
func (n *Network) MeasureClockOffsets(ctx context.Context, timeout time.Duration) {
	var wg sync.WaitGroup
	for id := range n.addrs {
		if id == n.cfg.NodeID {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			_, _ = n.MeasureClockOffset(cctx, id)
		}()
	}
	wg.Wait()
}

// ClockOffsets returns the latest measurement of each peer measured so far.
func (n *Network) ClockOffsets() map[uint64]ClockOffset {
	n.offsets.mu.Lock()
	defer n.offsets.mu.Unlock()
	out := make(map[uint64]ClockOffset, len(n.offsets.m))
	for id, m := range n.offsets.m {
		out[id] = m
	}
	return out
}

// ErrClockOutOfStep is returned by CheckClockOffsets.
var ErrClockOutOfStep = errors.New("rpc: this node's clock is out of step with a majority of the cluster")

// CheckClockOffsets reports ErrClockOutOfStep when this node's clock is,
// by measurements no older than maxAge, surely further than
// ClockOffsetTolerance × MaxClockOffset from the clocks of a majority of
// the cluster's nodes (counting itself as in step with itself). A node in
// step with a majority is fine even if one peer is far off: that peer is
// the one to stop.
func (n *Network) CheckClockOffsets(maxAge time.Duration) error {
	limit := time.Duration(ClockOffsetTolerance * float64(n.cfg.MaxClockOffset))
	now := time.Unix(0, n.cfg.Wall())
	var far []string
	for id, m := range n.ClockOffsets() {
		if now.Sub(m.Measured) > maxAge {
			continue
		}
		if d := m.Offset.Abs() - m.Uncertainty; d > limit {
			far = append(far, fmt.Sprintf("node %d by %v", id, m.Offset))
		}
	}
	if len(far) > len(n.addrs)/2 {
		return fmt.Errorf("%w: offset beyond %v (0.8 × max_clock_offset_ms) from %v", ErrClockOutOfStep, limit, far)
	}
	return nil
}

// RunClockMonitor measures every peer every interval until ctx ends, and
// calls outOfStep (once) when CheckClockOffsets fails.
func (n *Network) RunClockMonitor(ctx context.Context, interval time.Duration, outOfStep func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n.MeasureClockOffsets(ctx, interval)
		if err := n.CheckClockOffsets(3 * interval); err != nil {
			outOfStep(err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
