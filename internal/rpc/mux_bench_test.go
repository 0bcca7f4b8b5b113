package rpc

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
)

// BenchmarkCall measures one forwarded call's round trip between two nodes
// of one process over loopback, 16 callers at once (the benchmarks' client
// count): the transport cost a forwarded read or write pays on top of its
// work. The handler answers a 200-byte response to a 64-byte request.
func BenchmarkCall(b *testing.B) {
	resp := make([]byte, 200)
	nets, _ := callNodes(b, 2, func(_ uint64, _ context.Context, _ []byte) []byte { return resp })
	req := make([]byte, 64)
	ctx := context.Background()
	b.SetParallelism(8) // 16 callers on 2 Ps
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := nets[0].Call(ctx, 2, LaneDefault, req, false); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCallSerial is one caller's round trip: the latency a forwarded
// request adds when the nodes are otherwise idle.
func BenchmarkCallSerial(b *testing.B) {
	resp := make([]byte, 200)
	nets, _ := callNodes(b, 2, func(_ uint64, _ context.Context, _ []byte) []byte { return resp })
	req := make([]byte, 64)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := nets[0].Call(ctx, 2, LaneDefault, req, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallCrossProcess is BenchmarkCall with the callee in a process
// of its own (this test binary, re-run as TestCallServerProcess), as in a
// real cluster, where every hop between goroutines may also wake a thread
// of another process. Besides ns/op it reports the CPU each side spent
// per call (caller-cpu-ns/op, callee-cpu-ns/op; Linux only).
func BenchmarkCallCrossProcess(b *testing.B) {
	lns, peers := loopbackPeers(b, 2)
	calleeAddr := peers[1].Addr
	_ = lns[1].Close() // the child binds it
	cmd := exec.Command(os.Args[0], "-test.run=^TestCallServerProcess$")
	cmd.Env = append(os.Environ(), callServerEnv+"="+peers[0].Addr+","+calleeAddr)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = stdin.Close() // the child's signal to stop
		_ = cmd.Wait()
	}()
	nw, err := NewNetwork(Config{NodeID: 1, Peers: peers, Clock: hlc.NewClock(nil)})
	if err != nil {
		b.Fatal(err)
	}
	if err := nw.Serve(lns[0]); err != nil {
		b.Fatal(err)
	}
	defer nw.Close()
	ctx := context.Background()
	req := make([]byte, 64)
	for attempt := 0; ; attempt++ { // until the child listens
		if _, err := nw.Call(ctx, 2, LaneDefault, req, false); err == nil {
			break
		} else if attempt == 100 {
			b.Fatal(err)
		}
	}
	caller0, callee0 := processCPU(os.Getpid()), processCPU(cmd.Process.Pid)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := nw.Call(ctx, 2, LaneDefault, req, false); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	caller1, callee1 := processCPU(os.Getpid()), processCPU(cmd.Process.Pid)
	if caller0 >= 0 && callee1 >= 0 {
		b.ReportMetric(float64(caller1-caller0)/float64(b.N), "caller-cpu-ns/op")
		b.ReportMetric(float64(callee1-callee0)/float64(b.N), "callee-cpu-ns/op")
	}
}

const callServerEnv = "CAMUS_RPC_CALL_SERVER"

// TestCallServerProcess is BenchmarkCallCrossProcess's callee: it runs
// only in the child process, serves calls until its stdin closes, then
// returns.
func TestCallServerProcess(t *testing.T) {
	spec := os.Getenv(callServerEnv)
	if spec == "" {
		t.Skip("the callee of BenchmarkCallCrossProcess")
	}
	addrs := strings.Split(spec, ",")
	peers := []Peer{{ID: 1, Addr: addrs[0]}, {ID: 2, Addr: addrs[1]}}
	ln, err := net.Listen("tcp", addrs[1])
	if err != nil {
		t.Fatal(err)
	}
	nw, err := NewNetwork(Config{NodeID: 2, Peers: peers, Clock: hlc.NewClock(nil)})
	if err != nil {
		t.Fatal(err)
	}
	resp := make([]byte, 200)
	nw.HandleCalls(func(context.Context, []byte) []byte { return resp })
	if err := nw.Serve(ln); err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// processCPU is the user+system CPU time process pid used so far, in
// nanoseconds (-1 where /proc is not available).
func processCPU(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 12th and 13th, in clock ticks (USER_HZ, 100 on Linux).
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return (ut + st) * int64(10*time.Millisecond)
}
