package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// syncTransport is an http.RoundTripper for HTTP/1.1 over plain TCP that
// makes the whole exchange on the calling goroutine: it takes a keep-alive
// connection from its pool, writes the request, reads the answer, and puts
// the connection back when the body is closed. That is how pgx drives a
// pgwire connection, and how the lean HTTP clients (fasthttp's, for one)
// work; net/http's Transport instead hands every request to a writer and
// a reader goroutine per connection, which on a 2-core machine shared with
// the server costs as much CPU per request as the server's own HTTP layer.
//
// It speaks exactly what the CamusDB client sends: requests with a known
// Content-Length (or none), no Expect: 100-continue, no proxies or TLS (an
// https endpoint needs the net/http client, --http-client net/http).
type syncTransport struct {
	dialer net.Dialer

	mu struct {
		sync.Mutex
		idle map[string][]*syncConn // by host:port, most recently used last
	}
}

func newSyncTransport() *syncTransport {
	t := &syncTransport{dialer: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}}
	t.mu.idle = make(map[string][]*syncConn)
	return t
}

type syncConn struct {
	conn net.Conn
	host string
	br   *bufio.Reader
	bw   *bufio.Writer
}

// CloseIdleConnections closes the pooled connections (http.Client calls it).
func (t *syncTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.mu.idle
	t.mu.idle = make(map[string][]*syncConn)
	t.mu.Unlock()
	for _, conns := range idle {
		for _, c := range conns {
			_ = c.conn.Close()
		}
	}
}

func (t *syncTransport) get(ctx context.Context, host string) (c *syncConn, reused bool, err error) {
	t.mu.Lock()
	if conns := t.mu.idle[host]; len(conns) > 0 {
		c = conns[len(conns)-1]
		t.mu.idle[host] = conns[:len(conns)-1]
	}
	t.mu.Unlock()
	if c != nil {
		return c, true, nil
	}
	conn, err := t.dialer.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, false, err
	}
	return &syncConn{conn: conn, host: host, br: bufio.NewReaderSize(conn, 8<<10), bw: bufio.NewWriterSize(conn, 4<<10)}, false, nil
}

func (t *syncTransport) put(c *syncConn) {
	t.mu.Lock()
	t.mu.idle[c.host] = append(t.mu.idle[c.host], c)
	t.mu.Unlock()
}

// RoundTrip implements http.RoundTripper.
func (t *syncTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := requestBody(req)
	if err != nil {
		return nil, err
	}
	if req.URL.Scheme != "http" {
		return nil, fmt.Errorf("bench: the synchronous HTTP client speaks plain http, not %q (use --http-client net/http)", req.URL.Scheme)
	}
	for {
		c, reused, err := t.get(req.Context(), req.URL.Host)
		if err != nil {
			return nil, err
		}
		resp, err := t.exchange(c, req, body)
		if err == nil {
			return resp, nil
		}
		_ = c.conn.Close()
		// A pooled connection the server closed while idle fails before
		// any byte of an answer came: the request was not served, send it
		// on a new connection (as net/http does).
		var unanswered *unansweredError
		if !reused || !errors.As(err, &unanswered) || req.Context().Err() != nil {
			return nil, err
		}
	}
}

// unansweredError is a failure before the first byte of the answer.
type unansweredError struct{ err error }

func (e *unansweredError) Error() string { return e.err.Error() }
func (e *unansweredError) Unwrap() error { return e.err }

// requestBody reads and closes the request's body (a RoundTripper must
// close it).
func requestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

func (t *syncTransport) exchange(c *syncConn, req *http.Request, body []byte) (*http.Response, error) {
	// A cancelled request unblocks the read or write in progress; the
	// connection is then not reused.
	ctx := req.Context()
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	if err := writeRequest(c.bw, req, body); err != nil {
		return fail(&unansweredError{err})
	}
	if _, err := c.br.Peek(1); err != nil {
		return fail(&unansweredError{err})
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return fail(err)
	}
	resp.Body = &syncBody{ReadCloser: resp.Body, t: t, c: c, stop: stop, reuse: !resp.Close}
	return resp, nil
}

func writeRequest(bw *bufio.Writer, req *http.Request, body []byte) error {
	uri := req.URL.RequestURI()
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	bw.WriteString(req.Method)
	bw.WriteByte(' ')
	bw.WriteString(uri)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(host)
	bw.WriteString("\r\n")
	for name, values := range req.Header {
		for _, v := range values {
			bw.WriteString(name)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	if body != nil || req.Method == http.MethodPost {
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.Itoa(len(body)))
		bw.WriteString("\r\n")
	}
	bw.WriteString("\r\n")
	bw.Write(body)
	return bw.Flush()
}

// syncBody hands the connection back when the answer was read to its end.
type syncBody struct {
	io.ReadCloser
	t      *syncTransport
	c      *syncConn
	stop   func() bool // stops the cancellation of the exchange
	reuse  bool
	sawEOF bool
	closed bool
}

func (b *syncBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.sawEOF = true
	}
	return n, err
}

func (b *syncBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	err := b.ReadCloser.Close()
	cancelled := !b.stop()
	if b.reuse && b.sawEOF && err == nil && !cancelled {
		b.t.put(b.c)
		return nil
	}
	_ = b.c.conn.Close()
	return err
}
