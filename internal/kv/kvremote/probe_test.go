package kvremote

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
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
	if _, _, err := senders[0].ProbeCoordinator(ctx, 2, live); err == nil {
		t.Fatal("probe before SetCoordinator succeeded")
	}
	services[1].SetCoordinator(func(id mvcc.TxnID) (uint64, bool) { return 42, id == live })
	epoch, committing, err := senders[0].ProbeCoordinator(ctx, 2, live)
	if err != nil || epoch != 42 || !committing {
		t.Fatalf("probe of a committing txn = %d %v %v", epoch, committing, err)
	}
	if _, committing, err := senders[0].ProbeCoordinator(ctx, 2, mvcc.TxnID{8}); err != nil || committing {
		t.Fatalf("probe of an unknown txn = %v %v", committing, err)
	}
	nets[1].Close()
	if _, _, err := senders[0].ProbeCoordinator(ctx, 2, live); err == nil {
		t.Fatal("probe of a stopped node succeeded")
	}
}
