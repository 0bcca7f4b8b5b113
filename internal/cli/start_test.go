package cli

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/server"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// readyLinePattern is how scripts find the bound address (see ReadyMessage).
var readyLinePattern = regexp.MustCompile(`msg="` + ReadyMessage + `".* http=(\S+)`)

// parseStartFlags declares the start flags on a bare command and parses args.
func parseStartFlags(t *testing.T, args ...string) *startOptions {
	t.Helper()
	cmd := &cobra.Command{Use: "start"}
	opts := addStartFlags(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return opts
}

func TestStartFlagsOverrideOnlyWhenSet(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	yml := "http_port: 6001\npg_port: 6002\ndata_dir: from-file\nlog_level: warn\n"
	if err := os.WriteFile(filepath.Join(dir, server.DefaultConfigFile), []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := parseStartFlags(t, "--http-port", "0", "--initial-cluster", "localhost:7070, h2:7070",
		"--http-peers", "a:1 b:2", "--raft-nodeid", "5")
	cfg, err := opts.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := server.DefaultConfig()
	want.HTTPPort = 0          // flag wins over the file
	want.PGPort = 6002         // file wins over the default
	want.DataDir = "from-file" // flag not set: the file's value is kept
	want.LogLevel = "warn"
	want.Peers = server.PeerList{"localhost:7070", "h2:7070"}
	want.HTTPPeers = server.PeerList{"a:1", "b:2"}
	want.NodeID = 5
	if !configEqual(cfg, want) {
		t.Fatalf("config %+v\nwant %+v", cfg, want)
	}
	if !cfg.IsCluster() {
		t.Error("--initial-cluster did not imply cluster mode")
	}
}

func configEqual(a, b server.Config) bool { return reflect.DeepEqual(a, b) }

func TestStartEveryFlagOverrides(t *testing.T) {
	t.Chdir(t.TempDir())
	cert := filepath.Join(t.TempDir(), "c.pem")
	if err := os.WriteFile(cert, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := parseStartFlags(t,
		"--data-dir", "d", "--mode", "cluster", "--raft-nodename", "n9", "--raft-host", "h9", "--raft-port", "7099",
		"--initial-cluster", "h9:7099", "--initial-cluster-partitions", "3", "--http-host", "0.0.0.0",
		"--http-port", "6095", "--pg-port", "0", "--tls-cert", cert, "--tls-key", cert, "--log-level", "debug")
	cfg, err := opts.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := server.DefaultConfig()
	want.DataDir, want.Mode, want.NodeName, want.RaftHost, want.RaftPort = "d", "cluster", "n9", "h9", 7099
	want.Peers, want.InitialPartitions, want.HTTPHost = server.PeerList{"h9:7099"}, 3, "0.0.0.0"
	want.HTTPPort, want.PGPort, want.TLSCert, want.TLSKey, want.LogLevel = 6095, 0, cert, cert, "debug"
	if !configEqual(cfg, want) {
		t.Fatalf("config %+v\nwant %+v", cfg, want)
	}
}

func TestStartRejectsInvalidConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cases := map[string][]string{
		"mode":               {"--mode", "bogus"},
		"http_port":          {"--http-port", "70000"},
		"initial_partitions": {"--initial-cluster-partitions", "0"},
		"peers":              {"--initial-cluster", "h1:7070,h2:7070"},
		"log_level":          {"--log-level", "chatty"},
		"config file":        {"--config", filepath.Join(dir, "missing.yml")},
		// Values that do not parse are invalid configuration too; the
		// message names the flag.
		"--http-port":   {"--http-port", "abc"},
		"--raft-nodeid": {"--raft-nodeid", "-3"},
		"--unknown":     {"--unknown", "1"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			root := NewCamusDBCommand()
			root.SetArgs(append([]string{"start", "--data-dir", filepath.Join(dir, "data")}, args...))
			root.SetOut(io.Discard)
			root.SetErr(io.Discard)
			err := root.Execute()
			if errcode.Of(err) != errcode.InvalidConfig {
				t.Fatalf("want CADB0600, got %v", err)
			}
			if strings.HasPrefix(name, "--") {
				if !strings.Contains(err.Error(), name) {
					t.Fatalf("error %q does not name %s", err, name)
				}
				return
			}
			if name != "config file" && !strings.Contains(err.Error(), name+":") {
				t.Fatalf("error %q does not name %s", err, name)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Error("an invalid config created the data dir: validation must come first")
	}
}

func TestStartServesUntilContextCancelled(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Chdir(t.TempDir())
	dataDir := filepath.Join(t.TempDir(), "data")
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	root := NewCamusDBCommand()
	// Bare `camusdb` (no subcommand) is start.
	root.SetArgs([]string{"--data-dir", dataDir, "--http-port", "0", "--pg-port", "0", "--raft-port", "0"})
	root.SetErr(pw)
	done := make(chan error, 1)
	go func() {
		err := root.ExecuteContext(ctx)
		pw.Close()
		done <- err
	}()

	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	addr := waitReady(t, lines, done)
	if _, err := os.Stat(dataDir); err != nil {
		t.Errorf("data dir not created: %v", err)
	}
	pingOK(t, addr)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("start returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("start did not return after its context was cancelled")
	}
	var sawStopped bool
	for line := range lines {
		sawStopped = sawStopped || strings.Contains(line, `msg="camusdb stopped"`)
	}
	if !sawStopped {
		t.Error(`no "camusdb stopped" log line`)
	}
}

// waitReady returns the address of the ready line, failing if the command
// ends first or nothing comes within a minute.
func waitReady(t *testing.T, lines <-chan string, done <-chan error) string {
	t.Helper()
	deadline := time.After(time.Minute)
	var seen []string
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("log ended before the ready line:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, line)
			if m := readyLinePattern.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		case err := <-done:
			t.Fatalf("camusdb ended before it was ready: %v\n%s", err, strings.Join(seen, "\n"))
		case <-deadline:
			t.Fatalf("no ready line within a minute:\n%s", strings.Join(seen, "\n"))
		}
	}
}

func pingOK(t *testing.T, addr string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"ok"`) {
		t.Fatalf("/ping: %d %s", resp.StatusCode, body)
	}
}

func TestVersionDemoAndUnknownCommands(t *testing.T) {
	var out strings.Builder
	root := NewCamusDBCommand()
	root.SetArgs([]string{"version"})
	root.SetOut(&out)
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "camusdb ") || !strings.Contains(out.String(), runtime.Version()) {
		t.Errorf("version output %q", out.String())
	}

	// demo is covered by demo_test.go.

	root = NewCamusDBCommand()
	root.SetArgs([]string{"bogus"})
	root.SetErr(io.Discard)
	if err := root.Execute(); err == nil {
		t.Error("unknown subcommand accepted")
	}
}

// buildCamusDB compiles ./cmd/camusdb into a temporary directory.
func buildCamusDB(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "camusdb")
	build := exec.Command(goBin, "build", "-ldflags=-w", "-o", bin, "./cmd/camusdb")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/camusdb: %v\n%s", err, out)
	}
	return bin
}

// TestCamusDBBinary runs the real binary: it must log the ready line, serve
// /ping, and exit 0 on SIGTERM; an invalid config must exit non-zero with
// the CADB0600 message.
func TestCamusDBBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildCamusDB(t)
	workDir := t.TempDir()

	bad := exec.Command(bin, "start", "--mode", "bogus")
	bad.Dir = workDir
	out, err := bad.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() == 0 || !strings.Contains(string(out), "CADB0600") ||
		!strings.Contains(string(out), "mode:") {
		t.Fatalf("invalid config: err %v, output %s", err, out)
	}

	dataDir := filepath.Join(workDir, "data")
	cmd := exec.Command(bin, "--data-dir", dataDir, "--http-port", "0", "--pg-port", "0", "--raft-port", "0")
	cmd.Dir = workDir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // no-op once it has exited
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	addr := waitReady(t, lines, nil)
	pingOK(t, addr)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		for range lines { // Wait must follow the last read of the pipe
		}
		waited <- cmd.Wait()
	}()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("camusdb exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-waited
		t.Fatal("camusdb did not exit within 30s of SIGTERM")
	}
}
