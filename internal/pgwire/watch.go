package pgwire

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// A client that closes its socket while its statement runs gets the
// statement cancelled: while the connection's goroutine waits for the
// executor (once the statement has run for watchDelay), a watcher
// goroutine keeps reading the socket. What it reads
// is kept for the message loop (a pipelined Sync, the next Query...), in
// order; only end of stream or a read error cancels the statement. The
// watcher stops at the end of the statement by a past read deadline.

// maxWatchedBytes bounds what the watcher buffers for one statement: a
// client that pipelines more than this is no longer watched until the
// statement ends (its bytes stay in the socket).
const maxWatchedBytes = 1 << 20

// errClientGone is the cause of a statement cancelled by its client's
// disconnect; nobody receives it.
var errClientGone = errcode.New(errcode.QueryCancelled, "canceling statement because the client closed its connection")

// connReader is the connection's message source: bytes a watcher read
// ahead, then its read error, then the socket. The watcher and the
// message loop never read at the same time (watch returns only after
// the watcher goroutine has ended).
type connReader struct {
	nc      net.Conn
	pending []byte
	err     error
	buf     []byte // the watcher's read buffer, reused
	// onRead is Server.testingWatchRead.
	onRead func(pending int)
}

func newConnReader(nc net.Conn, onRead func(int)) *connReader {
	return &connReader{nc: nc, onRead: onRead}
}

func (r *connReader) Read(p []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		if len(r.pending) == 0 {
			r.pending = nil
		}
		return n, nil
	}
	if r.err != nil {
		return 0, r.err
	}
	return r.nc.Read(p)
}

// watchDelay is how long a statement runs before its connection is
// watched. Most statements end sooner, and starting a watcher (a
// goroutine, then a read deadline to stop it) costs more than a point
// query; a disconnect still cancels a statement within watchDelay plus
// the time to notice it.
const watchDelay = 10 * time.Millisecond

// delayedWatch is watch started only once a statement has run for a
// delay. One per connection, reused by every statement: its timer is
// made once and reset per statement, as starting a timer and its closure
// for each statement showed in the point-query profile.
type delayedWatch struct {
	r     *connReader
	timer *time.Timer // runs fire; nil until the first statement

	mu struct {
		sync.Mutex
		armed bool   // a statement runs: fire starts the watcher
		gone  func() // the running statement's
		stop  func() // the running watcher's stop; nil when none
	}
}

// start arms the watch for a statement: after delay the socket is
// watched, and gone runs if the client went away. end must follow.
func (w *delayedWatch) start(delay time.Duration, gone func()) {
	w.mu.Lock()
	w.mu.armed, w.mu.gone = true, gone
	w.mu.Unlock()
	if w.timer == nil {
		w.timer = time.AfterFunc(delay, w.fire)
		return
	}
	w.timer.Reset(delay)
}

// fire starts the watcher if a statement is still running. A firing left
// over from an earlier statement (its timer went off as that statement
// ended) may start the next statement's watch early, which is harmless;
// a second one is never started.
func (w *delayedWatch) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mu.armed && w.mu.stop == nil {
		w.mu.stop = w.r.watch(w.mu.gone)
	}
}

// end disarms the watch and stops the watcher, waiting for it as watch's
// stop does.
func (w *delayedWatch) end() {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Lock()
	w.mu.armed, w.mu.gone = false, nil
	stop := w.mu.stop
	w.mu.stop = nil
	w.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// close stops the timer for good (the connection ended).
func (w *delayedWatch) close() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// watch starts reading the socket ahead; gone runs (once, on the
// watcher's goroutine) when the client closed the connection or it
// failed. The returned stop ends the watcher and waits for it; after
// stop the socket has no read deadline.
func (r *connReader) watch(gone func()) (stop func()) {
	if r.err != nil {
		gone()
		return func() {}
	}
	if r.buf == nil {
		r.buf = make([]byte, 4096)
	}
	var stopping atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(r.pending) < maxWatchedBytes {
			n, err := r.nc.Read(r.buf)
			r.pending = append(r.pending, r.buf[:n]...)
			if n > 0 && r.onRead != nil {
				r.onRead(len(r.pending))
			}
			if err == nil {
				continue
			}
			var ne net.Error
			if stopping.Load() || (errors.As(err, &ne) && ne.Timeout()) {
				// Our wake-up (or the server's shutdown): not the client.
				return
			}
			r.err = err
			gone()
			return
		}
	}()
	return func() {
		stopping.Store(true)
		_ = r.nc.SetReadDeadline(time.Now())
		<-done
		_ = r.nc.SetReadDeadline(time.Time{})
	}
}
