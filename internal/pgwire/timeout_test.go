package pgwire

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestParseStatementTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"5000": 5 * time.Second, "5s": 5 * time.Second, "5 s": 5 * time.Second, "250ms": 250 * time.Millisecond,
		"1.5min": 90 * time.Second, "2h": 2 * time.Hour, "1d": 24 * time.Hour, "0": 0, "100us": 100 * time.Microsecond,
	} {
		got, err := parseStatementTimeout(in)
		if err != nil || got != want {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "5 sec", "-1", "1e30", "5s5", "3000000000"} {
		if _, err := parseStatementTimeout(in); errcode.Of(err) != errcode.InvalidInput {
			t.Errorf("%q: want CADB0400, got %v", in, err)
		}
	}
	for d, want := range map[time.Duration]string{0: "0", 5 * time.Second: "5s", 1500 * time.Millisecond: "1500ms", 2 * time.Minute: "2min"} {
		if got := formatStatementTimeout(d); got != want {
			t.Errorf("%v: got %q, want %q", d, got, want)
		}
	}
}

func FuzzParseStatementTimeout(f *testing.F) {
	for _, seed := range []string{"5s", "5000", "1.5min", "", "-", "1e309", "0.0000001us"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := parseStatementTimeout(in)
		if err == nil && (d < 0 || d > maxStatementTimeout) {
			t.Fatalf("%q accepted as %v", in, d)
		}
	})
}

func TestStatementTimeoutOverPgwire(t *testing.T) {
	sess, ts := memServer(t)
	conn := ts.connect(t, "test")
	mustExec(t, conn, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	var values []string
	for i := range 300 {
		values = append(values, fmt.Sprintf("(%d, %d)", i, i))
	}
	mustExec(t, conn, "INSERT INTO t (id, v) VALUES "+strings.Join(values, ", "))
	ctx := testCtx(t)
	var shown string
	if err := conn.QueryRow(ctx, "SHOW statement_timeout").Scan(&shown); err != nil || shown != "0" {
		t.Fatalf("default SHOW statement_timeout = %q, %v", shown, err)
	}
	for _, set := range []string{"SET statement_timeout = '50ms'", "SET statement_timeout TO 50", "set session statement_timeout to '50 ms'"} {
		mustExec(t, conn, set)
		if err := conn.QueryRow(ctx, "SHOW statement_timeout").Scan(&shown); err != nil || shown != "50ms" {
			t.Fatalf("after %s: SHOW statement_timeout = %q, %v", set, shown, err)
		}
	}
	_, err := conn.Exec(ctx, "SELECT COUNT(*) FROM t a, t b, t c WHERE a.v + b.v + c.v < 0")
	if pgCode(err) != "57014" || !strings.Contains(err.Error(), string(errcode.StatementTimeout)) || !strings.Contains(err.Error(), "statement_timeout") {
		t.Fatalf("slow query: %v", err)
	}
	if n := len(sess.RunningQueries()); n != 0 {
		t.Fatalf("%d statements still registered", n)
	}
	// Inside a transaction block the timeout fails the block.
	mustExec(t, conn, "BEGIN")
	_, err = conn.Exec(ctx, "SELECT COUNT(*) FROM t a, t b, t c WHERE a.v + b.v + c.v < 0")
	if pgCode(err) != "57014" {
		t.Fatalf("slow query in a block: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); pgCode(err) != "25P02" {
		t.Fatalf("after a timeout in a block: %v", err)
	}
	mustExec(t, conn, "ROLLBACK")
	if sess.OpenTransactions() != 0 {
		t.Fatalf("%d transactions left open", sess.OpenTransactions())
	}

	if _, err := conn.Exec(ctx, "SET statement_timeout = 'soon'"); pgCode(err) != "22023" {
		t.Fatalf("bad value: %v", err)
	}
	mustExec(t, conn, "SET statement_timeout = 0")
	if err := conn.QueryRow(ctx, "SHOW statement_timeout").Scan(&shown); err != nil || shown != "0" {
		t.Fatalf("SHOW after 0 = %q, %v", shown, err)
	}
	mustExec(t, conn, "RESET statement_timeout")
	mustExec(t, conn, "SELECT COUNT(*) FROM t")
}

func TestCancelRequestRealSession(t *testing.T) {
	sess, ts := memServer(t)
	conn := ts.connect(t, "test")
	mustExec(t, conn, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	var values []string
	for i := range 300 {
		values = append(values, fmt.Sprintf("(%d, %d)", i, i))
	}
	mustExec(t, conn, "INSERT INTO t (id, v) VALUES "+strings.Join(values, ", "))
	ctx := testCtx(t)
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, "SELECT COUNT(*) FROM t a, t b, t c WHERE a.v + b.v + c.v < 0")
		errc <- err
	}()
	var running []*session.RunningQuery
	waitFor(t, "the query to run", func() bool {
		running = sess.RunningQueries()
		return len(running) == 1
	})
	if q := running[0]; q.Client.Protocol != "pgwire" || q.Client.User != "tester" || q.Client.Addr == "" {
		t.Fatalf("client of the running query: %+v", q.Client)
	}
	if err := conn.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	if pgCode(err) != "57014" || !strings.Contains(err.Error(), string(errcode.QueryCancelled)) {
		t.Fatalf("cancelled statement: %v", err)
	}
	mustExec(t, conn, "SELECT 1")
}

func TestStatementTimeoutAtStartup(t *testing.T) {
	_, ts := memServer(t)
	ctx := testCtx(t)
	for _, extra := range []string{"&statement_timeout=250ms", "&options=-c%20statement_timeout%3D250ms"} {
		conn, err := pgx.Connect(ctx, ts.url("test", extra))
		if err != nil {
			t.Fatalf("%s: %v", extra, err)
		}
		var shown string
		if err := conn.QueryRow(ctx, "SHOW statement_timeout").Scan(&shown); err != nil || shown != "250ms" {
			t.Fatalf("%s: SHOW statement_timeout = %q, %v", extra, shown, err)
		}
		_ = conn.Close(ctx)
	}
	if _, err := pgx.Connect(ctx, ts.url("test", "&statement_timeout=soon")); pgCode(err) != "22023" {
		t.Fatalf("bad startup value: %v", err)
	}
}
