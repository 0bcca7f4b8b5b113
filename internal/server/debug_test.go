package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// TestDebugPprofEndpoints: with debug_addr set the node serves Go's
// profiles and the Raft driver's state on that listener (and not on the
// HTTP API); without it, none.
func TestDebugPprofEndpoints(t *testing.T) {
	cfg := testConfig(t)
	cfg.DebugAddr = "127.0.0.1:0"
	n := startTestNode(t, cfg)
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get("http://" + n.DebugAddr() + "/debug/pprof/goroutine?debug=1"); status != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("goroutine profile: %d %.200s", status, body)
	}
	// The Raft driver's state, recorded at each tick (one every 100 ms).
	testutil.SucceedsSoon(t, 10*time.Second, func() error {
		status, body := get("http://" + n.DebugAddr() + "/debug/raft")
		if status != 200 || !strings.Contains(body, `"partitions":[{"partition":1,"raft":{`) || !strings.Contains(body, `"raftState":"StateLeader"`) {
			return fmt.Errorf("/debug/raft: %d %.300s", status, body)
		}
		return nil
	})
	if status, _ := get("http://" + n.HTTPAddr() + "/debug/pprof/"); status != http.StatusNotFound {
		t.Fatalf("profiles on the HTTP API: %d, want 404", status)
	}

	bad := testConfig(t)
	bad.DebugAddr = "nope"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "debug_addr") {
		t.Fatalf("bad debug_addr: %v", err)
	}
	if n2 := startTestNode(t, testConfig(t)); n2.DebugAddr() != "" {
		t.Fatal("debug endpoints on without debug_addr")
	}
}
