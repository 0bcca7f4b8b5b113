package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/internal/pgwire"
	"github.com/camusdb/camusdb-go/internal/server/auth"
	"github.com/camusdb/camusdb-go/internal/sql/privilege"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// This file composes authentication into a node (docs/security.md):
//   - a node whose listeners are all on loopback trusts loopback clients
//     as root while root has no password (the README's first command);
//   - CheckExposure refuses a node reachable from the network without TLS
//     and a root password unless Insecure is set;
//   - root_password_file sets root's password on start while root has none.

// exposedAddrs lists the hosts this node listens on: http_host (HTTP and
// pgwire) and, in cluster mode, raft_host.
func (c Config) exposedHosts() []struct{ key, host string } {
	hosts := []struct{ key, host string }{{"http_host", c.HTTPHost}}
	if c.IsCluster() {
		hosts = append(hosts, struct{ key, host string }{"raft_host", c.RaftHost})
	}
	return hosts
}

// LoopbackOnly reports whether every listener of the node is on loopback.
func (c Config) LoopbackOnly() bool {
	for _, h := range c.exposedHosts() {
		if !auth.IsLoopbackHost(strings.Trim(h.host, "[]")) {
			return false
		}
	}
	return true
}

// CheckExposure refuses (CADB0600) a node reachable from the network
// without TLS certificates and a root password file, unless Insecure.
func (c Config) CheckExposure() error {
	if c.Insecure {
		return nil
	}
	for _, h := range c.exposedHosts() {
		if auth.IsLoopbackHost(strings.Trim(h.host, "[]")) {
			continue
		}
		var missing []string
		switch {
		case h.key == "raft_host" && c.CertsDir == "":
			// Node-to-node mutual TLS needs the cluster CA of certs_dir.
			missing = append(missing, "certs_dir (--certs-dir) for node-to-node mutual TLS")
		case c.TLSCert == "":
			missing = append(missing, "tls_cert/tls_key or certs_dir (--tls-cert/--tls-key, --certs-dir)")
		}
		if c.RootPasswordFile == "" {
			missing = append(missing, "root_password_file (--root-password-file)")
		}
		if len(missing) == 0 {
			continue
		}
		return errcode.New(errcode.InvalidConfig,
			"invalid configuration: %s: %q is not a loopback address, and a node reachable from the network needs %s; "+
				"start with --insecure to run without them (anyone who reaches the node is then root)",
			h.key, h.host, strings.Join(missing, " and "))
	}
	return nil
}

// readRootPassword reads root_password_file: its content without the
// trailing newline, which must not be empty.
func readRootPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", errcode.New(errcode.InvalidConfig, "invalid configuration: root_password_file: %v", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", errcode.New(errcode.InvalidConfig, "invalid configuration: root_password_file: %s is empty", path)
	}
	return pw, nil
}

// openAuth builds the node's authenticator (before the SQL layer, which
// invalidates its caches when users change).
func (n *Node) openAuth(db sqlDB) (*auth.Authenticator, error) {
	return auth.New(auth.Config{
		DB:            db,
		TrustLoopback: n.cfg.LoopbackOnly(),
		Insecure:      n.cfg.Insecure,
		Registerer:    n.registry,
		Logger:        n.logger.With("component", "auth"),
	})
}

// rootPasswordTimeout bounds setting the root password at start (the
// cluster must elect leaders first).
const rootPasswordTimeout = 60 * time.Second

// rootCheckTimeout bounds the read behind the start-up warning.
const rootCheckTimeout = 5 * time.Second

// setUpRoot applies root_password_file while root has no password and logs
// how the node authenticates.
func (n *Node) setUpRoot(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, rootPasswordTimeout)
	defer cancel()
	if n.cfg.RootPasswordFile != "" {
		password, err := readRootPassword(n.cfg.RootPasswordFile)
		if err != nil {
			return err
		}
		if err := n.retryTxn(ctx, func(ctx context.Context) error { return setRootPasswordIfUnset(ctx, n.core, password) }); err != nil {
			return fmt.Errorf("server: applying root_password_file: %w", err)
		}
	}
	// The warning below is best effort: a node whose cluster has no
	// quorum yet still starts.
	checkCtx, cancelCheck := context.WithTimeout(ctx, rootCheckTimeout)
	defer cancelCheck()
	var has bool
	err := n.retryTxn(checkCtx, func(ctx context.Context) (err error) {
		has, err = n.auth.RootHasPassword(ctx)
		return err
	})
	if err != nil {
		n.logger.Warn("could not read whether root has a password", "err", err)
		return nil
	}
	switch {
	case n.cfg.Insecure && !has:
		n.logger.Error("INSECURE: running with --insecure and no root password: every client that reaches this node connects as root without a password")
	case n.cfg.Insecure:
		n.logger.Warn("running with --insecure: clients authenticate, but traffic is not required to be encrypted")
	case !has:
		n.logger.Warn("root has no password: clients on loopback connect as root without one; set one with ALTER USER root PASSWORD '...' or root_password_file")
	}
	return nil
}

// retryTxn runs fn until it succeeds or ctx ends (no leader yet, conflicts).
func (n *Node) retryTxn(ctx context.Context, fn func(context.Context) error) error {
	delay := 10 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if errcode.Of(err) == errcode.InvalidConfig {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-t.C:
		}
		delay = min(2*delay, time.Second)
	}
}

func setRootPasswordIfUnset(ctx context.Context, c *core, password string) error {
	txn, err := sqlDB{c.db}.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = txn.Rollback(ctx) }()
	root, err := privilege.GetUser(ctx, txn, privilege.RootUser)
	if err != nil {
		return err
	}
	if root != nil && root.Verifier != "" {
		return nil // set before: ALTER USER root rotates it
	}
	v, err := privilege.NewVerifier(password)
	if err != nil {
		return err
	}
	if err := privilege.SetPassword(ctx, txn, privilege.RootUser, v); err != nil {
		return err
	}
	return txn.Commit(ctx)
}

// certStore holds the node's key pair for every TLS listener and dialer;
// ReloadCertificates swaps it (SIGHUP), and new handshakes use the new one.
type certStore struct {
	certFile, keyFile string
	current           atomic.Pointer[tls.Certificate]
}

func newCertStore(certFile, keyFile string) (*certStore, error) {
	s := &certStore{certFile: certFile, keyFile: keyFile}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *certStore) reload() error {
	cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
	if err != nil {
		return errcode.New(errcode.InvalidConfig, "tls_cert/tls_key: %v", err)
	}
	s.current.Store(&cert)
	return nil
}

func (s *certStore) serverCert(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.current.Load(), nil
}

func (s *certStore) clientCert(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return s.current.Load(), nil
}

// serverTLS is the TLS configuration of the HTTP and pgwire listeners; nil
// without tls_cert.
func (n *Node) serverTLS() *tls.Config {
	if n.certs == nil {
		return nil
	}
	return &tls.Config{GetCertificate: n.certs.serverCert, MinVersion: tls.VersionTLS12}
}

// ReloadCertificates re-reads tls_cert/tls_key (camusdb reloads them on
// SIGHUP); connections opened afterwards use them, open ones keep theirs.
// The cluster CA is not reloaded. A node without TLS does nothing.
func (n *Node) ReloadCertificates() error {
	if n.certs == nil {
		return nil
	}
	return n.certs.reload()
}

// nodeTLS returns the mutual-TLS configurations of node-to-node traffic:
// with certs_dir, the node presents node.crt and accepts only peers whose
// certificate the cluster CA (ca.crt) signed; without it, nil (plaintext).
func (n *Node) nodeTLS() (server, client *tls.Config, err error) {
	if n.cfg.CertsDir == "" || n.certs == nil {
		return nil, nil, nil
	}
	caPEM, err := os.ReadFile(filepath.Join(n.cfg.CertsDir, auth.CACertFile))
	if err != nil {
		return nil, nil, errcode.New(errcode.InvalidConfig, "invalid configuration: certs_dir: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, nil, errcode.New(errcode.InvalidConfig, "invalid configuration: certs_dir: %s holds no certificate", auth.CACertFile)
	}
	server = &tls.Config{GetCertificate: n.certs.serverCert, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}
	client = &tls.Config{GetClientCertificate: n.certs.clientCert, RootCAs: pool, MinVersion: tls.VersionTLS13}
	return server, client, nil
}

// pgAuth gives the authenticator the shape pgwire declares.
type pgAuth struct{ a *auth.Authenticator }

func (p pgAuth) Begin(ctx context.Context, user string, remote net.Addr) (pgwire.AuthExchange, error) {
	e, err := p.a.Begin(ctx, user, remote)
	if err != nil {
		return nil, err
	}
	return e, nil
}
