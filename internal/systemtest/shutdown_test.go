package systemtest

import (
	"bufio"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMWhileWaitingForPeers: a cluster node whose peers are all down
// waits for a quorum at start-up; SIGTERM then stops it cleanly (exit 0)
// instead of being ignored until the start-up wait times out (SPEC §1.1).
func TestSIGTERMWhileWaitingForPeers(t *testing.T) {
	raft, httpAddrs := freePorts(t, 3), freePorts(t, 3)
	_, raftPort, _ := net.SplitHostPort(raft[0])
	_, httpPort, _ := net.SplitHostPort(httpAddrs[0])
	cmd := exec.Command(filepath.Join(binDir, "camusdb"), "start",
		"--data-dir", t.TempDir(), "--raft-host", "127.0.0.1", "--raft-port", raftPort,
		"--http-host", "127.0.0.1", "--http-port", httpPort, "--pg-port", "0",
		"--initial-cluster", strings.Join(raft, ","), "--http-peers", strings.Join(httpAddrs, ","))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// Wait until the node is up and waiting for its peers.
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "node-to-node listener") {
				once = true
				close(listening)
			}
		}
	}()
	select {
	case <-listening:
	case <-time.After(30 * time.Second):
		t.Fatal("node never started its node-to-node listener")
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("SIGTERM while waiting for peers: %v (want exit 0)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("node ignored SIGTERM while waiting for its peers")
	}
}
