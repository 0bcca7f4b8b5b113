package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultEndpoint is used when New is given no endpoints.
const DefaultEndpoint = "http://localhost:5095"

// Defaults of the options.
const (
	DefaultTimeout             = 2 * time.Minute
	DefaultDialTimeout         = 5 * time.Second
	DefaultMaxIdleConnsPerHost = 64
	DefaultDownFor             = 2 * time.Second
)

// Option configures a Client.
type Option func(*options)

type options struct {
	httpClient          *http.Client
	timeout             time.Duration
	dialTimeout         time.Duration
	maxIdleConnsPerHost int
	downFor             time.Duration
	user, password      string
	credentials         bool
	tlsConfig           *tls.Config
}

// WithHTTPClient makes the client send requests through hc (its own timeouts
// and transport apply; WithTimeout, WithDialTimeout and WithMaxIdleConnsPerHost
// are then ignored).
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// WithTimeout bounds each request, from dial to the end of the body
// (default DefaultTimeout; 0 means no limit beyond the context's).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithDialTimeout bounds connection establishment (default DefaultDialTimeout).
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithMaxIdleConnsPerHost sets how many keep-alive connections are kept per
// endpoint (default DefaultMaxIdleConnsPerHost); set it at least to the number
// of goroutines sharing the client.
func WithMaxIdleConnsPerHost(n int) Option { return func(o *options) { o.maxIdleConnsPerHost = n } }

// WithEndpointDownFor sets how long an endpoint that refused a connection is
// skipped (default DefaultDownFor). It is still tried when every endpoint is down.
func WithEndpointDownFor(d time.Duration) Option { return func(o *options) { o.downFor = d } }

// WithCredentials makes every request authenticate as user with password
// (HTTP Basic). Use https endpoints when the node is not on loopback: the
// credentials are otherwise sent in clear. A node answers wrong
// credentials with CADB0020 and a denied statement with CADB0021.
func WithCredentials(user, password string) Option {
	return func(o *options) { o.user, o.password, o.credentials = user, password, true }
}

// WithTLSConfig sets the TLS configuration of https endpoints, e.g.
// RootCAs holding the cluster's ca.crt (ignored with WithHTTPClient).
func WithTLSConfig(cfg *tls.Config) Option { return func(o *options) { o.tlsConfig = cfg } }

// Client talks to one CamusDB cluster over HTTP. It is safe for concurrent use.
type Client struct {
	hc        *http.Client
	ownsHC    bool
	endpoints []endpoint
	next      atomic.Uint32 // round-robin cursor
	downFor   time.Duration
	// user and password are sent with every request when credentials is set.
	user, password string
	credentials    bool
}

type endpoint struct {
	base string
	// downUntil is the UnixNano time before which the endpoint is skipped.
	downUntil *atomic.Int64
}

// New returns a client for the given endpoints ("http://host:port"; a
// missing scheme means http, a trailing slash is ignored). An empty list
// means DefaultEndpoint.
func New(endpoints []string, opts ...Option) *Client {
	o := options{
		timeout:             DefaultTimeout,
		dialTimeout:         DefaultDialTimeout,
		maxIdleConnsPerHost: DefaultMaxIdleConnsPerHost,
		downFor:             DefaultDownFor,
	}
	for _, opt := range opts {
		opt(&o)
	}
	c := &Client{hc: o.httpClient, downFor: o.downFor, user: o.user, password: o.password, credentials: o.credentials}
	if c.hc == nil {
		c.ownsHC = true
		dialer := &net.Dialer{Timeout: o.dialTimeout, KeepAlive: 30 * time.Second}
		c.hc = &http.Client{
			Timeout: o.timeout,
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				DialContext:         dialer.DialContext,
				MaxIdleConns:        o.maxIdleConnsPerHost * max(1, len(endpoints)),
				MaxIdleConnsPerHost: o.maxIdleConnsPerHost,
				IdleConnTimeout:     90 * time.Second,
				TLSHandshakeTimeout: o.dialTimeout,
				TLSClientConfig:     o.tlsConfig,
				ForceAttemptHTTP2:   false,
			},
		}
	}
	if len(endpoints) == 0 {
		endpoints = []string{DefaultEndpoint}
	}
	for _, e := range endpoints {
		c.endpoints = append(c.endpoints, endpoint{base: normalizeEndpoint(e), downUntil: new(atomic.Int64)})
	}
	return c
}

func normalizeEndpoint(e string) string {
	e = strings.TrimSpace(e)
	if !strings.Contains(e, "://") {
		e = "http://" + e
	}
	return strings.TrimRight(e, "/")
}

// Endpoints returns the normalized endpoint URLs.
func (c *Client) Endpoints() []string {
	out := make([]string, len(c.endpoints))
	for i, e := range c.endpoints {
		out[i] = e.base
	}
	return out
}

// Close releases idle connections of the client's own transport. The client
// remains usable (new connections are opened on demand).
func (c *Client) Close() {
	if c.ownsHC {
		c.hc.CloseIdleConnections()
	}
}

// Txn names an explicit transaction (SPEC §3.3 txnIdPT/txnIdCounter). It is
// not safe for concurrent use.
type Txn struct {
	PT      int64
	Counter int64
	// Database the transaction was opened in; Commit and Rollback send it.
	Database string
	// endpoint+1 of the node that opened the transaction (0: unknown); later
	// statements go there first so the coordinator needs not forward them.
	endpoint int
}

// bufPool recycles response buffers.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuf = 1 << 20

// do sends one request and decodes a success body into out (which may be
// nil). Failures come back as *Error; dial failures move to the next
// endpoint. pin is the preferred endpoint+1 (0: round-robin); the endpoint
// that answered is returned the same way.
func (c *Client) do(ctx context.Context, method, path string, body []byte, pin int, out *response) (int, error) {
	n := len(c.endpoints)
	start := 0
	if pin > 0 && pin <= n {
		start = pin - 1
	} else {
		start = c.pick()
	}
	var lastErr error
	for i := 0; i < n; i++ {
		idx := (start + i) % n
		ep := &c.endpoints[idx]
		// Skip endpoints that recently refused, except the starting one,
		// which pick chose knowing every endpoint might be down.
		if i > 0 && ep.downUntil.Load() > time.Now().UnixNano() {
			continue
		}
		err := c.roundTrip(ctx, method, ep.base+path, body, out)
		if err == nil || !isDialError(err) || ctx.Err() != nil {
			return idx + 1, err
		}
		ep.downUntil.Store(time.Now().Add(c.downFor).UnixNano())
		lastErr = err
	}
	return 0, fmt.Errorf("%w: %w", ErrNoEndpoint, lastErr)
}

// pick returns the next endpoint in round-robin order that is not marked
// down, or the next one in order when all are.
func (c *Client) pick() int {
	n := len(c.endpoints)
	if n == 1 {
		return 0
	}
	first := int(c.next.Add(1)-1) % n
	now := time.Now().UnixNano()
	for i := 0; i < n; i++ {
		idx := (first + i) % n
		if c.endpoints[idx].downUntil.Load() <= now {
			return idx
		}
	}
	return first
}

func isDialError(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

func (c *Client) roundTrip(ctx context.Context, method, url string, body []byte, out *response) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header["Content-Type"] = jsonContentType
	}
	if c.credentials {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuf {
			bufPool.Put(buf)
		}
	}()
	if resp.ContentLength > 0 {
		buf.Grow(int(min(resp.ContentLength, 64<<20)))
	}
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("client: reading response from %s: %w", url, err)
	}
	return decodeResponse(resp.StatusCode, buf.Bytes(), out)
}

var jsonContentType = []string{"application/json"}

// decodeResponse turns a body into out, or into an *Error for failures.
func decodeResponse(status int, body []byte, out *response) error {
	var tmp response
	if out == nil {
		out = &tmp
	}
	if err := out.parse(body); err != nil {
		if status != http.StatusOK {
			return &Error{HTTPStatus: status, Message: bodySnippet(body, status)}
		}
		return fmt.Errorf("client: malformed response: %w", err)
	}
	if status != http.StatusOK || out.Status == "failed" {
		msg := out.Message
		if msg == "" {
			msg = bodySnippet(body, status)
		}
		return &Error{Code: out.Code, Message: msg, HTTPStatus: status}
	}
	return nil
}

func bodySnippet(body []byte, status int) string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return http.StatusText(status)
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// Ping checks that some node answers GET /ping with success. Being
// idempotent, it tries every endpoint (from the next in round-robin order)
// until one does, not only those that refuse connections; the last error is
// returned when none does (a node that is not ready yet answers 503, which
// is a retryable *Error).
func (c *Client) Ping(ctx context.Context) error {
	start := c.pick()
	var err error
	for i := range c.endpoints {
		idx := (start + i) % len(c.endpoints)
		if err = c.roundTrip(ctx, http.MethodGet, c.endpoints[idx].base+"/ping", nil, nil); err == nil || ctx.Err() != nil {
			return err
		}
		if isDialError(err) {
			c.endpoints[idx].downUntil.Store(time.Now().Add(c.downFor).UnixNano())
			err = fmt.Errorf("%w: %w", ErrNoEndpoint, err)
		}
	}
	return err
}

// CreateDB creates a database (POST /create-db).
func (c *Client) CreateDB(ctx context.Context, name string, ifNotExists bool) error {
	buf := make([]byte, 0, 64+len(name))
	buf = append(buf, `{"databaseName":`...)
	buf = appendJSONString(buf, name)
	if ifNotExists {
		buf = append(buf, `,"ifNotExists":true}`...)
	} else {
		buf = append(buf, `,"ifNotExists":false}`...)
	}
	_, err := c.do(ctx, http.MethodPost, "/create-db", buf, 0, nil)
	return err
}

// DropDB drops a database (POST /drop-db).
func (c *Client) DropDB(ctx context.Context, name string) error {
	buf := make([]byte, 0, 32+len(name))
	buf = append(buf, `{"databaseName":`...)
	buf = append(appendJSONString(buf, name), '}')
	_, err := c.do(ctx, http.MethodPost, "/drop-db", buf, 0, nil)
	return err
}

func (c *Client) sqlBody(r *sqlRequest) ([]byte, error) {
	buf := make([]byte, 0, 96+len(r.database)+len(r.sql)+48*len(r.params))
	return appendSQLRequest(buf, r)
}

// Query runs any statement through /execute-sql-query and returns its rows
// in column order. txn may be nil (autocommit). A BEGIN statement returns
// the new transaction in Result.Txn; COMMIT/ROLLBACK act on txn.
func (c *Client) Query(ctx context.Context, db, sql string, params map[string]any, txn *Txn) (*Result, error) {
	body, err := c.sqlBody(&sqlRequest{database: db, sql: sql, params: params, txn: txn, rowArray: true})
	if err != nil {
		return nil, err
	}
	var resp response
	ep, err := c.do(ctx, http.MethodPost, "/execute-sql-query", body, txnPin(txn), &resp)
	if err != nil {
		return nil, err
	}
	res := resp.toResult()
	if res.Txn != nil {
		res.Txn.Database = db
		res.Txn.endpoint = ep
	}
	return res, nil
}

// Exec runs an INSERT, UPDATE or DELETE through /execute-sql-non-query and
// returns the number of affected rows.
func (c *Client) Exec(ctx context.Context, db, sql string, params map[string]any, txn *Txn) (int64, error) {
	body, err := c.sqlBody(&sqlRequest{database: db, sql: sql, params: params, txn: txn})
	if err != nil {
		return 0, err
	}
	var resp response
	if _, err := c.do(ctx, http.MethodPost, "/execute-sql-non-query", body, txnPin(txn), &resp); err != nil {
		return 0, err
	}
	return resp.affected, nil
}

// ExecDDL runs a DDL statement through /execute-sql-ddl.
func (c *Client) ExecDDL(ctx context.Context, db, sql string) error {
	body, err := c.sqlBody(&sqlRequest{database: db, sql: sql})
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodPost, "/execute-sql-ddl", body, 0, nil)
	return err
}

// Begin opens an explicit transaction (POST /start-transaction).
func (c *Client) Begin(ctx context.Context, db string) (*Txn, error) {
	buf := make([]byte, 0, 32+len(db))
	buf = append(buf, `{"databaseName":`...)
	buf = append(appendJSONString(buf, db), '}')
	var resp response
	ep, err := c.do(ctx, http.MethodPost, "/start-transaction", buf, 0, &resp)
	if err != nil {
		return nil, err
	}
	if !resp.hasPT || !resp.hasCounter {
		return nil, errors.New("client: start-transaction answered without txnIdPT/txnIdCounter")
	}
	return &Txn{PT: resp.txnPT, Counter: resp.txnCounter, Database: db, endpoint: ep}, nil
}

// Commit commits txn (POST /commit-transaction). A transport error after
// the request was sent leaves the outcome unknown, like CADB0505.
func (c *Client) Commit(ctx context.Context, txn *Txn) error {
	return c.endTxn(ctx, "/commit-transaction", txn)
}

// Rollback aborts txn (POST /rollback-transaction).
func (c *Client) Rollback(ctx context.Context, txn *Txn) error {
	return c.endTxn(ctx, "/rollback-transaction", txn)
}

func (c *Client) endTxn(ctx context.Context, path string, txn *Txn) error {
	if txn == nil {
		return errors.New("client: nil transaction")
	}
	buf := make([]byte, 0, 80+len(txn.Database))
	buf = append(buf, `{"databaseName":`...)
	buf = appendJSONString(buf, txn.Database)
	buf = append(appendTxnFields(buf, txn), '}')
	_, err := c.do(ctx, http.MethodPost, path, buf, txnPin(txn), nil)
	return err
}

func txnPin(txn *Txn) int {
	if txn == nil {
		return 0
	}
	return txn.endpoint
}

// RunTxn runs fn inside a new transaction of db and commits it, retrying the
// whole transaction (up to maxAttempts times in all) while the error is
// retryable. fn must be safe to run more than once. On a non-retryable error
// from fn the transaction is rolled back and the error returned. It returns
// the number of attempts made.
func (c *Client) RunTxn(ctx context.Context, db string, maxAttempts int, fn func(ctx context.Context, txn *Txn) error) (int, error) {
	var err error
	attempt := 0
	for attempt < max(1, maxAttempts) {
		attempt++
		var txn *Txn
		txn, err = c.Begin(ctx, db)
		if err == nil {
			if err = fn(ctx, txn); err == nil {
				if err = c.Commit(ctx, txn); err == nil {
					return attempt, nil
				}
			} else {
				// Best effort: the server also expires idle transactions.
				_ = c.Rollback(context.WithoutCancel(ctx), txn)
			}
		}
		if !IsRetryable(err) || ctx.Err() != nil {
			return attempt, err
		}
	}
	return attempt, err
}
