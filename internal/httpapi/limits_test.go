package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// A declared Content-Length over the limit is refused before the body is
// read: the client sends only the headers and a few bytes, and still gets
// its 413 (without the check the server would wait for the body).
func TestDeclaredBodyOverLimitRefusedBeforeReading(t *testing.T) {
	ts := newTestServer(t, nil, func(o *Options) { o.MaxBodyBytes = 1 << 10 })
	addr := strings.TrimPrefix(ts.url, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /execute-sql-query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"sql\":", 100<<20)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("not JSON: %s", data)
	}
	if resp.StatusCode != 413 || body["code"] != "CADB0400" || !strings.Contains(body["message"].(string), "http_max_body_bytes") {
		t.Fatalf("got %d %s", resp.StatusCode, data)
	}
	if ts.exec.calls() != 0 {
		t.Fatal("the statement ran")
	}
}

func TestChunkedBodyOverLimit(t *testing.T) {
	ts := newTestServer(t, nil, func(o *Options) { o.MaxBodyBytes = 1 << 10 })
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(`{"sql":"` + strings.Repeat("x", 4<<10) + `"}`))
		_ = pw.Close()
	}()
	resp, err := http.Post(ts.url+"/execute-sql-query", "application/json", pr) // unknown length: chunked
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(data), "CADB0400") {
		t.Fatalf("got %d %s", resp.StatusCode, data)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	started := make(chan struct{}, 4)
	unblock := make(chan struct{})
	exec := &fakeExec{}
	exec.execute = func(ctx context.Context, req session.Request) (*session.Result, error) {
		if req.SQL == "SELECT block()" {
			started <- struct{}{}
			select {
			case <-unblock:
			case <-ctx.Done():
			}
		}
		return &session.Result{Kind: session.ResultRows, Rows: [][]types.Value{}}, nil
	}
	ts := newTestServer(t, exec, func(o *Options) { o.MaxConcurrent, o.MaxQueued = 1, 0 })
	done := make(chan response, 1)
	go func() { done <- ts.post("/execute-sql-query", `{"sql":"SELECT block()"}`) }()
	<-started
	r := ts.post("/execute-sql-query", `{"sql":"SELECT 1"}`)
	wantFailed(t, r, 503, "CADB0508")
	if msg := r.body["message"].(string); !strings.Contains(msg, "http_max_concurrent_requests") {
		t.Fatalf("message does not name the setting: %q", msg)
	}
	wantOK(t, ts.do(http.MethodGet, "/ping", "")) // exempt
	if r := ts.do(http.MethodGet, "/metrics", ""); r.status != 200 {
		t.Fatalf("/metrics while busy: %d", r.status)
	}
	close(unblock)
	wantOK(t, <-done)
	wantOK(t, ts.post("/execute-sql-query", `{"sql":"SELECT 1"}`))
}

func TestConcurrencyQueue(t *testing.T) {
	started := make(chan struct{}, 4)
	unblock := make(chan struct{})
	exec := &fakeExec{}
	exec.execute = func(ctx context.Context, req session.Request) (*session.Result, error) {
		if req.SQL == "SELECT block()" {
			started <- struct{}{}
			<-unblock
		}
		return &session.Result{Kind: session.ResultRows, Rows: [][]types.Value{}}, nil
	}
	ts := newTestServer(t, exec, func(o *Options) { o.MaxConcurrent, o.MaxQueued = 1, 1 })
	first := make(chan response, 1)
	go func() { first <- ts.post("/execute-sql-query", `{"sql":"SELECT block()"}`) }()
	<-started
	queued := make(chan response, 1)
	go func() { queued <- ts.post("/execute-sql-query", `{"sql":"SELECT 1"}`) }()
	waitQueued(t, ts.api.admission, 1)
	wantFailed(t, ts.post("/execute-sql-query", `{"sql":"SELECT 2"}`), 503, "CADB0508")
	close(unblock)
	wantOK(t, <-first)
	wantOK(t, <-queued)
}

func waitQueued(t *testing.T, a *admission, n int64) {
	t.Helper()
	testutil.SucceedsSoon(t, 10*time.Second, func() error {
		if got := a.queued.Load(); got != n {
			return fmt.Errorf("%d queued, want %d", got, n)
		}
		return nil
	})
}

func TestResultOverMaxResultBytes(t *testing.T) {
	exec := &fakeExec{}
	exec.execute = func(context.Context, session.Request) (*session.Result, error) {
		rows := make([][]types.Value, 100)
		for i := range rows {
			rows[i] = []types.Value{types.NewString(strings.Repeat("x", 100))}
		}
		return &session.Result{Kind: session.ResultRows, Columns: []session.Column{{Name: "s", Type: types.String}}, Rows: rows}, nil
	}
	ts := newTestServer(t, exec, func(o *Options) { o.MaxResultBytes = 4 << 10 })
	r := ts.post("/execute-sql-query", `{"sql":"SELECT s FROM t"}`)
	wantFailed(t, r, 400, "CADB0509")
	msg := r.body["message"].(string)
	for _, want := range []string{"http_max_result_bytes", "LIMIT", "PostgreSQL wire protocol"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(r.raw, `"rows"`) {
		t.Fatalf("partial result sent: %s", r.raw)
	}
	ts2 := newTestServer(t, exec, nil)
	wantOK(t, ts2.post("/execute-sql-query", `{"sql":"SELECT s FROM t"}`))
}

func TestStatementRequestsCarryClientAndTimeout(t *testing.T) {
	exec := &fakeExec{}
	ts := newTestServer(t, exec, func(o *Options) {
		o.RequestTimeout = 30 * time.Second
		o.StatementTimeout = 5 * time.Second
	})
	wantOK(t, ts.post("/execute-sql-query", `{"sql":"SELECT 1"}`))
	req := exec.lastRequest(t)
	if req.Timeout != 5*time.Second || req.TimeoutSetting != "sql_statement_timeout_ms" || req.Client.Protocol != "http" || req.Client.Addr == "" {
		t.Fatalf("request: %+v", req)
	}
	wantOK(t, ts.post("/execute-sql-query", `{"sql":"SELECT 1","timeoutMs":60000}`))
	if req := exec.lastRequest(t); req.Timeout != time.Minute || req.TimeoutSetting != "timeoutMs" {
		t.Fatalf("request: %+v", req)
	}
}

// enforcingExec is an executor that declares it holds statements to their
// timeout itself (session.TimeoutEnforcer).
type enforcingExec struct {
	fakeExec
	enforces bool
}

func (e *enforcingExec) EnforcesStatementTimeout() bool { return e.enforces }

// The server sets its own statement deadline only for executors that do
// not enforce Request.Timeout themselves; the timeout is passed either way.
func TestStatementDeadlineOnlyWithoutTimeoutEnforcer(t *testing.T) {
	for _, enforces := range []bool{false, true} {
		exec := &enforcingExec{enforces: enforces}
		var hasDeadline bool
		exec.execute = func(ctx context.Context, req session.Request) (*session.Result, error) {
			_, hasDeadline = ctx.Deadline()
			return &session.Result{Kind: session.ResultRows}, nil
		}
		ts := newTestServer(t, &exec.fakeExec, func(o *Options) {
			o.Executor = exec
			o.StatementTimeout = 5 * time.Second
		})
		wantOK(t, ts.post("/execute-sql-query", `{"sql":"SELECT 1"}`))
		if hasDeadline == enforces {
			t.Fatalf("executor enforcing its timeout: %v; statement context has a deadline: %v", enforces, hasDeadline)
		}
		if req := exec.lastRequest(t); req.Timeout != 5*time.Second || req.TimeoutSetting != "sql_statement_timeout_ms" {
			t.Fatalf("request: %+v", req)
		}
	}
}

// A queued request waits at most http_request_timeout_ms for a slot.
func TestQueuedRequestGivesUp(t *testing.T) {
	started := make(chan struct{}, 1)
	unblock := make(chan struct{})
	exec := &fakeExec{}
	exec.execute = func(ctx context.Context, req session.Request) (*session.Result, error) {
		if req.SQL == "SELECT block()" {
			started <- struct{}{}
			<-unblock
		}
		return &session.Result{Kind: session.ResultRows, Rows: [][]types.Value{}}, nil
	}
	ts := newTestServer(t, exec, func(o *Options) {
		o.MaxConcurrent, o.MaxQueued = 1, 1
		o.RequestTimeout = 50 * time.Millisecond
	})
	first := make(chan response, 1)
	go func() { first <- ts.post("/execute-sql-query", `{"sql":"SELECT block()","timeoutMs":60000}`) }()
	<-started
	wantFailed(t, ts.post("/execute-sql-query", `{"sql":"SELECT 1"}`), 503, "CADB0508")
	close(unblock)
	wantOK(t, <-first)
}
