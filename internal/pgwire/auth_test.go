package pgwire

import (
	"bytes"
	"context"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/camusdb/camusdb-go/internal/server/auth"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/session"
)

// authAdapter gives server/auth's Authenticator the shape of ours (the
// node does the same in internal/server).
type authAdapter struct{ a *auth.Authenticator }

func (ad authAdapter) Begin(ctx context.Context, user string, remote net.Addr) (AuthExchange, error) {
	e, err := ad.a.Begin(ctx, user, remote)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// authServer is a pgwire server over an in-memory session server whose
// connections authenticate; stmts run first as root.
func authServer(t *testing.T, trustLoopback bool, stmts ...string) *testServer {
	t.Helper()
	db := catalogtest.NewMemDB()
	a, err := auth.New(auth.Config{DB: db, TrustLoopback: trustLoopback, FailureDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sess := session.NewServer(db, session.Config{OnUsersChanged: a.Invalidate})
	t.Cleanup(sess.Close)
	for _, sql := range append([]string{"CREATE DATABASE test"}, stmts...) {
		if _, err := sess.Execute(context.Background(), session.Request{Database: "test", SQL: sql}); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	return startServer(t, Config{Executor: sess, Auth: authAdapter{a}})
}

func (ts *testServer) userURL(userinfo, database string) string {
	return "postgres://" + userinfo + "@" + ts.addr + "/" + database + "?sslmode=disable"
}

func tryConnect(t *testing.T, url string) (*pgx.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err == nil {
		t.Cleanup(func() { _ = conn.Close(context.Background()) })
	}
	return conn, err
}

func TestSCRAMWithPgx(t *testing.T) {
	ts := authServer(t, false,
		"ALTER USER root PASSWORD 'rootpw'",
		"CREATE USER alice WITH PASSWORD 'alicepw'",
		"CREATE TABLE pub (id INT64 PRIMARY KEY)",
		"CREATE TABLE secret (id INT64 PRIMARY KEY)",
		"GRANT SELECT ON pub TO alice",
	)
	for _, bad := range []string{"alice:wrong", "nobody:alicepw", "alice", "root:alicepw"} {
		_, err := tryConnect(t, ts.userURL(bad, "test"))
		if pgCode(err) != "28P01" {
			t.Errorf("%s: got %v, want 28P01", bad, err)
		}
	}
	conn, err := tryConnect(t, ts.userURL("alice:alicepw", "test"))
	if err != nil {
		t.Fatalf("alice: %v", err)
	}
	ctx := testCtx(t)
	if _, err := conn.Exec(ctx, "SELECT * FROM pub"); err != nil {
		t.Fatalf("granted read: %v", err)
	}
	for _, sql := range []string{"SELECT * FROM secret", "SELECT * FROM pub, secret", "INSERT INTO pub VALUES (1)", "DROP DATABASE test"} {
		if _, err := conn.Exec(ctx, sql); pgCode(err) != "42501" {
			t.Errorf("%s: got %v, want 42501", sql, err)
		}
	}
	root, err := tryConnect(t, ts.userURL("root:rootpw", "test"))
	if err != nil {
		t.Fatalf("root: %v", err)
	}
	if _, err := root.Exec(ctx, "INSERT INTO secret VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	// The user statements work over the extended protocol too.
	if _, err := root.Exec(ctx, "GRANT SELECT ON secret TO alice"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM secret").Scan(&n); err != nil || n != 1 {
		t.Fatalf("alice after GRANT: %d %v", n, err)
	}
	rows, err := root.Query(ctx, "SHOW USERS")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var name, options, memberOf string
		if err := rows.Scan(&name, &options, &memberOf); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if rows.Err() != nil || strings.Join(names, ",") != "admin,alice,root" {
		t.Fatalf("SHOW USERS: %v %v", names, rows.Err())
	}
}

func TestTrustedLoopback(t *testing.T) {
	ts := authServer(t, true, "CREATE USER alice WITH PASSWORD 'alicepw'", "CREATE TABLE t (id INT64 PRIMARY KEY)")
	// Any name that is not a user with a password runs as root.
	conn, err := tryConnect(t, ts.userURL("tester", "test"))
	if err != nil {
		t.Fatalf("trusted loopback: %v", err)
	}
	if _, err := conn.Exec(testCtx(t), "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	// A user with a password authenticates even on a trusted node.
	if _, err := tryConnect(t, ts.userURL("alice:bad", "test")); pgCode(err) != "28P01" {
		t.Fatalf("alice with a wrong password: %v", err)
	}
	if _, err := tryConnect(t, ts.userURL("alice:alicepw", "test")); err != nil {
		t.Fatalf("alice: %v", err)
	}
	// Once root has a password, the tester connection must authenticate.
	if _, err := conn.Exec(testCtx(t), "ALTER USER root PASSWORD 'rootpw'"); err != nil {
		t.Fatal(err)
	}
	if _, err := tryConnect(t, ts.userURL("tester", "test")); pgCode(err) != "28P01" {
		t.Fatalf("tester after root got a password: %v", err)
	}
}

func TestSCRAMWithPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	ts := authServer(t, false, "ALTER USER root PASSWORD 'rootpw'")
	run := func(password string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, "-X", "-A", "-t", "-d", "test", "-c", "SELECT 40 + 2")
		cmd.Env = append(toolEnv(t, ts), "PGUSER=root", "PGPASSWORD="+password)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("rootpw"); err != nil || strings.TrimSpace(out) != "42" {
		t.Fatalf("psql with the right password: %v\n%s", err, out)
	}
	out, err := run("wrong")
	if err == nil || !strings.Contains(out, "password authentication failed") {
		t.Fatalf("psql with a wrong password: %v\n%s", err, out)
	}
}

// FuzzAuthStartup feeds arbitrary bytes after a startup message to a
// server that requires SCRAM: no input may panic or authenticate.
func FuzzAuthStartup(f *testing.F) {
	startup := encodeMessages(f, &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "alice", "database": "test"}})
	f.Add(encodeMessages(f, &pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=abc")},
		&pgproto3.SASLResponse{Data: []byte("c=biws,r=abc,p=" + strings.Repeat("A", 43) + "=")}))
	f.Add(encodeMessages(f, &pgproto3.SASLInitialResponse{AuthMechanism: "PLAIN", Data: []byte("x")}))
	f.Add(encodeMessages(f, &pgproto3.Query{String: "SELECT 1"}))
	f.Add([]byte("p\x00\x00\x00\x04"))
	f.Add([]byte("p\xff\xff\xff\xff"))
	db := catalogtest.NewMemDB()
	sess := session.NewServer(db, session.Config{})
	defer sess.Close()
	for _, sql := range []string{"CREATE DATABASE test", "CREATE USER alice PASSWORD 'pw'"} {
		if _, err := sess.Execute(context.Background(), session.Request{SQL: sql}); err != nil {
			f.Fatal(err)
		}
	}
	a, err := auth.New(auth.Config{DB: db, FailureDelay: time.Nanosecond, MaxFailureDelay: time.Nanosecond})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srv, err := New(Config{Executor: &echoExecutor{}, MaxMessageBytes: 1 << 16, Auth: authAdapter{a}})
		if err != nil {
			t.Fatal(err)
		}
		nc := &scriptConn{r: io.MultiReader(bytes.NewReader(startup), bytes.NewReader(data))}
		c := &conn{srv: srv, nc: nc}
		_ = c.run()
		c.close()
		if c.sessionUser != "" {
			t.Fatalf("authenticated as %q", c.sessionUser)
		}
	})
}
