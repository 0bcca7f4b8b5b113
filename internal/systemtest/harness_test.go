package systemtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
)

var binDir string

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "camusdb-systemtest-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binDir = dir
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = "/usr/local/go/bin/go"
		}
		for _, name := range []string{"camusdb", "camus-cli"} {
			cmd := exec.Command(goBin, "build", "-o", filepath.Join(dir, name), "./cmd/"+name)
			cmd.Dir = repoRoot()
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "building %s: %v\n%s", name, err, out)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

// node is one running camusdb process.
type node struct {
	t       testing.TB
	dataDir string
	args    []string
	env     []string // extra environment variables
	cmd     *exec.Cmd
	addr    string // HTTP host:port
	exited  chan struct{}
	mu      sync.Mutex
	log     bytes.Buffer
}

var readyLine = regexp.MustCompile(`camusdb ready.*http=(\S+)`)

// startNode starts camusdb on dataDir with ephemeral ports and waits until
// it logs that it is ready.
func startNode(t testing.TB, dataDir string, extra ...string) *node {
	t.Helper()
	n := &node{t: t, dataDir: dataDir}
	n.args = append([]string{"start", "--data-dir", dataDir, "--http-host", "127.0.0.1", "--http-port", "0", "--pg-port", "0", "--raft-port", "0"}, extra...)
	n.start()
	t.Cleanup(n.kill)
	return n
}

func (n *node) start() {
	t := n.t
	t.Helper()
	ready := n.startAsync()
	select {
	case n.addr = <-ready:
	case <-n.exited:
		t.Fatalf("camusdb exited before it was ready:\n%s", n.logs())
	case <-time.After(60 * time.Second):
		n.kill()
		t.Fatalf("camusdb not ready within 60s:\n%s", n.logs())
	}
}

// startAsync starts the process and returns a channel that receives its
// HTTP address once it logs that it is ready; n.exited is closed when it
// exits.
func (n *node) startAsync() <-chan string {
	t := n.t
	t.Helper()
	n.cmd = exec.Command(filepath.Join(binDir, "camusdb"), n.args...)
	n.cmd.Dir = t.TempDir()
	if len(n.env) > 0 {
		n.cmd.Env = append(os.Environ(), n.env...)
	}
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	n.cmd.Stdout = io.Discard
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.exited = make(chan struct{})
	ready := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			n.mu.Lock()
			n.log.WriteString(line + "\n")
			n.mu.Unlock()
			if m := readyLine.FindStringSubmatch(line); m != nil {
				select {
				case ready <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { <-scanned; _ = n.cmd.Wait(); close(n.exited) }()
	return ready
}

func (n *node) logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

// kill sends SIGKILL and waits for the process to be gone.
func (n *node) kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
}

// restart starts the process again on the same data directory.
func (n *node) restart() {
	n.kill()
	n.start()
}

// stop sends SIGTERM and requires a clean exit.
func (n *node) stop() {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		n.kill()
		n.t.Fatalf("camusdb did not exit on SIGTERM:\n%s", n.logs())
	}
	if code := n.cmd.ProcessState.ExitCode(); code != 0 {
		n.t.Fatalf("camusdb exited with %d on SIGTERM:\n%s", code, n.logs())
	}
}

func (n *node) url() string { return "http://" + n.addr }

func (n *node) client() *client.Client {
	c := client.New([]string{n.url()}, client.WithTimeout(30*time.Second))
	n.t.Cleanup(c.Close)
	return c
}

// cli runs camus-cli against the node and returns stdout, stderr, exit code.
func (n *node) cli(stdin string, args ...string) (string, string, int) {
	n.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "camus-cli"), append([]string{"--url", n.url()}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "HOME="+n.t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		n.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// rowsOf renders result rows as "a|b|c" strings for comparison.
func rowsOf(res *client.Result) []string {
	out := make([]string, len(res.Rows))
	for i, r := range res.Rows {
		parts := make([]string, len(r))
		for j, v := range r {
			if v == nil {
				parts[j] = "NULL"
			} else {
				parts[j] = fmt.Sprint(v)
			}
		}
		out[i] = strings.Join(parts, "|")
	}
	return out
}

func query(t *testing.T, c *client.Client, db, sql string) []string {
	t.Helper()
	res, err := c.Query(ctxT(t), db, sql, nil, nil)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return rowsOf(res)
}

func expectRows(t *testing.T, c *client.Client, db, sql string, want ...string) {
	t.Helper()
	got := query(t, c, db, sql)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n got  %q\n want %q", sql, got, want)
	}
}

func expectCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := client.CodeOf(err); got != code {
		t.Fatalf("want error %s, got %v", code, err)
	}
}
