// Package h1 serves HTTP/1.1 keep-alive connections with less work per
// request than net/http's server, and hands every connection it does not
// want to a net/http server.
//
// A database API mostly gets small POSTs on kept-alive connections, where
// net/http's per-request machinery (a Request and a header map parsed
// through textproto, a context and a background-read goroutine to notice
// a client that leaves, a response writer with its own buffers) cost the
// HTTP API about as much CPU as running a point select. This server reads
// a request head from its own buffer and, when the head is inside a strict
// subset of HTTP/1.1 (parse.go: GET or POST, a plain path, Content-Length
// framing, no upgrades or expectations), calls the handler with a Request
// and a ResponseWriter it reuses for the connection's next request. The
// first request outside the subset hands the connection, with the bytes
// already read, to a net/http Server with the same handler and timeouts,
// which serves it from then on; TLS connections go there at once. So every
// request gets net/http's answer or the same answer faster.
//
// A client that closes its connection while its request runs cancels the
// request's context, as with net/http: a watcher looks (without reading)
// at the sockets of requests that have run for a while and whose bodies
// were read.
package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the lean HTTP/1.1 server. Set the fields before Serve.
type Server struct {
	Handler http.Handler
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout mean what they mean
	// for net/http.Server (and are handed to the fallback).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	// ConnState is called as net/http.Server calls it: StateNew once per
	// connection, StateActive and StateIdle around requests, StateClosed
	// at the end.
	ConnState func(net.Conn, http.ConnState)
	// ErrorLog receives handler panics; nil uses the log package.
	ErrorLog *log.Logger

	initOnce sync.Once
	fallback *http.Server
	handoff  *chanListener
	baseCtx  context.Context
	cancel   context.CancelFunc
	done     chan struct{} // closed by Shutdown/Close: stops the watcher
	closed   atomic.Bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	fbServing bool
	wg        sync.WaitGroup // lean connections
	watcher   chan struct{}  // closed when the watcher has stopped
}

// watchAfter is how long a request runs before the watcher looks at its
// connection, and how often it looks.
const watchAfter = 10 * time.Millisecond

// bufSize is the read and write buffer of a connection; a head that does
// not fit is net/http's.
const bufSize = 4 << 10

// maxDiscard is how much of a body the handler did not read is read and
// dropped to keep the connection; past it the connection is closed.
const maxDiscard = 256 << 10

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.baseCtx, s.cancel = context.WithCancel(context.Background())
		s.done = make(chan struct{})
		s.listeners = map[net.Listener]struct{}{}
		s.conns = map[*conn]struct{}{}
		s.handoff = newChanListener()
		state := s.ConnState
		s.fallback = &http.Server{
			Handler:           s.Handler,
			ReadHeaderTimeout: s.ReadHeaderTimeout,
			ReadTimeout:       s.ReadTimeout,
			IdleTimeout:       s.IdleTimeout,
			ErrorLog:          s.ErrorLog,
			ConnState: func(c net.Conn, st http.ConnState) {
				// The connection was counted new when this server accepted it.
				if state != nil && st != http.StateNew {
					state(c, st)
				}
			},
		}
		s.watcher = make(chan struct{})
		go s.watch()
	})
}

// Serve accepts connections on ln until Shutdown or Close (then it
// returns http.ErrServerClosed) or an accept error that is not temporary.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		_ = ln.Close()
		return http.ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	if !s.fbServing {
		s.fbServing = true
		go func() { _ = s.fallback.Serve(s.handoff) }()
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closed.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && !errors.Is(err, net.ErrClosed) {
				// Out of file descriptors and the like: wait, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if s.ConnState != nil {
			s.ConnState(c, http.StateNew)
		}
		if _, isTLS := c.(*tls.Conn); isTLS {
			s.give(c) // net/http does the handshake and fills Request.TLS
			continue
		}
		cn := s.newConn(c)
		if cn == nil {
			continue
		}
		go cn.serve()
	}
}

func (s *Server) newConn(c net.Conn) *conn {
	cn := &conn{s: s, c: c, remote: c.RemoteAddr().String()}
	cn.ctx, cn.cancel = context.WithCancelCause(s.baseCtx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		_ = c.Close()
		if s.ConnState != nil {
			s.ConnState(c, http.StateClosed)
		}
		return nil
	}
	s.conns[cn] = struct{}{}
	s.wg.Add(1)
	return cn
}

// Shutdown stops accepting, closes idle connections, lets requests in
// flight finish (their connections close after the answer) and then shuts
// the fallback server down, all within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.stop()
	fallback := make(chan error, 1)
	go func() { fallback <- s.fallback.Shutdown(ctx) }()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		for cn := range s.conns {
			if cn.idle.Load() {
				// Wakes the read that waits for the next request.
				_ = cn.c.SetReadDeadline(time.Now())
			}
		}
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	err := <-fallback
	s.wg.Wait()
	<-s.watcher
	return err
}

// Close closes every listener and connection at once and cancels the
// requests' contexts. Like net/http's, it does not wait for handlers.
func (s *Server) Close() error {
	s.init()
	s.stop()
	s.mu.Lock()
	for cn := range s.conns {
		_ = cn.c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	err := s.fallback.Close()
	<-s.watcher
	return err
}

func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Swap(true) {
		return
	}
	close(s.done)
	for ln := range s.listeners {
		_ = ln.Close()
	}
	if !s.fbServing {
		// Nothing will ever serve the fallback: let its Shutdown return.
		_ = s.handoff.Close()
	}
}

// give hands c to the fallback server, or closes it when that is closed.
func (s *Server) give(c net.Conn) {
	select {
	case s.handoff.ch <- c:
	case <-s.handoff.closed:
		_ = c.Close()
		if s.ConnState != nil {
			s.ConnState(c, http.StateClosed)
		}
	}
}

// watch cancels the context of a request whose client has gone: every
// watchAfter, it peeks at the socket of each request that has run at least
// that long and whose body was read (so no read of the handler's races
// with the peek).
func (s *Server) watch() {
	defer close(s.watcher)
	tick := time.NewTicker(watchAfter)
	defer tick.Stop()
	var busy []*conn
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		now := time.Now().UnixNano()
		busy = busy[:0]
		s.mu.Lock()
		for cn := range s.conns {
			if since := cn.watchFrom.Load(); since != 0 && now-since >= int64(watchAfter) {
				busy = append(busy, cn)
			}
		}
		s.mu.Unlock()
		for _, cn := range busy {
			if peerClosed(cn.c) {
				cn.cancel(errClientGone)
			}
		}
	}
}

var errClientGone = errors.New("h1: the client closed the connection")

// conn is one lean connection.
type conn struct {
	s      *Server
	c      net.Conn
	remote string
	ctx    context.Context
	cancel context.CancelCauseFunc
	br     *bufio.Reader
	bw     *bufio.Writer
	// idle: waiting for a request (Shutdown may cut the wait).
	idle atomic.Bool
	// watchFrom: unix nanos since a request with its body read runs; 0
	// when none does.
	watchFrom atomic.Int64

	head head
	req  *http.Request
	tmpl http.Request // a blank request with the connection's context
	url  url.URL
	hdr  http.Header
	vals []string
	body body
	w    response
}

func (cn *conn) serve() {
	s := cn.s
	handedOff := false
	defer func() {
		cn.cancel(nil)
		s.mu.Lock()
		delete(s.conns, cn)
		s.mu.Unlock()
		if !handedOff {
			_ = cn.c.Close()
			if s.ConnState != nil {
				s.ConnState(cn.c, http.StateClosed)
			}
		}
		s.wg.Done()
	}()
	cn.br = bufio.NewReaderSize(cn.c, bufSize)
	cn.bw = bufio.NewWriterSize(cn.c, bufSize)
	cn.hdr = make(http.Header, 8)
	cn.tmpl = *(&http.Request{}).WithContext(cn.ctx)
	cn.req = new(http.Request)
	cn.body.cn = cn
	cn.w.cn = cn
	for first := true; ; first = false {
		var ok bool
		if ok, handedOff = cn.readRequest(first); !ok {
			return
		}
		if s.ConnState != nil {
			s.ConnState(cn.c, http.StateActive)
		}
		keep := cn.serveRequest()
		if !keep || s.closed.Load() || cn.ctx.Err() != nil {
			return
		}
		if s.ConnState != nil {
			s.ConnState(cn.c, http.StateIdle)
		}
	}
}

// readRequest waits for the next request and reads its head into cn.req.
// ok is false when the connection is done: closed, timed out, shutting
// down, or handed to the fallback (handedOff).
func (cn *conn) readRequest(first bool) (ok, handedOff bool) {
	s := cn.s
	// As net/http: a new connection has the header timeout (else the read
	// timeout) from its accept to send a head; a kept-alive one waits for
	// its next request under the idle timeout, and the head's time starts
	// with the request's first byte.
	headTimeout := s.ReadHeaderTimeout
	if headTimeout <= 0 {
		headTimeout = s.ReadTimeout
	}
	start := time.Now()
	if first {
		if headTimeout > 0 {
			_ = cn.c.SetReadDeadline(start.Add(headTimeout))
		}
	} else {
		idle := s.IdleTimeout
		if idle <= 0 {
			idle = s.ReadTimeout
		}
		var dl time.Time
		if idle > 0 {
			dl = start.Add(idle)
		}
		_ = cn.c.SetReadDeadline(dl)
	}
	cn.idle.Store(true)
	if s.closed.Load() { // after idle is set: Shutdown's next pass wakes us otherwise
		cn.idle.Store(false)
		return false, false
	}
	_, err := cn.br.Peek(1)
	cn.idle.Store(false)
	if err != nil {
		return false, false
	}
	if !first {
		start = time.Now()
		if headTimeout > 0 {
			_ = cn.c.SetReadDeadline(start.Add(headTimeout))
		}
	}
	n, strict := -1, false
	for {
		buf, _ := cn.br.Peek(cn.br.Buffered())
		if n, strict = headEnd(buf); n >= 0 || len(buf) == bufSize {
			break // a head, or one too long for the buffer: net/http's
		}
		if _, err := cn.br.Peek(len(buf) + 1); err != nil {
			return false, false // gone or too slow: no request to answer
		}
	}
	buf, _ := cn.br.Peek(cn.br.Buffered())
	if !strict || !parseHead(buf[:n], &cn.head) {
		cn.handOff()
		return false, true
	}
	_, _ = cn.br.Discard(n)
	if s.ReadTimeout > 0 {
		_ = cn.c.SetReadDeadline(start.Add(s.ReadTimeout))
	} else if headTimeout > 0 {
		_ = cn.c.SetReadDeadline(time.Time{})
	}
	cn.fillRequest()
	return true, false
}

// handOff gives the connection, with what was read of it, to net/http.
func (cn *conn) handOff() {
	buffered, _ := cn.br.Peek(cn.br.Buffered())
	_ = cn.c.SetReadDeadline(time.Time{})
	cn.s.give(&replayConn{Conn: cn.c, buf: append([]byte(nil), buffered...)})
}

func (cn *conn) fillRequest() {
	h := &cn.head
	clear(cn.hdr)
	if cap(cn.vals) < len(h.fields) {
		cn.vals = make([]string, len(h.fields))
	}
	vals := cn.vals[:len(h.fields)]
	for i, f := range h.fields {
		if prev, dup := cn.hdr[f.name]; dup {
			cn.hdr[f.name] = append(prev[:len(prev):len(prev)], f.value)
			continue
		}
		vals[i] = f.value
		cn.hdr[f.name] = vals[i : i+1 : i+1]
	}
	cn.vals = vals[:0] // the next request overwrites them: the map is cleared first
	cn.url = url.URL{Path: h.path}
	r := cn.req
	*r = cn.tmpl // nothing a handler set (a parsed form) carries over
	r.Method = h.method
	r.URL = &cn.url
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	r.Header = cn.hdr
	r.Host = h.host
	r.RemoteAddr = cn.remote
	r.RequestURI = h.path
	r.Close = h.close
	r.ContentLength = h.contentLength
	cn.body.remaining = h.contentLength
	if h.contentLength == 0 {
		r.Body = http.NoBody
	} else {
		r.Body = &cn.body
	}
}

// serveRequest runs the handler and finishes the response; it reports
// whether the connection can serve another request.
func (cn *conn) serveRequest() (keep bool) {
	w := &cn.w
	w.reset(cn.head.close)
	if cn.body.remaining == 0 {
		cn.watchFrom.Store(time.Now().UnixNano())
	}
	panicked := cn.runHandler()
	cn.watchFrom.Store(0)
	if panicked {
		return false
	}
	if err := w.finish(); err != nil {
		return false
	}
	if cn.body.remaining > 0 {
		if cn.body.remaining > maxDiscard {
			cn.closeWriteAndWait()
			return false
		}
		if _, err := io.Copy(io.Discard, &cn.body); err != nil || cn.body.remaining > 0 {
			return false
		}
	}
	return !w.closeAfter
}

// rstAvoidanceDelay: see closeWriteAndWait (net/http waits as long).
const rstAvoidanceDelay = 500 * time.Millisecond

// closeWriteAndWait, before closing a connection with unread request
// bytes, sends FIN and waits a little: closing at once would reset the
// connection, and the client could lose the answer it has not read yet.
func (cn *conn) closeWriteAndWait() {
	if cw, ok := cn.c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		select {
		case <-time.After(rstAvoidanceDelay):
		case <-cn.s.done:
		}
	}
}

func (cn *conn) runHandler() (panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			panicked = true
			if p != http.ErrAbortHandler { //nolint:errorlint // compared as net/http does
				cn.s.logf("h1: panic serving %s: %v\n%s", cn.remote, p, debug.Stack())
			}
		}
	}()
	cn.s.Handler.ServeHTTP(&cn.w, cn.req)
	return false
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// body reads a request body of known length from the connection.
type body struct {
	cn        *conn
	remaining int64
}

func (b *body) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.cn.br.Read(p)
	b.remaining -= int64(n)
	if b.remaining == 0 {
		b.cn.watchFrom.Store(time.Now().UnixNano())
		return n, io.EOF
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *body) Close() error { return nil }

// replayConn is a connection handed to net/http: it reads what the lean
// loop had buffered first.
type replayConn struct {
	net.Conn
	buf []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite lets net/http half-close the connection, as it does a TCP one.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// chanListener is the fallback server's listener: connections handed off.
type chanListener struct {
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newChanListener() *chanListener {
	return &chanListener{ch: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return handoffAddr{} }

type handoffAddr struct{}

func (handoffAddr) Network() string { return "h1-handoff" }
func (handoffAddr) String() string  { return "h1-handoff" }
