package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxBodyBytes   int64 = 16 << 20
	DefaultRequestTimeout       = 30 * time.Second
	DefaultMaxResultBytes int64 = 64 << 20
)

// Options configure a Server. Only Executor is required.
type Options struct {
	// Executor runs SQL; it is the only way this package reaches data.
	Executor session.Executor
	// Status answers /cluster/status; nil answers a one-node status with
	// node id 1 and no partitions.
	Status StatusProvider
	// Ready reports whether the node can serve (a leader exists); nil means
	// always ready.
	Ready func() bool
	// MaxBodyBytes bounds request bodies (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	// RequestTimeout bounds each request (DefaultRequestTimeout when 0):
	// it is the default statement timeout of the SQL endpoints (a request
	// may ask for another with "timeoutMs") and the deadline of the
	// others.
	RequestTimeout time.Duration
	// StatementTimeout is the node's default statement timeout
	// (sql_statement_timeout_ms; 0: none); when shorter than
	// RequestTimeout it is the SQL endpoints' default instead.
	StatementTimeout time.Duration
	// MaxResultBytes bounds the JSON of one query result
	// (DefaultMaxResultBytes when 0); a larger result fails with CADB0509.
	MaxResultBytes int64
	// MaxConcurrent bounds the requests served at once (0: no bound);
	// up to MaxQueued more wait for a slot, later ones get 503 CADB0508.
	// /ping, /metrics and /cluster/status are not counted.
	MaxConcurrent int
	MaxQueued     int
	// AdmissionExempt, when set, names requests that bypass the
	// concurrency bound (requests forwarded by another node, which holds
	// a slot for them already: counting them twice could deadlock).
	AdmissionExempt func(r *http.Request) bool
	// Registry receives the HTTP metrics and is what /metrics serves, so the
	// node can register its other collectors in it. nil: a private registry.
	Registry *prometheus.Registry
	// Logger receives request errors; nil discards.
	Logger *slog.Logger
	// Now is the clock of /ping; nil is time.Now.
	Now func() time.Time
	// Auth authenticates requests (auth.go); nil runs every request as root.
	Auth Authenticator
}

// Server is the HTTP API handler. It is safe for concurrent use.
type Server struct {
	exec               session.Executor // statementExecutor over Options.Executor
	status             StatusProvider
	ready              func() bool
	maxBody            int64
	timeout            time.Duration
	stmtTimeout        time.Duration // default statement timeout of the SQL endpoints
	stmtTimeoutSetting string        // the setting it comes from
	maxResult          int64
	admission          *admission
	registry           *prometheus.Registry
	metrics            *metrics
	logger             *slog.Logger
	now                func() time.Time
	routes             map[string]*route
	promServer         http.Handler
	auth               Authenticator
}

// handlerFunc serves one endpoint. It writes the success response itself;
// a returned error is written by the caller in the one error format.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type route struct {
	name         string // endpoint label in metrics, the path without '/'
	method       string // http.MethodGet or http.MethodPost
	alwaysServed bool   // served while the node is not ready
	// statement: the handler runs SQL statements, bounded by their own
	// statement timeout (statementExecutor) rather than the request deadline.
	statement bool
	handle    handlerFunc
	// ok caches the metrics series of the route's successes.
	ok atomic.Pointer[endpointOK]
}

// New builds a Server. It fails when Executor is nil or the metrics cannot
// be registered (e.g. a second Server on the same Registry).
func New(opts Options) (*Server, error) {
	if opts.Executor == nil {
		return nil, errors.New("httpapi: Options.Executor is required")
	}
	s := &Server{
		exec:     opts.Executor,
		status:   opts.Status,
		ready:    opts.Ready,
		maxBody:  opts.MaxBodyBytes,
		timeout:  opts.RequestTimeout,
		registry: opts.Registry,
		logger:   opts.Logger,
		now:      opts.Now,
		auth:     opts.Auth,
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.timeout <= 0 {
		s.timeout = DefaultRequestTimeout
	}
	s.stmtTimeout, s.stmtTimeoutSetting = s.timeout, "http_request_timeout_ms"
	if opts.StatementTimeout > 0 && opts.StatementTimeout < s.timeout {
		s.stmtTimeout, s.stmtTimeoutSetting = opts.StatementTimeout, "sql_statement_timeout_ms"
	}
	s.maxResult = opts.MaxResultBytes
	if s.maxResult <= 0 {
		s.maxResult = DefaultMaxResultBytes
	}
	s.admission = newAdmission(opts.MaxConcurrent, opts.MaxQueued, s.timeout, opts.AdmissionExempt)
	enforcer, ok := opts.Executor.(session.TimeoutEnforcer)
	s.exec = statementExecutor{Executor: opts.Executor, s: s, enforced: ok && enforcer.EnforcesStatementTimeout()}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.status == nil {
		s.status = StatusFunc(func(context.Context) (ClusterStatus, error) {
			return ClusterStatus{NodeID: 1, Nodes: []NodeStatus{{ID: 1, Live: true}}, Partitions: []PartitionStatus{}}, nil
		})
	}
	m, err := newMetrics(s.registry)
	if err != nil {
		return nil, fmt.Errorf("httpapi: registering metrics: %w", err)
	}
	s.metrics = m
	s.promServer = promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelError)})
	s.routes = make(map[string]*route)
	add := func(method, path string, alwaysServed bool, h handlerFunc) {
		name := strings.TrimPrefix(path, "/")
		s.routes[path] = &route{name: name, method: method, alwaysServed: alwaysServed, handle: h}
	}
	get, post := http.MethodGet, http.MethodPost
	add(get, "/ping", false, s.handlePing)
	add(post, "/create-db", false, s.handleCreateDB)
	add(post, "/drop-db", false, s.handleDropDB)
	add(post, "/close-db", false, s.handleCloseDB)
	add(post, "/create-table", false, s.handleCreateTable)
	add(post, "/execute-sql-ddl", false, s.handleSQLDDL)
	add(post, "/execute-sql-query", false, s.handleSQLQuery)
	add(post, "/execute-sql-non-query", false, s.handleSQLNonQuery)
	add(post, "/insert", false, s.handleInsert)
	add(post, "/query", false, s.handleQuery)
	add(post, "/query-by-id", false, s.handleQueryByID)
	add(post, "/update", false, s.handleUpdate)
	add(post, "/delete", false, s.handleDelete)
	add(post, "/start-transaction", false, s.handleStartTxn)
	add(post, "/commit-transaction", false, s.handleCommitTxn)
	add(post, "/rollback-transaction", false, s.handleRollbackTxn)
	add(get, "/metrics", true, s.handleMetrics)
	add(get, "/cluster/status", true, s.handleClusterStatus)
	for _, path := range []string{"/create-db", "/drop-db", "/create-table", "/execute-sql-ddl", "/execute-sql-query",
		"/execute-sql-non-query", "/insert", "/query", "/query-by-id", "/update", "/delete"} {
		s.routes[path].statement = true
	}
	return s, nil
}

// Registry is the registry /metrics serves.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// statusRecorder remembers the status written, for metrics and for knowing
// whether a recovered panic can still send an error body.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (rec *statusRecorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *statusRecorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rec *statusRecorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// ServeHTTP dispatches to the endpoint handlers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rt := s.routes[r.URL.Path]
	rec := &statusRecorder{ResponseWriter: w}
	endpoint := "other"
	var okMetrics *atomic.Pointer[endpointOK]
	if rt != nil {
		endpoint, okMetrics = rt.name, &rt.ok
	}
	defer func() {
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		s.metrics.observe(endpoint, status, time.Since(start), okMetrics)
	}()
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
			panic(p)
		}
		s.logger.Error("panic in HTTP handler", "endpoint", endpoint, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		if rec.status == 0 {
			s.writeError(rec, endpoint, &statusError{status: http.StatusInternalServerError,
				err: errcode.New(errcode.Internal, "internal error while serving %s", r.URL.Path)})
		} else {
			// The response has started; the client sees a truncated body.
			s.metrics.errors.WithLabelValues(endpoint, string(errcode.Internal)).Inc()
		}
	}()

	if rt == nil {
		s.writeError(rec, endpoint, &statusError{status: http.StatusNotFound,
			err: errcode.New(errcode.InvalidInput, "unknown endpoint %s", r.URL.Path)})
		return
	}
	if r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
		rec.Header().Set("Allow", rt.method)
		s.writeError(rec, endpoint, &statusError{status: http.StatusMethodNotAllowed,
			err: errcode.New(errcode.InvalidInput, "%s %s is not allowed; use %s", r.Method, r.URL.Path, rt.method)})
		return
	}
	if !rt.alwaysServed && s.ready != nil && !s.ready() {
		s.writeError(rec, endpoint, &statusError{status: http.StatusServiceUnavailable,
			err: errcode.New(errcode.MustRetry, "node is not ready yet (no leader); retry later")})
		return
	}
	r, err := s.authenticate(rec, r)
	if err != nil {
		s.writeError(rec, endpoint, err)
		return
	}
	if r.ContentLength > s.maxBody {
		// Refused before reading a byte of it; the connection is closed
		// after the answer rather than drained.
		rec.Header().Set("Connection", "close")
		s.writeError(rec, endpoint, s.bodyTooLarge())
		return
	}
	if !rt.alwaysServed && rt.name != "ping" {
		release, err := s.admission.admit(r)
		if err != nil {
			s.writeError(rec, endpoint, err)
			return
		}
		defer release()
	}
	// A statement's deadline is its statement timeout (statementExecutor);
	// its context ends too when the client goes away, which cancels it.
	ctx, cancel := r.Context(), context.CancelFunc(func() {})
	if rt.statement {
		ctx = context.WithValue(ctx, clientKey{}, session.ClientInfo{Addr: r.RemoteAddr, Protocol: "http"})
	} else {
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
	}
	defer cancel()
	if err := rt.handle(rec, r.WithContext(ctx)); err != nil {
		if ctx.Err() != nil && !isCoded(err) {
			err = errcode.New(errcode.MustRetry, "request did not finish in time: %v", err)
		}
		s.writeError(rec, endpoint, err)
	}
}

// statusError carries an HTTP status that differs from the code's default
// (413, 404/405 for routing, 503 while not ready).
type statusError struct {
	status int
	err    *errcode.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func isCoded(err error) bool {
	var coded *errcode.Error
	return errors.As(err, &coded)
}

// writeError writes {"status":"failed","code","message"} with the status of
// errcode.HTTPStatus (or the statusError override). It is the only place
// that maps errors to HTTP.
func (s *Server) writeError(w http.ResponseWriter, endpoint string, err error) {
	code := errcode.Of(err)
	message := err.Error()
	var coded *errcode.Error
	if errors.As(err, &coded) {
		message = coded.Message
	}
	status := errcode.HTTPStatus(code)
	var se *statusError
	if errors.As(err, &se) {
		status = se.status
	}
	s.metrics.errors.WithLabelValues(endpoint, string(code)).Inc()
	if status >= 500 {
		s.logger.Error("HTTP request failed", "endpoint", endpoint, "status", status, "code", string(code), "err", message)
	} else {
		s.logger.Debug("HTTP request failed", "endpoint", endpoint, "status", status, "code", string(code), "err", message)
	}
	buf := getBuf()
	defer buf.release()
	buf.raw(`{"status":"failed","code":`)
	buf.str(string(code))
	buf.raw(`,"message":`)
	buf.str(message)
	buf.byte('}')
	writeJSON(w, status, buf.b)
}

// jsonContentType is shared by every response: net/http copies a
// handler's header map before writing it, and nothing appends to it.
var jsonContentType = []string{"application/json; charset=utf-8"}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}

// writeOK writes the constant success body.
func writeOK(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

// decodeBody reads the JSON body into dst. An empty body decodes as {}.
// Errors are CADB0400 (413 for a body over the limit).
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	buf := getBuf()
	defer buf.release()
	data, err := s.readBody(w, r, buf.b)
	buf.b = data // keep a grown buffer for the pool
	if err != nil {
		return err
	}
	if req, ok := dst.(*sqlRequest); ok {
		return decodeSQLRequest(data, req)
	}
	return unmarshalBody(data, dst)
}

// readBody appends the whole body to buf. The decoders copy what they
// keep, so buf can be a pooled one.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, buf []byte) ([]byte, error) {
	body := r.Body
	if n := r.ContentLength; n >= 0 {
		// Bigger ones were refused in ServeHTTP, and net/http stops a body
		// at its Content-Length: no MaxBytesReader needed.
		buf = slices.Grow(buf, int(n)+1) // +1: room to see EOF
	} else {
		body = http.MaxBytesReader(w, r.Body, s.maxBody)
	}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 512)
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return buf, s.bodyTooLarge()
			}
			return buf, errcode.New(errcode.InvalidInput, "cannot read request body: %v", err)
		}
	}
}

// unmarshalBody decodes a request body read whole. An empty body decodes
// as {}. Errors are CADB0400.
func unmarshalBody(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, dst); err != nil {
		var coded *errcode.Error
		if errors.As(err, &coded) {
			return coded
		}
		return errcode.New(errcode.InvalidInput, "malformed request: %s", describeJSONError(err))
	}
	return nil
}

// bodyTooLarge is the 413 answer to a body over the limit.
func (s *Server) bodyTooLarge() error {
	return &statusError{status: http.StatusRequestEntityTooLarge,
		err: errcode.New(errcode.InvalidInput, "request body exceeds %d bytes (http_max_body_bytes); send less per request or raise http_max_body_bytes", s.maxBody)}
}

// describeJSONError turns encoding/json errors into messages for clients.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at offset %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ):
		if field := jsonFieldPath(typ); field != "" {
			return fmt.Sprintf("field %q: want %s, got JSON %s", field, jsonKind(typ.Type), typ.Value)
		}
		return fmt.Sprintf("want %s, got JSON %s", jsonKind(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: unexpected end of input"
	}
	return err.Error()
}

// jsonKind names what a client must send for a Go type, in JSON terms (the
// Go type names of our request structs mean nothing to a client).
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a JSON value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a JSON value"
}

// jsonFieldPath is the client's view of the offending field: encoding/json
// reports fields of embedded structs as "EmbeddedType.field", and the
// embedded type's name is not part of the JSON.
func jsonFieldPath(typ *json.UnmarshalTypeError) string {
	parts := strings.Split(typ.Field, ".")
	out := parts[:0]
	for _, p := range parts {
		if _, embedded := embeddedRequestTypes[p]; !embedded {
			out = append(out, p)
		}
	}
	return strings.Join(out, ".")
}

// embeddedRequestTypes are the struct types embedded (anonymously) in
// request bodies; see jsonFieldPath.
var embeddedRequestTypes = map[string]struct{}{
	reflect.TypeOf(txnFields{}).Name(): {},
}
