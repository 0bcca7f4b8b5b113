package pgwire

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runPsql runs psql -X against ts with args and returns its output.
func runPsql(t *testing.T, ts *testServer, user string, args ...string) (string, error) {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, append([]string{"-X", "-v", "ON_ERROR_STOP=1"}, args...)...)
	env := toolEnv(t, ts)
	if user != "" {
		env = append(env, "PGUSER="+user)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPsqlMetaCommands runs psql 15's describe commands against a node and
// checks that they list the right objects.
func TestPsqlMetaCommands(t *testing.T) {
	_, ts := memServer(t)
	conn := ts.connect(t, "test")
	mustExec(t, conn, "CREATE TABLE robots (id INT64 PRIMARY KEY, name STRING NOT NULL, ok BOOL DEFAULT (true), score FLOAT64)")
	mustExec(t, conn, "CREATE INDEX robots_name ON robots (name)")
	mustExec(t, conn, "CREATE TABLE parts (sku STRING)")
	mustExec(t, conn, "CREATE DATABASE other")
	mustExec(t, conn, "CREATE VIEW good AS SELECT id, name FROM robots WHERE ok")
	mustExec(t, conn, "COMMENT ON TABLE robots IS 'the robots'")
	mustExec(t, conn, "COMMENT ON COLUMN robots.name IS 'call sign'")

	for _, tc := range []struct {
		cmd  string
		want []string
		not  []string
	}{
		{`\d`, []string{"List of relations", "public | good   | view  | root", "public | parts  | table | root", "public | robots | table | root", "(3 rows)"}, []string{"robots_name"}},
		{`\dv`, []string{"public | good | view | root", "(1 row)"}, nil},
		{`\d+ good`, []string{`View "public.good"`, "View definition:", "SELECT id, name FROM robots WHERE ok"}, nil},
		{`\dt`, []string{"public | parts  | table", "public | robots | table", "(2 rows)"}, nil},
		{`\di`, []string{"public | robots_name | index | root  | robots", "public | robots_pkey | index | root  | robots", "(2 rows)"}, nil},
		{`\dn`, []string{"public | root", "(1 row)"}, []string{"pg_catalog"}},
		{`\du`, []string{"root", "Superuser"}, nil},
		{`\l`, []string{"other", "test", "UTF8"}, nil},
		{`\d robots`, []string{`Table "public.robots"`, "id     | bigint           |           | not null |",
			"name   | text             |           | not null |", "ok     | boolean          |           |          | TRUE",
			"score  | double precision |", `"robots_pkey" PRIMARY KEY, btree (id)`, `"robots_name" btree (name)`}, nil},
		{`\d+ robots`, []string{`Table "public.robots"`, "Storage", "plain", "extended", "| call sign", `"robots_pkey" PRIMARY KEY, btree (id)`, "Access method: heap"}, nil},
		{`\dt+`, []string{"robots | table | root", "the robots"}, nil},
		{`\di+`, []string{"robots_pkey | index | root  | robots"}, nil},
		{`\l+`, []string{"other", "pg_default"}, nil},
		{`\dn+`, []string{"public"}, nil},
		{`\du+`, []string{"root"}, nil},
		{`\d parts`, []string{`Table "public.parts"`, "sku    | text |"}, []string{"rowid", "Indexes"}},
		{`\d nope`, []string{`Did not find any relation named "nope".`}, nil},
	} {
		out, err := runPsql(t, ts, "", "-d", "test", "-c", tc.cmd)
		if err != nil && tc.cmd != `\d nope` {
			t.Fatalf("%s: %v\n%s", tc.cmd, err, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.cmd, w, out)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out, w) {
				t.Errorf("%s: output has %q:\n%s", tc.cmd, w, out)
			}
		}
	}
}

// TestCatalogPrivileges checks that the catalogs show a user only the
// tables it holds a privilege on, through psql and through queries.
func TestCatalogPrivileges(t *testing.T) {
	ts := authServer(t, false,
		"ALTER USER root PASSWORD 'rootpw'",
		"CREATE USER alice WITH PASSWORD 'alicepw'",
		"CREATE TABLE pub (id INT64 PRIMARY KEY)",
		"CREATE TABLE secret (id INT64 PRIMARY KEY, code STRING)",
		"GRANT SELECT ON pub TO alice",
	)
	t.Setenv("PGPASSWORD", "alicepw")
	out, err := runPsql(t, ts, "alice", "-d", "test", "-c", `\dt`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "public | pub  | table") || strings.Contains(out, "secret") {
		t.Fatalf("alice's \\dt:\n%s", out)
	}
	conn, err := tryConnect(t, ts.userURL("alice:alicepw", "test"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	for sql, want := range map[string]int{
		"SELECT count(*) FROM information_schema.tables WHERE table_name = 'secret'":        0,
		"SELECT count(*) FROM information_schema.columns WHERE table_name = 'secret'":       0,
		"SELECT count(*) FROM pg_catalog.pg_class WHERE relname LIKE 'secret%'":             0,
		"SELECT count(*) FROM pg_catalog.pg_class WHERE relname LIKE 'pub%'":                2,
		"SELECT count(*) FROM information_schema.key_column_usage WHERE table_name = 'pub'": 1,
	} {
		var n int
		if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil || n != want {
			t.Errorf("%s: %d, %v; want %d", sql, n, err, want)
		}
	}
	t.Setenv("PGPASSWORD", "rootpw")
	out, err = runPsql(t, ts, "root", "-d", "test", "-c", `\dt`)
	if err != nil || !strings.Contains(out, "secret") {
		t.Fatalf("root's \\dt: %v\n%s", err, out)
	}
}

// TestMaintenanceDatabase: the postgres database always exists, as in
// PostgreSQL, so tools that connect to it by default work on a new node.
func TestMaintenanceDatabase(t *testing.T) {
	ts := authServer(t, false, "ALTER USER root PASSWORD 'rootpw'", "CREATE USER alice WITH PASSWORD 'alicepw'")
	t.Setenv("PGPASSWORD", "alicepw")
	out, err := runPsql(t, ts, "alice", "-d", "postgres", "-At", "-c", "SELECT current_database()")
	if err != nil || strings.TrimSpace(out) != "postgres" {
		t.Fatalf("alice: %v\n%s", err, out)
	}
	// Owned by root: alice may connect but not create tables in it.
	out, err = runPsql(t, ts, "alice", "-d", "postgres", "-c", "CREATE TABLE t (id INT64 PRIMARY KEY)")
	if err == nil || !strings.Contains(out, "permission denied") {
		t.Fatalf("alice's CREATE TABLE: %v\n%s", err, out)
	}
	t.Setenv("PGPASSWORD", "rootpw")
	out, err = runPsql(t, ts, "root", "-d", "postgres", "-c", `\l`)
	if err != nil || !strings.Contains(out, "postgres") || !strings.Contains(out, "test") {
		t.Fatalf("root's \\l: %v\n%s", err, out)
	}
	// Other unknown databases are still refused.
	out, err = runPsql(t, ts, "root", "-d", "nosuch", "-c", "SELECT 1")
	if err == nil || !strings.Contains(out, "nosuch") {
		t.Fatalf("unknown database: %v\n%s", err, out)
	}
}
