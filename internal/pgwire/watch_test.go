package pgwire

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// watchExecutor is a fake SQL layer: "SELECT hold()" reports its start,
// then waits for release or for its context, and reports how it ended;
// anything else returns one row.
type watchExecutor struct {
	started chan struct{}
	release chan struct{}
	ended   chan error // context.Cause of a cancelled hold(), nil if released
}

func newWatchExecutor() *watchExecutor {
	return &watchExecutor{started: make(chan struct{}, 1), release: make(chan struct{}), ended: make(chan error, 1)}
}

func (e *watchExecutor) Execute(ctx context.Context, req session.Request) (*session.Result, error) {
	if strings.HasPrefix(req.SQL, "USE ") {
		return &session.Result{Kind: session.ResultDDL, Database: strings.Trim(req.SQL[4:], "`")}, nil
	}
	if req.SQL == "SELECT hold()" {
		e.started <- struct{}{}
		select {
		case <-e.release:
			e.ended <- nil
		case <-ctx.Done():
			e.ended <- context.Cause(ctx)
			return nil, context.Cause(ctx)
		}
	}
	return &session.Result{Kind: session.ResultRows, Columns: []session.Column{{Name: "x", Type: types.Int64}},
		Rows: [][]types.Value{{types.NewInt(1)}}}, nil
}

func (e *watchExecutor) Rollback(context.Context, session.TxnHandle) error { return nil }

// waitEnded returns how hold() ended; it fails the test if it is still
// running after a generous delay (the statement was not cancelled).
func (e *watchExecutor) waitEnded(t *testing.T) error {
	t.Helper()
	select {
	case err := <-e.ended:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the statement is still running after its client went away")
		return nil
	}
}

// TestClientDisconnectCancelsStatement: closing the socket while a
// statement runs cancels it (simple and extended protocol).
func TestClientDisconnectCancelsStatement(t *testing.T) {
	for _, extended := range []bool{false, true} {
		exec := newWatchExecutor()
		ts := startServer(t, Config{Executor: exec})
		c := dialRaw(t, ts)
		c.startup("db")
		if extended {
			c.send(&pgproto3.Parse{Query: "SELECT hold()"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
		} else {
			c.send(&pgproto3.Query{String: "SELECT hold()"})
		}
		<-exec.started
		_ = c.nc.Close()
		err := exec.waitEnded(t)
		if errcode.Of(err) != errcode.QueryCancelled || !strings.Contains(err.Error(), "closed its connection") {
			t.Fatalf("extended=%v: the statement ended with %v, want the disconnect cancellation", extended, err)
		}
		waitFor(t, "the connection to end", func() bool { return ts.srv.ConnCount() == 0 })
	}
}

// TestPipelinedMessagesDoNotCancel: messages a client sends while its
// statement runs are kept and served after it, in order; they do not
// cancel it.
func TestPipelinedMessagesDoNotCancel(t *testing.T) {
	exec := newWatchExecutor()
	srv, err := New(Config{Executor: exec})
	if err != nil {
		t.Fatal(err)
	}
	buffered := make(chan int, 64)
	srv.testingWatchRead = func(pending int) { buffered <- pending }
	ts := serveOn(t, srv)
	c := dialRaw(t, ts)
	c.startup("db")

	c.send(&pgproto3.Query{String: "SELECT hold()"})
	<-exec.started
	// Sent while hold() runs: the watcher reads it.
	second := []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "SELECT 2"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}}
	var size int
	for _, m := range second {
		b, err := m.Encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		size += len(b)
	}
	c.send(second...)
	for n := 0; n < size; {
		select {
		case n = <-buffered:
		case <-time.After(20 * time.Second):
			t.Fatal("the watcher did not read the pipelined messages")
		}
	}
	close(exec.release)
	if err := exec.waitEnded(t); err != nil {
		t.Fatalf("pipelined messages cancelled the statement: %v", err)
	}
	want := "RowDescription x:20/0\nDataRow \"1\"\nCommandComplete SELECT 1\nReady I\n"
	if got := c.until(); got != want {
		t.Fatalf("first answer:\n%s\nwant:\n%s", got, want)
	}
	want = "ParseComplete\nBindComplete\nRowDescription x:20/0\nDataRow \"1\"\nCommandComplete SELECT 1\nReady I\n"
	if got := c.until(); got != want {
		t.Fatalf("pipelined answer:\n%s\nwant:\n%s", got, want)
	}
}
