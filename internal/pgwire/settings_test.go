package pgwire

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// textValue runs sql with the simple protocol and returns the text of the
// first column of the first row (NULL: "<NULL>").
func textValue(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	results, err := conn.PgConn().Exec(testCtx(t), sql).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	last := results[len(results)-1]
	if len(last.Rows) == 0 {
		t.Fatalf("%s: no rows", sql)
	}
	if last.Rows[0][0] == nil {
		return "<NULL>"
	}
	return string(last.Rows[0][0])
}

func TestSessionSettings(t *testing.T) {
	sess, ts := memServer(t)
	ctx := testCtx(t)
	var mu sync.Mutex
	var notices []string
	cfg, err := pgx.ParseConfig(ts.url("test", ""))
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		notices = append(notices, n.Message)
		mu.Unlock()
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	// Values drivers send are accepted with a real effect or refused.
	for _, tc := range []struct{ sql, state string }{
		{"SET client_encoding = 'UTF8'", ""},
		{"SET NAMES 'utf8'", ""},
		{"SET client_encoding = 'LATIN1'", "22023"},
		{"SET DateStyle = ISO, MDY", ""},
		{"SET DateStyle = 'German'", "22023"},
		{"SET TimeZone = 'Mars/Olympus_Mons'", "22023"},
		{"SET extra_float_digits = 4", "22023"},
		{"SET server_version = '9.6'", "22023"},
		{"SET no_such_setting = 1", "42704"},
		{"SHOW no_such_setting", "42704"},
		{"RESET no_such_setting", "42704"},
		{"SELECT current_setting('no_such_setting')", "42704"},
		{"SET TRANSACTION READ ONLY", "0A000"},
		{"SET default_transaction_read_only = on", "0A000"},
		{"SET ROLE admin", "0A000"},
		{"LISTEN channel", "0A000"},
		{"NOTIFY channel", "0A000"},
		{"CREATE TYPE mood AS ENUM ('sad')", "0A000"},
	} {
		_, err := conn.Exec(ctx, tc.sql)
		if got := pgCode(err); got != tc.state {
			t.Errorf("%s: SQLSTATE %q (%v), want %q", tc.sql, got, err, tc.state)
		}
	}
	if _, err := conn.Exec(ctx, "LISTEN channel"); err == nil || !strings.Contains(err.Error(), "LISTEN is not supported") {
		t.Errorf("LISTEN: %v", err)
	}

	// SET, SHOW, current_setting and the ParameterStatus a driver sees.
	mustExec(t, conn, "SET TIME ZONE 'Europe/Paris'")
	mustExec(t, conn, "SET application_name TO 'billing'")
	if got := textValue(t, conn, "SHOW TimeZone"); got != "Europe/Paris" {
		t.Errorf("TimeZone %q", got)
	}
	if got := conn.PgConn().ParameterStatus("TimeZone"); got != "Europe/Paris" {
		t.Errorf("ParameterStatus TimeZone %q", got)
	}
	if got := conn.PgConn().ParameterStatus("application_name"); got != "billing" {
		t.Errorf("ParameterStatus application_name %q", got)
	}
	if got := textValue(t, conn, "SELECT current_setting('application_name')"); got != "billing" {
		t.Errorf("current_setting %q", got)
	}
	if got := textValue(t, conn, "SELECT current_setting('nope', true)"); got != "<NULL>" {
		t.Errorf("current_setting missing_ok %q", got)
	}
	mustExec(t, conn, "RESET TimeZone")
	if got := conn.PgConn().ParameterStatus("TimeZone"); got != "UTC" {
		t.Errorf("ParameterStatus TimeZone after RESET %q", got)
	}

	// Custom (dotted) settings, as applications use for row-level context.
	if got := textValue(t, conn, "SELECT set_config('app.user_id', '42', false)"); got != "42" {
		t.Errorf("set_config %q", got)
	}
	if got := textValue(t, conn, "SHOW app.user_id"); got != "42" {
		t.Errorf("SHOW app.user_id %q", got)
	}

	// search_path decides current_schema().
	mustExec(t, conn, "SET search_path = other")
	if got := textValue(t, conn, "SELECT current_schema()"); got != "<NULL>" {
		t.Errorf("current_schema with search_path other: %q", got)
	}
	mustExec(t, conn, "RESET search_path")
	if got := textValue(t, conn, "SELECT current_schema()"); got != "public" {
		t.Errorf("current_schema %q", got)
	}

	// extra_float_digits changes float text output.
	if got := textValue(t, conn, "SELECT 0.1 + 0.2"); got != "0.30000000000000004" {
		t.Errorf("default float text %q", got)
	}
	mustExec(t, conn, "SET extra_float_digits = 0")
	if got := textValue(t, conn, "SELECT 0.1 + 0.2"); got != "0.3" {
		t.Errorf("extra_float_digits 0: %q", got)
	}
	mustExec(t, conn, "SET extra_float_digits TO DEFAULT")

	// A weaker isolation level is upgraded, and the client is told.
	mustExec(t, conn, "SET default_transaction_isolation = 'read committed'")
	if got := textValue(t, conn, "SHOW default_transaction_isolation"); got != "serializable" {
		t.Errorf("default_transaction_isolation %q", got)
	}
	mu.Lock()
	if len(notices) == 0 || !strings.Contains(notices[len(notices)-1], "upgraded to SERIALIZABLE") {
		t.Errorf("notices %q", notices)
	}
	mu.Unlock()

	// Transactions: SET LOCAL ends with the block, a rollback undoes SET.
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "SET LOCAL application_name = 'local'")
	if got := textValue(t, conn, "SHOW application_name"); got != "local" {
		t.Errorf("SET LOCAL inside: %q", got)
	}
	mustExec(t, conn, "COMMIT")
	if got := textValue(t, conn, "SHOW application_name"); got != "billing" {
		t.Errorf("after SET LOCAL and COMMIT: %q", got)
	}
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "SET application_name = 'rolled back'")
	mustExec(t, conn, "ROLLBACK")
	if got := textValue(t, conn, "SHOW application_name"); got != "billing" {
		t.Errorf("after ROLLBACK: %q", got)
	}
	if got := conn.PgConn().ParameterStatus("application_name"); got != "billing" {
		t.Errorf("ParameterStatus after ROLLBACK %q", got)
	}

	// standard_conforming_strings is a real switch of the literal dialect.
	if got := textValue(t, conn, `SELECT 'a\nb'`); got != `a\nb` {
		t.Errorf("standard strings: %q", got)
	}
	mustExec(t, conn, "SET standard_conforming_strings = off")
	if got := textValue(t, conn, `SELECT 'a\nb'`); got != "a\nb" {
		t.Errorf("standard_conforming_strings off: %q", got)
	}
	if got := conn.PgConn().ParameterStatus("standard_conforming_strings"); got != "off" {
		t.Errorf("ParameterStatus standard_conforming_strings %q", got)
	}
	mustExec(t, conn, "RESET ALL")
	if got := textValue(t, conn, "SHOW application_name"); got != "" {
		t.Errorf("after RESET ALL: %q", got)
	}
	if got := textValue(t, conn, "SELECT ''"); got != "" {
		t.Errorf("empty string: %q", got)
	}

	// The HTTP API has no session: SET there is an explicit error.
	_, err = sess.Execute(context.Background(), session.Request{SQL: "SET application_name = 'x'"})
	if errcode.Of(err) != errcode.Unsupported {
		t.Errorf("SET without a session: %v", err)
	}
}

// Start-up parameters are settings too: a bad value refuses the
// connection, as in PostgreSQL.
func TestStartupSettings(t *testing.T) {
	_, ts := memServer(t)
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, ts.url("test", "&application_name=app1&TimeZone=Asia/Tokyo"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if got := conn.PgConn().ParameterStatus("TimeZone"); got != "Asia/Tokyo" {
		t.Errorf("TimeZone %q", got)
	}
	if got := textValue(t, conn, "SHOW application_name"); got != "app1" {
		t.Errorf("application_name %q", got)
	}
	mustExec(t, conn, "RESET ALL")
	if got := textValue(t, conn, "SHOW TimeZone"); got != "Asia/Tokyo" {
		t.Errorf("RESET goes back to the start-up value, got %q", got)
	}
	if _, err := pgx.Connect(ctx, ts.url("test", "&client_encoding=LATIN1")); pgCode(err) != "22023" {
		t.Errorf("client_encoding LATIN1 at start-up: %v", err)
	}
}

func TestEverydayPostgresSyntax(t *testing.T) {
	_, ts := memServer(t)
	conn := ts.connect(t, "test")
	ctx := testCtx(t)
	mustExec(t, conn, "CREATE TABLE a (id INT8 PRIMARY KEY, v DOUBLE PRECISION)")
	mustExec(t, conn, "CREATE TABLE b (id INT8 PRIMARY KEY)")
	mustExec(t, conn, "INSERT INTO a VALUES ($1::int8, $2::float8)", "1", "2.5")
	var v float64
	if err := conn.QueryRow(ctx, "SELECT v::text::double precision FROM a WHERE id = $1", 1).Scan(&v); err != nil || v != 2.5 {
		t.Fatalf("cast: %v %v", v, err)
	}
	// RETURNING over the extended protocol (Describe portal gives the row
	// shape) and the simple one (tag INSERT 0 n with rows).
	var id int64
	var name string
	if err := conn.QueryRow(ctx, "INSERT INTO a VALUES ($1, $2) RETURNING id, v::text", 2, 0.5).Scan(&id, &name); err != nil || id != 2 || name != "0.5" {
		t.Fatalf("INSERT RETURNING: %d %q %v", id, name, err)
	}
	results, err := conn.PgConn().Exec(ctx, "UPDATE a SET v = v * 2 WHERE id > 0 RETURNING id").ReadAll()
	if err != nil || len(results) != 1 || len(results[0].Rows) != 2 || results[0].CommandTag.String() != "UPDATE 2" {
		t.Fatalf("UPDATE RETURNING: %+v %v", results, err)
	}
	if err := conn.QueryRow(ctx, "DELETE FROM a WHERE id = $1 RETURNING v", 2).Scan(&v); err != nil || v != 1 {
		t.Fatalf("DELETE RETURNING: %v %v", v, err)
	}
	// Upsert, as ORMs write it.
	for i := 0; i < 3; i++ {
		if err := conn.QueryRow(ctx, "INSERT INTO a (id, v) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = a.v + excluded.v RETURNING v", 7, 1.5).Scan(&v); err != nil || v != 1.5*float64(i+1) {
			t.Fatalf("upsert %d: %v %v", i, v, err)
		}
	}
	if tag := mustExec(t, conn, "INSERT INTO a (id, v) VALUES (7, 0) ON CONFLICT DO NOTHING"); tag.String() != "INSERT 0 0" {
		t.Errorf("DO NOTHING tag %q", tag)
	}
	if tag := mustExec(t, conn, "TRUNCATE a, b"); tag.String() != "TRUNCATE TABLE" {
		t.Errorf("TRUNCATE tag %q", tag)
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM a").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after TRUNCATE: %d %v", n, err)
	}
	if tag := mustExec(t, conn, "DROP TABLE a, b CASCADE"); tag.String() != "DROP TABLE" {
		t.Errorf("DROP TABLE tag %q", tag)
	}
	if _, err := conn.Exec(ctx, "SELECT 1::money"); pgCode(err) != "42704" {
		t.Errorf("unknown type: %v", err)
	}
}
