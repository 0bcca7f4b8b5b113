package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/session"
)

// Executor is what a connection needs from the SQL layer (session.Server
// implements it). Transactions are opened and committed through Execute
// (BEGIN/COMMIT statements and Request.Txn); Rollback ends the open
// transaction of a connection that goes away.
type Executor interface {
	Execute(ctx context.Context, req session.Request) (*session.Result, error)
	Rollback(ctx context.Context, h session.TxnHandle) error
}

// Config configures a Server. Zero values take the defaults noted.
type Config struct {
	// Executor runs the statements. Required.
	Executor Executor
	// TLS, when set, answers SSLRequest with 'S' and serves TLS.
	TLS *tls.Config
	// Logger receives connection-level events (default: discarded).
	Logger *slog.Logger
	// MaxMessageBytes bounds one protocol message (default 16 MiB).
	MaxMessageBytes int
	// StartupTimeout bounds the time from accept to the end of startup
	// (default 10 s).
	StartupTimeout time.Duration
	// ServerVersion is reported as server_version (default "16.0").
	ServerVersion string
	// DefaultStatementTimeout is what SHOW statement_timeout answers on a
	// connection that did not SET it: the node default the session layer
	// applies (sql_statement_timeout_ms). 0: none.
	DefaultStatementTimeout time.Duration
	// Auth authenticates connections (auth.go); nil trusts every
	// connection as root.
	Auth Authenticator
	// RequireTLS refuses a startup message that did not come over TLS
	// (FATAL 28000 "SSL required"); it needs TLS.
	RequireTLS bool
}

// Defaults of Config.
const (
	DefaultMaxMessageBytes = 16 << 20
	DefaultStartupTimeout  = 10 * time.Second
	DefaultServerVersion   = "16.0"
)

// Server accepts PostgreSQL connections and serves each on its own
// goroutine. It is safe for concurrent use.
type Server struct {
	cfg Config

	// ctx is the parent of every statement's context; cancelled by Shutdown.
	ctx    context.Context
	cancel context.CancelFunc

	mu struct {
		sync.Mutex
		closed    bool
		listeners map[net.Listener]struct{}
		// conns maps a backend process id (BackendKeyData) to its connection.
		conns   map[uint32]*conn
		nextPID uint32
	}
	// wg counts Serve loops and connection goroutines.
	wg sync.WaitGroup

	// testingWatchRead, when set (tests only, before any connection), is
	// called by a statement's socket watcher with the bytes it holds after
	// each read (watch.go).
	testingWatchRead func(pending int)
}

// New returns a server; nothing listens until Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Executor == nil {
		return nil, errors.New("pgwire: Config.Executor is required")
	}
	if cfg.RequireTLS && cfg.TLS == nil {
		return nil, errors.New("pgwire: Config.RequireTLS needs Config.TLS")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.StartupTimeout <= 0 {
		cfg.StartupTimeout = DefaultStartupTimeout
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = DefaultServerVersion
	}
	s := &Server{cfg: cfg}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.listeners = map[net.Listener]struct{}{}
	s.mu.conns = map[uint32]*conn{}
	return s, nil
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("pgwire: server closed")

// Serve accepts connections on ln until Shutdown (then it returns
// ErrServerClosed) or until Accept fails. It closes ln.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.mu.listeners[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.mu.listeners, ln)
		s.mu.Unlock()
		_ = ln.Close()
	}()

	var tempDelay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				t := time.NewTimer(tempDelay)
				select {
				case <-t.C:
				case <-s.ctx.Done():
					t.Stop()
				}
				continue
			}
			return fmt.Errorf("pgwire: accept: %w", err)
		}
		tempDelay = 0
		if !s.goServe(nc) {
			_ = nc.Close()
			return ErrServerClosed
		}
	}
}

// goServe starts the goroutine of one connection; false once shut down.
func (s *Server) goServe(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serveConn(nc)
	}()
	return true
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.closed
}

// Shutdown stops accepting, cancels running statements, ends every
// connection (idle ones receive FATAL 57P01) and waits for their
// goroutines. When ctx ends first, the remaining sockets are closed
// forcibly and Shutdown still waits, then returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.mu.closed = true
	for ln := range s.mu.listeners {
		_ = ln.Close()
	}
	conns := make([]*conn, 0, len(s.mu.conns))
	for _, c := range s.mu.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.cancel()
	// A past read deadline wakes connections blocked reading a message;
	// they notice the shutdown and say goodbye.
	for _, c := range conns {
		_ = c.nc.SetReadDeadline(time.Now())
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for _, c := range s.mu.conns {
		_ = c.nc.Close()
	}
	s.mu.Unlock()
	<-done
	return ctx.Err()
}

// register gives c a process id and secret for cancel requests.
func (s *Server) register(c *conn) error {
	var secret [4]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return ErrServerClosed
	}
	for {
		s.mu.nextPID++
		if s.mu.nextPID == 0 {
			continue
		}
		if _, taken := s.mu.conns[s.mu.nextPID]; !taken {
			break
		}
	}
	c.pid, c.secret = s.mu.nextPID, secret
	s.mu.conns[c.pid] = c
	return nil
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.conns[c.pid] == c {
		delete(s.mu.conns, c.pid)
	}
}

// cancelRequest cancels the running statement of the connection named by
// (pid, secret); a wrong pair is ignored (the requester learns nothing).
func (s *Server) cancelRequest(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.mu.conns[pid]
	s.mu.Unlock()
	if c == nil || len(secret) != len(c.secret) || subtle.ConstantTimeCompare(secret, c.secret[:]) != 1 {
		return
	}
	c.cancelRunning()
}

// ConnCount is the number of connections past startup (for tests and
// metrics).
func (s *Server) ConnCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.conns)
}

// Connections is the number of client connections open now (after their
// startup registered them).
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.conns)
}
