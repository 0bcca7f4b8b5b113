package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/sql/session"
)

// startPGNode starts a node with pgwire on an ephemeral port (pg_port 0
// means off, so the test hands the node its listener) and database "test".
func startPGNode(t testing.TB) *Node {
	t.Helper()
	n, err := NewNode(testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	if n.PGAddr() != "" {
		t.Fatal("pgwire listening with pg_port 0")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.servePGWire(ln); err != nil {
		t.Fatal(err)
	}
	testutil.SucceedsSoon(t, 20*time.Second, func() error {
		_, err := n.sql.Execute(context.Background(), session.Request{SQL: "CREATE DATABASE IF NOT EXISTS test"})
		return err
	})
	return n
}

// pgConnect connects to n over pgwire for the test (30 s budget), closing
// the connection when the test ends.
func pgConnect(t *testing.T, n *Node) (context.Context, *pgx.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	conn, err := pgx.Connect(ctx, pgURL(n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return ctx, conn
}

func pgURL(n *Node) string {
	return fmt.Sprintf("postgres://tester@%s/test?sslmode=disable", n.PGAddr())
}

func TestNodeServesPGWire(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	n := startPGNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL(n))
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"CREATE TABLE robots (id INT64 PRIMARY KEY, name STRING NOT NULL)",
		"INSERT INTO robots VALUES (1, 'R2-D2'), (2, 'C-3PO')",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE robots SET name = $1 WHERE id = $2", "BB-8", 2); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := conn.QueryRow(ctx, "SELECT name FROM robots WHERE id = $1", 2).Scan(&name); err != nil || name != "BB-8" {
		t.Fatalf("name=%q err=%v", name, err)
	}
	// Stop ends the connection.
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer stopCancel()
	if err := n.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("connection works after Stop")
	}
	_ = conn.Close(ctx)
}

// TestNodePGWireStringLiterals: over pgwire string literals are
// standard-conforming (the server reports standard_conforming_strings =
// on), so a backslash is stored as written; E'...' has escapes. Over HTTP
// the dialect keeps backslash escapes.
func TestNodePGWireStringLiterals(t *testing.T) {
	n := startPGNode(t)
	ctx, conn := pgConnect(t, n)
	if _, err := conn.Exec(ctx, "CREATE TABLE notes (id INT64 PRIMARY KEY, body STRING)"); err != nil {
		t.Fatal(err)
	}
	// Simple protocol (several statements in one Query) and extended.
	if _, err := conn.Exec(ctx, `INSERT INTO notes VALUES (1, 'a\nb'); INSERT INTO notes VALUES (2, E'a\nb')`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO notes VALUES ($1, 'C:\new'), (4, U&'\0063af\00E9')`, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := n.sql.Execute(ctx, session.Request{Database: "test", SQL: `INSERT INTO notes VALUES (5, 'a\nb')`}); err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{1: `a\nb`, 2: "a\nb", 3: `C:\new`, 4: "café", 5: "a\nb"}
	rows, err := conn.Query(ctx, "SELECT id, body FROM notes ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			t.Fatal(err)
		}
		got[id] = body
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
	if len(got[1]) != 4 || len(got[2]) != 3 {
		t.Fatalf("'a\\nb' is %d characters, E'a\\nb' %d", len(got[1]), len(got[2]))
	}
	// A quote after a backslash ends the literal, as in PostgreSQL.
	var s string
	if err := conn.QueryRow(ctx, `SELECT 'it\' || 's'`).Scan(&s); err != nil || s != `it\s` {
		t.Fatalf("got %q, %v", s, err)
	}
}

// BenchmarkNodePGWire: pgx, 16 connections, on the real stack (Raft,
// Pebble, fsync): go test -run '^$' -bench NodePGWire ./internal/server
func BenchmarkNodePGWire(b *testing.B) {
	const conns = 16
	setup := func(b *testing.B) []*pgx.Conn {
		n := startPGNode(b)
		out := make([]*pgx.Conn, conns)
		for i := range out {
			c, err := pgx.Connect(context.Background(), pgURL(n))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = c.Close(context.Background()) })
			out[i] = c
		}
		if _, err := out[0].Exec(context.Background(), "CREATE TABLE kv (k INT64 PRIMARY KEY, v STRING)"); err != nil {
			b.Fatal(err)
		}
		return out
	}
	run := func(b *testing.B, cs []*pgx.Conn, op func(context.Context, *pgx.Conn, int64) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		var firstErr atomic.Value
		b.ResetTimer()
		for _, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
					if err := op(context.Background(), c, i); err != nil {
						firstErr.CompareAndSwap(nil, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		if err, _ := firstErr.Load().(error); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("point-select", func(b *testing.B) {
		cs := setup(b)
		batch := &pgx.Batch{}
		for k := 0; k < 1000; k++ {
			batch.Queue("INSERT INTO kv VALUES ($1, 'value')", k)
		}
		if err := cs[0].SendBatch(context.Background(), batch).Close(); err != nil {
			b.Fatal(err)
		}
		run(b, cs, func(ctx context.Context, c *pgx.Conn, i int64) error {
			var v string
			err := c.QueryRow(ctx, "SELECT v FROM kv WHERE k = $1", i%1000).Scan(&v)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("row %d missing", i%1000)
			}
			return err
		})
	})
	b.Run("insert", func(b *testing.B) {
		cs := setup(b)
		run(b, cs, func(ctx context.Context, c *pgx.Conn, i int64) error {
			_, err := c.Exec(ctx, "INSERT INTO kv VALUES ($1, 'value')", i)
			return err
		})
	})
}
