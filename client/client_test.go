package client_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/client/clienttest"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newClient(t *testing.T, endpoints ...string) *client.Client {
	t.Helper()
	c := client.New(endpoints, client.WithTimeout(10*time.Second))
	t.Cleanup(c.Close)
	return c
}

// deadEndpoint returns an address nothing listens on: a port that was just
// bound and released, so dialling it is refused.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestQueryDecodesRowsInColumnOrder(t *testing.T) {
	srv := clienttest.NewServer(t, func(r clienttest.Request) clienttest.Reply {
		return clienttest.Rows(
			[]clienttest.Col{{Name: "id", Type: 1}, {Name: "n", Type: 2}, {Name: "name", Type: 3}, {Name: "ok", Type: 4}, {Name: "f", Type: 5}, {Name: "n", Type: 2}},
			[]any{clienttest.OID("65a1b2c3d4e5f60718293a4b"), int64(math.MinInt64), "R2-D2", true, 1.5, nil},
			[]any{nil, 7, "", false, -0.25, int64(math.MaxInt64)},
		)
	})
	c := newClient(t, srv.URL)
	res, err := c.Query(context.Background(), "test", "SELECT ...", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []client.Column{{"id", client.KindOID}, {"n", client.KindInt64}, {"name", client.KindString}, {"ok", client.KindBool}, {"f", client.KindFloat64}, {"n", client.KindInt64}}
	if !reflect.DeepEqual(res.Columns, wantCols) {
		t.Fatalf("columns = %v, want %v", res.Columns, wantCols)
	}
	wantRows := [][]any{
		{"65a1b2c3d4e5f60718293a4b", int64(math.MinInt64), "R2-D2", true, 1.5, nil},
		{nil, int64(7), "", false, -0.25, int64(math.MaxInt64)},
	}
	if !reflect.DeepEqual(res.Rows, wantRows) {
		t.Fatalf("rows = %#v, want %#v", res.Rows, wantRows)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].RowFormat != "array" || reqs[0].Database != "test" || reqs[0].Path != "/execute-sql-query" {
		t.Fatalf("request = %+v", reqs)
	}
}

func TestQuerySendsParametersAsColumnValues(t *testing.T) {
	srv := clienttest.NewServer(t, func(clienttest.Request) clienttest.Reply { return clienttest.OK() })
	c := newClient(t, srv.URL)
	oidBytes := []byte{0x65, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18, 0x29, 0x3a, 0x4b}
	params := map[string]any{
		"@i": 5, "u8": uint8(200), "i64": int64(math.MinInt64), "f": 2.5, "s": "quote \" back\\slash \n tab\t é \x01",
		"b": true, "nul": nil, "oid": client.OID("65a1b2c3d4e5f60718293a4b"), "raw": oidBytes,
		"t": time.Date(2024, 6, 16, 1, 2, 3, 0, time.FixedZone("x", 3600)),
	}
	if _, err := c.Query(context.Background(), "db", "SELECT @i", params, nil); err != nil {
		t.Fatal(err)
	}
	got := srv.Requests()[0].Params
	str := func(s string) *string { return &s }
	want := map[string]clienttest.Value{
		"@i":  {Type: 2, LongValue: 5},
		"u8":  {Type: 2, LongValue: 200},
		"i64": {Type: 2, LongValue: math.MinInt64},
		"f":   {Type: 5, FloatValue: 2.5},
		"s":   {Type: 3, StrValue: str("quote \" back\\slash \n tab\t é \x01")},
		"b":   {Type: 4, BoolValue: true},
		"nul": {Type: 0},
		"oid": {Type: 1, StrValue: str("65a1b2c3d4e5f60718293a4b")},
		"raw": {Type: 1, StrValue: str("65a1b2c3d4e5f60718293a4b")},
		"t":   {Type: 3, StrValue: str("2024-06-16T00:02:03Z")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("params =\n%+v\nwant\n%+v", got, want)
	}
}

func TestQueryRejectsBadParametersWithoutSending(t *testing.T) {
	srv := clienttest.NewServer(t, nil)
	c := newClient(t, srv.URL)
	for name, v := range map[string]any{
		"nan": math.NaN(), "inf": math.Inf(1), "uint": uint64(math.MaxUint64), "struct": struct{}{},
		"oid": client.OID("XYZ"), "bytes": []byte{1, 2},
	} {
		if _, err := c.Query(context.Background(), "db", "SELECT @p", map[string]any{"p": v}, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestServerErrorsCarryCodeAndStatus(t *testing.T) {
	cases := []struct {
		code      errcode.Code
		status    int
		retryable bool
	}{
		{errcode.SyntaxError, 400, false},
		{errcode.UniqueViolation, 400, false},
		{errcode.UnknownTable, 404, false},
		{errcode.TxnConflict, 409, true},
		{errcode.MustRetry, 409, true},
		{errcode.SchemaCatchingUp, 503, true},
		{errcode.Ambiguous, 500, false},
	}
	for _, tc := range cases {
		srv := clienttest.NewServer(t, func(clienttest.Request) clienttest.Reply { return clienttest.Fail(tc.code, "boom "+string(tc.code)) })
		c := newClient(t, srv.URL)
		_, err := c.Query(context.Background(), "db", "SELECT 1", nil, nil)
		var e *client.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %v is not *client.Error", tc.code, err)
		}
		if e.Code != string(tc.code) || e.HTTPStatus != tc.status || e.Message != "boom "+string(tc.code) {
			t.Errorf("%s: got %+v", tc.code, e)
		}
		if e.Retryable() != tc.retryable || client.IsRetryable(err) != tc.retryable {
			t.Errorf("%s: Retryable = %v, want %v", tc.code, e.Retryable(), tc.retryable)
		}
		if client.CodeOf(err) != string(tc.code) {
			t.Errorf("CodeOf = %q", client.CodeOf(err))
		}
		if want := string(tc.code) + ": boom " + string(tc.code); e.Error() != want {
			t.Errorf("Error() = %q, want %q", e.Error(), want)
		}
	}
}

func TestNonJSONErrorResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	err := c.Ping(context.Background())
	var e *client.Error
	if !errors.As(err, &e) || e.Code != "" || e.HTTPStatus != 503 || e.Message != "upstream down" || !e.Retryable() {
		t.Fatalf("err = %#v", err)
	}
	if e.Error() != "HTTP 503: upstream down" {
		t.Fatalf("Error() = %q", e.Error())
	}
}

func TestRoundRobinSkipsDeadEndpoints(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	mk := func(name string) *clienttest.Server {
		return clienttest.NewServer(t, func(clienttest.Request) clienttest.Reply {
			mu.Lock()
			hits[name]++
			mu.Unlock()
			return clienttest.OK()
		})
	}
	a, b := mk("a"), mk("b")
	dead := deadEndpoint(t)
	c := newClient(t, a.URL, dead, b.URL)
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		if err := c.ExecDDL(ctx, "db", "CREATE TABLE t (id INT64)"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["a"]+hits["b"] != 30 || hits["a"] < 10 || hits["b"] < 10 {
		t.Fatalf("hits = %v, want both live endpoints used and every request answered", hits)
	}
}

func TestAllEndpointsDead(t *testing.T) {
	c := newClient(t, deadEndpoint(t), deadEndpoint(t))
	err := c.Ping(context.Background())
	if !errors.Is(err, client.ErrNoEndpoint) {
		t.Fatalf("err = %v, want ErrNoEndpoint", err)
	}
}

func TestServerErrorIsNotRetriedElsewhere(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	handler := func(clienttest.Request) clienttest.Reply {
		mu.Lock()
		calls++
		mu.Unlock()
		return clienttest.Fail(errcode.MustRetry, "leader moved")
	}
	a, b := clienttest.NewServer(t, handler), clienttest.NewServer(t, handler)
	c := newClient(t, a.URL, b.URL)
	if _, err := c.Exec(context.Background(), "db", "INSERT INTO t VALUES (1)", nil, nil); !client.IsRetryable(err) {
		t.Fatalf("err = %v", err)
	}
	if calls != 1 {
		t.Fatalf("statement sent %d times, want 1", calls)
	}
}

func TestTransactionsOverEndpointsAndSQL(t *testing.T) {
	srv := clienttest.NewServer(t, func(r clienttest.Request) clienttest.Reply {
		if strings.HasPrefix(r.SQL, "INSERT") {
			return clienttest.Affected(2)
		}
		return clienttest.OK()
	})
	c := newClient(t, srv.URL)
	ctx := context.Background()

	txn, err := c.Begin(ctx, "bank")
	if err != nil {
		t.Fatal(err)
	}
	if txn.Database != "bank" || txn.Counter == 0 {
		t.Fatalf("txn = %+v", txn)
	}
	n, err := c.Exec(ctx, "bank", "INSERT INTO t VALUES (1), (2)", nil, txn)
	if err != nil || n != 2 {
		t.Fatalf("Exec = %d, %v", n, err)
	}
	if got := srv.Requests()[1].Txn; got == nil || *got != (clienttest.TxnID{PT: txn.PT, Counter: txn.Counter}) {
		t.Fatalf("exec carried txn %+v", got)
	}
	if err := c.Commit(ctx, txn); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(ctx, txn); client.CodeOf(err) != client.CodeTxnClosed {
		t.Fatalf("second commit: %v", err)
	}

	// The same through SQL on /execute-sql-query.
	res, err := c.Query(ctx, "bank", "BEGIN", nil, nil)
	if err != nil || res.Txn == nil || res.Txn.Database != "bank" {
		t.Fatalf("BEGIN = %+v, %v", res, err)
	}
	res2, err := c.Query(ctx, "bank", "INSERT INTO t VALUES (1), (2)", nil, res.Txn)
	if err != nil || !res2.HasRowsAffected || res2.RowsAffected != 2 || len(res2.Columns) != 0 {
		t.Fatalf("INSERT = %+v, %v", res2, err)
	}
	if _, err := c.Query(ctx, "bank", "ROLLBACK", nil, res.Txn); err != nil {
		t.Fatal(err)
	}
	if srv.OpenTxns() != 0 {
		t.Fatalf("%d transactions left open", srv.OpenTxns())
	}
}

func TestRunTxnRetries(t *testing.T) {
	var mu sync.Mutex
	failures := 2
	srv := clienttest.NewServer(t, func(r clienttest.Request) clienttest.Reply {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			return clienttest.Fail(errcode.TxnConflict, "write skew")
		}
		return clienttest.Affected(1)
	})
	c := newClient(t, srv.URL)
	attempts, err := c.RunTxn(context.Background(), "db", 5, func(ctx context.Context, txn *client.Txn) error {
		_, err := c.Exec(ctx, "db", "UPDATE t SET x = 1 WHERE id = 1", nil, txn)
		return err
	})
	if err != nil || attempts != 3 {
		t.Fatalf("RunTxn = %d, %v", attempts, err)
	}
	if srv.OpenTxns() != 0 {
		t.Fatalf("%d transactions left open", srv.OpenTxns())
	}

	attempts, err = c.RunTxn(context.Background(), "db", 5, func(ctx context.Context, txn *client.Txn) error {
		return errors.New("app error")
	})
	if err == nil || attempts != 1 || srv.OpenTxns() != 0 {
		t.Fatalf("RunTxn = %d, %v, open %d", attempts, err, srv.OpenTxns())
	}
}

func TestCreateDropDB(t *testing.T) {
	srv := clienttest.NewServer(t, func(r clienttest.Request) clienttest.Reply {
		if r.SQL == "CREATE DATABASE dup" {
			return clienttest.Fail(errcode.DatabaseExists, "database dup exists")
		}
		return clienttest.OK()
	})
	c := newClient(t, srv.URL)
	ctx := context.Background()
	if err := c.CreateDB(ctx, "shop", true); err != nil {
		t.Fatal(err)
	}
	if err := c.DropDB(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateDB(ctx, "dup", false); client.CodeOf(err) != client.CodeDatabaseExists {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, r := range srv.Requests() {
		got = append(got, r.SQL)
	}
	want := []string{"CREATE DATABASE IF NOT EXISTS shop", "DROP DATABASE shop", "CREATE DATABASE dup"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("requests = %q", got)
	}
}

func TestContextCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.Query(ctx, "db", "SELECT 1", nil, nil); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseConnectionString(t *testing.T) {
	cfg, err := client.ParseConnectionString(" Endpoint=http://h1:5095, http://h2:5096 ; database = shop;")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, client.ConnConfig{Endpoints: []string{"http://h1:5095", "http://h2:5096"}, Database: "shop"}) {
		t.Fatalf("cfg = %+v", cfg)
	}
	for _, bad := range []string{"Endpoint", "Host=x", "Endpoint=;Database=x", "Endpoint= , "} {
		if _, err := client.ParseConnectionString(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if cfg, err := client.ParseConnectionString(""); err != nil || cfg.Database != "" || cfg.Endpoints != nil {
		t.Fatalf("empty: %+v %v", cfg, err)
	}
}

func TestEndpointsNormalized(t *testing.T) {
	c := newClient(t, "localhost:5095/", "https://h:1")
	if got := c.Endpoints(); !reflect.DeepEqual(got, []string{"http://localhost:5095", "https://h:1"}) {
		t.Fatalf("endpoints = %v", got)
	}
	if got := newClient(t).Endpoints(); !reflect.DeepEqual(got, []string{client.DefaultEndpoint}) {
		t.Fatalf("default endpoints = %v", got)
	}
}

// Each fake keeps its own transaction table, so a statement of a
// transaction sent to the other endpoint would fail with CADB0501: the
// client must keep a transaction on the endpoint that began it.
func TestTransactionStaysOnItsEndpoint(t *testing.T) {
	a := clienttest.NewServer(t, func(clienttest.Request) clienttest.Reply { return clienttest.Affected(1) })
	b := clienttest.NewServer(t, func(clienttest.Request) clienttest.Reply { return clienttest.Affected(1) })
	c := newClient(t, a.URL, b.URL)
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		txn, err := c.Begin(ctx, "db")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "db", "UPDATE t SET x = 1 WHERE id = 1", nil, txn); err != nil {
			t.Fatalf("round %d exec: %v", i, err)
		}
		if _, err := c.Query(ctx, "db", "SELECT 1", nil, txn); err != nil {
			t.Fatalf("round %d query: %v", i, err)
		}
		if err := c.Commit(ctx, txn); err != nil {
			t.Fatalf("round %d commit: %v", i, err)
		}
	}
	if len(a.Requests()) == 0 || len(b.Requests()) == 0 {
		t.Fatalf("transactions not spread: %d / %d requests", len(a.Requests()), len(b.Requests()))
	}
}

func TestPingTriesEveryEndpoint(t *testing.T) {
	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"failed","code":"CADB0504","message":"no leader yet"}`))
	}))
	defer notReady.Close()
	ready := clienttest.NewServer(t, nil)
	c := newClient(t, notReady.URL, ready.URL)
	for i := 0; i < 4; i++ {
		if err := c.Ping(context.Background()); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
	}
	c2 := newClient(t, notReady.URL)
	if err := c2.Ping(context.Background()); !client.IsRetryable(err) || client.CodeOf(err) != client.CodeMustRetry {
		t.Fatalf("not-ready ping: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	a := clienttest.NewServer(t, func(r clienttest.Request) clienttest.Reply {
		return clienttest.Rows([]clienttest.Col{{Name: "n", Type: 2}}, []any{r.Params["n"].LongValue})
	})
	b := clienttest.NewServer(t, func(r clienttest.Request) clienttest.Reply {
		return clienttest.Rows([]clienttest.Col{{Name: "n", Type: 2}}, []any{r.Params["n"].LongValue})
	})
	c := newClient(t, a.URL, deadEndpoint(t), b.URL)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				n := int64(g*1000 + i)
				res, err := c.Query(context.Background(), "db", "SELECT @n", map[string]any{"n": n}, nil)
				if err != nil {
					errs <- err
					return
				}
				if res.Rows[0][0] != n {
					errs <- fmt.Errorf("got %v, want %d", res.Rows[0][0], n)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := len(a.Requests()) + len(b.Requests()); got != 16*25 {
		t.Fatalf("%d requests answered, want %d", got, 16*25)
	}
}
