package catalog

import "context"

// The slice of the kv layer the SQL layer uses. kv.DB / kv.Txn implement
// these; unit tests may use an in-memory fake.

// DB opens transactions.
type DB interface {
	// Begin starts a serializable transaction with a fresh read timestamp.
	Begin(ctx context.Context) (Txn, error)
}

// Txn is a serializable transaction. Writes are buffered until Commit and
// visible to the transaction's own later reads.
type Txn interface {
	// Get reads key; found=false when absent.
	Get(ctx context.Context, key []byte) (value []byte, found bool, err error)
	// Scan iterates [start, end) in key order (reverse: descending). The span
	// must lie within one bucket (one table's rows, one index, or the
	// system catalog). The iterator fetches in batches; it never
	// materialises the whole span.
	Scan(ctx context.Context, start, end []byte, reverse bool) Iterator
	Put(key, value []byte) error
	Delete(key []byte) error
	// Commit makes every write visible atomically or returns an error; on
	// error nothing was written (except *kvpb.AmbiguousError: unknown).
	Commit(ctx context.Context) error
	// Rollback discards the transaction. Safe to call after Commit (no-op).
	Rollback(ctx context.Context) error
}

// Iterator is a forward-only cursor over a Scan.
type Iterator interface {
	// Next advances; false at the end or on error (check Err).
	Next(ctx context.Context) bool
	// Key and Value are valid until the next call to Next.
	Key() []byte
	Value() []byte
	Err() error
	Close()
}
