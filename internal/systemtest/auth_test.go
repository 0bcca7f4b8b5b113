package systemtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// docs/security.md "Defaults": a node listening beyond loopback without
// TLS and a root password refuses to start (CADB0600, non-zero exit, no
// data dir) unless --insecure, which it then says loudly.
func TestExposedNodeNeedsCredentialsOrInsecure(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "camusdb"), "start", "--data-dir", dataDir,
		"--http-host", "0.0.0.0", "--http-port", "0", "--pg-port", "0")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() == 0 {
		t.Fatalf("want a non-zero exit, got %v:\n%s", err, out)
	}
	for _, want := range []string{"CADB0600", "http_host", "root_password_file", "tls_cert", "--insecure"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("message lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the refused node created its data dir")
	}
	n := startNode(t, dataDir, "--http-host", "0.0.0.0", "--insecure")
	if !strings.Contains(n.logs(), "INSECURE") {
		t.Fatalf("--insecure start is not logged loudly:\n%s", n.logs())
	}
	port := n.addr[strings.LastIndex(n.addr, ":")+1:] // n.addr is 0.0.0.0:port or [::]:port
	if r := basicPost(t, "http://127.0.0.1:"+port, "", `{"databaseName":"x"}`, "/create-db"); r.status != 200 {
		t.Fatalf("insecure node without a root password: %d %s", r.status, r.body)
	}
}

// A loopback node without a root password trusts its loopback clients as
// root and warns about it at start.
func TestLoopbackNodeWarnsAboutTrust(t *testing.T) {
	n := startNode(t, filepath.Join(t.TempDir(), "data"))
	if !strings.Contains(n.logs(), "root has no password") {
		t.Fatalf("no startup warning:\n%s", n.logs())
	}
	if r := basicPost(t, n.url(), "", `{"databaseName":"x"}`, "/create-db"); r.status != 200 {
		t.Fatalf("trusted loopback: %d %s", r.status, r.body)
	}
}

type basicReply struct {
	status int
	body   string
}

func basicPost(t *testing.T, baseURL, userinfo, body, path string) basicReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, baseURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user, pw, ok := strings.Cut(userinfo, ":"); ok {
		req.SetBasicAuth(user, pw)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return basicReply{resp.StatusCode, string(b)}
}

// With root_password_file every connection authenticates, loopback too:
// HTTP without or with wrong credentials gets 401 CADB0020, with the right
// ones 200; pgx and psql (SCRAM) work with the password and get 28P01
// without it.
func TestRootPasswordFile(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "root.pw")
	if err := os.WriteFile(pwFile, []byte("s3cret!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, pgPort, _ := strings.Cut(freePorts(t, 1)[0], ":")
	n := startNode(t, filepath.Join(dir, "data"), "--root-password-file", pwFile, "--pg-port", pgPort)
	if strings.Contains(n.logs(), "s3cret") {
		t.Fatal("the password appears in the log")
	}
	query := `{"databaseName":"","sql":"SELECT 1"}`
	for _, userinfo := range []string{"", "root:wrong", "nobody:s3cret!"} {
		r := basicPost(t, n.url(), userinfo, query, "/execute-sql-query")
		if r.status != 401 || !strings.Contains(r.body, "CADB0020") {
			t.Fatalf("%q: %d %s", userinfo, r.status, r.body)
		}
	}
	if r := basicPost(t, n.url(), "root:s3cret!", query, "/execute-sql-query"); r.status != 200 {
		t.Fatalf("right password: %d %s", r.status, r.body)
	}
	// Failures show in /metrics, which needs no credentials.
	resp, err := http.Get(n.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `camusdb_auth_attempts_total{protocol="http",result="failure"} 2`) {
		t.Fatalf("/metrics lacks the failed logins:\n%s", metrics)
	}
	if r := basicPost(t, n.url(), "root:s3cret!", `{"databaseName":"shop"}`, "/create-db"); r.status != 200 {
		t.Fatalf("create-db: %d %s", r.status, r.body)
	}

	pgURL := func(pw string) string {
		return "postgres://root:" + pw + "@127.0.0.1:" + pgPort + "/shop?sslmode=disable"
	}
	ctx := ctxT(t)
	conn, err := pgx.Connect(ctx, pgURL("s3cret%21"))
	if err != nil {
		t.Fatalf("pgx with the password: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE USER app WITH PASSWORD 'apppw'"); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, pgURL("nope")); !strings.Contains(err.Error(), "28P01") {
		t.Fatalf("pgx with a wrong password: %v", err)
	}
	// The password survives a restart (it is replicated data, not config).
	n.restart()
	if r := basicPost(t, n.url(), "app:apppw", query, "/execute-sql-query"); r.status != 200 {
		t.Fatalf("app after restart: %d %s", r.status, r.body)
	}

	// camus-cli and camus-dump: --user with the password from the environment.
	if err := dumpBinOnce(); err != nil {
		t.Fatal(err)
	}
	tool := func(name, password string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, name), append([]string{"--url", n.url(), "--user", "root"}, args...)...)
		cmd.Env = append(os.Environ(), "CAMUSDB_PASSWORD="+password, "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := tool("camus-cli", "s3cret!", "shop", "-e", "CREATE TABLE t (id INT64 PRIMARY KEY)", "-e", "INSERT INTO t VALUES (7)"); err != nil {
		t.Fatalf("camus-cli with credentials: %v\n%s", err, out)
	}
	if out, err := tool("camus-cli", "bad", "shop", "-e", "SELECT 1"); err == nil || !strings.Contains(out, "CADB0020") {
		t.Fatalf("camus-cli with a wrong password: %v\n%s", err, out)
	}
	if out, err := tool("camus-dump", "s3cret!", "shop"); err != nil || !strings.Contains(out, "INSERT INTO") {
		t.Fatalf("camus-dump with credentials: %v\n%s", err, out)
	}
	if out, err := tool("camus-dump", "bad", "shop"); err == nil || !strings.Contains(out, "CADB0020") {
		t.Fatalf("camus-dump with a wrong password: %v\n%s", err, out)
	}

	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	run := func(password string) (string, error) {
		home := t.TempDir()
		cmd := exec.CommandContext(ctx, psql, "-X", "-A", "-t", "-h", "127.0.0.1", "-p", pgPort, "-U", "root", "-d", "shop", "-c", "SELECT 6 * 7")
		cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGSSLMODE=disable", "HOME="+home,
			"PGPASSFILE="+filepath.Join(home, "none"), "PGCONNECT_TIMEOUT=10")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("s3cret!"); err != nil || strings.TrimSpace(out) != "42" {
		t.Fatalf("psql with the password: %v\n%s", err, out)
	}
	if out, err := run("wrong"); err == nil || !strings.Contains(out, "password authentication failed") {
		t.Fatalf("psql with a wrong password: %v\n%s", err, out)
	}
}

// A node reachable from the network with certificates from `camusdb cert`
// and a root password starts without --insecure: HTTPS verifies against
// the cluster CA, pgwire works with sslmode=verify-full and refuses
// sslmode=disable (28000).
func TestSecureNodeWithCertificates(t *testing.T) {
	dir := t.TempDir()
	certs := filepath.Join(dir, "certs")
	ctx := ctxT(t)
	for _, args := range [][]string{{"create-ca"}, {"create-node", "127.0.0.1", "localhost"}, {"create-client", "root"}} {
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, "camusdb"), append([]string{"cert", "--certs-dir", certs}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("camusdb cert %v: %v\n%s", args, err, out)
		}
	}
	// Never overwrite.
	if out, err := exec.CommandContext(ctx, filepath.Join(binDir, "camusdb"), "cert", "--certs-dir", certs, "create-ca").CombinedOutput(); err == nil {
		t.Fatalf("create-ca over an existing CA succeeded:\n%s", out)
	}
	pwFile := filepath.Join(dir, "root.pw")
	if err := os.WriteFile(pwFile, []byte("pw"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, pgPort, _ := strings.Cut(freePorts(t, 1)[0], ":")
	n := startNode(t, filepath.Join(dir, "data"), "--http-host", "0.0.0.0", "--certs-dir", certs,
		"--root-password-file", pwFile, "--pg-port", pgPort)
	port := n.addr[strings.LastIndex(n.addr, ":")+1:]

	caPEM, err := os.ReadFile(filepath.Join(certs, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	post := func(userinfo string) int {
		req, _ := http.NewRequest(http.MethodPost, "https://127.0.0.1:"+port+"/create-db", strings.NewReader(`{"databaseName":"shop","ifNotExists":true}`))
		if user, pw, ok := strings.Cut(userinfo, ":"); ok {
			req.SetBasicAuth(user, pw)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(""); got != 401 {
		t.Fatalf("HTTPS without credentials: %d", got)
	}
	if got := post("root:pw"); got != 200 {
		t.Fatalf("HTTPS with credentials: %d", got)
	}
	cli := exec.CommandContext(ctx, filepath.Join(binDir, "camus-cli"), "--url", "https://127.0.0.1:"+port,
		"--certs-dir", certs, "--user", "root", "shop", "-e", "SELECT 40 + 2")
	cli.Env = append(os.Environ(), "CAMUSDB_PASSWORD=pw", "HOME="+t.TempDir())
	if out, err := cli.CombinedOutput(); err != nil || !strings.Contains(string(out), "42") {
		t.Fatalf("camus-cli over HTTPS with --certs-dir: %v\n%s", err, out)
	}
	base := "postgres://root:pw@127.0.0.1:" + pgPort + "/shop?sslrootcert=" + filepath.Join(certs, "ca.crt")
	conn, err := pgx.Connect(ctx, base+"&sslmode=verify-full")
	if err != nil {
		t.Fatalf("sslmode=verify-full: %v", err)
	}
	conn.Close(ctx)
	if _, err := pgx.Connect(ctx, base+"&sslmode=disable"); err == nil || !strings.Contains(err.Error(), "28000") {
		t.Fatalf("sslmode=disable: %v", err)
	}
	// SIGHUP reloads the key pair and the node keeps serving.
	if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		if !strings.Contains(n.logs(), "certificates reloaded") {
			return errors.New("no reload logged yet")
		}
		return nil
	})
	if got := post("root:pw"); got != 200 {
		t.Fatalf("HTTPS after SIGHUP: %d", got)
	}
}

// A 3-node cluster whose nodes share a certs_dir: node-to-node traffic is
// mutual TLS, HTTP is HTTPS and every request authenticates; a write on
// one node is read on another.
func TestClusterWithCertificates(t *testing.T) {
	dir := t.TempDir()
	certs := filepath.Join(dir, "certs")
	ctx := ctxT(t)
	for _, args := range [][]string{{"create-ca"}, {"create-node", "127.0.0.1"}} {
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, "camusdb"), append([]string{"cert", "--certs-dir", certs}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("camusdb cert %v: %v\n%s", args, err, out)
		}
	}
	pwFile := filepath.Join(dir, "root.pw")
	if err := os.WriteFile(pwFile, []byte("pw"), 0o600); err != nil {
		t.Fatal(err)
	}
	raft, httpAddrs := freePorts(t, 3), freePorts(t, 3)
	nodes := make([]*node, 3)
	for i := range nodes {
		_, raftPort, _ := strings.Cut(raft[i], ":")
		_, httpPort, _ := strings.Cut(httpAddrs[i], ":")
		nodes[i] = &node{t: t, dataDir: t.TempDir(), args: []string{"start",
			"--raft-host", "127.0.0.1", "--raft-port", raftPort, "--raft-nodename", fmt.Sprintf("n%d", i+1),
			"--http-host", "127.0.0.1", "--http-port", httpPort, "--pg-port", "0",
			"--initial-cluster", strings.Join(raft, ","), "--http-peers", strings.Join(httpAddrs, ","),
			"--certs-dir", certs, "--root-password-file", pwFile}}
		nodes[i].args = append(nodes[i].args, "--data-dir", nodes[i].dataDir)
		t.Cleanup(nodes[i].kill)
	}
	var wg sync.WaitGroup
	for _, nd := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); nd.start() }()
	}
	wg.Wait()

	caPEM, err := os.ReadFile(filepath.Join(certs, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	post := func(nd *node, path, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "https://"+nd.addr+path, strings.NewReader(body))
		req.SetBasicAuth("root", "pw")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, step := range []struct {
		nd         *node
		path, body string
	}{
		{nodes[0], "/create-db", `{"databaseName":"d"}`},
		{nodes[0], "/execute-sql-ddl", `{"databaseName":"d","sql":"CREATE TABLE t (id INT64 PRIMARY KEY)"}`},
		{nodes[1], "/execute-sql-non-query", `{"databaseName":"d","sql":"INSERT INTO t VALUES (42)"}`},
	} {
		if code, body := post(step.nd, step.path, step.body); code != 200 {
			t.Fatalf("%s on %s: %d %s", step.path, step.nd.addr, code, body)
		}
	}
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		code, body := post(nodes[2], "/execute-sql-query", `{"databaseName":"d","sql":"SELECT id FROM t"}`)
		if code != 200 || !strings.Contains(body, "42") {
			return fmt.Errorf("read on node 3: %d %s", code, body)
		}
		return nil
	})
}

// 10,000 wrong passwords (CAMUS_LONG=1): none succeeds, every one is
// counted in /metrics, and an authenticated client keeps being served
// meanwhile (its point-query latency is logged, not asserted).
func TestManyWrongPasswordsLong(t *testing.T) {
	if os.Getenv("CAMUS_LONG") == "" {
		t.Skip("set CAMUS_LONG=1")
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "root.pw")
	if err := os.WriteFile(pwFile, []byte("pw"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, filepath.Join(dir, "data"), "--root-password-file", pwFile)
	for _, step := range []struct{ path, body string }{
		{"/create-db", `{"databaseName":"d"}`},
		{"/execute-sql-ddl", `{"databaseName":"d","sql":"CREATE TABLE t (id INT64 PRIMARY KEY, v STRING)"}`},
		{"/execute-sql-non-query", `{"databaseName":"d","sql":"INSERT INTO t VALUES (1, 'x')"}`},
	} {
		if r := basicPost(t, n.url(), "root:pw", step.body, step.path); r.status != 200 {
			t.Fatalf("%s: %d %s", step.path, r.status, r.body)
		}
	}
	const attempts, workers = 10_000, 64
	var next, succeeded, transportErrors atomic.Int64
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > attempts {
					return
				}
				// A distinct user per attempt: the per-(host, user) back-off
				// would otherwise serialise them for hours.
				req, _ := http.NewRequest(http.MethodPost, n.url()+"/execute-sql-query", strings.NewReader(`{"sql":"SELECT 1"}`))
				req.SetBasicAuth(fmt.Sprintf("guess%d", i), "wrong")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					transportErrors.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 401 {
					succeeded.Add(1)
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	var latencies []time.Duration
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			start := time.Now()
			if r := basicPost(t, n.url(), "root:pw", `{"databaseName":"d","sql":"SELECT v FROM t WHERE id = 1"}`, "/execute-sql-query"); r.status != 200 {
				t.Fatalf("point query during the attack: %d %s", r.status, r.body)
			}
			latencies = append(latencies, time.Since(start))
		}
	}
	if succeeded.Load() != 0 || transportErrors.Load() != 0 {
		t.Fatalf("%d wrong passwords were accepted, %d requests failed", succeeded.Load(), transportErrors.Load())
	}
	slices.Sort(latencies)
	t.Logf("point queries during the attack: %d, p50 %v, p99 %v", len(latencies),
		latencies[len(latencies)/2], latencies[len(latencies)*99/100])
	resp, err := http.Get(n.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), fmt.Sprintf(`camusdb_auth_attempts_total{protocol="http",result="failure"} %d`, attempts)) {
		t.Fatalf("/metrics does not count %d failures", attempts)
	}
}
