package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// runDemoCommand runs `camusdb <args>` in-process and returns its outputs.
func runDemoCommand(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := NewCamusDBCommand()
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(""))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func TestDemoRunsStatementsOnAThreeNodeCluster(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Chdir(t.TempDir())
	stdout, stderr, err := runDemoCommand(t, "demo", "--partitions", "2", "--format", "tsv",
		"-e", "SELECT 1 AS one",
		// The database "test" exists and is the shell's database.
		"-e", "CREATE TABLE kv (k INT64 PRIMARY KEY, v STRING)",
		"-e", "INSERT INTO kv (k, v) VALUES (1, 'a'), (2, 'b')",
		"-e", "SELECT COUNT(*) AS n FROM kv")
	if err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	// Default: three nodes, each with its address printed.
	nodeLine := regexp.MustCompile(`(?m)^  node (\d)  http://127\.0\.0\.1:\d+$`)
	if m := nodeLine.FindAllStringSubmatch(stderr, -1); len(m) != 3 {
		t.Fatalf("want 3 node address lines on stderr, got %d:\n%s", len(m), stderr)
	}
	for _, want := range []string{"one\n1\n", "n\n2\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
}

func TestDemoStopsAtFirstError(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	stdout, stderr, err := runDemoCommand(t, "demo", "--nodes", "1", "--format", "tsv",
		"-e", "SELEC 1", "-e", "SELECT 42 AS never")
	if err == nil || ShellExitCode(err) != ShellExitFailed {
		t.Fatalf("demo with a syntax error: err %v (exit %d)", err, ShellExitCode(err))
	}
	if !strings.Contains(stderr, "CADB0406") {
		t.Errorf("stderr lacks the syntax error code:\n%s", stderr)
	}
	if strings.Contains(stdout, "42") {
		t.Errorf("statements after the error ran:\n%s", stdout)
	}
}

func TestDemoRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--nodes", "0"},
		{"demo", "--partitions", "0"},
		{"demo", "--log-level", "loud"},
	} {
		if _, _, err := runDemoCommand(t, args...); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
}
