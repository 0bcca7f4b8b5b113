package pgwire

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"
)

func TestPgxQueriesAndParameters(t *testing.T) {
	_, ts := memServer(t)
	conn := ts.connect(t, "test")
	ctx := testCtx(t)

	if tag := mustExec(t, conn, "CREATE TABLE robots (id INT64 PRIMARY KEY, name STRING NOT NULL, weight FLOAT64, active BOOL)"); tag.String() != "CREATE TABLE" {
		t.Fatalf("tag %q", tag)
	}
	tag := mustExec(t, conn, "INSERT INTO robots (id, name, weight, active) VALUES ($1, $2, $3, $4)", int64(1), "R2-D2", 32.5, true)
	if tag.String() != "INSERT 0 1" {
		t.Fatalf("tag %q", tag)
	}
	mustExec(t, conn, "INSERT INTO robots (id, name, weight, active) VALUES ($1, $2, $3, $4), (3, 'BB-8', NULL, false)", 2, "C-3PO", nil, false)
	if tag := mustExec(t, conn, "UPDATE robots SET weight = $1 WHERE id = $2", 75.25, 2); tag.String() != "UPDATE 1" {
		t.Fatalf("tag %q", tag)
	}

	var (
		name   string
		weight *float64
		active bool
		id     int64
	)
	if err := conn.QueryRow(ctx, "SELECT id, name, weight, active FROM robots WHERE id = $1", 2).Scan(&id, &name, &weight, &active); err != nil {
		t.Fatal(err)
	}
	if id != 2 || name != "C-3PO" || weight == nil || *weight != 75.25 || active {
		t.Fatalf("got %d %q %v %v", id, name, weight, active)
	}

	// A numeric-looking string parameter compared with a STRING column.
	mustExec(t, conn, "INSERT INTO robots (id, name) VALUES (4, '42')")
	if err := conn.QueryRow(ctx, "SELECT id FROM robots WHERE name = $1", "42").Scan(&id); err != nil || id != 4 {
		t.Fatalf("string param that looks like a number: id=%d err=%v", id, err)
	}

	rows, err := conn.Query(ctx, "SELECT name, weight FROM robots WHERE active = $1 ORDER BY id", false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var n string
		var w *float64
		if err := rows.Scan(&n, &w); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "C-3PO,BB-8" {
		t.Fatalf("rows %v", got)
	}
	fields := rows.FieldDescriptions()
	if len(fields) != 2 || fields[0].DataTypeOID != 25 || fields[1].DataTypeOID != 701 {
		t.Fatalf("fields %+v", fields)
	}
	if tag := mustExec(t, conn, "DELETE FROM robots WHERE id >= $1", 3); tag.String() != "DELETE 2" {
		t.Fatalf("tag %q", tag)
	}

	// The same statement again goes through pgx's statement cache.
	for i := 0; i < 3; i++ {
		var count int64
		if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM robots WHERE id > $1", 0).Scan(&count); err != nil || count != 2 {
			t.Fatalf("count=%d err=%v", count, err)
		}
	}
}

func TestPgxExecModes(t *testing.T) {
	_, ts := memServer(t)
	ctx := testCtx(t)
	setup := ts.connect(t, "test")
	mustExec(t, setup, "CREATE TABLE kv (k INT64 PRIMARY KEY, v STRING)")
	mustExec(t, setup, "INSERT INTO kv VALUES (1, 'one'), (2, 'two')")
	for _, mode := range []pgx.QueryExecMode{
		pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe,
		pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec,
		// Not QueryExecModeSimpleProtocol: pgx quotes every argument as a
		// string literal, which is a STRING in our dialect (see doc.go).
	} {
		t.Run(mode.String(), func(t *testing.T) {
			var v string
			if err := setup.QueryRow(ctx, "SELECT v FROM kv WHERE k = $1", mode, int64(2)).Scan(&v); err != nil || v != "two" {
				t.Fatalf("v=%q err=%v", v, err)
			}
		})
	}
}

func TestPgxBinaryFormats(t *testing.T) {
	_, ts := memServer(t)
	conn := ts.connect(t, "test")
	ctx := testCtx(t)
	mustExec(t, conn, "CREATE TABLE t (k INT64 PRIMARY KEY, f FLOAT64, b BOOL, s STRING)")
	// Typed binary parameters, binary results.
	pc := conn.PgConn()
	i8 := []byte{0, 0, 0, 0, 0, 0, 0, 7}
	f8 := []byte{0x3f, 0xf8, 0, 0, 0, 0, 0, 0} // 1.5
	res := pc.ExecParams(ctx, "INSERT INTO t VALUES ($1, $2, $3, $4)",
		[][]byte{i8, f8, {1}, []byte("héllo")}, []uint32{20, 701, 16, 25}, []int16{1}, nil).Read()
	if res.Err != nil || res.CommandTag.String() != "INSERT 0 1" {
		t.Fatalf("insert: %v %q", res.Err, res.CommandTag)
	}
	res = pc.ExecParams(ctx, "SELECT k, f, b, s FROM t WHERE k = $1", [][]byte{[]byte("7")}, []uint32{20}, nil, []int16{1}).Read()
	if res.Err != nil || len(res.Rows) != 1 {
		t.Fatalf("select: %v %v", res.Err, res.Rows)
	}
	row := res.Rows[0]
	if string(row[0]) != string(i8) || string(row[1]) != string(f8) || string(row[2]) != "\x01" || string(row[3]) != "héllo" {
		t.Fatalf("binary row %q", row)
	}
	// Text results: bool is t/f.
	res = pc.ExecParams(ctx, "SELECT k, f, b FROM t", nil, nil, nil, nil).Read()
	if res.Err != nil || string(res.Rows[0][1]) != "1.5" || string(res.Rows[0][2]) != "t" {
		t.Fatalf("text row %q err %v", res.Rows, res.Err)
	}
	if oids := []uint32{res.FieldDescriptions[0].DataTypeOID, res.FieldDescriptions[1].DataTypeOID, res.FieldDescriptions[2].DataTypeOID}; oids[0] != 20 || oids[1] != 701 || oids[2] != 16 {
		t.Fatalf("oids %v", oids)
	}
	// A bad binary value is an error, not a crash.
	res = pc.ExecParams(ctx, "SELECT $1", [][]byte{{1, 2, 3}}, []uint32{20}, []int16{1}, nil).Read()
	if pgCode(res.Err) != "22023" {
		t.Fatalf("bad binary int8: %v", res.Err)
	}
}

func TestPgxErrors(t *testing.T) {
	_, ts := memServer(t)
	conn := ts.connect(t, "test")
	ctx := testCtx(t)
	mustExec(t, conn, "CREATE TABLE u (id INT64 PRIMARY KEY, name STRING NOT NULL)")
	mustExec(t, conn, "INSERT INTO u VALUES (1, 'a')")
	for _, tc := range []struct {
		sql   string
		args  []any
		state string
		code  string
	}{
		{"INSERT INTO u VALUES ($1, $2)", []any{1, "b"}, "23505", "CADB0300"},
		{"INSERT INTO u (id) VALUES (2)", nil, "23502", "CADB0301"},
		{"SELEC 1", nil, "42601", "CADB0406"},
		{"SELECT * FROM nope", nil, "42P01", "CADB0011"},
		{"SELECT nope FROM u", nil, "42703", "CADB0404"},
	} {
		_, err := conn.Exec(ctx, tc.sql, tc.args...)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != tc.state || !strings.HasPrefix(pgErr.Message, tc.code) {
			t.Errorf("%s: got %v, want %s %s", tc.sql, err, tc.state, tc.code)
		}
	}
	// The connection is still fine.
	var n int64
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM u").Scan(&n); err != nil || n != 1 {
		t.Fatalf("n=%d err=%v", n, err)
	}
}

func TestPgxTransactions(t *testing.T) {
	sess, ts := memServer(t)
	conn := ts.connect(t, "test")
	other := ts.connect(t, "test")
	ctx := testCtx(t)
	mustExec(t, conn, "CREATE TABLE acct (id INT64 PRIMARY KEY, bal INT64)")

	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := conn.PgConn().TxStatus(); st != 'T' {
		t.Fatalf("status %c", st)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO acct VALUES ($1, $2)", 1, 100); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := other.QueryRow(ctx, "SELECT COUNT(*) FROM acct").Scan(&n); err != nil || n != 0 {
		t.Fatalf("uncommitted write visible: n=%d err=%v", n, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if st := conn.PgConn().TxStatus(); st != 'I' {
		t.Fatalf("status after commit %c", st)
	}
	if err := other.QueryRow(ctx, "SELECT COUNT(*) FROM acct").Scan(&n); err != nil || n != 1 {
		t.Fatalf("committed write: n=%d err=%v", n, err)
	}

	// Rollback discards.
	tx, _ = conn.Begin(ctx)
	_, _ = tx.Exec(ctx, "INSERT INTO acct VALUES (2, 5)")
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM acct").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after rollback n=%d err=%v", n, err)
	}

	// An error fails the block (E); COMMIT then rolls back.
	tx, _ = conn.Begin(ctx)
	_, _ = tx.Exec(ctx, "INSERT INTO acct VALUES (3, 1)")
	if _, err := tx.Exec(ctx, "INSERT INTO acct VALUES (1, 1)"); pgCode(err) != "23505" {
		t.Fatalf("duplicate: %v", err)
	}
	if st := conn.PgConn().TxStatus(); st != 'E' {
		t.Fatalf("status after error %c", st)
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); pgCode(err) != "25P02" {
		t.Fatalf("statement in failed block: %v", err)
	}
	if err := tx.Commit(ctx); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("commit of failed block: %v", err)
	}
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM acct").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after failed block n=%d err=%v", n, err)
	}
	if open := sess.OpenTransactions(); open != 0 {
		t.Fatalf("%d session transactions left open", open)
	}

	// A connection that goes away rolls its transaction back.
	c3 := ts.connect(t, "test")
	if _, err := c3.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c3, "INSERT INTO acct VALUES (9, 9)")
	if sess.OpenTransactions() != 1 {
		t.Fatal("transaction not open")
	}
	_ = c3.Close(ctx)
	waitFor(t, "rollback on disconnect", func() bool { return sess.OpenTransactions() == 0 })
}

func TestSimpleQueryMultipleStatements(t *testing.T) {
	_, ts := memServer(t)
	conn := ts.connect(t, "test")
	ctx := testCtx(t)
	results, err := conn.PgConn().Exec(ctx, "CREATE TABLE m (a INT64 PRIMARY KEY); INSERT INTO m VALUES (1), (2); SELECT a FROM m ORDER BY a; SELECT 'x' AS s").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, r := range results {
		tags = append(tags, r.CommandTag.String())
	}
	if strings.Join(tags, "|") != "CREATE TABLE|INSERT 0 2|SELECT 2|SELECT 1" {
		t.Fatalf("tags %v", tags)
	}
	if string(results[2].Rows[1][0]) != "2" || string(results[3].Rows[0][0]) != "x" {
		t.Fatalf("rows %q %q", results[2].Rows, results[3].Rows)
	}
	// The first error stops the message, and reads and writes outside a
	// transaction block are one implicit transaction, as in PostgreSQL: the
	// insert before the error is undone.
	_, err = conn.PgConn().Exec(ctx, "INSERT INTO m VALUES (3); INSERT INTO m VALUES (1); INSERT INTO m VALUES (4)").ReadAll()
	if pgCode(err) != "23505" {
		t.Fatalf("err %v", err)
	}
	if conn.PgConn().TxStatus() != 'I' {
		t.Fatalf("after a failed implicit transaction: status %c", conn.PgConn().TxStatus())
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM m").Scan(&n); err != nil || n != 2 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	// Without an error they all commit; the reads see the earlier writes.
	results, err = conn.PgConn().Exec(ctx, "INSERT INTO m VALUES (5); UPDATE m SET a = 6 WHERE a = 5; SELECT a FROM m ORDER BY a").ReadAll()
	if err != nil || len(results) != 3 || len(results[2].Rows) != 3 || string(results[2].Rows[2][0]) != "6" {
		t.Fatalf("results %v err %v", results, err)
	}
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM m").Scan(&n); err != nil || n != 3 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	// Inside an explicit transaction the block's rules apply instead.
	mustExec(t, conn, "BEGIN")
	_, err = conn.PgConn().Exec(ctx, "INSERT INTO m VALUES (7); INSERT INTO m VALUES (1)").ReadAll()
	if pgCode(err) != "23505" || conn.PgConn().TxStatus() != 'E' {
		t.Fatalf("err %v status %c", err, conn.PgConn().TxStatus())
	}
	mustExec(t, conn, "ROLLBACK")
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM m").Scan(&n); err != nil || n != 3 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	// Empty query.
	if _, err := conn.PgConn().Exec(ctx, " ; -- nothing").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestClientStartupStatements(t *testing.T) {
	_, ts := memServer(t)
	conn := ts.connect(t, "test")
	ctx := testCtx(t)
	for _, sql := range []string{"DISCARD ALL", "DEALLOCATE ALL", "RESET ALL", "SET application_name = 'x'", "SET search_path TO public", "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE"} {
		mustExec(t, conn, sql)
	}
	for sql, want := range map[string]string{
		"SELECT version()":                 "PostgreSQL 16.0 (CamusDB-Go)",
		"SHOW server_version":              "16.0",
		"SHOW server_version_num":          "160000",
		"show transaction isolation level": "serializable",
		"SHOW application_name":            "x",
		"SELECT current_database()":        "test",
		"SHOW standard_conforming_strings": "on",
	} {
		var got string
		if err := conn.QueryRow(ctx, sql).Scan(&got); err != nil || got != want {
			t.Errorf("%s: got %q err %v, want %q", sql, got, err, want)
		}
	}
}

func TestStartupErrors(t *testing.T) {
	_, ts := memServer(t)
	ctx := testCtx(t)
	_, err := pgx.Connect(ctx, ts.url("nosuchdb", ""))
	if pgCode(err) != "3D000" || !strings.Contains(err.Error(), "CADB0010") {
		t.Fatalf("unknown database: %v", err)
	}
	// sslmode=require against a server without TLS fails cleanly.
	if _, err := pgx.Connect(ctx, strings.Replace(ts.url("test", ""), "sslmode=disable", "sslmode=require", 1)); err == nil {
		t.Fatal("sslmode=require succeeded without TLS")
	}
	// prefer falls back to plain text after 'N'.
	conn, err := pgx.Connect(ctx, strings.Replace(ts.url("test", ""), "sslmode=disable", "sslmode=prefer", 1))
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)
	waitFor(t, "connections to end", func() bool { return ts.srv.ConnCount() == 0 })
}

func TestDatabaseSQL(t *testing.T) {
	_, ts := memServer(t)
	db, err := sql.Open("pgx", ts.url("test", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := testCtx(t)
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE d (id INT64 PRIMARY KEY, s STRING, f FLOAT64, b BOOL)"); err != nil {
		t.Fatal(err)
	}
	res, err := db.ExecContext(ctx, "INSERT INTO d VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)", 1, "one", 1.25, true, 2, "two", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("affected %d", n)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE d SET s = $1 WHERE id = $2", "uno", 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	stmt, err := db.PrepareContext(ctx, "SELECT s, f, b FROM d WHERE id = $1")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	var (
		s string
		f sql.NullFloat64
		b bool
	)
	if err := stmt.QueryRowContext(ctx, 1).Scan(&s, &f, &b); err != nil || s != "uno" || f.Float64 != 1.25 || !b {
		t.Fatalf("row 1: %q %v %v err %v", s, f, b, err)
	}
	if err := stmt.QueryRowContext(ctx, 2).Scan(&s, &f, &b); err != nil || s != "two" || f.Valid || b {
		t.Fatalf("row 2: %q %v %v err %v", s, f, b, err)
	}
	cols, err := db.QueryContext(ctx, "SELECT id, s FROM d ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	names, _ := cols.Columns()
	n := 0
	for cols.Next() {
		n++
	}
	_ = cols.Close()
	if n != 2 || strings.Join(names, ",") != "id,s" {
		t.Fatalf("n=%d cols=%v", n, names)
	}
}

// cancelBlocked runs a statement that blocks in exec, sends a
// CancelRequest once it runs, and returns the statement's error.
func cancelBlocked(t *testing.T, ctx context.Context, conn *pgx.Conn, exec *blockingExecutor) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), "SELECT block()")
		errc <- err
	}()
	<-exec.started
	if err := conn.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	return <-errc
}

func TestCancelRequest(t *testing.T) {
	exec := &blockingExecutor{started: make(chan struct{}, 1)}
	ts := startServer(t, Config{Executor: exec})
	conn := ts.connect(t, "test")
	ctx := testCtx(t)
	if err := cancelBlocked(t, ctx, conn, exec); pgCode(err) != "57014" {
		t.Fatalf("cancelled statement: %v", err)
	}
	// The connection is still usable.
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
}

// TestCancelRequestOnlyCancelsTheRunningStatement: the connection's
// statement context is reused between statements and made again after a
// cancel; a statement after a cancelled one, and one after a
// CancelRequest that found nothing running, starts with a live context.
func TestCancelRequestOnlyCancelsTheRunningStatement(t *testing.T) {
	exec := &blockingExecutor{started: make(chan struct{}, 1)}
	ts := startServer(t, Config{Executor: exec})
	conn := ts.connect(t, "test")
	ctx := testCtx(t)
	for round := 0; round < 2; round++ {
		if err := cancelBlocked(t, ctx, conn, exec); pgCode(err) != "57014" {
			t.Fatalf("round %d: cancelled statement: %v", round, err)
		}
		if _, err := conn.Exec(ctx, "SELECT alive()"); err != nil {
			t.Fatalf("round %d: the statement after a cancelled one: %v", round, err)
		}
	}
	// A CancelRequest with nothing running cancels nothing later.
	if err := conn.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := conn.Exec(ctx, "SELECT alive()"); err != nil {
			t.Fatalf("a statement after an idle CancelRequest: %v", err)
		}
	}
}

func TestShutdownEndsConnections(t *testing.T) {
	exec := &blockingExecutor{started: make(chan struct{}, 1)}
	srv, err := New(Config{Executor: exec})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv}
	ln := listen(t)
	ts.addr = ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	idle := ts.connect(t, "test")
	busy := ts.connect(t, "test")
	errc := make(chan error, 1)
	go func() {
		_, err := busy.Exec(context.Background(), "SELECT block()")
		errc <- err
	}()
	<-exec.started
	ctx := testCtx(t)
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatal(err)
	}
	if err := <-errc; pgCode(err) != "57P01" {
		t.Fatalf("running statement: %v", err)
	}
	if _, err := idle.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("idle connection still works after shutdown")
	}
}
