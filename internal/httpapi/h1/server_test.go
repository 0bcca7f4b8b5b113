package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echo answers with what it saw of the request: the fields a handler
// reads, every header, and the body.
func echo(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s uri=%s host=%s len=%d close=%v proto=%s query=%q remote=%v tls=%v\n",
		r.Method, r.URL.Path, r.RequestURI, r.Host, r.ContentLength, r.Close, r.Proto, r.URL.RawQuery, r.RemoteAddr != "", r.TLS != nil)
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q\n", k, r.Header[k])
	}
	body, err := io.ReadAll(r.Body)
	fmt.Fprintf(&b, "body=%q err=%v\n", body, err)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, b.String())
}

// serveLean starts a lean server on a loopback port; it is closed (and
// its goroutines checked gone) at the end of the test.
func serveLean(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

func serveStd(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// exchange writes raw to a new connection and reads n responses (fewer if
// the server closes first); each as "status\nheaders we compare\nbody".
func exchange(t *testing.T, addr, raw string, n int) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []string
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			out = append(out, "read error: "+errKind(err))
			break
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		out = append(out, fmt.Sprintf("%d close=%v type=%q\n%s%v", resp.StatusCode, resp.Close, resp.Header.Get("Content-Type"), body, err))
	}
	return out
}

func errKind(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "EOF"
	}
	return err.Error()
}

// The lean server answers every request as net/http does: those it serves
// itself and those it hands over, alone or after others on one connection.
func TestAnswersAsNetHTTP(t *testing.T) {
	h := http.HandlerFunc(echo)
	lean := serveLean(t, &Server{Handler: h})
	std := serveStd(t, h)
	post := func(path, headers, body string) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: db\r\n%sContent-Length: %d\r\n\r\n%s", path, headers, len(body), body)
	}
	cases := map[string]string{
		"get":                   "GET /ping HTTP/1.1\r\nHost: db\r\n\r\n",
		"post":                  post("/execute-sql-query", "Content-Type: application/json\r\n", `{"sql":"SELECT 1"}`),
		"header case and space": "POST /a HTTP/1.1\r\nhOsT:   db  \r\ncontent-LENGTH:\t3\r\nx-camus-forwarded: 1\r\nAuthorization: Basic eA==\r\nX-Odd_Name: v\r\n\r\nabc",
		"repeated header":       "GET /a HTTP/1.1\r\nHost: db\r\nX-A: 1\r\nX-A: 2\r\nx-a: 3\r\n\r\n",
		"empty value":           "GET /a HTTP/1.1\r\nHost: db\r\nX-Empty:\r\n\r\n",
		"obs-text value":        "GET /a HTTP/1.1\r\nHost: db\r\nX-Bin: caf\xc3\xa9\r\n\r\n",
		"connection close":      "GET /a HTTP/1.1\r\nHost: db\r\nConnection: close\r\n\r\n",
		"keep-alive token":      "GET /a HTTP/1.1\r\nHost: db\r\nConnection: Keep-Alive\r\n\r\n",
		"no body length":        "POST /a HTTP/1.1\r\nHost: db\r\n\r\n",
		"zero length":           post("/a", "", ""),
		"dotted path":           "GET /a.b/c HTTP/1.1\r\nHost: db\r\n\r\n",
		// Handed over: net/http's own answer.
		"query":              "GET /a?x=1 HTTP/1.1\r\nHost: db\r\n\r\n",
		"escape":             "GET /a%20b HTTP/1.1\r\nHost: db\r\n\r\n",
		"dot segment":        "GET /a/../b HTTP/1.1\r\nHost: db\r\n\r\n",
		"double slash":       "GET //a HTTP/1.1\r\nHost: db\r\n\r\n",
		"absolute form":      "GET http://db/a HTTP/1.1\r\nHost: db\r\n\r\n",
		"asterisk":           "OPTIONS * HTTP/1.1\r\nHost: db\r\n\r\n",
		"put":                "PUT /a HTTP/1.1\r\nHost: db\r\nContent-Length: 1\r\n\r\nx",
		"lowercase method":   "get /a HTTP/1.1\r\nHost: db\r\n\r\n",
		"http/1.0":           "GET /a HTTP/1.0\r\n\r\n",
		"http/1.0 host":      "GET /a HTTP/1.0\r\nHost: db\r\n\r\n",
		"http/2 preface":     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"no host":            "GET /a HTTP/1.1\r\n\r\n",
		"two hosts":          "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"chunked":            "POST /a HTTP/1.1\r\nHost: db\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"length and chunks":  "POST /a HTTP/1.1\r\nHost: db\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"two lengths":        "POST /a HTTP/1.1\r\nHost: db\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
		"signed length":      "POST /a HTTP/1.1\r\nHost: db\r\nContent-Length: +3\r\n\r\nabc",
		"huge length":        "POST /a HTTP/1.1\r\nHost: db\r\nContent-Length: 99999999999999999999\r\n\r\nabc",
		"expect":             "POST /a HTTP/1.1\r\nHost: db\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		"upgrade":            "GET /a HTTP/1.1\r\nHost: db\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
		"pragma":             "GET /a HTTP/1.1\r\nHost: db\r\nPragma: no-cache\r\n\r\n",
		"folded header":      "GET /a HTTP/1.1\r\nHost: db\r\nX-A: 1\r\n  2\r\n\r\n",
		"space before colon": "GET /a HTTP/1.1\r\nHost: db\r\nX-A : 1\r\n\r\n",
		"bad name":           "GET /a HTTP/1.1\r\nHost: db\r\nX(A): 1\r\n\r\n",
		"control in value":   "GET /a HTTP/1.1\r\nHost: db\r\nX-A: 1\x002\r\n\r\n",
		"bare LF":            "GET /a HTTP/1.1\nHost: db\n\n",
		"bare LF end":        "GET /a HTTP/1.1\r\nHost: db\r\n\n",
		"LF in a line":       "GET /a HTTP/1.1\r\nHost: db\nX-A: 1\r\n\r\n",
		"long header":        "GET /a HTTP/1.1\r\nHost: db\r\nX-Long: " + strings.Repeat("v", 6000) + "\r\n\r\n",
		"garbage":            "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			want := exchange(t, std, raw, 1)
			if got := exchange(t, lean, raw, 1); !slices.Equal(got, want) {
				t.Fatalf("lean server:\n%s\nnet/http:\n%s", got, want)
			}
			// Again after a request the lean loop served on the same
			// connection: the hand-over keeps the stream intact.
			first := "GET /first HTTP/1.1\r\nHost: db\r\n\r\n"
			want = exchange(t, std, first+raw+first, 3)
			if got := exchange(t, lean, first+raw+first, 3); !slices.Equal(got, want) {
				t.Fatalf("after a served request, lean server:\n%s\nnet/http:\n%s", got, want)
			}
		})
	}
}

// Pipelined requests, a body the handler leaves unread, and a second
// request after a hand-over all find their answers in order.
func TestKeepAliveStream(t *testing.T) {
	var served atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		switch r.URL.Path {
		case "/ignore-body":
			_, _ = io.WriteString(w, "ignored")
			return
		case "/form": // what a handler parsed does not reach the next request
			if r.Form != nil {
				panic("a form of an earlier request")
			}
			_ = r.ParseForm()
			_, _ = io.WriteString(w, "form "+r.Form.Get("a"))
			return
		}
		echo(w, r)
	})
	addr := serveLean(t, &Server{Handler: h})
	raw := "POST /ignore-body HTTP/1.1\r\nHost: db\r\nContent-Length: 5\r\n\r\nhello" +
		"GET /a HTTP/1.1\r\nHost: db\r\n\r\n" +
		"GET /q?x=1 HTTP/1.1\r\nHost: db\r\n\r\n" + // handed over here
		"POST /b HTTP/1.1\r\nHost: db\r\nContent-Length: 2\r\n\r\nhi"
	form := "POST /form HTTP/1.1\r\nHost: db\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=1"
	got := exchange(t, addr, form+form+raw, 6)
	for i, want := range []string{"form 1", "form 1", "ignored", "GET /a ", "GET /q uri=/q?x=1", `POST /b uri=/b host=db len=2`} {
		if i >= len(got) || !strings.Contains(got[i], want) {
			t.Fatalf("answer %d: %q, want it to contain %q (all: %q)", i, got, want, got)
		}
	}
	// An unread body past maxDiscard: answered, then the connection closes.
	big := strings.Repeat("x", maxDiscard+1)
	got = exchange(t, addr, fmt.Sprintf("POST /ignore-body HTTP/1.1\r\nHost: db\r\nContent-Length: %d\r\n\r\n%sGET /a HTTP/1.1\r\nHost: db\r\n\r\n", len(big), big), 2)
	if len(got) != 2 || !strings.HasPrefix(got[0], "200") || got[1] != "read error: EOF" {
		t.Fatalf("big unread body: %q", got)
	}
}

// Response framing: a declared length, a short body (length computed), a
// long one (chunked), a flushed one, a status without a body, and a
// handler that writes less than it declared (the connection closes).
func TestResponseFraming(t *testing.T) {
	long := strings.Repeat("0123456789", 1000)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/declared":
			w.Header().Set("Content-Length", "5")
			_, _ = io.WriteString(w, "hello")
		case "/short":
			_, _ = io.WriteString(w, "<html>hi</html>")
		case "/long":
			for i := 0; i < len(long); i += 1000 {
				_, _ = io.WriteString(w, long[i:i+1000])
			}
		case "/flushed":
			_, _ = io.WriteString(w, "part1,")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "part2")
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
			if _, err := io.WriteString(w, "x"); !errors.Is(err, http.ErrBodyNotAllowed) {
				panic("a body after 204 was accepted")
			}
		case "/toolong":
			w.Header().Set("Content-Length", "2")
			if _, err := io.WriteString(w, "abc"); !errors.Is(err, http.ErrContentLength) {
				panic("more than Content-Length was accepted")
			}
			_, _ = io.WriteString(w, "ab")
		case "/lying":
			w.Header().Set("Content-Length", "10")
			_, _ = io.WriteString(w, "abc")
		case "/framed-by-handler": // a handler's framing header is replaced
			w.Header().Set("Transfer-Encoding", "chunked")
			_, _ = io.WriteString(w, "plain")
		case "/injected":
			w.Header().Set("X-Evil", "a\r\nSet-Cookie: x=1")
			w.WriteHeader(http.StatusTeapot)
		}
	})
	addr := serveLean(t, &Server{Handler: h})
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for path, want := range map[string]string{
		"/declared": "200 hello", "/short": "200 <html>hi</html>", "/long": "200 " + long,
		"/flushed": "200 part1,part2", "/nocontent": "204 ", "/framed-by-handler": "200 plain", "/toolong": "200 ab", "/injected": "418 ",
	} {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if got := fmt.Sprintf("%d %s", resp.StatusCode, body); err != nil || got != want {
			t.Fatalf("%s: %q (%v), want %q", path, got, err, want)
		}
		chunked := slices.Contains(resp.TransferEncoding, "chunked")
		if wantChunked := path == "/long" || path == "/flushed"; chunked != wantChunked {
			t.Fatalf("%s: chunked %v, want %v", path, chunked, wantChunked)
		}
		if path == "/short" && resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("/short: Content-Type %q, want the sniffed one", resp.Header.Get("Content-Type"))
		}
		if path == "/injected" && (resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("X-Evil") != "a  Set-Cookie: x=1") {
			t.Fatalf("/injected: header %v", resp.Header)
		}
	}
	// HEAD is net/http's: the same header, no body.
	resp, err := client.Head("http://" + addr + "/short")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") == "" {
		t.Fatalf("HEAD: %d %v", resp.StatusCode, resp.Header)
	}
	got := exchange(t, addr, "GET /lying HTTP/1.1\r\nHost: db\r\n\r\nGET /short HTTP/1.1\r\nHost: db\r\n\r\n", 2)
	if len(got) == 2 && !strings.HasPrefix(got[1], "read error") {
		t.Fatalf("a response shorter than its Content-Length kept the connection: %q", got)
	}
}

// A client that closes its connection while its request runs cancels the
// request's context.
func TestClientGoneCancelsRequest(t *testing.T) {
	running := make(chan struct{})
	canceled := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		close(running)
		<-r.Context().Done()
		canceled <- context.Cause(r.Context())
	})
	addr := serveLean(t, &Server{Handler: h})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "POST /slow HTTP/1.1\r\nHost: db\r\nContent-Length: 2\r\n\r\nhi"); err != nil {
		t.Fatal(err)
	}
	<-running
	_ = c.Close()
	if err := <-canceled; !errors.Is(err, errClientGone) {
		t.Fatalf("cause %v, want errClientGone", err)
	}
}

// A request running when the client is still there is not canceled, and a
// pipelined request behind it is not taken for a close.
func TestWatcherKeepsLiveRequests(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			<-release
		}
		if err := r.Context().Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	s := &Server{Handler: h}
	addr := serveLean(t, s)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET /a HTTP/1.1\r\nHost: db\r\n\r\n"
	if _, err := io.WriteString(c, req+req); err != nil {
		t.Fatal(err)
	}
	// Let the watcher look at the running request several times.
	var cn *conn
	testutilWait(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for x := range s.conns {
			cn = x
		}
		return cn != nil && cn.watchFrom.Load() != 0
	})
	for i := 0; i < 3; i++ {
		if peerClosed(cn.c) {
			t.Fatal("a live connection with a pipelined request looked closed")
		}
	}
	close(release)
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != "ok" {
			t.Fatalf("answer %d: %d %q", i, resp.StatusCode, body)
		}
	}
}

func testutilWait(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// Shutdown closes idle connections, lets a request in flight finish (its
// answer says the connection closes) and returns once all are done.
func TestShutdown(t *testing.T) {
	running, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(running)
			<-release
		}
		_, _ = io.WriteString(w, "done")
	})
	var opened, closed atomic.Int64
	s := &Server{Handler: h, ConnState: func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			opened.Add(1)
		case http.StateClosed:
			closed.Add(1)
		}
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	addr := ln.Addr().String()

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if got := exchangeOn(t, idle, "GET /a HTTP/1.1\r\nHost: db\r\n\r\n"); got != "200 done" {
		t.Fatal(got)
	}
	handed, err := net.Dial("tcp", addr) // a connection net/http serves
	if err != nil {
		t.Fatal(err)
	}
	defer handed.Close()
	if got := exchangeOn(t, handed, "GET /a?q HTTP/1.1\r\nHost: db\r\n\r\n"); got != "200 done" {
		t.Fatal(got)
	}
	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: db\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	<-running
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	// The idle connections are closed, the busy one is not.
	for _, c := range []net.Conn{idle, handed} {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("idle connection after Shutdown: read %v, want EOF", err)
		}
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	close(release)
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Close {
		t.Fatal("the answer during shutdown does not close the connection")
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
	if opened.Load() != 3 || closed.Load() != 3 {
		t.Fatalf("ConnState: %d new, %d closed, want 3 and 3", opened.Load(), closed.Load())
	}
}

func exchangeOn(t *testing.T, c net.Conn, raw string) string {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, body)
}

// The idle timeout closes a kept-alive connection; a slow head is cut
// without an answer, like net/http.
func TestTimeouts(t *testing.T) {
	addr := serveLean(t, &Server{Handler: http.HandlerFunc(echo), IdleTimeout: 20 * time.Millisecond, ReadHeaderTimeout: 20 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := exchangeOn(t, c, "GET /a HTTP/1.1\r\nHost: db\r\n\r\n"); !strings.HasPrefix(got, "200") {
		t.Fatal(got)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: read %v, want EOF", err)
	}
	// A new connection that sends nothing has the header timeout, not the
	// idle one.
	addr2 := serveLean(t, &Server{Handler: http.HandlerFunc(echo), IdleTimeout: time.Hour, ReadHeaderTimeout: 20 * time.Millisecond})
	silent, err := net.Dial("tcp", addr2)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	_ = silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("silent new connection: read %v, want EOF", err)
	}
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "GET /a HTTP/1.1\r\nHo"); err != nil {
		t.Fatal(err)
	}
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := slow.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("slow head: read %d, %v, want EOF", n, err)
	}
}

// A handler panic closes its connection and nothing else; TLS
// connections are net/http's (Request.TLS set).
func TestPanicAndTLS(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		echo(w, r)
	})
	var logged strings.Builder
	var mu sync.Mutex
	s := &Server{Handler: h, ErrorLog: newLogger(&mu, &logged)}
	addr := serveLean(t, s)
	got := exchange(t, addr, "GET /panic HTTP/1.1\r\nHost: db\r\n\r\n", 1)
	if len(got) != 1 || got[0] != "read error: EOF" {
		t.Fatalf("after a panic: %q", got)
	}
	mu.Lock()
	if !strings.Contains(logged.String(), "boom") {
		t.Fatalf("the panic was not logged: %q", logged.String())
	}
	mu.Unlock()
	if got := exchange(t, addr, "GET /a HTTP/1.1\r\nHost: db\r\n\r\n", 1); !strings.HasPrefix(got[0], "200") {
		t.Fatalf("after a panic on another connection: %q", got)
	}

	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS() // only for its certificate
	cfg := ts.TLS.Clone()
	ts.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := &Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- tlsSrv.Serve(tls.NewListener(ln, cfg)) }()
	defer func() {
		_ = tlsSrv.Close()
		<-done
	}()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test certificate
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + ln.Addr().String() + "/a")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(body), "tls=true") {
		t.Fatalf("over TLS: %s", body)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newLogger(mu *sync.Mutex, w io.Writer) *log.Logger { return log.New(lockedWriter{mu, w}, "", 0) }
