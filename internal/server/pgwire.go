package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/pgwire"
)

// pgFrontEnd is the node's PostgreSQL wire protocol listener (SPEC §4).
type pgFrontEnd struct {
	srv  *pgwire.Server
	addr string
	wg   sync.WaitGroup // the Serve loop
}

// startPGWire binds pg_port on http_host and serves pgwire; it does
// nothing when pg_port is 0. Called by Start after the SQL layer is open.
func (n *Node) startPGWire() error {
	if ln := n.prebound.pg; ln != nil {
		n.prebound.pg = nil
		if err := n.servePGWire(ln); err != nil {
			_ = ln.Close()
			return err
		}
		return nil
	}
	addr := n.cfg.PGAddr()
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: pgwire listener on %s: %w", addr, err)
	}
	if err := n.servePGWire(ln); err != nil {
		_ = ln.Close()
		return err
	}
	return nil
}

// UsePGListener makes Start serve pgwire on an already-bound listener
// (even with pg_port 0), so tests need no fixed port. Call before Start.
func (n *Node) UsePGListener(ln net.Listener) { n.prebound.pg = ln }

// servePGWire serves pgwire on ln (tests pass an ephemeral listener).
func (n *Node) servePGWire(ln net.Listener) error {
	tlsConfig := n.serverTLS() // auth.go; nil without tls_cert
	srv, err := pgwire.New(pgwire.Config{
		Executor:                n.executor(),
		TLS:                     tlsConfig,
		Logger:                  n.logger.With("component", "pgwire"),
		DefaultStatementTimeout: time.Duration(n.cfg.SQLStatementTimeoutMS) * time.Millisecond,
		Auth:                    pgAuth{n.auth},
		// With TLS configured, plaintext pgwire is refused (docs/security.md).
		RequireTLS: tlsConfig != nil,
	})
	if err != nil {
		return err
	}
	fe := &pgFrontEnd{srv: srv, addr: ln.Addr().String()}
	fe.wg.Add(1)
	go func() {
		defer fe.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, pgwire.ErrServerClosed) {
			n.logger.Error("pgwire server stopped", "err", err)
		}
	}()
	n.pgMu.Lock()
	n.pg = fe
	n.pgMu.Unlock()
	n.logger.Info("PostgreSQL wire protocol listening", "addr", fe.addr, "tls", tlsConfig != nil)
	return nil
}

// stopPGWire ends every pgwire connection (running statements are
// cancelled; ctx bounds the wait) and the listener.
func (n *Node) stopPGWire(ctx context.Context) error {
	n.pgMu.Lock()
	fe := n.pg
	n.pg = nil
	n.pgMu.Unlock()
	if fe == nil {
		return nil
	}
	err := fe.srv.Shutdown(ctx)
	fe.wg.Wait()
	return err
}

// PGAddr is the bound pgwire address; "" when pgwire is off or the node
// is not started.
func (n *Node) PGAddr() string {
	n.pgMu.Lock()
	defer n.pgMu.Unlock()
	if n.pg == nil {
		return ""
	}
	return n.pg.addr
}
