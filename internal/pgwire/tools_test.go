package pgwire

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// toolEnv runs PostgreSQL client programs against ts without reading the
// user's configuration.
func toolEnv(t *testing.T, ts *testServer) []string {
	host, port, _ := net.SplitHostPort(ts.addr)
	home := t.TempDir()
	return append(os.Environ(), "PGHOST="+host, "PGPORT="+port, "PGUSER=tester", "PGSSLMODE=disable",
		"PGCONNECT_TIMEOUT=10", "HOME="+home, "PSQLRC="+filepath.Join(home, "none"), "PGPASSFILE="+filepath.Join(home, "none"))
}

func TestPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	_, ts := memServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	script := `CREATE TABLE robots (id INT64 PRIMARY KEY, name STRING, ok BOOL);
INSERT INTO robots VALUES (1, 'R2-D2', true), (2, 'C-3PO', false);
BEGIN;
UPDATE robots SET name = 'BB-8' WHERE id = 2;
COMMIT;
SELECT id, name, ok FROM robots ORDER BY id;
SELECT 'C:\new' AS path, E'tab\there' AS esc, length('a\nb') AS four;
SET application_name = 'psql-test';
SHOW application_name;
`
	cmd := exec.CommandContext(ctx, psql, "-X", "-v", "ON_ERROR_STOP=1", "-d", "test", "-A", "-F", ",")
	cmd.Env = toolEnv(t, ts)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	for _, want := range []string{"CREATE TABLE", "INSERT 0 2", "BEGIN", "UPDATE 1", "COMMIT", "id,name,ok", "1,R2-D2,t", "2,BB-8,f", "(2 rows)",
		"path,esc,four", "C:\\new,tab\there,4", "SET", "psql-test"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("psql output lacks %q:\n%s", want, out)
		}
	}
	// An error is reported with its SQLSTATE-bearing message and a
	// non-zero exit.
	cmd = exec.CommandContext(ctx, psql, "-X", "-v", "ON_ERROR_STOP=1", "-d", "test", "-c", "INSERT INTO robots VALUES (1, 'dup', true)")
	cmd.Env = toolEnv(t, ts)
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "CADB0300") {
		t.Fatalf("duplicate insert: err=%v\n%s", err, out)
	}
}

func TestPgbench(t *testing.T) {
	pgbench, err := exec.LookPath("pgbench")
	if err != nil {
		t.Skip("pgbench not installed")
	}
	sess, ts := memServer(t)
	conn := ts.connect(t, "test")
	mustExec(t, conn, "CREATE TABLE accounts (id INT64 PRIMARY KEY, balance INT64)")
	mustExec(t, conn, "INSERT INTO accounts VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)")
	dir := t.TempDir()
	script := filepath.Join(dir, "script.sql")
	if err := os.WriteFile(script, []byte(`\set id random(1, 5)
\set delta random(-10, 10)
BEGIN;
UPDATE accounts SET balance = balance + :delta WHERE id = :id;
SELECT balance FROM accounts WHERE id = :id;
END;
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, mode := range []string{"simple", "extended", "prepared"} {
		cmd := exec.CommandContext(ctx, pgbench, "-n", "-M", mode, "-c", "2", "-t", "20", "--max-tries", "100", "-f", script, "test")
		cmd.Env = toolEnv(t, ts)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("pgbench -M %s: %v\n%s", mode, err, out)
		}
		if !strings.Contains(string(out), "number of transactions actually processed: 40/40") {
			t.Fatalf("pgbench -M %s output:\n%s", mode, out)
		}
	}
	if n := sess.OpenTransactions(); n != 0 {
		t.Fatalf("%d transactions left open", n)
	}
}
