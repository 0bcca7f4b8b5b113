package rpc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
)

// Multiplexed calls: request/response pairs between two nodes travel on
// one long-lived bidirectional stream per (caller, callee) pair instead of
// one gRPC unary call each. A unary call costs a new HTTP/2 stream, header
// encoding and decoding, metadata maps, a deadline timer and a handler
// goroutine on both ends (about 30 us of CPU for a forwarded read); a frame
// on an open stream costs a queue hand-off to gRPC's writer and a read.
//
// Frames (all in Frame.Data):
//
//	caller -> callee: kind (1 byte: muxRequest or muxCancel), call id (uvarint), request
//	callee -> caller: call id (uvarint), response
//
// The callee runs every request on a goroutine of its own (reused for a
// later request once free: muxWorkers) under a context
// that ends when the caller cancels the call (a muxCancel frame), when the
// stream ends, or when the callee stops serving. The caller enforces its
// own deadline: when its context ends first it sends muxCancel and returns
// the context's error. Responses may come back in any order.
//
// A call is "sent" once its request was handed to an open stream: a call
// that fails after that (the stream broke, the context ended) may have run
// on the callee. A call that fails before it (no connection within
// readyWait, or the stream could not be opened) did not.

const (
	muxServiceName = "camus.Mux"
	muxStreamName  = "Calls"
	muxStreamPath  = "/" + muxServiceName + "/" + muxStreamName

	muxRequest byte = 1
	muxCancel  byte = 2

	// readyWait bounds how long a call waits for a connection to a peer to
	// become ready before it fails unsent.
	readyWait = 500 * time.Millisecond

	// stuckSend: a send blocked this long (the peer stopped reading: it is
	// paused, or its machine is) fails the stream, which unblocks it and
	// every call waiting on the stream; the next call opens a new one.
	// gRPC's SendMsg waits for flow-control quota under the stream's
	// context, not the caller's, so nothing else would.
	stuckSend = 2 * time.Second
)

var muxStreamDesc = grpc.StreamDesc{StreamName: muxStreamName, ServerStreams: true, ClientStreams: true, Handler: muxStreamHandler}

var muxServiceDesc = grpc.ServiceDesc{
	ServiceName: muxServiceName,
	HandlerType: (*any)(nil),
	Streams:     []grpc.StreamDesc{muxStreamDesc},
	Metadata:    "internal/rpc/mux.go",
}

// CallHandler serves one request of another node and returns the response
// (errors travel inside it). ctx ends when the caller gives up on the call.
type CallHandler func(ctx context.Context, req []byte) []byte

// ErrNotSent marks a call that failed before its request reached the
// connection: it did not run on the callee.
var ErrNotSent = errors.New("rpc: call not sent")

// HandleCalls sets the handler of other nodes' calls (before Serve). Until
// it is set, incoming call streams are refused.
func (n *Network) HandleCalls(h CallHandler) { n.callHandler.Store(&h) }

// Lane picks which of the call streams to a peer a call travels on. A
// stream sends one message at a time, so a large answer (a scan's batch,
// up to a few MiB) delays every answer queued behind it; bulk calls get a
// stream of their own and never hold up the small ones.
type Lane uint8

const (
	// LaneDefault carries short requests and answers.
	LaneDefault Lane = iota
	// LaneBulk carries calls whose answers may be large (scans).
	LaneBulk
	numLanes
)

// Call sends req to node on lane and waits for its response. An error wrapping
// ErrNotSent means the request never left this node; any other error means
// it may have run there. When ctx ends first, Call returns ctx's error (not
// wrapped in ErrNotSent unless the request was not sent) and tells the
// callee to cancel. failFast makes a call to a peer whose last connection
// attempt failed fail at once instead of waiting up to readyWait for the
// next one.
func (n *Network) Call(ctx context.Context, node uint64, lane Lane, req []byte, failFast bool) ([]byte, error) {
	if lane >= numLanes {
		lane = LaneDefault
	}
	s, err := n.muxStream(ctx, muxKey{node, lane}, failFast)
	if err != nil {
		return nil, err
	}
	return s.call(ctx, req)
}

// muxClients holds this node's call stream to each peer.
type muxClients struct {
	mu      sync.Mutex
	streams map[muxKey]*muxStream // guarded by mu; the open streams
	wg      sync.WaitGroup        // stream readers
}

// muxKey names a call stream: its peer and lane.
type muxKey struct {
	node uint64
	lane Lane
}

// muxStream is the caller's end of one call stream.
type muxStream struct {
	net    *Network
	key    muxKey
	node   uint64
	stream grpc.ClientStream
	cancel context.CancelFunc // ends the stream

	// sendSem serialises SendMsg; callers wait for it under their context.
	sendSem chan struct{}
	// sendingSince is when the SendMsg under way began (Unix ns; 0: none),
	// for the watchdog (stuckSend).
	sendingSince atomic.Int64
	done         chan struct{} // closed by fail

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan muxReply // guarded by mu
	err     error                    // guarded by mu: set once the stream broke
}

type muxReply struct {
	resp []byte
	err  error
}

// muxStream returns the open call stream key, opening one if needed.
func (n *Network) muxStream(ctx context.Context, key muxKey, failFast bool) (*muxStream, error) {
	node := key.node
	n.mux.mu.Lock()
	s := n.mux.streams[key]
	n.mux.mu.Unlock()
	if s != nil {
		return s, nil
	}
	conn, err := n.Conn(node)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	if !waitReady(ctx, conn, failFast) {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
		}
		return nil, fmt.Errorf("%w: no connection to node %d", ErrNotSent, node)
	}
	n.mux.mu.Lock()
	defer n.mux.mu.Unlock()
	if s := n.mux.streams[key]; s != nil {
		return s, nil // another caller opened it meanwhile
	}
	n.mu.Lock()
	closed := n.mu.closed
	n.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("%w: network closed", ErrNotSent)
	}
	sctx, cancel := context.WithCancel(context.Background())
	stream, err := conn.NewStream(sctx, &muxStreamDesc, muxStreamPath)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: open call stream to node %d: %w", ErrNotSent, node, err)
	}
	s = &muxStream{net: n, key: key, node: node, stream: stream, cancel: cancel, pending: map[uint64]chan muxReply{},
		sendSem: make(chan struct{}, 1), done: make(chan struct{})}
	if n.mux.streams == nil {
		n.mux.streams = map[muxKey]*muxStream{}
	}
	n.mux.streams[key] = s
	n.mux.wg.Add(2)
	go s.read()
	go s.watch()
	return s, nil
}

// waitReady connects conn and waits, for at most readyWait, until it is
// ready. failFast gives up at once on a connection in transient failure.
func waitReady(ctx context.Context, conn *grpc.ClientConn, failFast bool) bool {
	if conn.GetState() == connectivity.Ready {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	for {
		st := conn.GetState()
		switch st {
		case connectivity.Ready:
			return true
		case connectivity.Idle:
			conn.Connect()
		case connectivity.Shutdown:
			return false
		case connectivity.TransientFailure:
			if failFast {
				return false
			}
		}
		if !conn.WaitForStateChange(ctx, st) {
			return false
		}
	}
}

// call sends one request on s and waits for its response.
func (s *muxStream) call(ctx context.Context, req []byte) ([]byte, error) {
	ch := make(chan muxReply, 1)
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	s.nextID++
	id := s.nextID
	s.pending[id] = ch
	s.mu.Unlock()

	frame := make([]byte, 0, 1+binary.MaxVarintLen64+len(req))
	frame = append(frame, muxRequest)
	frame = binary.AppendUvarint(frame, id)
	frame = append(frame, req...)
	select {
	case s.sendSem <- struct{}{}:
	case <-ctx.Done():
		// Another send holds the stream and ours never started.
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", ErrNotSent, ctx.Err())
	}
	err := s.sendLocked(frame)
	if err != nil {
		// The stream is broken; its reader fails every pending call. The
		// request may have been written before the break: count it sent.
		s.fail(fmt.Errorf("rpc: call stream to node %d: %w", s.node, err))
	}
	select {
	case r := <-ch:
		return r.resp, r.err
	case <-ctx.Done():
		s.mu.Lock()
		_, waiting := s.pending[id]
		delete(s.pending, id)
		s.mu.Unlock()
		if waiting {
			s.sendCancel(id)
		}
		return nil, ctx.Err()
	}
}

// sendLocked sends one frame; the caller holds sendSem, which it releases.
func (s *muxStream) sendLocked(frame []byte) error {
	s.sendingSince.Store(time.Now().UnixNano())
	err := s.stream.SendMsg(&Frame{Data: frame})
	s.sendingSince.Store(0)
	<-s.sendSem
	return err
}

// sendCancel tells the callee to cancel call id: at once when the stream
// is free, else from a goroutine that waits for it (or for the stream's
// end), so the caller returns on time either way.
func (s *muxStream) sendCancel(id uint64) {
	cf := binary.AppendUvarint([]byte{muxCancel}, id)
	select {
	case s.sendSem <- struct{}{}:
		_ = s.sendLocked(cf)
		return
	default:
	}
	s.net.mux.wg.Add(1)
	go func() {
		defer s.net.mux.wg.Done()
		select {
		case s.sendSem <- struct{}{}:
			_ = s.sendLocked(cf)
		case <-s.done:
		}
	}()
}

// watch fails the stream when a send has been blocked for stuckSend.
func (s *muxStream) watch() {
	defer s.net.mux.wg.Done()
	t := time.NewTicker(stuckSend / 4)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			if since := s.sendingSince.Load(); since != 0 && time.Since(time.Unix(0, since)) >= stuckSend {
				s.fail(fmt.Errorf("rpc: call stream to node %d: a send was blocked for %v: the node does not read", s.node, stuckSend))
			}
		}
	}
}

// read delivers responses until the stream ends, then fails the calls
// still waiting.
func (s *muxStream) read() {
	defer s.net.mux.wg.Done()
	for {
		var f Frame
		if err := s.stream.RecvMsg(&f); err != nil {
			s.fail(fmt.Errorf("rpc: call stream to node %d: %w", s.node, err))
			return
		}
		id, n := binary.Uvarint(f.Data)
		if n <= 0 {
			s.fail(fmt.Errorf("rpc: malformed call response from node %d", s.node))
			return
		}
		s.mu.Lock()
		ch := s.pending[id]
		delete(s.pending, id)
		s.mu.Unlock()
		if ch != nil {
			ch <- muxReply{resp: f.Data[n:]}
		}
	}
}

// fail marks s broken (once), detaches it so the next call opens a new
// stream, ends it and fails every pending call with err.
func (s *muxStream) fail(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	m := &s.net.mux
	m.mu.Lock()
	if m.streams[s.key] == s {
		delete(m.streams, s.key)
	}
	m.mu.Unlock()
	close(s.done)
	s.cancel()
	for _, ch := range pending {
		ch <- muxReply{err: err}
	}
}

// closeMux ends every call stream and waits for their readers.
func (n *Network) closeMux() {
	n.mux.mu.Lock()
	streams := make([]*muxStream, 0, len(n.mux.streams))
	for _, s := range n.mux.streams {
		streams = append(streams, s)
	}
	n.mux.mu.Unlock()
	for _, s := range streams {
		s.fail(errors.New("rpc: network closed"))
	}
	n.mux.wg.Wait()
}

// muxStreamHandler serves one caller's call stream.
func muxStreamHandler(srv any, ss grpc.ServerStream) error {
	n := srv.(*Network)
	hp := n.callHandler.Load()
	if hp == nil {
		return errors.New("rpc: this node serves no calls yet")
	}
	h := *hp
	ctx, cancelAll := context.WithCancel(ss.Context())
	var (
		sendMu  sync.Mutex
		mu      sync.Mutex
		cancels = map[uint64]context.CancelFunc{}
		workers = newMuxWorkers(ctx)
	)
	// No SendMsg may follow the handler's return: end the calls and wait
	// for them (and for the idle workers to go).
	defer func() {
		cancelAll()
		workers.wait()
	}()
	for {
		var f Frame
		if err := ss.RecvMsg(&f); err != nil {
			return nil
		}
		kind, id, req, err := parseCallFrame(f.Data)
		if err != nil {
			return err
		}
		switch kind {
		case muxRequest:
			cctx, cancel := context.WithCancel(ctx)
			mu.Lock()
			cancels[id] = cancel
			mu.Unlock()
			workers.run(func() {
				resp := h(cctx, req)
				mu.Lock()
				delete(cancels, id)
				mu.Unlock()
				cancel()
				out := make([]byte, 0, binary.MaxVarintLen64+len(resp))
				out = binary.AppendUvarint(out, id)
				out = append(out, resp...)
				sendMu.Lock()
				_ = ss.SendMsg(&Frame{Data: out})
				sendMu.Unlock()
			})
		case muxCancel:
			mu.Lock()
			cancel := cancels[id]
			mu.Unlock()
			if cancel != nil {
				cancel()
			}
		}
	}
}

// muxWorkers runs one stream's requests, each on a goroutine of its own,
// reusing goroutines that finished one: a request's goroutine grows its
// stack through the kv and storage layers (a Pebble iterator is built deep
// down), and a fresh goroutine per request copied that stack every time
// (~8% of a leaseholder's CPU under forwarded point reads). A worker with
// nothing to do for muxWorkerIdle exits; all of them exit when ctx ends.
type muxWorkers struct {
	ctx       context.Context
	jobs      chan func() // unbuffered: a send succeeds only to an idle worker
	idleAfter time.Duration
	wg        sync.WaitGroup
}

const muxWorkerIdle = 10 * time.Second

func newMuxWorkers(ctx context.Context) *muxWorkers {
	return &muxWorkers{ctx: ctx, jobs: make(chan func()), idleAfter: muxWorkerIdle}
}

// run hands job to an idle worker, or starts one.
func (w *muxWorkers) run(job func()) {
	select {
	case w.jobs <- job:
		return
	default:
	}
	w.wg.Add(1)
	go w.work(job)
}

func (w *muxWorkers) work(job func()) {
	defer w.wg.Done()
	idle := time.NewTimer(w.idleAfter)
	defer idle.Stop()
	for {
		job()
		idle.Reset(w.idleAfter)
		select {
		case job = <-w.jobs:
		case <-idle.C:
			return
		case <-w.ctx.Done():
			return
		}
	}
}

// wait waits for every worker to finish its job and exit (after ctx ended).
func (w *muxWorkers) wait() { w.wg.Wait() }

// parseCallFrame splits a caller's frame into its kind, call id and
// request.
func parseCallFrame(b []byte) (kind byte, id uint64, req []byte, err error) {
	if len(b) == 0 {
		return 0, 0, nil, errors.New("rpc: empty call frame")
	}
	if b[0] != muxRequest && b[0] != muxCancel {
		return 0, 0, nil, fmt.Errorf("rpc: unknown call frame kind %d", b[0])
	}
	id, k := binary.Uvarint(b[1:])
	if k <= 0 {
		return 0, 0, nil, errors.New("rpc: malformed call frame")
	}
	return b[0], id, b[1+k:], nil
}
