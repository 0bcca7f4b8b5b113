package rpc

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/replica"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a RaftHandler that records what it receives.
type recorder struct {
	mu          sync.Mutex
	got         []uint64 // message indexes, in arrival order
	unreachable map[uint64]bool
	changed     chan struct{}
	// snaps: the data of every snapshot received, per partition.
	snaps map[uint64][]byte
}

func newRecorder() *recorder {
	return &recorder{unreachable: map[uint64]bool{}, changed: make(chan struct{}, 1), snaps: map[uint64][]byte{}}
}

func (r *recorder) Step(partitionID uint64, m *raftpb.Message) error {
	r.mu.Lock()
	r.got = append(r.got, m.GetIndex())
	if m.GetType() == raftpb.MsgSnap {
		r.snaps[partitionID] = m.GetSnapshot().GetData()
	}
	r.mu.Unlock()
	r.signal()
	return nil
}

func (r *recorder) ReportUnreachable(partitionID, nodeID uint64) {
	r.mu.Lock()
	r.unreachable[nodeID] = true
	r.mu.Unlock()
	r.signal()
}

func (r *recorder) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// waitFor waits until cond (called under r.mu) holds.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

type testNode struct {
	net       *Network
	transport *RaftTransport
	handler   *recorder
	clock     *hlc.Clock
}

// loopbackPeers binds n loopback listeners on free ports: the membership
// of nodes 1..n and the listener each will serve on.
func loopbackPeers(t testing.TB, n int) ([]net.Listener, []Peer) {
	t.Helper()
	lns := make([]net.Listener, n)
	peers := make([]Peer, n)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i], peers[i] = ln, Peer{ID: uint64(i + 1), Addr: ln.Addr().String()}
	}
	return lns, peers
}

// newTestNodes starts n nodes on pre-bound loopback listeners.
func newTestNodes(t *testing.T, n int, wall func(id uint64) hlc.WallClock) []*testNode {
	t.Helper()
	lns, peers := loopbackPeers(t, n)
	nodes := make([]*testNode, n)
	for i := range n {
		id := uint64(i + 1)
		var w hlc.WallClock
		if wall != nil {
			w = wall(id)
		}
		clock := hlc.NewClock(w)
		nw, err := NewNetwork(Config{NodeID: id, Peers: peers, Clock: clock, Wall: w})
		if err != nil {
			t.Fatal(err)
		}
		tr := NewRaftTransport(nw)
		h := newRecorder()
		tr.SetHandler(h)
		if err := nw.Serve(lns[i]); err != nil {
			t.Fatal(err)
		}
		nodes[i] = &testNode{net: nw, transport: tr, handler: h, clock: clock}
		t.Cleanup(func() { tr.Close(); nw.Close() })
	}
	return nodes
}

func msg(to, index uint64) replica.Message {
	return replica.Message{PartitionID: 1, Msg: &raftpb.Message{Type: raftpb.MsgApp.Enum(), To: proto.Uint64(to), From: proto.Uint64(1), Index: proto.Uint64(index)}}
}

func TestRaftMessagesArriveInOrder(t *testing.T) {
	nodes := newTestNodes(t, 2, nil)
	const total = 5000
	for i := uint64(1); i <= total; i += 100 {
		batch := make([]replica.Message, 0, 100)
		for j := i; j < i+100; j++ {
			batch = append(batch, msg(2, j))
		}
		nodes[0].transport.Send(batch)
	}
	h := nodes[1].handler
	h.waitFor(t, "all messages", func() bool { return len(h.got) == total })
	for i, idx := range h.got {
		if idx != uint64(i+1) {
			t.Fatalf("message %d has index %d: order not kept", i, idx)
		}
	}
	// The receiver heard from the sender (liveness) and its clock moved
	// past the sender's stamp.
	if time.Since(nodes[1].net.LastHeard(1)) > LiveWindow {
		t.Fatal("node 2 did not mark node 1 heard")
	}
}

func TestRaftUnreachablePeerIsReported(t *testing.T) {
	nodes := newTestNodes(t, 2, nil)
	nodes[1].transport.Close()
	nodes[1].net.Close()
	nodes[0].transport.Send([]replica.Message{msg(2, 1)})
	h := nodes[0].handler
	h.waitFor(t, "unreachable report", func() bool { return h.unreachable[2] })
}

func TestReceiveRejectsClockFarAhead(t *testing.T) {
	base := time.Now().UnixNano()
	wall := hlc.NewManualClock(base)
	clock := hlc.NewClock(wall.UnixNano)
	nw, err := NewNetwork(Config{NodeID: 1, Peers: []Peer{{1, "127.0.0.1:1"}, {2, "127.0.0.1:2"}}, Clock: clock, Wall: wall.UnixNano})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	ahead := hlc.Timestamp{WallTime: base + int64(DefaultMaxClockOffset) + 1}
	if err := nw.Receive(2, ahead); !errors.Is(err, ErrClockOffset) {
		t.Fatalf("frame %v ahead: got %v, want ErrClockOffset", DefaultMaxClockOffset, err)
	}
	if clock.Peek().WallTime >= ahead.WallTime || !nw.LastHeard(2).IsZero() {
		t.Fatal("a rejected frame moved the clock or marked the node heard")
	}
	within := hlc.Timestamp{WallTime: base + int64(DefaultMaxClockOffset) - 1, Logical: 3}
	if err := nw.Receive(2, within); err != nil {
		t.Fatal(err)
	}
	if now := clock.Now(); !within.Less(now) {
		t.Fatalf("clock %v not forwarded past %v", now, within)
	}
	if nw.LastHeard(2).IsZero() {
		t.Fatal("accepted frame did not mark node 2 heard")
	}
	// Frames claiming to come from outside the membership (or from this
	// node itself) are refused and leave the clock alone.
	for _, from := range []uint64{9, 1} {
		if err := nw.Receive(from, hlc.Timestamp{WallTime: base + 100}); !errors.Is(err, ErrUnknownNode) {
			t.Fatalf("frame from node %d: %v, want ErrUnknownNode", from, err)
		}
	}
}

func TestRaftFrameRoundTrip(t *testing.T) {
	ts := hlc.Timestamp{WallTime: 42, Logical: 7}
	in := []queuedMsg{{partitionID: 3, data: []byte("abc")}, {partitionID: 1, data: nil}}
	from, gotTS, out, err := decodeRaftFrame(encodeRaftFrame(9, ts, in))
	if err != nil || from != 9 || gotTS != ts || len(out) != 2 || string(out[0].data) != "abc" || out[1].partitionID != 1 {
		t.Fatalf("round trip: %v %v %v %+v", err, from, gotTS, out)
	}
}

func FuzzDecodeRaftFrame(f *testing.F) {
	f.Add(encodeRaftFrame(1, hlc.Timestamp{WallTime: 1}, []queuedMsg{{partitionID: 2, data: []byte{1, 2}}}))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _, _ = decodeRaftFrame(b)
	})
}

func BenchmarkRaftSend(b *testing.B) {
	lnA, _ := net.Listen("tcp", "127.0.0.1:0")
	lnB, _ := net.Listen("tcp", "127.0.0.1:0")
	peers := []Peer{{1, lnA.Addr().String()}, {2, lnB.Addr().String()}}
	var trs []*RaftTransport
	var nws []*Network
	var h *recorder
	for i, ln := range []net.Listener{lnA, lnB} {
		nw, err := NewNetwork(Config{NodeID: uint64(i + 1), Peers: peers, Clock: hlc.NewClock(nil)})
		if err != nil {
			b.Fatal(err)
		}
		tr := NewRaftTransport(nw)
		h = newRecorder()
		tr.SetHandler(h)
		_ = nw.Serve(ln)
		trs, nws = append(trs, tr), append(nws, nw)
	}
	defer func() {
		for i := range trs {
			trs[i].Close()
			nws[i].Close()
		}
	}()
	entry := &raftpb.Entry{Data: make([]byte, 256)}
	b.ResetTimer()
	for i := range b.N {
		m := msg(2, uint64(i+1))
		m.Msg.Entries = []*raftpb.Entry{entry}
		trs[0].Send([]replica.Message{m})
	}
	for {
		h.mu.Lock()
		n := len(h.got)
		h.mu.Unlock()
		if n >= b.N {
			break
		}
		<-h.changed
	}
}
