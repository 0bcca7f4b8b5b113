package rpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// callNodes starts n networks whose calls run handler(node id, ctx, req).
func callNodes(t testing.TB, n int, handler func(id uint64, ctx context.Context, req []byte) []byte) ([]*Network, []Peer) {
	t.Helper()
	lns, peers := loopbackPeers(t, n)
	nets := make([]*Network, n)
	for i := range n {
		nets[i] = startCallNode(t, uint64(i+1), peers, lns[i], handler)
	}
	return nets, peers
}

func startCallNode(t testing.TB, id uint64, peers []Peer, ln net.Listener, handler func(id uint64, ctx context.Context, req []byte) []byte) *Network {
	t.Helper()
	nw, err := NewNetwork(Config{NodeID: id, Peers: peers, Clock: hlc.NewClock(nil)})
	if err != nil {
		t.Fatal(err)
	}
	nw.HandleCalls(func(ctx context.Context, req []byte) []byte { return handler(id, ctx, req) })
	if err := nw.Serve(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	return nw
}

// Concurrent calls on one stream each get their own answer, whatever order
// the callee finishes them in.
func TestCallsAnsweredOutOfOrder(t *testing.T) {
	const calls = 256
	// No handler returns before every call has arrived: all of them are in
	// flight at once, and their answers go back in whatever order the
	// handlers' goroutines run.
	var arrived atomic.Int32
	allIn := make(chan struct{})
	nets, _ := callNodes(t, 2, func(id uint64, ctx context.Context, req []byte) []byte {
		if arrived.Add(1) == calls {
			close(allIn)
		}
		<-allIn
		return append([]byte(fmt.Sprintf("node %d:", id)), req...)
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := binary.BigEndian.AppendUint32(nil, uint32(i))
			resp, err := nets[0].Call(ctx, 2, LaneDefault, req, false)
			if err != nil {
				errs <- err
				return
			}
			if want := append([]byte("node 2:"), req...); !bytes.Equal(resp, want) {
				errs <- fmt.Errorf("call %d answered %q, want %q", i, resp, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	nets[0].mux.mu.Lock()
	streams := len(nets[0].mux.streams)
	nets[0].mux.mu.Unlock()
	if streams != 1 {
		t.Fatalf("%d call streams open to one peer, want 1", streams)
	}
}

// Each lane to a peer has a stream of its own: a bulk call's large answer
// is not queued in front of the short ones.
func TestCallLanesUseTheirOwnStreams(t *testing.T) {
	nets, _ := callNodes(t, 2, func(_ uint64, _ context.Context, req []byte) []byte { return req })
	for _, lane := range []Lane{LaneDefault, LaneBulk, LaneDefault, LaneBulk, numLanes + 3} {
		if resp, err := nets[0].Call(context.Background(), 2, lane, []byte("x"), false); err != nil || string(resp) != "x" {
			t.Fatalf("lane %d: %q, %v", lane, resp, err)
		}
	}
	nets[0].mux.mu.Lock()
	defer nets[0].mux.mu.Unlock()
	if len(nets[0].mux.streams) != 2 || nets[0].mux.streams[muxKey{2, LaneDefault}] == nil || nets[0].mux.streams[muxKey{2, LaneBulk}] == nil {
		t.Fatalf("streams %v, want one per lane", nets[0].mux.streams)
	}
}

// A caller that gives up cancels the call on the callee.
func TestCallCancelReachesCallee(t *testing.T) {
	started := make(chan struct{})
	cancelled := make(chan struct{})
	nets, _ := callNodes(t, 2, func(_ uint64, ctx context.Context, req []byte) []byte {
		if string(req) != "block" {
			return req
		}
		close(started)
		<-ctx.Done()
		close(cancelled)
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := nets[0].Call(ctx, 2, LaneDefault, []byte("block"), false)
		errc <- err
	}()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) || errors.Is(err, ErrNotSent) {
		t.Fatalf("cancelled call returned %v, want context.Canceled (sent)", err)
	}
	<-cancelled
	// The stream still serves the next call.
	if resp, err := nets[0].Call(context.Background(), 2, LaneDefault, []byte("next"), false); err != nil || string(resp) != "next" {
		t.Fatalf("call after a cancel: %q, %v", resp, err)
	}
}

// A call whose callee dies while it runs fails as possibly sent; calls to
// the dead node fail unsent; once it is back, calls go through again on a
// new stream.
func TestCallStreamBreakAndReconnect(t *testing.T) {
	var mu sync.Mutex
	running := make(chan struct{}, 1)
	handler := func(_ uint64, ctx context.Context, req []byte) []byte {
		if string(req) == "hang" {
			running <- struct{}{}
			<-ctx.Done()
		}
		mu.Lock()
		defer mu.Unlock()
		return req
	}
	nets, peers := callNodes(t, 2, handler)
	if _, err := nets[0].Call(context.Background(), 2, LaneDefault, []byte("warm"), false); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := nets[0].Call(context.Background(), 2, LaneDefault, []byte("hang"), false)
		errc <- err
	}()
	<-running
	nets[1].Close()
	err := <-errc
	if err == nil || errors.Is(err, ErrNotSent) {
		t.Fatalf("call cut by the callee's death returned %v, want a sent-call error", err)
	}
	if _, err := nets[0].Call(context.Background(), 2, LaneDefault, []byte("x"), true); !errors.Is(err, ErrNotSent) {
		t.Fatalf("call to a dead node returned %v, want ErrNotSent", err)
	}

	ln, err := net.Listen("tcp", peers[1].Addr)
	if err != nil {
		t.Skipf("cannot rebind %s: %v", peers[1].Addr, err)
	}
	startCallNode(t, 2, peers, ln, handler)
	for attempt := 0; ; attempt++ {
		resp, err := nets[0].Call(context.Background(), 2, LaneDefault, []byte("back"), false)
		if err == nil {
			if string(resp) != "back" {
				t.Fatalf("answer %q", resp)
			}
			break
		}
		if !errors.Is(err, ErrNotSent) || attempt == 100 {
			t.Fatalf("call to the restarted node: %v", err)
		}
	}
}

// A node that has not set a handler refuses call streams; the caller's
// call fails instead of hanging.
func TestCallWithoutHandlerFails(t *testing.T) {
	lns, peers := loopbackPeers(t, 2)
	var nets []*Network
	for i := range 2 {
		nw, err := NewNetwork(Config{NodeID: uint64(i + 1), Peers: peers, Clock: hlc.NewClock(nil)})
		if err != nil {
			t.Fatal(err)
		}
		if err := nw.Serve(lns[i]); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nw.Close)
		nets = append(nets, nw)
	}
	if _, err := nets[0].Call(context.Background(), 2, LaneDefault, []byte("x"), false); err == nil {
		t.Fatal("a node without a call handler answered")
	}
}

// Malformed frames end the stream with an error and never panic.
func FuzzParseCallFrame(f *testing.F) {
	f.Add([]byte{muxRequest, 1, 'x'})
	f.Add([]byte{muxCancel, 0x80})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, id, payload, err := parseCallFrame(b)
		if err != nil {
			return
		}
		if kind != muxRequest && kind != muxCancel {
			t.Fatalf("kind %d accepted", kind)
		}
		again := append(binary.AppendUvarint([]byte{kind}, id), payload...)
		if kind2, id2, p2, err := parseCallFrame(again); err != nil || kind2 != kind || id2 != id || !bytes.Equal(p2, payload) {
			t.Fatalf("re-encoded frame parsed differently")
		}
	})
}

// pausableProxy forwards TCP connections to target; while paused it
// forwards nothing, like a peer whose process is stopped (SIGSTOP).
type pausableProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
	closed bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newPausableProxy(t *testing.T, target string) *pausableProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pausableProxy{ln: ln, target: target}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(d, c)
			go p.pipe(c, d)
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *pausableProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		p.mu.Lock()
		for p.paused && !p.closed {
			p.cond.Wait()
		}
		p.mu.Unlock()
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (p *pausableProxy) setPaused(v bool) {
	p.mu.Lock()
	p.paused = v
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *pausableProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	conns := p.conns
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}

// A peer that stops reading (paused) must not hold callers past their
// context: gRPC's send waits for flow-control quota under the stream's
// context, so a call whose send cannot start returns unsent when its
// context ends, the send that blocked fails the stream after stuckSend,
// and once the peer reads again calls go through on a new stream.
func TestCallsToAPausedPeerReturn(t *testing.T) {
	handler := func(_ uint64, _ context.Context, req []byte) []byte { return req[:min(len(req), 4)] }
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxy := newPausableProxy(t, ln2.Addr().String())
	ln1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Node 1 reaches node 2 through the proxy.
	n1 := startCallNode(t, 1, []Peer{{ID: 1, Addr: ln1.Addr().String()}, {ID: 2, Addr: proxy.ln.Addr().String()}}, ln1, handler)
	startCallNode(t, 2, []Peer{{ID: 1, Addr: ln1.Addr().String()}, {ID: 2, Addr: ln2.Addr().String()}}, ln2, handler)
	if resp, err := n1.Call(context.Background(), 2, LaneDefault, []byte("warm"), false); err != nil || string(resp) != "warm" {
		t.Fatalf("warm-up call: %q, %v", resp, err)
	}

	proxy.setPaused(true)
	big := make([]byte, 1<<20)
	copy(big, "big!")
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err := n1.Call(ctx, 2, LaneDefault, big, false)
			errs <- err
		}()
	}
	notSent := 0
	for range 8 {
		select {
		case err := <-errs:
			if err == nil {
				t.Fatal("a call through a paused peer succeeded")
			}
			if errors.Is(err, ErrNotSent) {
				notSent++
			}
		case <-time.After(time.Minute):
			t.Fatal("calls to a paused peer did not return")
		}
	}
	if notSent == 0 {
		t.Fatal("no call found the stream blocked: the test did not fill the flow-control window")
	}

	proxy.setPaused(false)
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		resp, err := n1.Call(ctx, 2, LaneDefault, []byte("back"), false)
		if err != nil || string(resp) != "back" {
			return fmt.Errorf("call after the pause: %q, %v", resp, err)
		}
		return nil
	})
}

// A stream's requests run on workers that outlive them: a worker that
// finished a request takes the next one (its stack already grown), and
// workers exit when idle for long enough or when the stream ends.
func TestMuxWorkersAreReused(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := newMuxWorkers(ctx)
	ran := make(chan int, 2)
	w.run(func() { ran <- 1 })
	<-ran
	// Only an idle worker receives from jobs: this send proves the first
	// worker went back to waiting instead of exiting.
	select {
	case w.jobs <- func() { ran <- 2 }:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not wait for a next request")
	}
	if got := <-ran; got != 2 {
		t.Fatalf("ran %d", got)
	}
	cancel()
	w.wait() // the worker exits with the stream

	// An idle worker exits on its own.
	w = newMuxWorkers(context.Background())
	w.idleAfter = time.Millisecond
	w.run(func() {})
	w.wait()
}
