package kvremote

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/rpc"
)

// TestProbeCoordinator: a node answers probes about its transactions with
// its epoch; before SetCoordinator, and once it is gone, probing fails.
func TestProbeCoordinator(t *testing.T) {
	peers := make([]rpc.Peer, 2)
	lns := make([]net.Listener, 2)
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i], peers[i] = ln, rpc.Peer{ID: uint64(i + 1), Addr: ln.Addr().String()}
	}
	var senders [2]*Sender
	var services [2]*Service
	var nets [2]*rpc.Network
	for i := range lns {
		nw, err := rpc.NewNetwork(rpc.Config{NodeID: uint64(i + 1), Peers: peers, Clock: hlc.NewClock(nil)})
		if err != nil {
			t.Fatal(err)
		}
		f := newFakeKV(uint64(i + 1))
		services[i] = Register(nw)
		services[i].SetLocal(f)
		if err := nw.Serve(lns[i]); err != nil {
			t.Fatal(err)
		}
		nets[i] = nw
		senders[i] = NewSender(Config{Network: nw, Local: f, RetryWait: time.Second,
			Leaders: LeadersFunc(func(uint64) uint64 { return 1 })})
		t.Cleanup(nw.Close)
	}
	ctx := context.Background()
	live := mvcc.TxnID{7}
	if _, err := senders[0].ProbeCoordinator(ctx, 2, live); err == nil {
		t.Fatal("probe before SetCoordinator succeeded")
	}
	edge := kv.WaitEdge{Txn: mvcc.TxnID{9}, Node: 3}
	services[1].SetCoordinator(func(id mvcc.TxnID) kv.CoordinatorState {
		st := kv.CoordinatorState{Epoch: 42, Committing: id == live}
		if id == live {
			st.WaitsFor = []kv.WaitEdge{edge}
		}
		return st
	})
	st, err := senders[0].ProbeCoordinator(ctx, 2, live)
	epoch, committing := st.Epoch, st.Committing
	if len(st.WaitsFor) != 1 || st.WaitsFor[0] != edge {
		t.Fatalf("probe lost the waits-for edges: %+v", st.WaitsFor)
	}
	if err != nil || epoch != 42 || !committing {
		t.Fatalf("probe of a committing txn = %d %v %v", epoch, committing, err)
	}
	if st, err := senders[0].ProbeCoordinator(ctx, 2, mvcc.TxnID{8}); err != nil || st.Committing {
		t.Fatalf("probe of an unknown txn = %v %v", st.Committing, err)
	}
	nets[1].Close()
	if _, err := senders[0].ProbeCoordinator(ctx, 2, live); err == nil {
		t.Fatal("probe of a stopped node succeeded")
	}
}
