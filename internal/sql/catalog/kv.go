package catalog

import (
	"context"

	"github.com/camusdb/camusdb-go/internal/hlc"
)

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

// WriteBudgeter is a transaction that bounds the writes it buffers until
// its commit (kv.Txn.WriteBytesLeft): a statement that buffers its own
// writes first checks them against what is left.
type WriteBudgeter interface {
	WriteBytesLeft() (left, limit int64)
}

// TimestampedTxn is a Txn that exposes its timestamps and accepts bounds on
// its commit timestamp (kv.Txn does; so does catalogtest's MemDB). Schema
// leases need them: a cached descriptor is valid for a range of read
// timestamps, and a descriptor change commits above the moment every node
// stopped using the previous version.
type TimestampedTxn interface {
	Txn
	// ReadTimestamp is the snapshot the transaction reads at.
	ReadTimestamp() hlc.Timestamp
	// SetMinCommitTimestamp: the writes commit at ts or above.
	SetMinCommitTimestamp(ts hlc.Timestamp)
	// SetDeadline: a commit that would land at ts or above fails with a
	// retryable error and writes nothing.
	SetDeadline(ts hlc.Timestamp)
	// RecordRead adds key to the read set as if read at the read
	// timestamp (the commit conflicts with a write of it in between).
	// A string: the lease cache records keys it holds as strings, without
	// a copy.
	RecordRead(key string) error
}

// ClockedDB is a DB whose transactions are TimestampedTxn; Now reads the
// clock their timestamps come from.
type ClockedDB interface {
	DB
	Now() hlc.Timestamp
}

// SpanClearer is a ClockedDB that removes every key of a span at once
// (kv.DB.ClearSpan): the span must be one bucket's (a prefix and its
// PrefixEnd), holding keys no transaction reads at or above notBelow or
// writes again; until no read below notBelow can succeed it fails with a
// retryable error.
type SpanClearer interface {
	ClockedDB
	ClearSpan(ctx context.Context, start, end []byte, notBelow hlc.Timestamp) error
}

// Resolver resolves the descriptors a statement names. DecodeCache reads
// them through the statement's transaction; the schema lease manager
// (package lease) serves them from its cache when it may.
type Resolver interface {
	GetDatabase(ctx context.Context, kv KV, name string) (*DatabaseDesc, error)
	GetTable(ctx context.Context, kv KV, dbID uint32, name string) (*TableDesc, error)
}

var _ Resolver = (*DecodeCache)(nil)

// SharedResolver is a Resolver that can also hand out a cached table
// descriptor without copying it, for callers that only read it (the
// point-query fast path). The descriptor must not be modified.
type SharedResolver interface {
	Resolver
	GetTableShared(ctx context.Context, kv KV, dbID uint32, name string) (*TableDesc, error)
}

// GetDatabaseShared resolves a database through r, without a copy when r
// can hand out its cached descriptor (the schema lease cache); the result
// must not be modified.
func GetDatabaseShared(ctx context.Context, r Resolver, kv KV, name string) (*DatabaseDesc, error) {
	if sr, ok := r.(interface {
		GetDatabaseShared(ctx context.Context, kv KV, name string) (*DatabaseDesc, error)
	}); ok {
		return sr.GetDatabaseShared(ctx, kv, name)
	}
	return r.GetDatabase(ctx, kv, name)
}

// GetTableShared resolves a table through r, without a copy when r is a
// SharedResolver; the result must not be modified. A nil r reads the
// descriptor through kv.
func GetTableShared(ctx context.Context, r Resolver, kv KV, dbID uint32, name string) (*TableDesc, error) {
	switch r := r.(type) {
	case nil:
		return (*DecodeCache)(nil).GetTable(ctx, kv, dbID, name)
	case SharedResolver:
		return r.GetTableShared(ctx, kv, dbID, name)
	default:
		return r.GetTable(ctx, kv, dbID, name)
	}
}

// ParallelScanner is a KV that can read the values of a span with several
// goroutines (kv.Txn.ScanValuesParallel): the same values, at the same
// snapshot and recorded in the read set the same way as a Scan of the
// span, visited in pieces numbered in key order from 0 (below
// opts.Pieces+1), each piece's values in key order from one goroutine,
// different pieces concurrently. ok=false (after visits, perhaps) means it
// did not read the span: the caller discards what it gathered and uses
// Scan.
type ParallelScanner interface {
	ScanValuesParallel(ctx context.Context, start, end []byte, opts ParallelScan, visit func(piece int, value []byte) error) (ok bool, err error)
}

// ParallelScan configures ParallelScanner.ScanValuesParallel.
type ParallelScan struct {
	// Workers is the most goroutines reading at once; Pieces how many
	// pieces the span is cut into (at least Workers).
	Workers, Pieces int
	// BatchBytes bounds what each goroutine holds of the keys and values
	// it read and has not visited yet.
	BatchBytes int
}
