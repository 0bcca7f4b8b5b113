package bench

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
		out[i] = toInt64(v)
	}
	rows.Close()
	return out, rows.Err()
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
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
	db string
}

// NewHTTPTarget drives CamusDB's HTTP API at the endpoints, in database db
// (created if missing).
func NewHTTPTarget(ctx context.Context, endpoints []string, user, password, db string, conns int) (Target, error) {
	opts := []client.Option{client.WithMaxIdleConnsPerHost(max(conns, 2))}
	if user != "" {
		opts = append(opts, client.WithCredentials(user, password))
	}
	c := client.New(endpoints, opts...)
	if err := c.CreateDB(ctx, db, true); err != nil {
		c.Close()
		return nil, fmt.Errorf("bench: http: %w", err)
	}
	return &httpTarget{c: c, db: db}, nil
}

func (t *httpTarget) Name() string { return "camusdb-http" }
func (t *httpTarget) Close()       { t.c.Close() }

var placeholder = regexp.MustCompile(`\$([0-9]+)`)

// httpSQL turns $n placeholders into @pn parameters.
func httpSQL(sql string, args []any) (string, map[string]any) {
	if len(args) == 0 {
		return sql, nil
	}
	params := make(map[string]any, len(args))
	for i, a := range args {
		params["p"+strconv.Itoa(i+1)] = a
	}
	return placeholder.ReplaceAllString(sql, "@p$1"), params
}

func (t *httpTarget) Exec(ctx context.Context, sql string, args ...any) error {
	q, params := httpSQL(sql, args)
	_, err := t.c.Query(ctx, t.db, q, params, nil)
	return err
}

func (t *httpTarget) QueryRows(ctx context.Context, sql string, args ...any) (int, error) {
	q, params := httpSQL(sql, args)
	res, err := t.c.Query(ctx, t.db, q, params, nil)
	if err != nil {
		return 0, err
	}
	return len(res.Rows), nil
}

func (t *httpTarget) QueryInt64s(ctx context.Context, sql string, args ...any) ([]int64, error) {
	return httpInt64s(ctx, t.c, t.db, nil, sql, args...)
}

func httpInt64s(ctx context.Context, c *client.Client, db string, txn *client.Txn, sql string, args ...any) ([]int64, error) {
	q, params := httpSQL(sql, args)
	res, err := c.Query(ctx, db, q, params, txn)
	if err != nil || len(res.Rows) == 0 {
		return nil, err
	}
	out := make([]int64, len(res.Rows[0]))
	for i, v := range res.Rows[0] {
		out[i] = toInt64(v)
	}
	return out, nil
}

type httpTx struct {
	t   *httpTarget
	txn *client.Txn
}

func (x httpTx) Exec(ctx context.Context, sql string, args ...any) error {
	q, params := httpSQL(sql, args)
	_, err := x.t.c.Exec(ctx, x.t.db, q, params, x.txn)
	return err
}

func (x httpTx) QueryInt64s(ctx context.Context, sql string, args ...any) ([]int64, error) {
	return httpInt64s(ctx, x.t.c, x.t.db, x.txn, sql, args...)
}

func (t *httpTarget) Txn(ctx context.Context, fn func(tx Tx) error) (int, error) {
	return t.c.RunTxn(ctx, t.db, maxAttempts, func(ctx context.Context, txn *client.Txn) error {
		return fn(httpTx{t: t, txn: txn})
	})
}
