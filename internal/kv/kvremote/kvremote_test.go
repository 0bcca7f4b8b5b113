package kvremote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/rpc"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeKV is a kv.Sender whose answers the tests script.
type fakeKV struct {
	node uint64
	mu   sync.Mutex
	// calls counts requests per op name.
	calls map[string]int
	// commit1PC, when set, answers Commit1PC.
	commit1PC func(ctx context.Context) (hlc.Timestamp, error)
	getErr    error
}

func newFakeKV(node uint64) *fakeKV { return &fakeKV{node: node, calls: map[string]int{}} }

func (f *fakeKV) count(name string) {
	f.mu.Lock()
	f.calls[name]++
	f.mu.Unlock()
}

func (f *fakeKV) callsOf(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fakeKV) Get(ctx context.Context, pid uint64, key []byte, readTS hlc.Timestamp, opts mvcc.ReadOptions) ([]byte, bool, error) {
	own := opts.Own
	f.count("Get")
	if f.getErr != nil {
		return nil, false, f.getErr
	}
	// Echo enough of the request to check it crossed the wire intact.
	v := append([]byte{byte(f.node), byte(pid)}, key...)
	v = readTS.AppendEncode(v)
	v = opts.Uncertainty.AppendEncode(v)
	if own != nil {
		v = append(v, own[:]...)
	}
	return v, true, nil
}

func (f *fakeKV) Scan(ctx context.Context, pid uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions) ([]mvcc.KeyValue, []byte, error) {
	f.count("Scan")
	kvs := []mvcc.KeyValue{{Key: start, Value: end}, {Key: []byte{}, Value: nil}}
	if opts.Reverse {
		return kvs, []byte("resume"), nil
	}
	return kvs, nil, nil
}

func (f *fakeKV) Commit1PC(ctx context.Context, pid uint64, req *kvserver.CommitRequest) (hlc.Timestamp, error) {
	f.count("Commit1PC")
	if f.commit1PC != nil {
		return f.commit1PC(ctx)
	}
	return hlc.Timestamp{WallTime: int64(len(req.Writes)), Logical: int32(len(req.Reads))}, nil
}

func (f *fakeKV) Prepare(ctx context.Context, pid uint64, req *kvserver.CommitRequest) (hlc.Timestamp, error) {
	f.count("Prepare")
	return hlc.Timestamp{}, &mvcc.IntentError{Key: req.Writes[0].Key, Intent: &req.Intent}
}

func (f *fakeKV) Refresh(ctx context.Context, pid uint64, id mvcc.TxnID, reads []kvserver.Span, from, to hlc.Timestamp) error {
	f.count("Refresh")
	return &kvpb.ConflictError{Reason: "refresh"}
}

func (f *fakeKV) ResolveIntents(ctx context.Context, pid uint64, items []kvserver.Resolution) error {
	f.count("ResolveIntents")
	return nil
}

func (f *fakeKV) GetTxnRecord(ctx context.Context, home uint64, id mvcc.TxnID) (*mvcc.TxnRecord, error) {
	f.count("GetTxnRecord")
	return nil, nil
}

func (f *fakeKV) FinalizeTxn(ctx context.Context, home uint64, id mvcc.TxnID, want *mvcc.TxnRecord) (*mvcc.TxnRecord, error) {
	f.count("FinalizeTxn")
	return want, nil
}

func (f *fakeKV) DeleteTxnRecords(ctx context.Context, home uint64, ids []mvcc.TxnID) error {
	f.count("DeleteTxnRecord")
	return kvpb.ErrTxnClosed
}

func (f *fakeKV) WaitIntent(ctx context.Context, pid uint64, key []byte, owner mvcc.TxnID, maxWait time.Duration) error {
	f.count("WaitIntent")
	return nil
}

// ClearSpan answers a ConflictError naming what it got (it is not a retry
// error, so the sender returns it at once).
func (f *fakeKV) ClearSpan(ctx context.Context, pid uint64, start, end []byte, notBelow hlc.Timestamp) error {
	f.count("ClearSpan")
	return &kvpb.ConflictError{Reason: fmt.Sprintf("node %d cleared %d [%s, %s) not below %s", f.node, pid, start, end, notBelow)}
}

type testNode struct {
	net    *rpc.Network
	kv     *fakeKV
	sender *Sender
}

// newTestNodes starts n nodes whose senders all route by leader.
func newTestNodes(t testing.TB, n int, leader *atomic.Uint64) []*testNode {
	t.Helper()
	peers := make([]rpc.Peer, n)
	lns := make([]net.Listener, n)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i], peers[i] = ln, rpc.Peer{ID: uint64(i + 1), Addr: ln.Addr().String()}
	}
	nodes := make([]*testNode, n)
	for i := range n {
		nw, err := rpc.NewNetwork(rpc.Config{NodeID: uint64(i + 1), Peers: peers, Clock: hlc.NewClock(nil)})
		if err != nil {
			t.Fatal(err)
		}
		f := newFakeKV(uint64(i + 1))
		Register(nw).SetLocal(f)
		if err := nw.Serve(lns[i]); err != nil {
			t.Fatal(err)
		}
		s := NewSender(Config{Network: nw, Local: f, RetryWait: time.Second,
			Leaders: LeadersFunc(func(uint64) uint64 { return leader.Load() })})
		nodes[i] = &testNode{net: nw, kv: f, sender: s}
		t.Cleanup(nw.Close)
	}
	return nodes
}

func TestRoutesToLeaderAndKeepsTypes(t *testing.T) {
	var leader atomic.Uint64
	leader.Store(2)
	nodes := newTestNodes(t, 2, &leader)
	ctx := context.Background()
	s := nodes[0].sender
	own := mvcc.TxnID{1, 2, 3}
	readTS := hlc.Timestamp{WallTime: time.Now().UnixNano(), Logical: 5}
	limit := readTS.Next().Next()
	v, found, err := s.Get(ctx, 7, []byte("key"), readTS, mvcc.ReadOptions{Own: &own, Uncertainty: limit})
	if err != nil || !found {
		t.Fatal(found, err)
	}
	want := append([]byte{2, 7}, "key"...)
	want = readTS.AppendEncode(want)
	want = limit.AppendEncode(want)
	want = append(want, own[:]...)
	if !bytes.Equal(v, want) {
		t.Fatalf("Get through node 2: %x, want %x", v, want)
	}
	if nodes[0].kv.callsOf("Get") != 0 || nodes[1].kv.callsOf("Get") != 1 {
		t.Fatal("Get did not go to the leader only")
	}
	// The leader's clock moved past the request's read timestamp.
	if !readTS.Less(nodes[1].net.Clock().Now()) {
		t.Fatal("request timestamp did not forward the leader's clock")
	}

	kvs, resume, err := s.Scan(ctx, 1, []byte("a"), nil, readTS, mvcc.ScanOptions{Reverse: true, MaxKeys: 3})
	if err != nil || string(resume) != "resume" || len(kvs) != 2 || string(kvs[0].Key) != "a" ||
		kvs[0].Value != nil || kvs[1].Key == nil || len(kvs[1].Key) != 0 {
		t.Fatalf("Scan: %q %q %v", kvs, resume, err)
	}

	req := &kvserver.CommitRequest{TxnID: own, ReadTS: readTS,
		Reads:  []kvserver.Span{{Key: []byte("r")}, {Key: []byte("a"), EndKey: []byte("b")}},
		Writes: []kvserver.Mutation{{Key: []byte("w"), Value: []byte("v")}, {Key: []byte("d"), Delete: true}},
		Intent: mvcc.Intent{Home: 3, CoordNode: 1, CoordEpoch: 9, WriteWall: 77}}
	ts, err := s.Commit1PC(ctx, 1, req)
	if err != nil || ts != (hlc.Timestamp{WallTime: 2, Logical: 2}) {
		t.Fatal(ts, err)
	}
	_, err = s.Prepare(ctx, 1, req)
	var ie *mvcc.IntentError
	if !errors.As(err, &ie) || string(ie.Key) != "w" || !reflect.DeepEqual(*ie.Intent, req.Intent) {
		t.Fatalf("Prepare: %v", err)
	}
	var ce *kvpb.ConflictError
	if err := s.Refresh(ctx, 1, own, req.Reads, readTS, readTS); !errors.As(err, &ce) {
		t.Fatalf("Refresh: %v", err)
	}
	rec := &mvcc.TxnRecord{Status: mvcc.TxnCommitted, CommitTS: readTS, Participants: []uint64{1, 4}}
	got, err := s.FinalizeTxn(ctx, 1, own, rec)
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("FinalizeTxn: %+v %v", got, err)
	}
	if got, err := s.GetTxnRecord(ctx, 1, own); got != nil || err != nil {
		t.Fatalf("GetTxnRecord: %+v %v", got, err)
	}
	if err := s.DeleteTxnRecords(ctx, 1, []mvcc.TxnID{own}); !errors.Is(err, kvpb.ErrTxnClosed) {
		t.Fatalf("DeleteTxnRecord: %v", err)
	}
	if err := s.ResolveIntents(ctx, 1, []kvserver.Resolution{{TxnID: own, Keys: [][]byte{[]byte("k")}, Commit: true, CommitTS: readTS}}); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitIntent(ctx, 1, []byte("k"), own, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	notBelow := hlc.Timestamp{WallTime: 5, Logical: 1}
	if err := s.ClearSpan(ctx, 3, []byte("s"), []byte("t"), notBelow); err == nil ||
		err.Error() != (&kvpb.ConflictError{Reason: "node 2 cleared 3 [s, t) not below " + notBelow.String()}).Error() ||
		nodes[1].kv.callsOf("ClearSpan") != 1 {
		t.Fatalf("ClearSpan through node 2: %v", err)
	}

	// Leading locally: no network.
	leader.Store(1)
	if _, _, err := s.Get(ctx, 7, []byte("key"), readTS, mvcc.ReadOptions{}); err != nil || nodes[0].kv.callsOf("Get") != 1 {
		t.Fatal("local leader was not called directly", err)
	}
}

func TestRetriesUntilALeaderAnswers(t *testing.T) {
	var leader atomic.Uint64 // no leader yet
	nodes := newTestNodes(t, 2, &leader)
	nodes[1].kv.getErr = &kvpb.RetryError{Reason: "not leader"}
	// No leader at all: a retry error after the retry budget.
	start := time.Now()
	_, _, err := nodes[0].sender.Get(context.Background(), 1, []byte("k"), hlc.Timestamp{}, mvcc.ReadOptions{})
	if !isRetry(err) || time.Since(start) < time.Second {
		t.Fatalf("no leader: %v after %v", err, time.Since(start))
	}
	// ... marked as re-routed for the whole wait: the session does not
	// wait all over again.
	if !kvpb.IsRerouted(err) {
		t.Fatalf("no leader: %v is not marked re-routed", err)
	}
	// A caller's deadline that ends the wait first is not the router
	// giving up.
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := nodes[0].sender.Get(short, 1, []byte("k"), hlc.Timestamp{}, mvcc.ReadOptions{}); err == nil || kvpb.IsRerouted(err) {
		t.Fatalf("no leader, caller's deadline: %v", err)
	}
	// A leader that keeps refusing: retried, then its retry error.
	leader.Store(2)
	_, _, err = nodes[0].sender.Get(context.Background(), 1, []byte("k"), hlc.Timestamp{}, mvcc.ReadOptions{})
	if !isRetry(err) || nodes[1].kv.callsOf("Get") < 2 {
		t.Fatalf("refusing leader: %v, %d calls", err, nodes[1].kv.callsOf("Get"))
	}
}

func TestLostCommitAnswerIsAmbiguous(t *testing.T) {
	var leader atomic.Uint64
	leader.Store(2)
	nodes := newTestNodes(t, 2, &leader)
	arrived := make(chan struct{})
	nodes[1].kv.commit1PC = func(ctx context.Context) (hlc.Timestamp, error) {
		close(arrived)
		<-ctx.Done() // the leader dies before answering
		return hlc.Timestamp{}, ctx.Err()
	}
	errc := make(chan error, 1)
	go func() {
		_, err := nodes[0].sender.Commit1PC(context.Background(), 1, &kvserver.CommitRequest{})
		errc <- err
	}()
	<-arrived
	nodes[1].net.Close()
	err := <-errc
	var amb *kvpb.AmbiguousError
	if !errors.As(err, &amb) {
		t.Fatalf("lost commit answer: %v, want AmbiguousError", err)
	}
	if n := nodes[1].kv.callsOf("Commit1PC"); n != 1 {
		t.Fatalf("commit sent %d times", n)
	}
}

func TestUnreachableLeaderBeforeSendingIsRetry(t *testing.T) {
	var leader atomic.Uint64
	leader.Store(2)
	nodes := newTestNodes(t, 2, &leader)
	nodes[1].net.Close()
	_, err := nodes[0].sender.Commit1PC(context.Background(), 1, &kvserver.CommitRequest{})
	if !isRetry(err) {
		t.Fatalf("commit to a dead node that never received it: %v, want RetryError", err)
	}
}

func TestWireRoundTrip(t *testing.T) {
	req := &kvserver.CommitRequest{TxnID: mvcc.TxnID{9}, ReadTS: hlc.Timestamp{WallTime: -5, Logical: 3},
		Reads:  []kvserver.Span{{Key: []byte{}, EndKey: nil}},
		Writes: []kvserver.Mutation{{Key: []byte("k"), Value: nil, Delete: true}, {Key: []byte("i"), Value: []byte("v"), MustNotExist: true}},
		Intent: mvcc.Intent{TxnID: mvcc.TxnID{1}, TS: hlc.Timestamp{WallTime: 1}, Home: 2, CoordNode: 3, CoordEpoch: 4, WriteWall: -1, Deleted: true, Value: []byte("v")}}
	e := &encoder{}
	e.commitRequest(req)
	d := &decoder{b: e.b}
	got := d.commitRequest()
	if err := d.done(); err != nil || !reflect.DeepEqual(got, req) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, req)
	}
	for _, in := range []error{&kvpb.RetryError{Reason: "r"}, &kvpb.ConflictError{Reason: "c"},
		&kvpb.CorruptionError{What: "w"}, kvpb.ErrTxnClosed, context.Canceled, context.DeadlineExceeded,
		&kvpb.ConditionFailedError{Key: []byte("k"), Message: "duplicate primary key in table \"t\""}} {
		e := &encoder{}
		e.error(in)
		d := &decoder{b: e.b}
		out := d.error()
		if d.done() != nil || out.Error() != in.Error() || reflect.TypeOf(out) != reflect.TypeOf(in) {
			t.Fatalf("error %v came back as %v", in, out)
		}
	}
}

func FuzzServeFrame(f *testing.F) {
	e := &encoder{}
	e.byte(byte(opCommit1PC))
	e.uvarint(2)
	e.ts(hlc.Timestamp{WallTime: 1})
	e.uvarint(1)
	e.commitRequest(&kvserver.CommitRequest{Writes: []kvserver.Mutation{{Key: []byte("k")}}})
	f.Add(e.b)
	f.Add([]byte{byte(opScan), 1})
	nw, err := rpc.NewNetwork(rpc.Config{NodeID: 1, Peers: []rpc.Peer{{ID: 1, Addr: "127.0.0.1:1"}, {ID: 2, Addr: "127.0.0.1:2"}}, Clock: hlc.NewClock(nil)})
	if err != nil {
		f.Fatal(err)
	}
	svc := &service{net: nw}
	var local kv.Sender = newFakeKV(1)
	svc.local.Store(&local)
	f.Fuzz(func(t *testing.T, frame []byte) {
		out := svc.serve(context.Background(), frame)
		d := &decoder{b: out}
		d.ts()
		if d.byte() > 1 || d.err != nil {
			t.Fatalf("bad response %x", out)
		}
	})
}

func BenchmarkWireCommitRequest(b *testing.B) {
	req := &kvserver.CommitRequest{ReadTS: hlc.Timestamp{WallTime: 1}}
	for i := range 20 {
		req.Writes = append(req.Writes, kvserver.Mutation{Key: []byte{'t', 0, 0, 0, 1, 0, 0, 0, 2, 'r', byte(i)}, Value: make([]byte, 100)})
		req.Reads = append(req.Reads, kvserver.Span{Key: []byte{'t', byte(i)}})
	}
	b.ReportAllocs()
	for b.Loop() {
		e := &encoder{b: make([]byte, 0, 4096)}
		e.commitRequest(req)
		d := &decoder{b: e.b}
		_ = d.commitRequest()
		if d.done() != nil {
			b.Fatal(d.err)
		}
	}
}

func BenchmarkRemoteGet(b *testing.B) {
	var leader atomic.Uint64
	leader.Store(2)
	nodes := newTestNodes(b, 2, &leader)
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := nodes[0].sender.Get(ctx, 1, []byte("key"), hlc.Timestamp{}, mvcc.ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRemoteGetParallel: 16 concurrent readers on node 1 whose every
// Get crosses the wire to node 2 (both ends in this process). cpu-us/op is
// the CPU of both ends per call: what a forwarded read costs a cluster.
//
//	go test -run '^$' -bench RemoteGetParallel -cpu 2 ./internal/kv/kvremote
func BenchmarkRemoteGetParallel(b *testing.B) {
	var leader atomic.Uint64
	leader.Store(2)
	nodes := newTestNodes(b, 2, &leader)
	ctx := context.Background()
	if _, _, err := nodes[0].sender.Get(ctx, 1, []byte("key"), hlc.Timestamp{}, mvcc.ReadOptions{}); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8)
	cpu0 := testutil.ProcessCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := nodes[0].sender.Get(ctx, 1, []byte("key"), hlc.Timestamp{}, mvcc.ReadOptions{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(testutil.ProcessCPU(b)-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/op")
}
