package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/camusdb/camusdb-go/client"
)

// Target is one system under test, as the workloads see it. Statements use
// PostgreSQL's $1, $2 ... placeholders and SQL both systems accept.
type Target interface {
	Name() string
	// Exec runs a statement outside any explicit transaction.
	Exec(ctx context.Context, sql string, args ...any) error
	// QueryRows runs a query and returns how many rows it produced.
	QueryRows(ctx context.Context, sql string, args ...any) (int, error)
	// QueryInt64s runs a query and returns the first row's integer columns.
	QueryInt64s(ctx context.Context, sql string, args ...any) ([]int64, error)
	// Txn runs fn in a serializable transaction, retrying serialization
	// failures; it returns the number of attempts.
	Txn(ctx context.Context, fn func(tx Tx) error) (attempts int, err error)
	Close()
}

// Tx is a statement runner inside a transaction.
type Tx interface {
	Exec(ctx context.Context, sql string, args ...any) error
	QueryInt64s(ctx context.Context, sql string, args ...any) ([]int64, error)
}

// maxAttempts bounds the tries of one transaction.
const maxAttempts = 50

// --- pgwire (PostgreSQL itself, or CamusDB's pgwire listener) ---

type pgTarget struct {
	name string
	pool *pgxpool.Pool
}

// NewPGTarget connects to dsn with up to conns connections. Both
// PostgreSQL and CamusDB's pgwire listener are driven this way (extended
// protocol, prepared statements cached per connection).
func NewPGTarget(ctx context.Context, name, dsn string, conns int) (Target, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	cfg.MaxConns = int32(max(conns, 1))
	cfg.MinConns = cfg.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	return &pgTarget{name: name, pool: pool}, nil
}

func (t *pgTarget) Name() string { return t.name }
func (t *pgTarget) Close()       { t.pool.Close() }

func (t *pgTarget) Exec(ctx context.Context, sql string, args ...any) error {
	_, err := t.pool.Exec(ctx, sql, args...)
	return err
}

func (t *pgTarget) QueryRows(ctx context.Context, sql string, args ...any) (int, error) {
	rows, err := t.pool.Query(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	return n, rows.Err()
}

func (t *pgTarget) QueryInt64s(ctx context.Context, sql string, args ...any) ([]int64, error) {
	return pgInt64s(ctx, t.pool, sql, args...)
}

type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func pgInt64s(ctx context.Context, q pgQuerier, sql string, args ...any) ([]int64, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	vals, err := rows.Values()
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(vals))
	for i, v := range vals {
		if out[i], err = toInt64(v); err != nil {
			return nil, err
		}
	}
	rows.Close()
	return out, rows.Err()
}

// toInt64 converts one result value to an integer: SQL NULL is 0, and a
// value of any other kind is an error rather than a silent 0 (the
// workloads' consistency checks compare sums).
func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case float64:
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: %q is not an integer", x)
		}
		return n, nil
	case pgtype.Int64Valuer: // numeric (PostgreSQL's SUM of a BIGINT)
		n, err := x.Int64Value()
		if err != nil || !n.Valid {
			return 0, fmt.Errorf("bench: %v is not an integer", v)
		}
		return n.Int64, nil
	}
	return 0, fmt.Errorf("bench: a result value of type %T where an integer was expected", v)
}

type pgTx struct{ tx pgx.Tx }

func (t pgTx) Exec(ctx context.Context, sql string, args ...any) error {
	_, err := t.tx.Exec(ctx, sql, args...)
	return err
}

func (t pgTx) QueryInt64s(ctx context.Context, sql string, args ...any) ([]int64, error) {
	return pgInt64s(ctx, t.tx, sql, args...)
}

func (t *pgTarget) Txn(ctx context.Context, fn func(tx Tx) error) (int, error) {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = func() error {
			tx, err := t.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
			if err != nil {
				return err
			}
			if err := fn(pgTx{tx}); err != nil {
				_ = tx.Rollback(context.WithoutCancel(ctx))
				return err
			}
			return tx.Commit(ctx)
		}()
		if err == nil || !pgRetryable(err) || ctx.Err() != nil {
			return attempt, err
		}
	}
	return maxAttempts, err
}

// pgRetryable: serialization failure or deadlock (SQLSTATE class 40).
func pgRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && len(pe.Code) == 5 && pe.Code[:2] == "40"
}

// --- CamusDB over HTTP ---

type httpTarget struct {
	c  *client.Client
	hc *http.Client // c's transport: Close closes its connections
	db string
	// statements maps a $n statement text to its @pn form (httpSQL);
	// statementCount bounds it to maxHTTPStatements texts.
	statements     sync.Map
	statementCount atomic.Int64
}

// HTTPClient names the HTTP client library of the HTTP target.
type HTTPClient string

const (
	// HTTPClientSync (the default) makes each exchange on the calling
	// goroutine over pooled keep-alive connections (syncTransport).
	HTTPClientSync HTTPClient = "sync"
	// HTTPClientNetHTTP is Go's net/http Transport.
	HTTPClientNetHTTP HTTPClient = "net/http"
)

// NewHTTPTarget drives CamusDB's HTTP API at the endpoints, in database db
// (created if missing), through the Go client over the given HTTP client
// library ("" is HTTPClientSync), with up to conns keep-alive connections
// per endpoint, as the pgwire targets use a pool of conns connections.
func NewHTTPTarget(ctx context.Context, endpoints []string, user, password, db string, conns int, lib HTTPClient) (Target, error) {
	var hc *http.Client
	switch lib {
	case "", HTTPClientSync:
		hc = &http.Client{Transport: newSyncTransport()}
	case HTTPClientNetHTTP:
		hc = benchHTTPClient(conns, len(endpoints))
	default:
		return nil, fmt.Errorf("bench: unknown HTTP client %q (want %s or %s)", lib, HTTPClientSync, HTTPClientNetHTTP)
	}
	opts := []client.Option{client.WithHTTPClient(hc)}
	if user != "" {
		opts = append(opts, client.WithCredentials(user, password))
	}
	c := client.New(endpoints, opts...)
	if err := c.CreateDB(ctx, db, true); err != nil {
		hc.CloseIdleConnections()
		return nil, fmt.Errorf("bench: http: %w", err)
	}
	return &httpTarget{c: c, hc: hc, db: db}, nil
}

// benchHTTPClient is the net/http client of the HTTP target: a connection
// pool like pgxpool's. MaxConnsPerHost makes a client whose connection is still
// being handed back (net/http returns it from its read goroutine, just
// after the caller saw the body end) wait for it instead of dialing another
// one, which the idle pool would then close: without it 16 clients keep
// opening new TCP connections. No per-request timeout (net/http would
// start a timer per request), as pgx has no statement timeout either: the
// run's context ends every request.
func benchHTTPClient(conns, endpoints int) *http.Client {
	conns = max(conns, 1)
	return &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:     conns,
		MaxIdleConns:        conns * max(endpoints, 1),
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second,
		// The API answers uncompressed JSON; asking for gzip would only
		// add a header.
		DisableCompression: true,
	}}
}

func (t *httpTarget) Name() string { return "camusdb-http" }
func (t *httpTarget) Close()       { t.hc.CloseIdleConnections() }

var placeholder = regexp.MustCompile(`\$([0-9]+)`)

// maxHTTPStatements bounds httpTarget.statements.
const maxHTTPStatements = 1024

// paramNames are the parameter names @p1, @p2, ... without the '@'.
var paramNames = func() (names [16]string) {
	for i := range names {
		names[i] = "p" + strconv.Itoa(i+1)
	}
	return names
}()

// httpSQL turns $n placeholders into @pn parameters. The HTTP form of each
// text is kept (the workloads repeat a few texts), as the pgwire targets
// prepare each text once per connection.
func (t *httpTarget) httpSQL(sql string, args []any) (string, map[string]any) {
	if len(args) == 0 {
		return sql, nil
	}
	params := make(map[string]any, len(args))
	for i, a := range args {
		if i < len(paramNames) {
			params[paramNames[i]] = a
		} else {
			params["p"+strconv.Itoa(i+1)] = a
		}
	}
	if converted, ok := t.statements.Load(sql); ok {
		return converted.(string), params
	}
	converted := placeholder.ReplaceAllString(sql, "@p$1")
	if t.statementCount.Add(1) <= maxHTTPStatements {
		t.statements.Store(sql, converted)
	}
	return converted, params
}

// Exec runs a statement through /execute-sql-non-query, as an application
// that wants no rows back does.
func (t *httpTarget) Exec(ctx context.Context, sql string, args ...any) error {
	q, params := t.httpSQL(sql, args)
	_, err := t.c.Exec(ctx, t.db, q, params, nil)
	return err
}

func (t *httpTarget) QueryRows(ctx context.Context, sql string, args ...any) (int, error) {
	q, params := t.httpSQL(sql, args)
	res, err := t.c.Query(ctx, t.db, q, params, nil)
	if err != nil {
		return 0, err
	}
	return len(res.Rows), nil
}

func (t *httpTarget) QueryInt64s(ctx context.Context, sql string, args ...any) ([]int64, error) {
	return t.int64s(ctx, nil, sql, args...)
}

func (t *httpTarget) int64s(ctx context.Context, txn *client.Txn, sql string, args ...any) ([]int64, error) {
	q, params := t.httpSQL(sql, args)
	res, err := t.c.Query(ctx, t.db, q, params, txn)
	if err != nil || len(res.Rows) == 0 {
		return nil, err
	}
	out := make([]int64, len(res.Rows[0]))
	for i, v := range res.Rows[0] {
		if out[i], err = toInt64(v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type httpTx struct {
	t   *httpTarget
	txn *client.Txn
}

func (x httpTx) Exec(ctx context.Context, sql string, args ...any) error {
	q, params := x.t.httpSQL(sql, args)
	_, err := x.t.c.Exec(ctx, x.t.db, q, params, x.txn)
	return err
}

func (x httpTx) QueryInt64s(ctx context.Context, sql string, args ...any) ([]int64, error) {
	return x.t.int64s(ctx, x.txn, sql, args...)
}

func (t *httpTarget) Txn(ctx context.Context, fn func(tx Tx) error) (int, error) {
	return t.c.RunTxn(ctx, t.db, maxAttempts, func(ctx context.Context, txn *client.Txn) error {
		return fn(httpTx{t: t, txn: txn})
	})
}
