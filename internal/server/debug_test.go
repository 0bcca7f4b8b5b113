package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDebugPprofEndpoints: with debug_addr set the node serves Go's
// profiles on that listener (and not on the HTTP API); without it, none.
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
