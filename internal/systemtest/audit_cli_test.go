package systemtest

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runCamusCLI runs the camus-cli binary with exactly args (no --url added).
func runCamusCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "camus-cli"), args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// deadURL is an HTTP URL nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// TestAuditCLIContract pins SPEC §7 on the real binaries: connection
// strings with a dead endpoint, output forms, transactions, and the
// stop-at-first-error exit code of -e, -f and piped stdin.
func TestAuditCLIContract(t *testing.T) {
	n := startNode(t, t.TempDir())
	dead := deadURL(t)

	// Unreachable: a clear message and a non-zero exit, nothing run.
	out, errOut, code := runCamusCLI(t, "", "--url", dead, "-e", "SELECT 1")
	if code == 0 || !strings.Contains(errOut, dead) || out != "" {
		t.Fatalf("unreachable server: exit %d stdout %q stderr %q", code, out, errOut)
	}

	if out, errOut, code := runCamusCLI(t, "", "--url", n.url(), "-e", "CREATE DATABASE shop"); code != 0 || !strings.Contains(out, "Query OK") {
		t.Fatalf("create database: exit %d %q %q", code, out, errOut)
	}
	// The dead endpoint is skipped; the connection string names the database.
	conn := "Endpoint=" + dead + "," + n.url() + ";Database=shop"
	script := `CREATE TABLE notes (id INT64 PRIMARY KEY, body STRING);
INSERT INTO notes (id, body) VALUES (1, 'semi;colon'), (2, 'two
lines');
begin;
INSERT INTO notes (id, body) VALUES (3, 'rolled back');
rollback;
BEGIN;
INSERT INTO notes (id, body) VALUES (4, 'kept');
COMMIT;
SELECT id, body
  FROM notes
 WHERE id <> 2
 ORDER BY id;
`
	out, errOut, code = runCamusCLI(t, script, "-c", conn)
	if code != 0 {
		t.Fatalf("script: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"Query OK", "2 rows affected", "semi;colon", "| kept", "2 rows"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "rolled back |") || strings.Contains(out, "| rolled back") {
		t.Fatalf("the rolled-back row is visible:\n%s", out)
	}

	// -f stops at the first error with exit 1: what came before ran, what
	// came after did not.
	file := filepath.Join(t.TempDir(), "bad.sql")
	bad := "INSERT INTO notes (id) VALUES (10);\nINSERT INTO notes (id) VALUES (1);\nINSERT INTO notes (id) VALUES (11);\n"
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-f", file}, {}} {
		stdin := ""
		if len(args) == 0 {
			stdin = strings.ReplaceAll(bad, "(10)", "(12)")
		}
		out, errOut, code = runCamusCLI(t, stdin, append([]string{"--url", n.url(), "shop"}, args...)...)
		if code != 1 || !strings.Contains(errOut, "CADB0300") {
			t.Fatalf("%v: want exit 1 with CADB0300, got %d\n%s\n%s", args, code, out, errOut)
		}
	}
	out, errOut, code = runCamusCLI(t, "", "--url", n.url(), "shop", "--format", "tsv",
		"-e", "SELECT id FROM notes WHERE id >= 10 ORDER BY id")
	if code != 0 || !strings.Contains(out, "10\n12\n") || strings.Contains(out, "11") {
		t.Fatalf("after the failed scripts: exit %d\n%s\n%s", code, out, errOut)
	}
	// -e with several statements stops at the first error too.
	out, errOut, code = runCamusCLI(t, "", "--url", n.url(), "shop", "-e", "SELECT nope FROM notes", "-e", "INSERT INTO notes (id) VALUES (13)")
	if code != 1 || !strings.Contains(errOut, "CADB0404") {
		t.Fatalf("-e error: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, _, _ := runCamusCLI(t, "", "--url", n.url(), "shop", "--format", "tsv", "-e", "SELECT COUNT(*) FROM notes WHERE id = 13"); out != "COUNT(*)\n0\n" {
		t.Fatalf("the statement after the failing -e ran:\n%s", out)
	}
}
