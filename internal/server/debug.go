package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startDebug serves Go's profiling endpoints on debug_addr (off when
// empty): CPU, heap, goroutine, mutex and block profiles, for `go tool
// pprof http://ADDR/debug/pprof/profile`, and /debug/raft (the Raft
// driver's state at its last tick: replica.StoreDebugState). It has no
// authentication; the docs say to bind it to loopback.
func (n *Node) startDebug() error {
	if n.cfg.DebugAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", n.cfg.DebugAddr)
	if err != nil {
		return fmt.Errorf("server: debug listener on %s: %w", n.cfg.DebugAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/raft", n.serveRaftDebug)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	n.debug.srv, n.debug.addr, n.debug.done = srv, ln.Addr().String(), make(chan struct{})
	go func() {
		defer close(n.debug.done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.logger.Error("debug server stopped", "err", err)
		}
	}()
	if host, _, _ := net.SplitHostPort(n.debug.addr); !net.ParseIP(host).IsLoopback() {
		n.logger.Warn("profiling endpoints are served without authentication on a non-loopback address", "addr", n.debug.addr)
	} else {
		n.logger.Info("profiling endpoints listening", "addr", n.debug.addr)
	}
	return nil
}

// stopDebug closes the debug listener and its connections.
func (n *Node) stopDebug() {
	if n.debug.srv == nil {
		return
	}
	_ = n.debug.srv.Close()
	<-n.debug.done
}

// DebugAddr is the bound address of the profiling endpoints ("" when off).
func (n *Node) DebugAddr() string { return n.debug.addr }

// serveRaftDebug answers /debug/raft: per partition, raft's status (each
// follower's progress when this node leads) and the driver's queues and
// lease state, as recorded at the driver's last tick.
func (n *Node) serveRaftDebug(w http.ResponseWriter, _ *http.Request) {
	st := n.core.store.DebugState()
	if st == nil {
		http.Error(w, "no tick yet", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st)
}
