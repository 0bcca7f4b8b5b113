package nemesis

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ClusterOptions configure a Cluster.
type ClusterOptions struct {
	// Binary is the camusdb executable.
	Binary string
	// Dir holds the nodes' data directories.
	Dir string
	// Nodes (default 3) and Partitions (default 2).
	Nodes, Partitions int
	// ClockOffsets skews node i's clock (index from 0) through the testing
	// knob CAMUSDB_TESTING_CLOCK_OFFSET_MS.
	ClockOffsets map[int]time.Duration
	// Secure runs the cluster as it is deployed on a network: certificates
	// from `camusdb cert` (HTTPS, mutual TLS between nodes, through the
	// proxies) and a root password; clients authenticate.
	Secure bool
}

// RootPassword is root's password on a Secure cluster.
const RootPassword = "nemesis-root-pw"

// Node is one camusdb process of a Cluster.
type Node struct {
	Index   int // 0-based; the Raft node id is Index+1
	HTTP    string
	scheme  string // http or https
	raft    string
	debug   string // the profiling listener (--debug-addr): /debug/raft, goroutines
	dataDir string
	args    []string
	env     []string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	paused  bool
	stopped bool // killed on purpose
	log     []string
}

// URL is the node's HTTP base URL.
func (n *Node) URL() string { return n.scheme + "://" + n.HTTP }

// Cluster is N camusdb processes with a cuttable link between every pair.
type Cluster struct {
	opts ClusterOptions
	// TLS is the client TLS configuration of a Secure cluster (nil
	// otherwise).
	TLS     *tls.Config
	Nodes   []*Node
	proxies [][]*proxy // proxies[i][j]: node i's way to node j (nil on the diagonal)
}

var readyLine = regexp.MustCompile(`camusdb ready.*http=(\S+)`)

// reserveAddrs binds n loopback ports and returns their addresses and a
// release func that frees them (just before the processes bind them; the
// proxies are created while they are still held, so none of them can take
// one).
func reserveAddrs(n int) ([]string, func(), error) {
	addrs := make([]string, n)
	lns := make([]net.Listener, 0, n)
	release := func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			release()
			return nil, nil, err
		}
		lns = append(lns, ln)
		addrs[i] = ln.Addr().String()
	}
	return addrs, release, nil
}

// StartCluster starts the processes and waits until every one is ready.
func StartCluster(opts ClusterOptions) (*Cluster, error) {
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.Partitions == 0 {
		opts.Partitions = 2
	}
	raft, releaseRaft, err := reserveAddrs(opts.Nodes)
	if err != nil {
		return nil, err
	}
	defer releaseRaft()
	httpAddrs, releaseHTTP, err := reserveAddrs(opts.Nodes)
	if err != nil {
		return nil, err
	}
	defer releaseHTTP()
	debugAddrs, releaseDebug, err := reserveAddrs(opts.Nodes)
	if err != nil {
		return nil, err
	}
	defer releaseDebug()
	c := &Cluster{opts: opts, proxies: make([][]*proxy, opts.Nodes)}
	var secureArgs []string
	if opts.Secure {
		if secureArgs, c.TLS, err = setUpSecurity(opts); err != nil {
			return nil, err
		}
	}
	for i := range opts.Nodes {
		c.proxies[i] = make([]*proxy, opts.Nodes)
		for j := range opts.Nodes {
			if i == j {
				continue
			}
			if c.proxies[i][j], err = newProxy(raft[j]); err != nil {
				c.Close()
				return nil, err
			}
		}
	}
	for i := range opts.Nodes {
		peers := make([]string, opts.Nodes)
		for j := range peers {
			if i == j {
				peers[j] = raft[i]
			} else {
				peers[j] = c.proxies[i][j].addr()
			}
		}
		_, raftPort, _ := net.SplitHostPort(raft[i])
		_, httpPort, _ := net.SplitHostPort(httpAddrs[i])
		n := &Node{Index: i, HTTP: httpAddrs[i], raft: raft[i], debug: debugAddrs[i], dataDir: fmt.Sprintf("%s/n%d", opts.Dir, i+1), scheme: "http"}
		if opts.Secure {
			n.scheme = "https"
		}
		n.args = []string{"start", "--data-dir", n.dataDir,
			"--raft-host", "127.0.0.1", "--raft-port", raftPort, "--raft-nodename", fmt.Sprintf("n%d", i+1),
			"--http-host", "127.0.0.1", "--http-port", httpPort, "--pg-port", "0",
			"--initial-cluster", strings.Join(peers, ","), "--http-peers", strings.Join(httpAddrs, ","),
			"--initial-cluster-partitions", strconv.Itoa(opts.Partitions),
			"--debug-addr", debugAddrs[i]}
		n.args = append(n.args, secureArgs...)
		if off, ok := opts.ClockOffsets[i]; ok && off != 0 {
			n.args = append(n.args, "--testing")
			n.env = []string{fmt.Sprintf("CAMUSDB_TESTING_CLOCK_OFFSET_MS=%d", off.Milliseconds())}
		}
		c.Nodes = append(c.Nodes, n)
	}
	releaseRaft()
	releaseHTTP()
	releaseDebug()
	errs := make(chan error, len(c.Nodes))
	for _, n := range c.Nodes {
		go func() { errs <- c.start(n) }()
	}
	for range c.Nodes {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// setUpSecurity makes the cluster's certificates with the binary's own
// `camusdb cert` and root's password file, and returns the node flags and
// the clients' TLS configuration.
func setUpSecurity(opts ClusterOptions) ([]string, *tls.Config, error) {
	certs := filepath.Join(opts.Dir, "certs")
	for _, args := range [][]string{{"create-ca"}, {"create-node", "127.0.0.1", "localhost"}} {
		out, err := exec.Command(opts.Binary, append([]string{"cert", "--certs-dir", certs}, args...)...).CombinedOutput()
		if err != nil {
			return nil, nil, fmt.Errorf("camusdb cert %v: %w\n%s", args, err, out)
		}
	}
	pw := filepath.Join(opts.Dir, "root.pw")
	if err := os.WriteFile(pw, []byte(RootPassword), 0o600); err != nil {
		return nil, nil, err
	}
	ca, err := os.ReadFile(filepath.Join(certs, "ca.crt"))
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, nil, errors.New("nemesis: no certificate in ca.crt")
	}
	return []string{"--certs-dir", certs, "--root-password-file", pw}, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// HTTPClient is a plain HTTP client for the cluster's endpoints (TLS on a
// Secure cluster); use Authorize on its requests.
func (c *Cluster) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: c.TLS}}
}

// Get fetches path from node n, as root on a Secure cluster.
func (c *Cluster) Get(hc *http.Client, n *Node, path string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, n.URL()+path, nil)
	if err != nil {
		return nil, err
	}
	if c.opts.Secure {
		req.SetBasicAuth("root", RootPassword)
	}
	return hc.Do(req)
}

// start launches n's process and waits until it logs that it is ready.
func (c *Cluster) start(n *Node) error {
	cmd := exec.Command(c.opts.Binary, n.args...)
	cmd.Env = append(os.Environ(), n.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	ready := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.exited, n.paused, n.stopped = cmd, exited, false, false
	n.mu.Unlock()
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			n.mu.Lock()
			n.log = append(n.log, line)
			if len(n.log) > 400 {
				n.log = n.log[len(n.log)-200:]
			}
			n.mu.Unlock()
			if readyLine.MatchString(line) {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() { <-scanned; _ = cmd.Wait(); close(exited) }()
	select {
	case <-ready:
		return nil
	case <-exited:
		return fmt.Errorf("node %d exited before it was ready:\n%s", n.Index+1, n.Logs())
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("node %d not ready within 90s:\n%s", n.Index+1, n.Logs())
	}
}

// Logs returns the node's recent log lines.
func (n *Node) Logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.log, "\n")
}

// Diagnose describes every node for a failed run: its /cluster/status
// answer (or why there was none), the Raft driver's state at its last
// tick (/debug/raft: each partition's raft status with the followers'
// progress, the proposal queue, the lease command in flight), its
// goroutines, and its last log lines.
func (c *Cluster) Diagnose(ctx context.Context) string {
	hc := c.HTTPClient(5 * time.Second)
	defer hc.CloseIdleConnections()
	var b strings.Builder
	for _, n := range c.Nodes {
		fmt.Fprintf(&b, "---- n%d /cluster/status: ", n.Index+1)
		if resp, err := c.Get(hc, n, "/cluster/status"); err != nil {
			fmt.Fprintf(&b, "%v\n", err)
		} else {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
			_ = resp.Body.Close()
			fmt.Fprintf(&b, "%s\n", bytes.TrimSpace(body))
		}
		for _, path := range []string{"/debug/raft", "/debug/pprof/goroutine?debug=1"} {
			fmt.Fprintf(&b, "---- n%d %s: ", n.Index+1, path)
			resp, err := hc.Get("http://" + n.debug + path)
			if err != nil {
				fmt.Fprintf(&b, "%v\n", err)
				continue
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 24<<10))
			_ = resp.Body.Close()
			fmt.Fprintf(&b, "%s\n", bytes.TrimSpace(body))
		}
		lines := strings.Split(n.Logs(), "\n")
		if len(lines) > 60 {
			lines = lines[len(lines)-60:]
		}
		fmt.Fprintf(&b, "---- n%d log (last %d lines):\n%s\n", n.Index+1, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// Kill sends SIGKILL and waits for the process to be gone.
func (c *Cluster) Kill(i int) {
	n := c.Nodes[i]
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.stopped = true
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// Restart starts a killed node again on its data directory.
func (c *Cluster) Restart(i int) error { return c.start(c.Nodes[i]) }

// Pause stops the process (SIGSTOP); Resume continues it.
func (c *Cluster) Pause(i int) { c.signal(i, syscall.SIGSTOP, true) }

// Resume continues a paused process (SIGCONT).
func (c *Cluster) Resume(i int) { c.signal(i, syscall.SIGCONT, false) }

func (c *Cluster) signal(i int, sig syscall.Signal, paused bool) {
	n := c.Nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		_ = n.cmd.Process.Signal(sig)
		n.paused = paused
	}
}

// Isolate cuts (or restores) every link between node i and the others.
func (c *Cluster) Isolate(i int, cut bool) {
	for j := range c.Nodes {
		if j != i {
			c.proxies[i][j].setCut(cut)
			c.proxies[j][i].setCut(cut)
		}
	}
}

// Cut cuts (or restores) the link from node i to node j only: what i
// sends to j (requests and Raft messages on i's connections) is lost;
// j's connections to i are untouched.
func (c *Cluster) Cut(i, j int, cut bool) { c.proxies[i][j].setCut(cut) }

// Heal restores every link and resumes every paused node.
func (c *Cluster) Heal() {
	for i := range c.Nodes {
		c.Isolate(i, false)
		c.Resume(i)
	}
}

// Crashed reports nodes that exited without being killed by the suite.
func (c *Cluster) Crashed() error {
	var errs []error
	for _, n := range c.Nodes {
		n.mu.Lock()
		exited, stopped := n.exited, n.stopped
		n.mu.Unlock()
		if exited == nil || stopped {
			continue
		}
		select {
		case <-exited:
			errs = append(errs, fmt.Errorf("node %d exited on its own:\n%s", n.Index+1, n.Logs()))
		default:
		}
	}
	return errors.Join(errs...)
}

// Close kills every process and closes the proxies.
func (c *Cluster) Close() {
	for i, n := range c.Nodes {
		c.Resume(i)
		n.mu.Lock()
		cmd := n.cmd
		n.mu.Unlock()
		if cmd != nil {
			c.Kill(i)
		}
	}
	for _, row := range c.proxies {
		for _, p := range row {
			if p != nil {
				p.close()
			}
		}
	}
}
