package server

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/camusdb/camusdb-go/internal/httpapi"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// fakeExecutor records what reaches it and answers from canned values.
type fakeExecutor struct {
	mu        sync.Mutex
	requests  []session.Request
	commits   []session.TxnHandle
	rollbacks []session.TxnHandle
	forwarded []bool // isForwarded(ctx) of each call

	result *session.Result
	err    error
}

func (f *fakeExecutor) record(ctx context.Context) {
	f.forwarded = append(f.forwarded, isForwarded(ctx))
}

func (f *fakeExecutor) Execute(ctx context.Context, req session.Request) (*session.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(ctx)
	f.requests = append(f.requests, req)
	if f.err != nil {
		return nil, f.err
	}
	if f.result != nil {
		return f.result, nil
	}
	return &session.Result{Kind: session.ResultDDL, Database: req.Database}, nil
}

func (f *fakeExecutor) Begin(ctx context.Context, _ string) (session.TxnHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(ctx)
	return session.TxnHandle{PT: 1, Counter: 1}, nil
}

func (f *fakeExecutor) Commit(ctx context.Context, h session.TxnHandle) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(ctx)
	f.commits = append(f.commits, h)
	return f.err
}

func (f *fakeExecutor) Rollback(ctx context.Context, h session.TxnHandle) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(ctx)
	f.rollbacks = append(f.rollbacks, h)
	return f.err
}

func (f *fakeExecutor) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.forwarded)
}

// handleOf is a handle coordinated by node.
func handleOf(node uint64) session.TxnHandle {
	return session.TxnHandle{PT: 1700000000000, Counter: int64(node)<<session.TxnNodeShift | 42}
}

// coordinator serves the real HTTP API over exec, as a peer node does.
func coordinator(t testing.TB, exec session.Executor) *httptest.Server {
	t.Helper()
	api, err := httpapi.New(httpapi.Options{Executor: exec})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(markForwarded(api))
	t.Cleanup(ts.Close)
	return ts
}

func newTestForwarder(t testing.TB, local session.Executor, peers map[uint64]string) *forwarder {
	t.Helper()
	f, err := newForwarder(local, forwarderConfig{Self: 1, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.close)
	return f
}

func wantCode(t *testing.T, err error, code errcode.Code) {
	t.Helper()
	var coded *errcode.Error
	if !errors.As(err, &coded) || coded.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

// TestTxnHandlesNameTheirCoordinator: the session server puts its node id
// into every handle it allocates, and handles stay unique.
func TestTxnHandlesNameTheirCoordinator(t *testing.T) {
	for _, nodeID := range []uint64{0, 1, 3, session.MaxTxnNodeID} {
		srv := session.NewServer(catalogtest.NewMemDB(), session.Config{NodeID: nodeID})
		seen := map[session.TxnHandle]bool{}
		for range 3 {
			h, err := srv.Begin(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := session.TxnCoordinator(h); got != nodeID || h.Counter <= 0 && nodeID != 0 || seen[h] {
				t.Fatalf("node %d allocated handle %+v (coordinator %d, seen before %v)", nodeID, h, got, seen[h])
			}
			seen[h] = true
		}
		srv.Close()
	}
	if got := session.TxnCoordinator(session.TxnHandle{PT: 1, Counter: -5}); got != 0 {
		t.Fatalf("negative counter names coordinator %d", got)
	}
}

func TestForwarderRunsLocalRequestsLocally(t *testing.T) {
	local, remote := &fakeExecutor{}, &fakeExecutor{}
	ts := coordinator(t, remote)
	f := newTestForwarder(t, local, map[uint64]string{2: strings.TrimPrefix(ts.URL, "http://")})
	ctx := context.Background()
	own, legacy := handleOf(1), session.TxnHandle{PT: 5, Counter: 7} // legacy: no node id
	for _, h := range []*session.TxnHandle{nil, &own, &legacy} {
		if _, err := f.Execute(ctx, session.Request{SQL: "SELECT 1", Txn: h}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Begin(ctx, "db"); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(ctx, own); err != nil {
		t.Fatal(err)
	}
	if err := f.Rollback(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	// A request another node forwarded here is never forwarded again, even
	// when the handle names a third node.
	fromPeer := context.WithValue(ctx, forwardedKey{}, true)
	other := handleOf(2)
	if _, err := f.Execute(fromPeer, session.Request{SQL: "SELECT 1", Txn: &other}); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(fromPeer, other); err != nil {
		t.Fatal(err)
	}
	if local.calls() != 8 || remote.calls() != 0 || f.forwarded.Load() != 0 {
		t.Fatalf("local %d calls, remote %d, forwarded %d; want 8, 0, 0", local.calls(), remote.calls(), f.forwarded.Load())
	}
}

func TestForwarderRoundTrip(t *testing.T) {
	local, remote := &fakeExecutor{}, &fakeExecutor{}
	ts := coordinator(t, remote)
	f := newTestForwarder(t, local, map[uint64]string{2: strings.TrimPrefix(ts.URL, "http://")})
	ctx := context.Background()
	h := handleOf(2)

	oid, err := types.ParseOID("0123456789abcdef01234567")
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]types.Value{
		"s": types.NewString("quote \" backslash \\ newline \n ünïcode"), "i": types.NewInt(math.MinInt64),
		"f": types.NewFloat(-1.5e-300), "inf": types.NewFloat(math.Inf(-1)), "b": types.NewBool(true),
		"n": types.NullValue, "o": oid,
	}
	rows := &session.Result{
		Kind:    session.ResultRows,
		Columns: []session.Column{{Name: "x", Type: types.Int64}, {Name: "x", Type: types.String}, {Name: "o", Type: types.OID}, {Name: "f", Type: types.Float64}, {Name: "b", Type: types.Bool}, {Name: "n", Type: types.Null}},
		Rows: [][]types.Value{
			{types.NewInt(7), types.NewString("a\tb"), oid, types.NewFloat(math.Inf(1)), types.NewBool(false), types.NullValue},
			{types.NewInt(-1), types.NewString(""), oid, types.NewFloat(0.1), types.NewBool(true), types.NullValue},
		},
		Database: "db",
	}
	remote.result = rows
	got, err := f.Execute(ctx, session.Request{Database: "db", SQL: "SELECT x FROM t", Params: params, Txn: &h})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Fatalf("forwarded result\n got %+v\nwant %+v", got, rows)
	}
	sent := remote.requests[0]
	if sent.Database != "db" || sent.SQL != "SELECT x FROM t" || sent.Txn == nil || *sent.Txn != h || !reflect.DeepEqual(sent.Params, params) {
		t.Fatalf("coordinator received %+v", sent)
	}

	// NaN does not compare equal; check it separately.
	remote.result = &session.Result{Kind: session.ResultRows, Columns: []session.Column{{Name: "f", Type: types.Float64}},
		Rows: [][]types.Value{{types.NewFloat(math.NaN())}}}
	if got, err = f.Execute(ctx, session.Request{SQL: "SELECT f", Txn: &h}); err != nil || !math.IsNaN(got.Rows[0][0].Float) {
		t.Fatalf("NaN round trip: %+v, %v", got, err)
	}
	// An empty result set stays an empty, non-nil one.
	remote.result = &session.Result{Kind: session.ResultRows, Columns: []session.Column{{Name: "x", Type: types.Int64}}, Rows: [][]types.Value{}}
	if got, err = f.Execute(ctx, session.Request{SQL: "SELECT x", Txn: &h}); err != nil || got.Rows == nil || len(got.Rows) != 0 {
		t.Fatalf("empty rows: %+v, %v", got, err)
	}

	// The lexical dialect travels with the statement: the same text means
	// different strings in the two.
	if _, err = f.Execute(ctx, session.Request{SQL: `SELECT 'a\nb'`, Txn: &h, StandardStrings: true}); err != nil {
		t.Fatal(err)
	}
	if last := remote.requests[len(remote.requests)-1]; !last.StandardStrings || sent.StandardStrings {
		t.Fatalf("standard strings not forwarded: %+v then %+v", sent, last)
	}

	remote.result = &session.Result{Kind: session.ResultAffected, RowsAffected: 3, Database: "db"}
	if got, err = f.Execute(ctx, session.Request{Database: "db", SQL: "DELETE FROM t WHERE x > 1", Txn: &h}); err != nil ||
		!reflect.DeepEqual(got, remote.result) {
		t.Fatalf("affected: %+v, %v", got, err)
	}
	remote.result = &session.Result{Kind: session.ResultDDL, Database: "other"}
	if got, err = f.Execute(ctx, session.Request{Database: "db", SQL: "USE other", Txn: &h}); err != nil || !reflect.DeepEqual(got, remote.result) {
		t.Fatalf("USE: %+v, %v", got, err)
	}
	remote.result = &session.Result{Kind: session.ResultCommit, Database: "db"}
	if got, err = f.Execute(ctx, session.Request{Database: "db", SQL: "COMMIT", Txn: &h}); err != nil || !reflect.DeepEqual(got, remote.result) {
		t.Fatalf("COMMIT: %+v, %v", got, err)
	}

	if err := f.Commit(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := f.Rollback(ctx, h); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(remote.commits, []session.TxnHandle{h}) || !reflect.DeepEqual(remote.rollbacks, []session.TxnHandle{h}) {
		t.Fatalf("coordinator commits %v rollbacks %v", remote.commits, remote.rollbacks)
	}
	for i, forwarded := range remote.forwarded {
		if !forwarded {
			t.Fatalf("call %d reached the coordinator without the forwarded mark", i)
		}
	}
	if local.calls() != 0 {
		t.Fatalf("local executor ran %d requests of a remote transaction", local.calls())
	}

	// The coordinator's errors keep their code.
	for _, code := range []errcode.Code{errcode.UniqueViolation, errcode.TxnClosed, errcode.TxnConflict, errcode.Ambiguous, errcode.SyntaxError} {
		remote.err = errcode.New(code, "from the coordinator")
		_, err := f.Execute(ctx, session.Request{SQL: "INSERT INTO t VALUES (1)", Txn: &h})
		wantCode(t, err, code)
		wantCode(t, f.Commit(ctx, h), code)
	}
}

func TestForwarderUnreachableCoordinator(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	local := &fakeExecutor{}
	f := newTestForwarder(t, local, map[uint64]string{2: dead, 3: ""})
	ctx := context.Background()
	for _, node := range []uint64{2, 3, 9} { // 3: no http_peers entry; 9: not a peer
		h := handleOf(node)
		_, err := f.Execute(ctx, session.Request{SQL: "SELECT 1", Txn: &h})
		wantCode(t, err, errcode.MustRetry)
		_, err = f.Execute(ctx, session.Request{SQL: "COMMIT", Txn: &h})
		wantCode(t, err, errcode.MustRetry) // never sent: not ambiguous
		wantCode(t, f.Commit(ctx, h), errcode.MustRetry)
		wantCode(t, f.Rollback(ctx, h), errcode.MustRetry)
	}
	if local.calls() != 0 {
		t.Fatalf("local executor ran %d requests", local.calls())
	}
	if got := outcomeCount(t, f, outcomeUnreachable); got != 12 {
		t.Fatalf("unreachable outcomes: %v, want 12", got)
	}
}

// TestForwarderLostAnswer: the coordinator reads the request and drops the
// connection. A commit is then ambiguous; any other statement is a retry
// after a best-effort rollback.
func TestForwarderLostAnswer(t *testing.T) {
	var mu sync.Mutex
	var rollbacks int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		if r.URL.Path == forwardRollbackPath {
			mu.Lock()
			rollbacks++
			mu.Unlock()
			_, _ = io.WriteString(w, `{"status":"ok"}`)
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	t.Cleanup(ts.Close)
	f := newTestForwarder(t, &fakeExecutor{}, map[uint64]string{2: strings.TrimPrefix(ts.URL, "http://")})
	ctx := context.Background()
	h := handleOf(2)

	wantCode(t, f.Commit(ctx, h), errcode.Ambiguous)
	_, err := f.Execute(ctx, session.Request{SQL: "  commit ", Txn: &h})
	wantCode(t, err, errcode.Ambiguous)
	_, err = f.Execute(ctx, session.Request{SQL: "INSERT INTO t VALUES (1)", Txn: &h})
	wantCode(t, err, errcode.MustRetry)
	if lost, answered := outcomeCount(t, f, outcomeLost), outcomeCount(t, f, outcomeAnswered); lost != 3 || answered != 0 {
		t.Fatalf("outcomes: lost %v answered %v, want 3 and 0 (the cleanup rollback is not counted)", lost, answered)
	}
	mu.Lock()
	defer mu.Unlock()
	if rollbacks != 1 {
		t.Fatalf("%d rollbacks sent after the lost statement, want 1", rollbacks)
	}
}

func TestForwarderGarbledAnswer(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>bad gateway</html>")
	}))
	t.Cleanup(ts.Close)
	f := newTestForwarder(t, &fakeExecutor{}, map[uint64]string{2: strings.TrimPrefix(ts.URL, "http://")})
	h := handleOf(2)
	wantCode(t, f.Commit(context.Background(), h), errcode.Ambiguous)
	_, err := f.Execute(context.Background(), session.Request{SQL: "SELECT 1", Txn: &h})
	wantCode(t, err, errcode.MustRetry)

	// A well-formed answer with a value that does not decode is an
	// internal error, not a wrong row.
	for _, body := range []string{
		`{"status":"ok","kind":"rows","columns":[{"name":"x","type":1}],"rows":[[{"type":1,"strValue":"zz"}]]}`,
		`{"status":"ok","kind":"rows","columns":[{"name":"x","type":9}],"rows":[[{"type":9}]]}`,
		`{"status":"ok","kind":"rows","columns":[{"name":"x","type":5}],"rows":[[{"type":5,"floatValue":"big"}]]}`,
		`{"status":"ok","kind":"mystery"}`,
		`{"status":"ok","kind":"begin"}`,
	} {
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, body)
		}))
		f := newTestForwarder(t, &fakeExecutor{}, map[uint64]string{2: strings.TrimPrefix(bad.URL, "http://")})
		_, err := f.Execute(context.Background(), session.Request{SQL: "SELECT x", Txn: &h})
		bad.Close()
		wantCode(t, err, errcode.Internal)
	}
}

func outcomeCount(t *testing.T, f *forwarder, outcome string) float64 {
	t.Helper()
	var m dto.Metric
	if err := f.outcomes.WithLabelValues(outcome).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestIsCommit(t *testing.T) {
	for sql, want := range map[string]bool{
		"COMMIT": true, "commit;": true, " /* c */ Commit": true,
		"ROLLBACK": false, "SELECT 'commit'": false, "INSERT INTO commits VALUES (1)": false, "COMMIT garbage": false,
	} {
		if got := isCommit(sql); got != want {
			t.Errorf("isCommit(%q) = %v, want %v", sql, got, want)
		}
	}
}

func BenchmarkForwardQuery100Rows(b *testing.B) {
	remote := &fakeExecutor{result: &session.Result{Kind: session.ResultRows,
		Columns: []session.Column{{Name: "id", Type: types.Int64}, {Name: "name", Type: types.String}, {Name: "score", Type: types.Float64}}}}
	for i := range 100 {
		remote.result.Rows = append(remote.result.Rows, []types.Value{types.NewInt(int64(i)), types.NewString("robot name"), types.NewFloat(float64(i) / 3)})
	}
	ts := coordinator(b, remote)
	f := newTestForwarder(b, &fakeExecutor{}, map[uint64]string{2: strings.TrimPrefix(ts.URL, "http://")})
	h := handleOf(2)
	req := session.Request{Database: "db", SQL: "SELECT id, name, score FROM robots WHERE id > @x", Params: map[string]types.Value{"x": types.NewInt(0)}, Txn: &h}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		remote.mu.Lock()
		remote.requests, remote.forwarded = remote.requests[:0], remote.forwarded[:0]
		remote.mu.Unlock()
		if _, err := f.Execute(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestForwarderSendsCancelQueryToTheQuerysNode: a query id names the node
// running the statement; CANCEL QUERY goes there, anything else stays.
func TestForwarderSendsCancelQueryToTheQuerysNode(t *testing.T) {
	local, remote := &fakeExecutor{}, &fakeExecutor{}
	peer := coordinator(t, remote)
	f := newTestForwarder(t, local, map[uint64]string{2: strings.TrimPrefix(peer.URL, "http://")})
	ctx := context.Background()
	if _, err := f.Execute(ctx, session.Request{SQL: "CANCEL QUERY '2-17'"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Execute(ctx, session.Request{SQL: "cancel query @q", Params: map[string]types.Value{"q": types.NewString("2-18")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Execute(ctx, session.Request{SQL: "CANCEL QUERY '1-3'"}); err != nil {
		t.Fatal(err)
	}
	if remote.calls() != 2 || local.calls() != 1 {
		t.Fatalf("remote got %d, local %d", remote.calls(), local.calls())
	}
	remote.mu.Lock()
	got := remote.requests[1]
	forwarded := remote.forwarded[0]
	remote.mu.Unlock()
	if got.SQL != "cancel query @q" || got.Params["q"].Str != "2-18" || !forwarded {
		t.Fatalf("forwarded request %+v (forwarded=%v)", got, forwarded)
	}
	remote.mu.Lock()
	remote.err = errcode.New(errcode.InvalidInput, "query 2-19 is not running on this node")
	remote.mu.Unlock()
	_, err := f.Execute(ctx, session.Request{SQL: "CANCEL QUERY '2-19'"})
	wantCode(t, err, errcode.InvalidInput)
	_, err = f.Execute(ctx, session.Request{SQL: "CANCEL QUERY '3-1'"})
	wantCode(t, err, errcode.InvalidInput)
}

// TestForwarderShowQueriesAcrossNodes: SHOW QUERIES merges every reachable
// node's running statements, oldest first; an unreachable peer is skipped.
func TestForwarderShowQueriesAcrossNodes(t *testing.T) {
	cols := []session.Column{{Name: "query_id", Type: types.String}, {Name: "start", Type: types.String}}
	row := func(id, start string) []types.Value {
		return []types.Value{types.NewString(id), types.NewString(start)}
	}
	local := &fakeExecutor{result: &session.Result{Kind: session.ResultRows, Columns: cols,
		Rows: [][]types.Value{row("1-5", "2026-12-06T03:00:02.0000000+00:00")}}}
	remote := &fakeExecutor{result: &session.Result{Kind: session.ResultRows, Columns: cols,
		Rows: [][]types.Value{row("2-9", "2026-12-06T03:00:01.0000000+00:00")}}}
	peer := coordinator(t, remote)
	dead := deadAddr(t)
	f := newTestForwarder(t, local, map[uint64]string{2: strings.TrimPrefix(peer.URL, "http://"), 3: dead})
	res, err := f.Execute(context.Background(), session.Request{SQL: "SHOW QUERIES"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || res.Rows[0][0].Str != "2-9" || res.Rows[1][0].Str != "1-5" {
		t.Fatalf("rows %v", res.Rows)
	}
	remote.mu.Lock()
	defer remote.mu.Unlock()
	if len(remote.forwarded) != 1 || !remote.forwarded[0] {
		t.Fatalf("the peer was not asked as a forwarded request: %v", remote.forwarded)
	}
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
