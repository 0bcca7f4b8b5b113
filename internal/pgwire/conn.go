package pgwire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// conn is one client connection. Everything but mu is owned by the
// connection's goroutine.
type conn struct {
	srv *Server
	nc  net.Conn
	rd  *connReader // what be reads: nc, watched during statements (watch.go)
	be  *pgproto3.Backend

	pid    uint32
	secret [4]byte

	user string
	// sessionUser is the authenticated user statements run as ("" when
	// the server has no Authenticator: root).
	sessionUser string
	// userCtx is the server's context carrying sessionUser, and addr the
	// client's address (SHOW QUERIES): made once, used by every statement.
	userCtx  context.Context
	addr     string
	database string
	// settings are the session's run-time parameters (SET, SHOW,
	// current_setting()); set at startup.
	settings *session.Settings
	// timeout is the connection's statement_timeout (timeout.go).
	timeout sessionTimeout

	// txn is the open explicit transaction; txnFailed marks a transaction
	// block in which a statement failed (PostgreSQL's 'E' state).
	txn       *session.TxnHandle
	txnFailed bool

	stmts   map[string]*prepared
	portals map[string]*portal
	// sparePortal is a dropped portal kept for the next Bind (extended.go).
	sparePortal *portal
	// skipToSync is set by an error in the extended protocol: messages are
	// discarded until Sync.
	skipToSync bool

	// stmtCtx is the context statements run under: a CancelRequest or
	// the client going away cancels it, only while a statement runs
	// (mu.running). It is made again only after it was cancelled: one per
	// statement cost several allocations on every point query. The
	// session runs the statement under it directly and cancels it (CANCEL
	// QUERY) through stmtCancel, which it calls only while the statement
	// runs.
	stmtCtx    context.Context
	stmtCancel context.CancelCauseFunc
	// clientGone cancels stmtCtx because the client went away.
	clientGone func()
	// watch cancels a statement whose client closed the socket (watch.go).
	watch delayedWatch
	// msgs are the messages sent for every statement, reused (Send encodes
	// a message at once; a new one each time was an allocation).
	msgs struct {
		ready    pgproto3.ReadyForQuery
		complete pgproto3.CommandComplete
		tag      []byte
		row      pgproto3.DataRow
	}
	// rows are sendRows' buffers.
	rows struct {
		kinds   []types.Kind
		values  [][]byte
		offsets []int
		buf     []byte
	}

	mu struct {
		sync.Mutex
		// running is set while a statement runs: cancel then applies.
		running bool
		// cancel cancels stmtCtx.
		cancel context.CancelCauseFunc
	}
}

// errTerminate ends a connection normally (Terminate, EOF).
var errTerminate = errors.New("pgwire: connection terminated")

// serveConn runs one connection to its end. A panic ends only this
// connection.
func (s *Server) serveConn(nc net.Conn) {
	c := &conn{srv: s, nc: nc}
	defer func() {
		if r := recover(); r != nil {
			s.cfg.Logger.Error("pgwire: connection panicked", "remote", nc.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
		}
		c.close()
	}()
	if err := c.run(); err != nil && !errors.Is(err, errTerminate) {
		s.cfg.Logger.Debug("pgwire: connection ended", "remote", nc.RemoteAddr().String(), "err", err)
	}
}

// run performs startup and then serves messages until the connection
// ends; it returns why.
func (c *conn) run() error {
	_ = c.nc.SetDeadline(time.Now().Add(c.srv.cfg.StartupTimeout))
	ok, err := c.startup()
	if err != nil || !ok {
		return err
	}
	_ = c.nc.SetDeadline(time.Time{})
	if c.srv.isClosed() {
		// Shutdown may have set its wake-up deadline before we cleared ours.
		return c.shutdownGoodbye()
	}
	return c.serve()
}

// close rolls back the open transaction and releases the socket.
func (c *conn) close() {
	if c.pid != 0 {
		c.srv.unregister(c)
	}
	if c.txn != nil {
		ctx, cancel := context.WithTimeout(session.WithUser(context.Background(), c.sessionUser), 5*time.Second)
		_ = c.srv.cfg.Executor.Rollback(ctx, *c.txn)
		cancel()
		c.txn = nil
	}
	c.watch.close()
	c.mu.Lock()
	if c.mu.cancel != nil {
		c.mu.cancel(nil)
	}
	c.mu.Unlock()
	_ = c.nc.Close()
}

// startup handles SSL/GSS negotiation, cancel requests and the startup
// message. ok=false means the connection is done without error (a cancel
// request was served).
func (c *conn) startup() (ok bool, err error) {
	c.rd = newConnReader(c.nc, c.srv.testingWatchRead)
	c.be = pgproto3.NewBackend(c.rd, c.nc)
	c.be.SetMaxBodyLen(c.srv.cfg.MaxMessageBytes)
	negotiated := false
	for {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return false, errTerminate
			}
			c.sendFatal("08P01", errcode.New(errcode.InvalidInput, "invalid startup packet: %v", err))
			return false, err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if negotiated {
				return false, errors.New("pgwire: repeated encryption request")
			}
			negotiated = true
			if c.srv.cfg.TLS == nil {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return false, err
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return false, err
			}
			tc := tls.Server(c.nc, c.srv.cfg.TLS)
			if err := tc.Handshake(); err != nil {
				return false, fmt.Errorf("pgwire: TLS handshake: %w", err)
			}
			c.nc = tc
			c.rd = newConnReader(c.nc, c.srv.testingWatchRead)
			c.be = pgproto3.NewBackend(c.rd, c.nc)
			c.be.SetMaxBodyLen(c.srv.cfg.MaxMessageBytes)
		case *pgproto3.GSSEncRequest:
			if negotiated {
				return false, errors.New("pgwire: repeated encryption request")
			}
			negotiated = true
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false, err
			}
		case *pgproto3.CancelRequest:
			c.srv.cancelRequest(m.ProcessID, m.SecretKey)
			return false, nil
		case *pgproto3.StartupMessage:
			if _, secure := c.nc.(*tls.Conn); c.srv.cfg.RequireTLS && !secure {
				c.sendFatal("28000", errcode.New(errcode.AuthFailed, "SSL required: this server accepts only TLS connections (sslmode=require or stronger)"))
				return false, errors.New("pgwire: startup without TLS refused")
			}
			return c.startupMessage(m)
		default:
			return false, fmt.Errorf("pgwire: unexpected startup message %T", msg)
		}
	}
}

func (c *conn) startupMessage(m *pgproto3.StartupMessage) (bool, error) {
	if m.ProtocolVersion != pgproto3.ProtocolVersion30 {
		// We speak 3.0 only; tell a 3.2 client so (it then continues in 3.0).
		c.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0})
	}
	c.user = m.Parameters["user"]
	c.database = m.Parameters["database"]
	if c.database == "" {
		c.database = c.user
	}
	startup := map[string]string{}
	for k, v := range m.Parameters {
		switch k {
		case "user", "database", "options", "replication":
		default:
			startup[k] = v
		}
	}
	authCtx, cancelAuth := context.WithTimeout(c.srv.ctx, c.srv.cfg.StartupTimeout)
	sessionUser, err := c.authenticate(authCtx, c.user)
	cancelAuth()
	if err != nil {
		return false, err
	}
	c.sessionUser = sessionUser
	c.userCtx = session.WithUser(c.srv.ctx, sessionUser)
	c.addr = c.nc.RemoteAddr().String()
	if sessionUser != "" {
		c.user = sessionUser
	}
	settings, err := session.NewSettings(session.SettingsConfig{ServerVersion: c.srv.cfg.ServerVersion, User: c.user, Startup: startup})
	if err != nil {
		c.sendFatal("", err)
		return false, err
	}
	c.settings = settings
	if err := c.startupTimeout(m.Parameters); err != nil {
		c.sendFatal("22023", err)
		return false, err
	}
	if c.database != "" {
		ctx, cancel := context.WithTimeout(session.WithUser(c.srv.ctx, c.sessionUser), c.srv.cfg.StartupTimeout)
		res, err := c.srv.cfg.Executor.Execute(ctx, session.Request{SQL: "USE " + quoteIdent(c.database)})
		if errcode.Of(err) == errcode.UnknownDatabase && c.database == MaintenanceDatabase {
			res, err = c.createMaintenanceDatabase(ctx)
		}
		cancel()
		if err != nil {
			c.sendFatal("", err)
			return false, err
		}
		c.database = res.Database
	}
	if err := c.srv.register(c); err != nil {
		c.sendFatal("57P01", errcode.New(errcode.MustRetry, "the server is shutting down"))
		return false, err
	}
	c.be.Send(&pgproto3.AuthenticationOk{})
	for _, st := range c.settings.Reported() {
		c.be.Send(&pgproto3.ParameterStatus{Name: st.Name, Value: st.Value})
	}
	c.be.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret[:]})
	c.sendReady()
	return true, c.be.Flush()
}

// parseOptions is the lexical dialect of this session's SQL text.
func (c *conn) parseOptions() parser.Options {
	return parser.Options{StandardStrings: c.settings.StandardStrings()}
}

// quoteIdent writes name as a backtick identifier of our dialect.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// serve reads and dispatches messages until the connection ends.
func (c *conn) serve() error {
	for {
		msg, err := c.be.Receive()
		if err != nil {
			if c.srv.isClosed() {
				return c.shutdownGoodbye()
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
				return errTerminate
			}
			var ne net.Error
			if !errors.As(err, &ne) {
				// A malformed message: say why before hanging up.
				c.sendFatal("08P01", errcode.New(errcode.InvalidInput, "invalid message: %v", err))
			}
			return err
		}
		if err := c.dispatch(msg); err != nil {
			return err
		}
	}
}

// shutdownGoodbye tells the client the server is going away.
func (c *conn) shutdownGoodbye() error {
	c.sendFatal("57P01", errcode.New(errcode.MustRetry, "terminating connection because the server is shutting down"))
	return ErrServerClosed
}

func (c *conn) dispatch(msg pgproto3.FrontendMessage) error {
	if c.skipToSync {
		switch msg.(type) {
		case *pgproto3.Sync:
			c.skipToSync = false
		case *pgproto3.Terminate:
			return errTerminate
		default:
			return nil
		}
	}
	switch m := msg.(type) {
	case *pgproto3.Query:
		c.simpleQuery(m.String)
		c.sendReady()
		return c.be.Flush()
	case *pgproto3.Parse:
		c.extended(c.parse(m))
	case *pgproto3.Bind:
		c.extended(c.bind(m))
	case *pgproto3.Describe:
		c.extended(c.describe(m))
	case *pgproto3.Execute:
		c.extended(c.executePortal(m))
	case *pgproto3.Close:
		c.closeObject(m)
	case *pgproto3.Sync:
		c.sync()
		return c.be.Flush()
	case *pgproto3.Flush:
		return c.be.Flush()
	case *pgproto3.Terminate:
		return errTerminate
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// The rest of a COPY's input after it failed: dropped, as
		// PostgreSQL does.
	default:
		err := errcode.New(errcode.Unsupported, "message %T is not supported", msg)
		c.sendFatal("0A000", err)
		return err
	}
	return nil
}

// extended reports err of an extended-protocol message and starts
// skipping to Sync.
func (c *conn) extended(err error) {
	if err == nil {
		return
	}
	c.sendError(err)
	c.skipToSync = true
}

// sync ends an extended-protocol exchange: outside a transaction block its
// portals are gone (PostgreSQL drops them at the end of the implicit
// transaction).
func (c *conn) sync() {
	if c.txn == nil {
		c.dropPortals()
	}
	c.sendReady()
}

func (c *conn) sendReady() {
	status := byte('I')
	switch {
	case c.txnFailed:
		status = 'E'
	case c.txn != nil:
		status = 'T'
	}
	c.msgs.ready = pgproto3.ReadyForQuery{TxStatus: status}
	c.be.Send(&c.msgs.ready)
}

// sendCommandComplete sends CommandComplete with tag.
func (c *conn) sendCommandComplete(tag string) {
	c.msgs.tag = append(c.msgs.tag[:0], tag...)
	c.msgs.complete = pgproto3.CommandComplete{CommandTag: c.msgs.tag}
	c.be.Send(&c.msgs.complete)
}

// selectTag is the command tag of a SELECT that returned n rows.
func selectTag(n int) string {
	switch n {
	case 0:
		return "SELECT 0"
	case 1:
		return "SELECT 1"
	}
	return "SELECT " + strconv.Itoa(n)
}

// simpleQuery runs the statements of one Query message in order and
// stops at the first error. Several reads and writes outside a transaction
// block run as one implicit transaction, as in PostgreSQL: an error undoes
// the statements before it (see implicitTxnFits for which messages).
func (c *conn) simpleQuery(text string) {
	stmts := parser.SplitStatementsWith(text, c.parseOptions())
	if len(stmts) == 0 {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return
	}
	if c.txn == nil && implicitTxnFits(stmts) {
		c.implicitTxnQuery(stmts)
		return
	}
	c.runStatements(stmts)
}

// implicitTxnFits reports whether a Query message runs as one implicit
// transaction: several statements that all read or write rows. Messages
// with transaction control, DDL or other statements keep running each
// statement on its own.
func implicitTxnFits(stmts []string) bool {
	if len(stmts) < 2 {
		return false
	}
	for _, sql := range stmts {
		kw := leadingKeywords(sql, 1)
		if len(kw) == 0 {
			return false
		}
		switch kw[0] {
		case "select", "insert", "update", "delete", "with", "values":
		default:
			return false
		}
	}
	return true
}

// implicitTxnQuery runs stmts in one transaction that commits after the
// last one and rolls back at the first error.
func (c *conn) implicitTxnQuery(stmts []string) {
	begun, err := c.execute("BEGIN", nil)
	if err != nil {
		c.sendError(err)
		return
	}
	c.txn = begun.Txn
	if !c.runStatements(stmts) {
		// The statement's error was sent; the rollback only frees locks.
		h := *c.txn
		c.endTxn()
		ctx, cancel := context.WithTimeout(session.WithUser(c.srv.ctx, c.sessionUser), 10*time.Second)
		defer cancel()
		_ = c.srv.cfg.Executor.Rollback(ctx, h)
		return
	}
	_, err = c.execute("COMMIT", nil)
	c.endTxn()
	if err != nil {
		c.sendError(err)
	}
}

// runStatements runs stmts in order, answering each, and stops at the
// first error (sent); it reports whether all succeeded.
func (c *conn) runStatements(stmts []string) bool {
	for _, sql := range stmts {
		out, err := c.runStatement(sql, nil, nil)
		if err != nil {
			c.sendError(err)
			return false
		}
		if out.rows != nil {
			c.be.Send(c.rowDescription(out.rows.Columns, nil))
			if err := c.sendRows(out.rows, nil, 0, len(out.rows.Rows)); err != nil {
				c.sendError(err)
				return false
			}
		}
		c.sendCommandComplete(out.tag)
	}
	return true
}

// outcome is what one statement produced on this connection.
type outcome struct {
	tag  string
	rows *session.Result // non-nil for statements that return rows
}

// runStatement runs one statement (SQL text without ';') with its
// parameters, keeping the connection's transaction state. kw are its
// first three keywords (leadingKeywords) when the caller has them.
func (c *conn) runStatement(sql string, params *paramSet, kw []string) (outcome, error) {
	if kw == nil {
		kw = leadingKeywords(sql, 3)
	}
	first := ""
	if len(kw) > 0 {
		first = kw[0]
	}
	txnControl := classifyTxnControl(kw)

	if c.txnFailed {
		switch txnControl {
		case txnCommit, txnRollback:
			// The session may still hold the transaction (a statement
			// error leaves it usable there): PostgreSQL ends it here.
			ctx, cancel := context.WithTimeout(session.WithUser(c.srv.ctx, c.sessionUser), 10*time.Second)
			err := c.srv.cfg.Executor.Rollback(ctx, *c.txn)
			cancel()
			c.endTxn()
			if err != nil && errcode.Of(err) != errcode.TxnClosed {
				return outcome{}, err
			}
			return outcome{tag: "ROLLBACK"}, nil
		}
		return outcome{}, &wireError{state: "25P02", err: errcode.New(errcode.TxnClosed,
			"current transaction is aborted, commands ignored until end of transaction block")}
	}
	switch {
	case txnControl == txnBegin && c.txn != nil:
		c.sendNotice("25001", "there is already a transaction in progress")
		return outcome{tag: "BEGIN"}, nil
	case txnControl == txnCommit && c.txn == nil:
		c.sendNotice("25P01", "there is no transaction in progress")
		return outcome{tag: "COMMIT"}, nil
	case txnControl == txnRollback && c.txn == nil:
		c.sendNotice("25P01", "there is no transaction in progress")
		return outcome{tag: "ROLLBACK"}, nil
	}

	if out, handled, err := c.interceptTimeout(sql, kw); handled {
		return out, err
	}
	if res, tag, handled := c.intercept(sql, kw); handled {
		return outcome{tag: tag, rows: res}, nil
	}

	if first == "copy" {
		if st, ok, err := session.ParseCopy(sql, c.settings.StandardStrings()); ok || err != nil {
			var out outcome
			if err == nil {
				out, err = c.runCopy(sql, st) // copy.go
			}
			if err != nil && c.txn != nil {
				c.txnFailed = true
			}
			return out, err
		}
	}
	hadProtocolStmt := first == "deallocate" && c.deallocateProtocol(kw)
	res, err := c.execute(sql, params)
	if err != nil && hadProtocolStmt && errcode.Of(err) == errcode.InvalidInput {
		res, err = &session.Result{Kind: session.ResultDDL}, nil // not a SQL PREPARE: done
	}
	if err == nil && first == "discard" && len(kw) > 1 && kw[1] == "all" {
		clear(c.stmts)
		c.dropPortals()
	}
	c.sendSettingChanges(res)
	if err != nil {
		if c.txn != nil {
			switch txnControl {
			case txnCommit:
				// The session forgets the transaction whatever the outcome.
				c.endTxn()
			case txnRollback:
				c.endTxn()
				if errcode.Of(err) == errcode.TxnClosed {
					// Already gone (idle timeout, aborted): nothing to undo.
					return outcome{tag: "ROLLBACK"}, nil
				}
			default:
				c.txnFailed = true
			}
		}
		return outcome{}, err
	}
	if res.Database != "" {
		c.database = res.Database
	}
	if res.Verb != "" { // EXECUTE of a prepared statement: its tag
		first = strings.ToLower(res.Verb)
	}
	switch res.Kind {
	case session.ResultBegin:
		c.txn = res.Txn
		c.settings.BeginTxn()
		return outcome{tag: "BEGIN"}, nil
	case session.ResultCommit:
		c.settings.EndTxn(true)
		c.endTxn()
		return outcome{tag: "COMMIT"}, nil
	case session.ResultRollback:
		c.endTxn()
		return outcome{tag: "ROLLBACK"}, nil
	case session.ResultRows:
		switch first {
		case "insert", "update", "delete": // ... RETURNING
			return outcome{tag: affectedTag(first, int64(len(res.Rows))), rows: res}, nil
		}
		return outcome{tag: selectTag(len(res.Rows)), rows: res}, nil
	case session.ResultAffected:
		return outcome{tag: affectedTag(first, res.RowsAffected)}, nil
	}
	return outcome{tag: ddlTag(kw)}, nil
}

// endTxn leaves the transaction block; its portals go with it.
func (c *conn) endTxn() {
	c.settings.EndTxn(false) // a no-op after EndTxn(true)
	c.sendSettingChanges(nil)
	c.txn = nil
	c.txnFailed = false
	c.dropPortals()
}

// execute sends one statement to the executor with a cancellable context;
// parameters inferred from text are retried as STRING on CADB0400 (see
// the package doc).
func (c *conn) execute(sql string, params *paramSet) (*session.Result, error) {
	return c.executeWith(sql, params, nil)
}

// executeWith is execute with a change to the request (COPY's input).
func (c *conn) executeWith(sql string, params *paramSet, change func(*session.Request)) (*session.Result, error) {
	if c.userCtx == nil { // not through startup (tests)
		c.userCtx, c.addr = session.WithUser(c.srv.ctx, c.sessionUser), c.nc.RemoteAddr().String()
	}
	ctx := c.beginStatement()
	defer c.endStatement()

	req := session.Request{Database: c.database, SQL: sql, Txn: c.txn, StandardStrings: c.settings.StandardStrings(), Settings: c.settings,
		Client: session.ClientInfo{User: c.user, Addr: c.addr, Protocol: "pgwire"}}
	req.Timeout, req.TimeoutSetting = c.requestTimeout()
	// ctx serves this statement alone until it is cancelled (then
	// beginStatement makes the next one a new one): CANCEL QUERY may
	// cancel it directly.
	req.Cancel = c.stmtCancel
	if params != nil {
		req.Params = params.values
	}
	if change != nil {
		// A copy, so that req stays on the stack when there is no change.
		changed := req
		change(&changed)
		req = changed
	}
	// A client that disconnects meanwhile cancels the statement. COPY FROM
	// STDIN reads the socket itself (its CopyData): a disconnect surfaces
	// there as a read error, and a watcher would steal its messages.
	if req.CopyIn == nil {
		c.watch.r = c.rd
		c.watch.start(watchDelay, c.clientGone)
		defer func() {
			c.watch.end()
			if c.srv.isClosed() {
				// Shutdown's wake-up deadline may have been cleared by the
				// watcher's stop.
				_ = c.nc.SetReadDeadline(time.Now())
			}
		}()
	}
	res, err := c.srv.cfg.Executor.Execute(ctx, req)
	if err != nil && params != nil && params.inferred && errcode.Of(err) == errcode.InvalidInput && ctx.Err() == nil {
		req.Params = params.asStrings()
		if res2, err2 := c.srv.cfg.Executor.Execute(ctx, req); err2 == nil {
			return res2, nil
		}
	}
	if err != nil && ctx.Err() != nil {
		// Why the statement's context ended: a CancelRequest (coded
		// cause, 57014) or the server shutting down.
		var coded *errcode.Error
		if errors.As(context.Cause(ctx), &coded) && errcode.Of(err) != errcode.Ambiguous {
			return nil, coded
		}
		if c.srv.isClosed() {
			return nil, &wireError{state: "57P01", err: errcode.Wrap(errcode.MustRetry, errors.New("terminating statement because the server is shutting down"))}
		}
	}
	return res, err
}

// beginStatement returns the context of the statement about to run and
// makes it cancellable (cancelRunning); endStatement must follow.
func (c *conn) beginStatement() context.Context {
	if c.stmtCtx == nil || c.stmtCtx.Err() != nil {
		ctx, cancel := context.WithCancelCause(c.userCtx)
		c.stmtCtx, c.stmtCancel = ctx, cancel
		c.clientGone = func() { cancel(errClientGone) }
		c.mu.Lock()
		if c.mu.cancel != nil {
			c.mu.cancel(nil) // the cancelled one: detach it from userCtx
		}
		c.mu.cancel = cancel
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.mu.running = true
	c.mu.Unlock()
	return c.stmtCtx
}

// endStatement ends what beginStatement began: a cancel arriving from now
// on finds nothing to cancel.
func (c *conn) endStatement() {
	c.mu.Lock()
	c.mu.running = false
	c.mu.Unlock()
}

// cancelRunning cancels the statement the connection is running, if any
// (called from another connection's goroutine).
func (c *conn) cancelRunning() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.running {
		c.mu.cancel(errcode.New(errcode.QueryCancelled, "canceling statement due to user request (CancelRequest)"))
	}
}

// wireError overrides the SQLSTATE derived from the CADB code for the
// few protocol-level conditions PostgreSQL clients know by state.
type wireError struct {
	state string
	err   *errcode.Error
}

func (e *wireError) Error() string { return e.err.Error() }
func (e *wireError) Unwrap() error { return e.err }

// errorFields returns SQLSTATE and message of err. The message starts with
// the CADB code.
func errorFields(err error) (state, message string) {
	var we *wireError
	if errors.As(err, &we) {
		return we.state, we.err.Error()
	}
	var coded *errcode.Error
	if errors.As(err, &coded) {
		return errcode.SQLState(coded.Code), coded.Error()
	}
	return errcode.SQLState(errcode.Internal), errcode.Wrap(errcode.Internal, err).Error()
}

func (c *conn) sendError(err error) {
	state, msg := errorFields(err)
	c.be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: state, Message: msg})
}

// sendFatal sends a FATAL error (state "" derives it from err) and flushes
// with a short deadline: the connection ends right after.
func (c *conn) sendFatal(state string, err error) {
	derived, msg := errorFields(err)
	if state == "" {
		state = derived
	}
	c.be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: state, Message: msg})
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if err := c.be.Flush(); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		c.srv.cfg.Logger.Debug("pgwire: sending fatal error", "err", err)
	}
}

// sendSettingChanges sends the notices of a statement (res may be nil)
// and a ParameterStatus for every reported setting that changed, as
// PostgreSQL does after SET, RESET and a rollback that undid a SET.
func (c *conn) sendSettingChanges(res *session.Result) {
	if res != nil {
		for _, n := range res.Notices {
			c.be.Send(&pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE", Code: "00000", Message: n})
		}
	}
	for _, st := range c.settings.TakeReports() {
		c.be.Send(&pgproto3.ParameterStatus{Name: st.Name, Value: st.Value})
	}
}

func (c *conn) sendNotice(state, msg string) {
	c.be.Send(&pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: state, Message: msg})
}

// sendRows sends rows[from:to] of res as DataRows in the given formats
// (nil: all text).
func (c *conn) sendRows(res *session.Result, formats []int16, from, to int) error {
	// The buffers are the connection's, reused by every statement: Send
	// copies the values into its own buffer.
	kinds := c.rows.kinds[:0]
	for _, col := range res.Columns {
		kinds = append(kinds, col.Type)
	}
	c.rows.kinds = kinds
	values := slices.Grow(c.rows.values[:0], len(kinds))[:len(kinds)]
	c.rows.values = values
	offsets := slices.Grow(c.rows.offsets[:0], len(kinds)+1)[:len(kinds)+1]
	c.rows.offsets = offsets
	floatDigits := c.settings.ExtraFloatDigits()
	// Never nil: an empty value is a zero-length slice, and a nil one
	// would go out as NULL.
	buf := c.rows.buf
	if buf == nil {
		buf = make([]byte, 0, 256)
	}
	defer func() {
		if cap(buf) <= maxKeptRowBuffer {
			c.rows.buf = buf[:0]
		}
	}()
	for r := from; r < to; r++ {
		row := res.Rows[r]
		if len(row) != len(kinds) {
			return errcode.New(errcode.Internal, "row has %d values for %d columns", len(row), len(kinds))
		}
		buf = buf[:0]
		for i, v := range row {
			offsets[i] = len(buf)
			if v.IsNull() {
				continue
			}
			var err error
			buf, err = appendValue(buf, kinds[i], formatOf(formats, i), v, floatDigits)
			if err != nil {
				return err
			}
		}
		offsets[len(kinds)] = len(buf)
		for i, v := range row {
			if v.IsNull() {
				values[i] = nil
				continue
			}
			values[i] = buf[offsets[i]:offsets[i+1]:offsets[i+1]]
		}
		c.msgs.row = pgproto3.DataRow{Values: values}
		c.be.Send(&c.msgs.row)
		if (r-from+1)%512 == 0 {
			if err := c.be.Flush(); err != nil {
				return err
			}
		}
	}
	clear(values) // no reference to buf past this call
	return nil
}

// maxKeptRowBuffer bounds the row buffer a connection keeps between
// statements (a huge value is not kept alive).
const maxKeptRowBuffer = 64 << 10

// rowDescription describes columns in the given formats (nil: text).
func (c *conn) rowDescription(cols []session.Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		oid, size := typeOID(col.Type)
		fields[i] = pgproto3.FieldDescription{
			Name:         []byte(col.Name),
			DataTypeOID:  oid,
			DataTypeSize: size,
			TypeModifier: -1,
			Format:       formatOf(formats, i),
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// MaintenanceDatabase is the database PostgreSQL tools connect to when
// told none (createdb, pgbench -i without a name, psql -U postgres): like
// PostgreSQL's, it always exists. The first connection to it creates it,
// owned by root, so a node has it without an extra setup step.
const MaintenanceDatabase = "postgres"

// createMaintenanceDatabase creates MaintenanceDatabase (as root, the
// owner it has in PostgreSQL too) and selects it for the connection's user.
func (c *conn) createMaintenanceDatabase(ctx context.Context) (*session.Result, error) {
	rootCtx := session.WithUser(ctx, "")
	if _, err := c.srv.cfg.Executor.Execute(rootCtx, session.Request{SQL: "CREATE DATABASE IF NOT EXISTS " + MaintenanceDatabase}); err != nil {
		return nil, err
	}
	return c.srv.cfg.Executor.Execute(ctx, session.Request{SQL: "USE " + MaintenanceDatabase})
}
