package compat

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// node is the camusdb process the suite runs against.
var node struct {
	pgPort  int
	dataDir string
	logPath string
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "camusdb-compat-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "camusdb")
	build := exec.Command("go", "build", "-o", bin, "./cmd/camusdb")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building camusdb: %v\n%s", err, out)
		return 1
	}
	httpPort, err1 := freePort()
	pgPort, err2 := freePort()
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, err1, err2)
		return 1
	}
	node.pgPort, node.dataDir, node.logPath = pgPort, filepath.Join(dir, "data"), filepath.Join(dir, "node.log")
	logFile, err := os.Create(node.logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "--data-dir", node.dataDir, "--http-port", strconv.Itoa(httpPort), "--pg-port", strconv.Itoa(pgPort))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	if err := waitReady(60 * time.Second); err != nil {
		log, _ := os.ReadFile(node.logPath)
		fmt.Fprintf(os.Stderr, "node not ready: %v\n%s", err, log)
		return 1
	}
	code := m.Run()
	if code != 0 {
		// The node's log helps explain a failure.
		if log, err := os.ReadFile(node.logPath); err == nil {
			if len(log) > 20000 {
				log = log[len(log)-20000:]
			}
			fmt.Fprintf(os.Stderr, "--- node log (tail) ---\n%s", log)
		}
	}
	return code
}

// freePort asks the kernel for a free port. Another process could take it
// before the node binds it; the node then fails to start and the suite
// says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls until the node answers on pgwire.
func waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	backoff := 10 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, url("postgres"))
		cancel()
		if err == nil {
			return conn.Close(context.Background())
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(backoff) // polling a process we do not control; not a synchronization of ours
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// url is a connection URL for database as root over loopback (trusted).
func url(database string) string {
	return fmt.Sprintf("postgres://root@127.0.0.1:%d/%s?sslmode=disable", node.pgPort, database)
}

// dsn is url in libpq's key=value form.
func dsn(database string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=root dbname=%s sslmode=disable", node.pgPort, database)
}

// newDatabase creates a database for one test and returns its name.
func newDatabase(t *testing.T) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	conn := connect(t, "postgres")
	if _, err := conn.Exec(ctxFor(t), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return name
}

func connect(t *testing.T, database string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctxFor(t), url(database))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// toolEnv runs PostgreSQL client programs against the node without the
// user's configuration.
func toolEnv(t *testing.T) []string {
	home := t.TempDir()
	return append(os.Environ(), "PGHOST=127.0.0.1", "PGPORT="+strconv.Itoa(node.pgPort), "PGUSER=root",
		"PGSSLMODE=disable", "HOME="+home, "PSQLRC="+filepath.Join(home, "none"), "PGPASSFILE="+filepath.Join(home, "none"))
}
