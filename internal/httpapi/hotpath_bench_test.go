package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/camusdb/camusdb-go/internal/httpapi/h1"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// The benchmarks of this file measure the HTTP API's own cost per request
// for the two statements of `camus-cli bench` that matter most (the point
// select and the autocommit insert), with an executor that answers at once:
// what is left is decoding, admission, metrics, contexts, encoding and, in
// the loopback ones, net/http itself.

// benchPointBody and benchInsertBody are what the Go client sends for the
// bench's point and insert workloads.
var (
	benchPointBody  = []byte(`{"databaseName":"bench","sql":"SELECT v FROM bench_kv WHERE k = @p1","parameters":{"p1":{"type":2,"longValue":48213}},"rowFormat":"array"}`)
	benchInsertBody = []byte(`{"databaseName":"bench","sql":"INSERT INTO bench_insert (k, v, s) VALUES (@p1, @p2, @p3)","parameters":{"p1":{"type":2,"longValue":1099511627777},"p2":{"type":2,"longValue":777},"p3":{"type":3,"strValue":"payload"}}}`)
)

func benchPointResult() *session.Result {
	return &session.Result{
		Kind:    session.ResultRows,
		Columns: []session.Column{{Name: "v", Type: types.Int64}},
		Rows:    [][]types.Value{{types.NewInt(213)}},
	}
}

func benchExecutor() *fakeExecNoRecord {
	point, insert := benchPointResult(), &session.Result{Kind: session.ResultAffected, RowsAffected: 1}
	return &fakeExecNoRecord{execute: func(_ context.Context, req session.Request) (*session.Result, error) {
		if len(req.Params) == 1 {
			return point, nil
		}
		return insert, nil
	}}
}

// fakeExecNoRecord is an executor that keeps nothing (fakeExec's request
// log would grow with b.N).
type fakeExecNoRecord struct {
	fakeExec
	execute func(ctx context.Context, req session.Request) (*session.Result, error)
}

// EnforcesStatementTimeout: as the session layer, which the node runs.
func (f *fakeExecNoRecord) EnforcesStatementTimeout() bool { return true }

func (f *fakeExecNoRecord) Execute(ctx context.Context, req session.Request) (*session.Result, error) {
	return f.execute(ctx, req)
}

// discardWriter is a reusable http.ResponseWriter that keeps only the status.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

func (w *discardWriter) reset() {
	clear(w.header)
	w.status, w.n = 0, 0
}

// benchHandler runs one request body through ServeHTTP b.N times, reusing
// the request and the writer so that only the handler's cost is measured.
func benchHandler(b *testing.B, path string, body []byte) {
	api, err := New(Options{Executor: benchExecutor(), MaxConcurrent: 64, MaxQueued: 64})
	if err != nil {
		b.Fatal(err)
	}
	rd := bytes.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, path, nil)
	req.Body = io.NopCloser(rd)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	w := &discardWriter{header: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		w.reset()
		api.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

func BenchmarkHandlerBenchPoint(b *testing.B) { benchHandler(b, "/execute-sql-query", benchPointBody) }
func BenchmarkHandlerBenchInsert(b *testing.B) {
	benchHandler(b, "/execute-sql-non-query", benchInsertBody)
}

// BenchmarkDecodeSQLRequest is the request decoding alone.
func BenchmarkDecodeSQLRequest(b *testing.B) {
	for _, bc := range []struct {
		name string
		body []byte
	}{{"point", benchPointBody}, {"insert", benchInsertBody}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var req sqlRequest
				if err := decodeSQLRequest(bc.body, &req); err != nil {
					b.Fatal(err)
				}
				if _, err := req.sessionRequest(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchLoopback serves the API on a loopback listener, through net/http's
// server or the lean h1 one the node runs, and drives it with `clients`
// keep-alive connections that write a prepared request and read the answer
// by its Content-Length (a minimal client, so that the figure is mostly
// the server's).
func benchLoopback(b *testing.B, path string, body []byte, clients int) {
	b.Run("net-http", func(b *testing.B) {
		api, err := New(Options{Executor: benchExecutor()})
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(api)
		defer srv.Close()
		driveLoopback(b, srv.Listener.Addr().String(), path, body, clients)
	})
	b.Run("h1", func(b *testing.B) {
		api, err := New(Options{Executor: benchExecutor()})
		if err != nil {
			b.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &h1.Server{Handler: api}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		driveLoopback(b, ln.Addr().String(), path, body, clients)
	})
}

func driveLoopback(b *testing.B, addr, path string, body []byte, clients int) {
	var err error
	request := []byte("POST " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + string(body))
	conns := make([]net.Conn, clients)
	for i := range conns {
		if conns[i], err = net.Dial("tcp", addr); err != nil {
			b.Fatal(err)
		}
		defer conns[i].Close()
	}
	b.ReportAllocs()
	b.ResetTimer()
	var next sync.Mutex
	remaining := b.N
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for _, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rd := bufio.NewReader(conn)
			for {
				next.Lock()
				if remaining == 0 {
					next.Unlock()
					return
				}
				remaining--
				next.Unlock()
				if _, err := conn.Write(request); err != nil {
					errs <- err
					return
				}
				if err := readLoopbackResponse(rd); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// readLoopbackResponse reads one 200 response with a Content-Length.
func readLoopbackResponse(rd *bufio.Reader) error {
	status, err := rd.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return &loopbackError{string(status)}
	}
	length := -1
	for {
		line, err := rd.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if length < 0 {
		return &loopbackError{"no Content-Length"}
	}
	_, err = rd.Discard(length)
	return err
}

type loopbackError struct{ msg string }

func (e *loopbackError) Error() string { return "loopback: " + e.msg }

func BenchmarkLoopbackBenchPoint(b *testing.B) {
	benchLoopback(b, "/execute-sql-query", benchPointBody, 16)
}

func BenchmarkLoopbackBenchInsert(b *testing.B) {
	benchLoopback(b, "/execute-sql-non-query", benchInsertBody, 16)
}
