package pgwire

import (
	"context"
	"errors"
	"fmt"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/session/sessiontest"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testServer is a pgwire server on 127.0.0.1:0, shut down when the test
// ends.
type testServer struct {
	srv  *Server
	addr string
}

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, srv)
}

// serveOn serves srv on 127.0.0.1:0 until the test ends.
func serveOn(t testing.TB, srv *Server) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return &testServer{srv: srv, addr: ln.Addr().String()}
}

// memServer is a session server over the in-memory kv with database
// "test", behind pgwire.
func memServer(t testing.TB) (*session.Server, *testServer) {
	t.Helper()
	sess, _ := sessiontest.NewMemServerWith(t, session.Config{PGTypeOID: TypeOID})
	if _, err := sess.Execute(context.Background(), session.Request{SQL: "CREATE DATABASE test"}); err != nil {
		t.Fatal(err)
	}
	return sess, startServer(t, Config{Executor: sess})
}

func (ts *testServer) url(database string, extra string) string {
	host, port, _ := net.SplitHostPort(ts.addr)
	return fmt.Sprintf("postgres://tester@%s:%s/%s?sslmode=disable%s", host, port, database, extra)
}

func (ts *testServer) connect(t testing.TB, database string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, ts.url(database, ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pgCode returns the SQLSTATE of a server error ("" for others).
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// mustExec runs statements through pgx and fails the test on error.
func mustExec(t testing.TB, conn *pgx.Conn, sql string, args ...any) pgconn.CommandTag {
	t.Helper()
	tag, err := conn.Exec(testCtx(t), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return tag
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.SucceedsSoon(t, 10*time.Second, func() error {
		if cond() {
			return nil
		}
		return fmt.Errorf("waiting for %s", what)
	})
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// blockingExecutor is a fake SQL layer: "SELECT block()" waits for its
// context to end, USE accepts any database, anything else returns one row.
type blockingExecutor struct {
	started chan struct{}
}

func (e *blockingExecutor) Execute(ctx context.Context, req session.Request) (*session.Result, error) {
	switch {
	case strings.HasPrefix(req.SQL, "USE "):
		return &session.Result{Kind: session.ResultDDL, Database: strings.Trim(req.SQL[4:], "`")}, nil
	case req.SQL == "SELECT block()":
		select {
		case e.started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, errcode.Wrap(errcode.MustRetry, ctx.Err())
	case req.SQL == "SELECT alive()":
		if err := ctx.Err(); err != nil {
			return nil, errcode.New(errcode.Internal, "statement started with an ended context: %v", err)
		}
	}
	return &session.Result{
		Kind:     session.ResultRows,
		Columns:  []session.Column{{Name: "x", Type: types.Int64}},
		Rows:     [][]types.Value{{types.NewInt(1)}},
		Database: req.Database,
	}, nil
}

func (e *blockingExecutor) Rollback(context.Context, session.TxnHandle) error { return nil }
