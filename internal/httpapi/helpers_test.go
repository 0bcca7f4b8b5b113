package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/sql/session"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeExec records what the server asks and answers with the configured
// functions (or empty successes).
type fakeExec struct {
	mu        sync.Mutex
	requests  []session.Request
	begins    []string
	commits   []session.TxnHandle
	rollbacks []session.TxnHandle

	execute func(ctx context.Context, req session.Request) (*session.Result, error)
	begin   func(ctx context.Context, database string) (session.TxnHandle, error)
	endErr  error
}

func (f *fakeExec) Execute(ctx context.Context, req session.Request) (*session.Result, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	execute := f.execute
	f.mu.Unlock()
	if execute != nil {
		return execute(ctx, req)
	}
	return &session.Result{Kind: session.ResultDDL}, nil
}

func (f *fakeExec) Begin(ctx context.Context, database string) (session.TxnHandle, error) {
	f.mu.Lock()
	f.begins = append(f.begins, database)
	begin := f.begin
	f.mu.Unlock()
	if begin != nil {
		return begin(ctx, database)
	}
	return session.TxnHandle{PT: 1700000000000, Counter: 7}, nil
}

func (f *fakeExec) Commit(_ context.Context, h session.TxnHandle) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commits = append(f.commits, h)
	return f.endErr
}

func (f *fakeExec) Rollback(_ context.Context, h session.TxnHandle) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rollbacks = append(f.rollbacks, h)
	return f.endErr
}

func (f *fakeExec) lastRequest(t *testing.T) session.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("executor was not called")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeExec) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// testServer is a Server behind httptest.Server.
type testServer struct {
	t    *testing.T
	api  *Server
	exec *fakeExec
	url  string
}

func newTestServer(t *testing.T, exec *fakeExec, mutate func(*Options)) *testServer {
	t.Helper()
	if exec == nil {
		exec = &fakeExec{}
	}
	opts := Options{Executor: exec}
	if mutate != nil {
		mutate(&opts)
	}
	api, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(api)
	t.Cleanup(hs.Close)
	return &testServer{t: t, api: api, exec: exec, url: hs.URL}
}

// response is a decoded reply.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (ts *testServer) do(method, path, body string) response {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.url+path, strings.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(data)}
	if method != http.MethodHead && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &out.body); err != nil {
			ts.t.Fatalf("%s %s: response is not JSON: %v\n%s", method, path, err, data)
		}
	}
	return out
}

func (ts *testServer) post(path, body string) response { return ts.do(http.MethodPost, path, body) }

// wantOK fails unless r is 200 {"status":"ok",...}.
func wantOK(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusOK || r.body["status"] != "ok" {
		t.Fatalf("want 200 ok, got %d %s", r.status, r.raw)
	}
}

// wantFailed fails unless r is the error shape with status and code.
func wantFailed(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("want HTTP %d, got %d %s", status, r.status, r.raw)
	}
	if r.body["status"] != "failed" || r.body["code"] != code {
		t.Fatalf("want failed %s, got %s", code, r.raw)
	}
	if msg, _ := r.body["message"].(string); msg == "" {
		t.Fatalf("error without message: %s", r.raw)
	}
	if len(r.body) != 3 {
		t.Fatalf("error body has extra fields: %s", r.raw)
	}
}

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
