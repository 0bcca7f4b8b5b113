package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// This file forwards explicit-transaction requests to the transaction's
// coordinator (SPEC §3.3, docs/cluster.md "Explicit transactions"). An
// explicit transaction lives in the session table of the node that ran
// BEGIN; its handle says which node that is (session.TxnCoordinator). A
// statement, COMMIT or ROLLBACK carrying a handle of another node is sent
// over HTTP, in the same JSON API clients use, to that node's http_peers
// address, and the answer is mapped back into a session.Result or the
// coordinator's CADB error.

// forwardedHeader marks a request one node forwarded to another. The
// receiving node never forwards such a request again, so a disagreement
// about node ids cannot bounce a request between nodes.
const forwardedHeader = "X-Camus-Forwarded"

// Paths of the JSON API a forwarder calls.
const (
	forwardQueryPath    = "/execute-sql-query"
	forwardCommitPath   = "/commit-transaction"
	forwardRollbackPath = "/rollback-transaction"
)

// forwardDialTimeout bounds connecting to a coordinator: an unreachable one
// fails fast (its transactions are lost with it).
const forwardDialTimeout = 2 * time.Second

// forwardCleanupTimeout bounds the best-effort rollback sent after a
// forwarded statement's answer was lost.
const forwardCleanupTimeout = 2 * time.Second

// maxForwardReply bounds a coordinator's answer (a result set), like the
// body limit of the HTTP API itself bounds requests.
const maxForwardReply = 1 << 30

type forwardedKey struct{}

// credentialsKey carries the client's Authorization header to the forwarder.
type credentialsKey struct{}

// markForwarded lets the executor see that a request came from another node
// (forwardedHeader); such requests always run locally.
func markForwarded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(forwardedHeader) != "" {
			r = r.WithContext(context.WithValue(r.Context(), forwardedKey{}, true))
		}
		if creds := r.Header.Get("Authorization"); creds != "" {
			// A forwarded request authenticates at the coordinator with the
			// client's own credentials (docs/security.md).
			r = r.WithContext(context.WithValue(r.Context(), credentialsKey{}, creds))
		}
		next.ServeHTTP(w, r)
	})
}

func isForwarded(ctx context.Context) bool {
	forwarded, _ := ctx.Value(forwardedKey{}).(bool)
	return forwarded
}

// forwarder is a session.Executor that runs requests of transactions this
// node coordinates (and everything else) on local, and sends requests of
// transactions coordinated elsewhere to their coordinator.
type forwarder struct {
	local  session.Executor
	self   uint64
	peers  map[uint64]string // coordinator id → base URL; no entry: not reachable by HTTP
	http   *http.Client
	closed atomic.Bool

	forwarded atomic.Int64           // requests sent to another node
	outcomes  *prometheus.CounterVec // camusdb_txn_forwarded_total{outcome}
}

// Outcomes of a forwarded request (the outcome label).
const (
	outcomeAnswered    = "answered"    // the coordinator answered (success or its own error)
	outcomeUnreachable = "unreachable" // not sent: CADB0504
	outcomeLost        = "lost"        // sent, answer lost: CADB0505 for commits, else CADB0504
)

var _ session.Executor = (*forwarder)(nil)

// forwarderConfig configures newForwarder.
type forwarderConfig struct {
	Self uint64
	// Peers maps node ids to HTTP addresses (host:port); nodes without an
	// address cannot be forwarded to.
	Peers map[uint64]string
	// TLS, when set, makes the forwarder speak HTTPS to its peers.
	TLS *tls.Config
	// Registry, when set, receives camusdb_txn_forwarded_total.
	Registry prometheus.Registerer
}

func newForwarder(local session.Executor, cfg forwarderConfig) (*forwarder, error) {
	scheme := "http://"
	if cfg.TLS != nil {
		scheme = "https://"
	}
	f := &forwarder{local: local, self: cfg.Self & session.MaxTxnNodeID, peers: map[uint64]string{}}
	f.outcomes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "camusdb", Subsystem: "txn", Name: "forwarded_total",
		Help: "Requests of explicit transactions forwarded to their coordinator node, by outcome: answered, unreachable (not sent), lost (answer lost).",
	}, []string{"outcome"})
	for _, outcome := range []string{outcomeAnswered, outcomeUnreachable, outcomeLost} {
		f.outcomes.WithLabelValues(outcome) // export zeros
	}
	for id, addr := range cfg.Peers {
		if addr != "" {
			f.peers[id&session.MaxTxnNodeID] = scheme + addr
		}
	}
	dialer := &net.Dialer{Timeout: forwardDialTimeout, KeepAlive: 30 * time.Second}
	f.http = &http.Client{Transport: &http.Transport{
		DialContext:         dialer.DialContext,
		TLSClientConfig:     cfg.TLS,
		TLSHandshakeTimeout: forwardDialTimeout,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}}
	if cfg.Registry != nil {
		if err := cfg.Registry.Register(f.outcomes); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// forwarderTLS is the client TLS configuration for peers that serve the
// HTTP API over TLS: the system roots plus this node's own certificate, so a
// cluster sharing one self-signed certificate verifies without more setup.
func forwarderTLS(certFile string) (*tls.Config, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, errcode.New(errcode.InvalidConfig, "tls_cert: %v", err)
	}
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// close drops idle connections to peers; later forwards fail with CADB0504.
func (f *forwarder) close() {
	f.closed.Store(true)
	f.http.CloseIdleConnections()
}

// remote reports whether h's coordinator is another node, and its URL
// ("" when it has no HTTP address).
func (f *forwarder) remote(ctx context.Context, h *session.TxnHandle) (baseURL string, coordinator uint64, ok bool) {
	if h == nil || isForwarded(ctx) {
		return "", 0, false
	}
	coordinator = session.TxnCoordinator(*h)
	if coordinator == 0 || coordinator == f.self {
		return "", 0, false
	}
	return f.peers[coordinator], coordinator, true
}

// Execute implements session.Executor.
func (f *forwarder) Execute(ctx context.Context, req session.Request) (*session.Result, error) {
	if node, ok := f.cancelTarget(ctx, req); ok {
		return f.forwardCancel(ctx, req, node)
	}
	if f.isShowQueries(ctx, req) {
		return f.showQueriesEverywhere(ctx, req)
	}
	baseURL, coordinator, ok := f.remote(ctx, req.Txn)
	if !ok {
		return f.local.Execute(ctx, req)
	}
	body, err := encodeForwardQuery(req)
	if err != nil {
		return nil, err
	}
	commit := isCommit(req.SQL)
	reply, err := f.send(ctx, baseURL, coordinator, forwardQueryPath, body, *req.Txn, commit)
	if err != nil {
		return nil, err
	}
	return reply.result(req.Database)
}

// cancelTarget reports whether req is CANCEL QUERY of a statement running
// on another node (a query id names its node), which is where it must run.
func (f *forwarder) cancelTarget(ctx context.Context, req session.Request) (uint64, bool) {
	if isForwarded(ctx) || !strings.Contains(strings.ToLower(req.SQL), "cancel") {
		return 0, false
	}
	stmt, err := parser.Parse(req.SQL)
	if err != nil {
		return 0, false
	}
	cq, ok := stmt.(*ast.CancelQuery)
	if !ok {
		return 0, false
	}
	var id string
	switch e := cq.ID.(type) {
	case *ast.Literal:
		id = e.Value.Str
	case *ast.Param:
		id = req.Params[strings.TrimPrefix(e.Name, "@")].Str
	}
	node, _, ok := session.SplitQueryID(id)
	if !ok || node == f.self {
		return 0, false
	}
	return node, true
}

// isShowQueries reports whether req is SHOW QUERIES sent by a client (not
// by another node).
func (f *forwarder) isShowQueries(ctx context.Context, req session.Request) bool {
	if isForwarded(ctx) || len(f.peers) == 0 || !strings.Contains(strings.ToLower(req.SQL), "queries") {
		return false
	}
	stmt, err := parser.Parse(req.SQL)
	if err != nil {
		return false
	}
	show, ok := stmt.(*ast.Show)
	return ok && show.What == "QUERIES"
}

// showQueriesTimeout bounds asking one peer for its running statements.
const showQueriesTimeout = 2 * time.Second

// showQueriesEverywhere answers SHOW QUERIES for the whole cluster: this
// node's statements plus every peer's (asked over HTTP, in parallel). A
// peer that does not answer in showQueriesTimeout is left out: the list
// is a view of what is reachable, oldest first.
func (f *forwarder) showQueriesEverywhere(ctx context.Context, req session.Request) (*session.Result, error) {
	res, err := f.local.Execute(ctx, req)
	if err != nil {
		return nil, err
	}
	body := []byte(`{"databaseName":"","sql":"SHOW QUERIES","rowFormat":"array"}`)
	type answer struct{ rows [][]types.Value }
	answers := make(chan answer, len(f.peers))
	asked := 0
	for id, baseURL := range f.peers {
		if id == f.self {
			continue
		}
		asked++
		go func() {
			pctx, cancel := context.WithTimeout(ctx, showQueriesTimeout)
			defer cancel()
			reply, _, err := f.post(pctx, baseURL+forwardQueryPath, body)
			if err != nil || reply.err() != nil {
				answers <- answer{}
				return
			}
			peer, err := reply.result("")
			if err != nil || len(peer.Columns) != len(res.Columns) {
				answers <- answer{}
				return
			}
			answers <- answer{rows: peer.Rows}
		}()
	}
	for range asked {
		res.Rows = append(res.Rows, (<-answers).rows...)
	}
	// Oldest first across nodes: "start" is RFC 3339 in UTC with a fixed
	// zone, so it orders as text.
	startCol := -1
	for i, c := range res.Columns {
		if c.Name == "start" {
			startCol = i
		}
	}
	if startCol >= 0 {
		sort.SliceStable(res.Rows, func(i, j int) bool { return res.Rows[i][startCol].Str < res.Rows[j][startCol].Str })
	}
	return res, nil
}

// forwardCancel sends CANCEL QUERY to the node running the statement. It
// is idempotent, so a lost answer is simply a retryable error.
func (f *forwarder) forwardCancel(ctx context.Context, req session.Request, node uint64) (*session.Result, error) {
	baseURL := f.peers[node]
	if baseURL == "" {
		return nil, errcode.New(errcode.InvalidInput, "CANCEL QUERY: node %d has no HTTP address (http_peers); send it to that node", node)
	}
	body := appendJSONText(append([]byte(nil), `{"databaseName":"","sql":`...), req.SQL)
	if len(req.Params) > 0 {
		body = append(body, `,"parameters":{`...)
		first := true
		for name, v := range req.Params {
			if !first {
				body = append(body, ',')
			}
			first = false
			body = append(appendJSONText(body, name), ':')
			var err error
			if body, err = appendWireValue(body, v); err != nil {
				return nil, err
			}
		}
		body = append(body, '}')
	}
	body = append(body, `,"rowFormat":"array"}`...)
	f.forwarded.Add(1)
	reply, _, err := f.post(ctx, baseURL+forwardQueryPath, body)
	if err != nil {
		return nil, errcode.New(errcode.MustRetry, "CANCEL QUERY: node %d did not answer (%v); retry", node, err)
	}
	if err := reply.err(); err != nil {
		return nil, err
	}
	return reply.result(req.Database)
}

// Begin implements session.Executor: a transaction is always coordinated by
// the node that opens it.
func (f *forwarder) Begin(ctx context.Context, database string) (session.TxnHandle, error) {
	return f.local.Begin(ctx, database)
}

// Commit implements session.Executor.
func (f *forwarder) Commit(ctx context.Context, h session.TxnHandle) error {
	baseURL, coordinator, ok := f.remote(ctx, &h)
	if !ok {
		return f.local.Commit(ctx, h)
	}
	_, err := f.send(ctx, baseURL, coordinator, forwardCommitPath, encodeForwardEnd(h), h, true)
	return err
}

// Rollback implements session.Executor.
func (f *forwarder) Rollback(ctx context.Context, h session.TxnHandle) error {
	baseURL, coordinator, ok := f.remote(ctx, &h)
	if !ok {
		return f.local.Rollback(ctx, h)
	}
	_, err := f.send(ctx, baseURL, coordinator, forwardRollbackPath, encodeForwardEnd(h), h, false)
	return err
}

// send posts body to the coordinator and decodes its answer. Failures are
// *errcode.Error: the coordinator's own error as it sent it; CADB0504 when
// the request never reached it (the transaction is lost with an unreachable
// coordinator); and, once the request was written, CADB0505 for a commit
// (it may have happened) or CADB0504 for anything else, after a
// best-effort rollback so the transaction does not hold its locks until it
// expires.
func (f *forwarder) send(ctx context.Context, baseURL string, coordinator uint64, path string, body []byte, h session.TxnHandle, commit bool) (*forwardReply, error) {
	if baseURL == "" {
		f.outcomes.WithLabelValues(outcomeUnreachable).Inc()
		return nil, errcode.New(errcode.MustRetry,
			"transaction %d:%d belongs to node %d, which has no HTTP address (http_peers); retry the transaction", h.PT, h.Counter, coordinator)
	}
	if f.closed.Load() {
		f.outcomes.WithLabelValues(outcomeUnreachable).Inc()
		return nil, errcode.New(errcode.MustRetry, "node is shutting down; retry the transaction")
	}
	f.forwarded.Add(1)
	reply, sent, err := f.post(ctx, baseURL+path, body)
	if err == nil {
		f.outcomes.WithLabelValues(outcomeAnswered).Inc()
		return reply, reply.err()
	}
	if sent {
		f.outcomes.WithLabelValues(outcomeLost).Inc()
	} else {
		f.outcomes.WithLabelValues(outcomeUnreachable).Inc()
	}
	switch {
	case !sent:
		return nil, errcode.New(errcode.MustRetry,
			"transaction %d:%d: its coordinator, node %d, is unreachable (%v); the transaction is lost, retry it", h.PT, h.Counter, coordinator, err)
	case commit:
		return nil, errcode.New(errcode.Ambiguous,
			"transaction %d:%d: lost the answer of its coordinator, node %d, to COMMIT (%v); the outcome is unknown", h.PT, h.Counter, coordinator, err)
	}
	if path != forwardRollbackPath {
		cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), forwardCleanupTimeout)
		_, _, _ = f.post(cleanupCtx, baseURL+forwardRollbackPath, encodeForwardEnd(h))
		cancel()
	}
	return nil, errcode.New(errcode.MustRetry,
		"transaction %d:%d: lost the answer of its coordinator, node %d (%v); a rollback was sent to it, retry the transaction", h.PT, h.Counter, coordinator, err)
}

// post sends one request; sent reports whether the request was written to
// the connection (from then on the coordinator may have acted on it).
func (f *forwarder) post(ctx context.Context, url string, body []byte) (_ *forwardReply, sent bool, _ error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			wrote.Store(true)
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(forwardedHeader, "1")
	if creds, ok := ctx.Value(credentialsKey{}).(string); ok {
		req.Header.Set("Authorization", creds)
	}
	resp, err := f.http.Do(req)
	if err != nil {
		return nil, wrote.Load(), err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxForwardReply))
	if err != nil {
		return nil, true, fmt.Errorf("reading the answer: %w", err)
	}
	var reply forwardReply
	if err := json.Unmarshal(data, &reply); err != nil {
		return nil, true, fmt.Errorf("HTTP %d, undecodable answer: %w", resp.StatusCode, err)
	}
	if reply.Status == "" {
		return nil, true, fmt.Errorf("HTTP %d without a status", resp.StatusCode)
	}
	return &reply, true, nil
}

// isCommit reports whether sql is a COMMIT statement (whose lost answer is
// ambiguous). Text that does not parse is not: the coordinator rejects it.
func isCommit(sql string) bool {
	if !strings.Contains(strings.ToLower(sql), "commit") {
		return false
	}
	stmt, err := parser.Parse(sql)
	if err != nil {
		return false
	}
	_, ok := stmt.(*ast.Commit)
	return ok
}

// encodeForwardQuery is the /execute-sql-query body for req; rows are asked
// for as arrays so that column order and duplicate names survive.
func encodeForwardQuery(req session.Request) ([]byte, error) {
	b := make([]byte, 0, 128+len(req.SQL))
	b = append(b, `{"databaseName":`...)
	b = appendJSONText(b, req.Database)
	b = append(b, `,"sql":`...)
	b = appendJSONText(b, req.SQL)
	if req.StandardStrings {
		b = append(b, `,"standardConformingStrings":true`...)
	}
	if len(req.Params) > 0 {
		b = append(b, `,"parameters":{`...)
		first := true
		for name, v := range req.Params {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONText(b, name)
			b = append(b, ':')
			var err error
			if b, err = appendWireValue(b, v); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	b = appendTxnFields(b, *req.Txn)
	if req.Timeout > 0 {
		b = append(b, `,"timeoutMs":`...)
		b = strconv.AppendInt(b, max(req.Timeout.Milliseconds(), 1), 10)
	}
	b = append(b, `,"rowFormat":"array"}`...)
	return b, nil
}

// encodeForwardEnd is the /commit- and /rollback-transaction body.
func encodeForwardEnd(h session.TxnHandle) []byte {
	b := append(make([]byte, 0, 80), `{"databaseName":""`...)
	return append(appendTxnFields(b, h), '}')
}

func appendTxnFields(b []byte, h session.TxnHandle) []byte {
	b = append(b, `,"txnIdPT":`...)
	b = strconv.AppendInt(b, h.PT, 10)
	b = append(b, `,"txnIdCounter":`...)
	return strconv.AppendInt(b, h.Counter, 10)
}

func appendJSONText(b []byte, s string) []byte {
	quoted, _ := json.Marshal(s) // a string always marshals
	return append(b, quoted...)
}

// appendWireValue writes v in the column-value object form (SPEC §3.1).
func appendWireValue(b []byte, v types.Value) ([]byte, error) {
	switch v.Kind {
	case types.Null:
		return append(b, `{"type":0}`...), nil
	case types.OID:
		b = append(b, `{"type":1,"strValue":"`...)
		b = hex.AppendEncode(b, []byte(v.Str))
		return append(b, `"}`...), nil
	case types.Int64:
		b = append(b, `{"type":2,"longValue":`...)
		b = strconv.AppendInt(b, v.Int, 10)
		return append(b, '}'), nil
	case types.String:
		b = append(b, `{"type":3,"strValue":`...)
		b = appendJSONText(b, v.Str)
		return append(b, '}'), nil
	case types.Bool:
		b = append(b, `{"type":4,"boolValue":`...)
		b = strconv.AppendBool(b, v.Bool)
		return append(b, '}'), nil
	case types.Float64:
		b = append(b, `{"type":5,"floatValue":`...)
		switch {
		case math.IsNaN(v.Float):
			b = append(b, `"NaN"`...)
		case math.IsInf(v.Float, 1):
			b = append(b, `"Infinity"`...)
		case math.IsInf(v.Float, -1):
			b = append(b, `"-Infinity"`...)
		default:
			b = strconv.AppendFloat(b, v.Float, 'g', -1, 64)
		}
		return append(b, '}'), nil
	}
	if types.TextInput(v.Kind) {
		b = append(b, `{"type":`...)
		b = strconv.AppendInt(b, int64(v.Kind), 10)
		b = append(b, `,"strValue":`...)
		b = appendJSONText(b, v.String())
		return append(b, '}'), nil
	}
	return nil, errcode.New(errcode.InvalidInput, "parameter of unknown kind %d", v.Kind)
}

// forwardReply is a coordinator's answer: a failure, or an
// /execute-sql-query result in the array row format.
type forwardReply struct {
	Status       string  `json:"status"`
	Code         string  `json:"code"`
	Message      string  `json:"message"`
	Kind         string  `json:"kind"`
	RowsAffected int64   `json:"rowsAffected"`
	TxnIDPT      *int64  `json:"txnIdPT"`
	TxnIDCounter *int64  `json:"txnIdCounter"`
	DatabaseName *string `json:"databaseName"`
	Columns      []struct {
		Name string     `json:"name"`
		Type types.Kind `json:"type"`
	} `json:"columns"`
	Rows [][]wireCell `json:"rows"`
}

// err is the coordinator's failure, with its code, or nil.
func (r *forwardReply) err() error {
	if r.Status == "ok" {
		return nil
	}
	code := errcode.Code(r.Code)
	if !strings.HasPrefix(r.Code, "CADB") {
		code = errcode.Internal
	}
	return &errcode.Error{Code: code, Message: r.Message}
}

// resultKinds maps the "kind" field of query answers.
var resultKinds = map[string]session.ResultKind{
	"rows":     session.ResultRows,
	"affected": session.ResultAffected,
	"ddl":      session.ResultDDL,
	"begin":    session.ResultBegin,
	"commit":   session.ResultCommit,
	"rollback": session.ResultRollback,
}

// result converts a successful query answer; database is the request's
// current database, kept unless the answer names another (USE).
func (r *forwardReply) result(database string) (*session.Result, error) {
	kind, ok := resultKinds[r.Kind]
	if !ok {
		return nil, errcode.New(errcode.Internal, "coordinator answered with unknown result kind %q", r.Kind)
	}
	res := &session.Result{Kind: kind, Database: database}
	if r.DatabaseName != nil {
		res.Database = *r.DatabaseName
	}
	switch kind {
	case session.ResultRows:
		res.Columns = make([]session.Column, len(r.Columns))
		for i, c := range r.Columns {
			res.Columns[i] = session.Column{Name: c.Name, Type: c.Type}
		}
		res.Rows = make([][]types.Value, len(r.Rows))
		for i, row := range r.Rows {
			out := make([]types.Value, len(row))
			for j := range row {
				v, err := row[j].value()
				if err != nil {
					return nil, errcode.New(errcode.Internal, "coordinator answered row %d column %d: %v", i, j, err)
				}
				out[j] = v
			}
			res.Rows[i] = out
		}
	case session.ResultAffected:
		res.RowsAffected = r.RowsAffected
	case session.ResultBegin:
		if r.TxnIDPT == nil || r.TxnIDCounter == nil {
			return nil, errcode.New(errcode.Internal, "coordinator answered BEGIN without a transaction handle")
		}
		res.Txn = &session.TxnHandle{PT: *r.TxnIDPT, Counter: *r.TxnIDCounter}
	}
	return res, nil
}

// wireCell is one column value of an answer (all five fields present, as
// the API always sends them). Decoding into a plain struct, rather than
// through a per-value UnmarshalJSON, keeps encoding/json from re-scanning
// every value.
type wireCell struct {
	Type       types.Kind      `json:"type"`
	StrValue   *string         `json:"strValue"`
	LongValue  int64           `json:"longValue"`
	FloatValue json.RawMessage `json:"floatValue"`
	BoolValue  bool            `json:"boolValue"`
}

var errBadValue = errors.New("bad column value")

func (c *wireCell) value() (types.Value, error) {
	switch c.Type {
	case types.Null:
		return types.NullValue, nil
	case types.OID:
		if c.StrValue == nil {
			return types.Value{}, fmt.Errorf("%w: object id without strValue", errBadValue)
		}
		return types.ParseOID(*c.StrValue)
	case types.Int64:
		return types.NewInt(c.LongValue), nil
	case types.String:
		if c.StrValue == nil {
			return types.Value{}, fmt.Errorf("%w: string without strValue", errBadValue)
		}
		return types.NewString(*c.StrValue), nil
	case types.Bool:
		return types.NewBool(c.BoolValue), nil
	case types.Float64:
		f, err := decodeWireFloat(c.FloatValue)
		if err != nil {
			return types.Value{}, err
		}
		return types.NewFloat(f), nil
	}
	if types.TextInput(c.Type) {
		if c.StrValue == nil {
			return types.Value{}, fmt.Errorf("%w: %s without strValue", errBadValue, c.Type)
		}
		return types.ParseText(c.Type, *c.StrValue)
	}
	return types.Value{}, fmt.Errorf("%w: type %d", errBadValue, c.Type)
}

// decodeWireFloat reads a floatValue: a number or "NaN"/"Infinity"/"-Infinity".
func decodeWireFloat(raw json.RawMessage) (float64, error) {
	if len(raw) > 0 && raw[0] == '"' {
		switch string(raw) {
		case `"NaN"`:
			return math.NaN(), nil
		case `"Infinity"`:
			return math.Inf(1), nil
		case `"-Infinity"`:
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("%w: floatValue %s", errBadValue, raw)
	}
	var f float64
	if len(raw) == 0 {
		return 0, nil
	}
	err := json.Unmarshal(raw, &f)
	return f, err
}

// openForwarder builds the cluster node's forwarder over n.sql.
func (n *Node) openForwarder() (*forwarder, error) {
	cfg := forwarderConfig{Self: n.cluster.self, Peers: map[uint64]string{}, Registry: n.registry}
	for _, p := range n.cluster.peers {
		cfg.Peers[p.id] = p.httpAddr
	}
	if n.cfg.TLSCert != "" {
		tlsConfig, err := forwarderTLS(n.cfg.TLSCert)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tlsConfig
	}
	return newForwarder(n.sql, cfg)
}
