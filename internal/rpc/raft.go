package rpc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/replica"
)

// RaftHandler receives the Raft messages of other nodes (*replica.Store).
type RaftHandler interface {
	Step(partitionID uint64, m *raftpb.Message) error
	ReportUnreachable(partitionID, nodeID uint64)
}

const (
	raftFrameVersion = 1
	// maxFrameBytes bounds the messages batched into one frame (a single
	// larger message, e.g. a snapshot, travels alone).
	maxFrameBytes = 4 << 20
	// maxQueuedMessages bounds one destination's queue; beyond it messages
	// are dropped (Raft retransmits).
	maxQueuedMessages = 10_000
	// keepaliveInterval: an idle peer stream carries an empty frame this
	// often, so the receiver sees the node alive.
	keepaliveInterval = 250 * time.Millisecond
	// LiveWindow is how recently a node must have been heard from to count
	// as live.
	LiveWindow = 2 * time.Second
)

const raftServiceName = "camus.Raft"

// raftStreamDesc is the client stream of Raft frames, one per (sender,
// receiver) pair.
var raftStreamDesc = grpc.StreamDesc{StreamName: "Messages", ClientStreams: true, Handler: raftStreamHandler}

var raftServiceDesc = grpc.ServiceDesc{
	ServiceName: raftServiceName,
	HandlerType: (*any)(nil),
	Streams:     []grpc.StreamDesc{raftStreamDesc, raftSnapshotStreamDesc},
	Metadata:    "internal/rpc/raft.go",
}

const raftStreamMethod = "/" + raftServiceName + "/Messages"

// RaftTransport implements replica.Transport over the Network.
type RaftTransport struct {
	net   *Network
	peers map[uint64]*raftPeer // immutable after construction

	handlerMu sync.RWMutex
	handler   RaftHandler // guarded by handlerMu; nil until SetHandler

	// Snapshots in flight (snapshot.go), per (peer, partition).
	snapMu       sync.Mutex
	snapInflight map[[2]uint64]bool
	snapClosed   bool
	// onSnapshotSent, when set (tests), hears of every snapshot delivered;
	// onSnapshotChunk of every data frame sent (total: bytes so far).
	onSnapshotSent  func(partitionID uint64)
	onSnapshotChunk func(partitionID uint64, total uint64)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ replica.Transport = (*RaftTransport)(nil)

// NewRaftTransport registers the Raft service on net and starts one sender
// goroutine per peer. Call before net.Serve; Close it before net.Close.
func NewRaftTransport(net *Network) *RaftTransport {
	t := &RaftTransport{net: net, peers: map[uint64]*raftPeer{}, snapInflight: map[[2]uint64]bool{}}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	net.Register(&raftServiceDesc, t)
	for _, p := range net.cfg.Peers {
		if p.ID == net.cfg.NodeID {
			continue
		}
		rp := &raftPeer{t: t, id: p.ID, wake: make(chan struct{}, 1)}
		t.peers[p.ID] = rp
		t.wg.Add(1)
		go rp.run()
	}
	return t
}

// SetHandler sets where incoming messages go (the node's replica store,
// which needs the transport to be built first). Messages arriving before
// are dropped.
func (t *RaftTransport) SetHandler(h RaftHandler) {
	t.handlerMu.Lock()
	t.handler = h
	t.handlerMu.Unlock()
}

func (t *RaftTransport) getHandler() RaftHandler {
	t.handlerMu.RLock()
	defer t.handlerMu.RUnlock()
	return t.handler
}

// Close stops the sender goroutines; queued messages are dropped.
func (t *RaftTransport) Close() {
	t.snapMu.Lock()
	t.snapClosed = true
	t.snapMu.Unlock()
	t.cancel()
	t.wg.Wait()
}

// queuedMsg is one marshalled message waiting for its stream.
type queuedMsg struct {
	partitionID uint64
	data        []byte
}

// Send marshals msgs and queues them per destination; it never blocks on
// the network.
func (t *RaftTransport) Send(msgs []replica.Message) {
	for _, m := range msgs {
		to := m.Msg.GetTo()
		p := t.peers[to]
		if p == nil {
			if m.Snap != nil {
				m.Snap.Close()
			}
			continue // not a peer (or ourselves): nothing to do
		}
		if m.Snap != nil {
			t.sendSnapshot(p, m)
			continue
		}
		data, err := proto.Marshal(m.Msg)
		if err != nil {
			t.net.logger.Error("rpc: cannot marshal raft message", "err", err)
			continue
		}
		p.enqueue(queuedMsg{partitionID: m.PartitionID, data: data})
	}
}

// raftPeer is the outgoing queue and stream to one node.
type raftPeer struct {
	t    *RaftTransport
	id   uint64
	wake chan struct{}

	mu struct {
		sync.Mutex
		queue   []queuedMsg // guarded by mu
		dropped map[uint64]bool
	}
}

func (p *raftPeer) enqueue(m queuedMsg) {
	p.mu.Lock()
	if len(p.mu.queue) >= maxQueuedMessages {
		if p.mu.dropped == nil {
			p.mu.dropped = map[uint64]bool{}
		}
		p.mu.dropped[m.partitionID] = true
		p.mu.Unlock()
		return
	}
	p.mu.queue = append(p.mu.queue, m)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// take removes up to maxFrameBytes of queued messages (at least one) and
// the partitions whose messages were dropped since the last call.
func (p *raftPeer) take() (batch []queuedMsg, dropped map[uint64]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	size, n := 0, 0
	for n < len(p.mu.queue) && (n == 0 || size+len(p.mu.queue[n].data) <= maxFrameBytes) {
		size += len(p.mu.queue[n].data)
		n++
	}
	batch = p.mu.queue[:n:n]
	p.mu.queue = p.mu.queue[n:]
	if len(p.mu.queue) == 0 {
		p.mu.queue = nil
	}
	dropped, p.mu.dropped = p.mu.dropped, nil
	return batch, dropped
}

func (p *raftPeer) reportUnreachable(partitions map[uint64]bool) {
	h := p.t.getHandler()
	if h == nil {
		return
	}
	for pid := range partitions {
		h.ReportUnreachable(pid, p.id)
	}
}

// run drains the queue into the stream, reconnecting after errors.
func (p *raftPeer) run() {
	defer p.t.wg.Done()
	ctx := p.t.ctx
	var stream grpc.ClientStream
	cancelStream := func() {}
	defer func() { cancelStream() }()
	keepalive := time.NewTicker(keepaliveInterval)
	defer keepalive.Stop()
	retryDelay := 10 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-keepalive.C:
		}
		for {
			batch, dropped := p.take()
			if len(dropped) > 0 {
				p.reportUnreachable(dropped)
			}
			if stream == nil {
				s, cancel, err := p.openStream(ctx)
				if err != nil {
					p.fail(batch, err, &retryDelay)
					break
				}
				stream, cancelStream = s, cancel
			}
			frame := encodeRaftFrame(p.t.net.cfg.NodeID, p.t.net.Stamp(), batch)
			if err := stream.SendMsg(&Frame{Data: frame}); err != nil {
				cancelStream()
				stream, cancelStream = nil, func() {}
				p.fail(batch, err, &retryDelay)
				break
			}
			retryDelay = 10 * time.Millisecond
			if len(batch) == 0 || p.queueLen() == 0 {
				break
			}
		}
	}
}

// openStream opens a Raft stream to the peer; cancel ends it.
func (p *raftPeer) openStream(ctx context.Context) (grpc.ClientStream, context.CancelFunc, error) {
	conn, err := p.t.net.Conn(p.id)
	if err != nil {
		return nil, nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	stream, err := conn.NewStream(sctx, &raftStreamDesc, raftStreamMethod)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return stream, cancel, nil
}

func (p *raftPeer) queueLen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.mu.queue)
}

// fail drops batch, reports its partitions unreachable and waits a little
// before the next attempt (bounded, and cut short by Close).
func (p *raftPeer) fail(batch []queuedMsg, err error, delay *time.Duration) {
	if len(batch) > 0 {
		parts := map[uint64]bool{}
		for _, m := range batch {
			parts[m.partitionID] = true
		}
		p.reportUnreachable(parts)
	}
	p.t.net.logger.Debug("rpc: raft stream to peer failed", "peer", p.id, "err", err)
	timer := time.NewTimer(*delay)
	defer timer.Stop()
	select {
	case <-p.t.ctx.Done():
	case <-timer.C:
	}
	*delay = min(*delay*2, 500*time.Millisecond)
}

// raftStreamHandler serves one incoming stream.
func raftStreamHandler(srv any, stream grpc.ServerStream) error {
	t := srv.(*RaftTransport)
	for {
		var f Frame
		if err := stream.RecvMsg(&f); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := t.receive(f.Data); err != nil {
			t.net.logger.Warn("rpc: bad raft frame", "err", err)
			return err
		}
	}
}

func (t *RaftTransport) receive(frame []byte) error {
	from, ts, msgs, err := decodeRaftFrame(frame)
	if err != nil {
		return err
	}
	if err := t.net.Receive(from, ts); err != nil {
		return nil // logged by Receive; the messages are dropped
	}
	h := t.getHandler()
	if h == nil {
		return nil
	}
	for _, m := range msgs {
		msg := &raftpb.Message{}
		if err := proto.Unmarshal(m.data, msg); err != nil {
			return fmt.Errorf("rpc: raft message from node %d: %w", from, err)
		}
		// Errors (unknown partition, full inbox, stopped store) drop the
		// message; Raft retransmits.
		_ = h.Step(m.partitionID, msg)
	}
	return nil
}

// errBadFrame is returned for frames that cannot be decoded.
var errBadFrame = errors.New("rpc: malformed raft frame")

// encodeRaftFrame: version | from uvarint | HLC (12 bytes) | count uvarint
// | count × (partition uvarint | length uvarint | message bytes).
func encodeRaftFrame(from uint64, ts hlc.Timestamp, batch []queuedMsg) []byte {
	size := 1 + 2*binary.MaxVarintLen64 + hlc.EncodedLen
	for _, m := range batch {
		size += 2*binary.MaxVarintLen64 + len(m.data)
	}
	b := make([]byte, 0, size)
	b = append(b, raftFrameVersion)
	b = binary.AppendUvarint(b, from)
	b = ts.AppendEncode(b)
	b = binary.AppendUvarint(b, uint64(len(batch)))
	for _, m := range batch {
		b = binary.AppendUvarint(b, m.partitionID)
		b = binary.AppendUvarint(b, uint64(len(m.data)))
		b = append(b, m.data...)
	}
	return b
}

func decodeRaftFrame(b []byte) (from uint64, ts hlc.Timestamp, msgs []queuedMsg, err error) {
	if len(b) < 1 || b[0] != raftFrameVersion {
		return 0, ts, nil, errBadFrame
	}
	b = b[1:]
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	var ok bool
	if from, ok = uvarint(); !ok {
		return 0, ts, nil, errBadFrame
	}
	if ts, err = hlc.Decode(b); err != nil {
		return 0, ts, nil, errBadFrame
	}
	b = b[hlc.EncodedLen:]
	count, ok := uvarint()
	if !ok || count > uint64(len(b)) {
		return 0, ts, nil, errBadFrame
	}
	msgs = make([]queuedMsg, 0, count)
	for range count {
		pid, ok1 := uvarint()
		n, ok2 := uvarint()
		if !ok1 || !ok2 || n > uint64(len(b)) {
			return 0, ts, nil, errBadFrame
		}
		msgs = append(msgs, queuedMsg{partitionID: pid, data: b[:n:n]})
		b = b[n:]
	}
	if len(b) != 0 {
		return 0, ts, nil, errBadFrame
	}
	return from, ts, msgs, nil
}
