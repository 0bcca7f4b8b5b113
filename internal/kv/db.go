package kv

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/replica"
)

// Config configures a DB.
type Config struct {
	Sender        Sender
	Clock         *hlc.Clock
	NumPartitions int
	// NodeID and Epoch identify this coordinator incarnation (Epoch grows at
	// every process start), stamped on intents so that others can tell a
	// restarted coordinator's transactions are dead.
	NodeID, Epoch uint64
	// AbandonAfter is how long after its intents were laid a transaction of
	// an unreachable coordinator may be aborted by others (default 10 s).
	AbandonAfter time.Duration
	// MaxTxnAge: a transaction whose read timestamp is older than this fails
	// with a retry error (default 5 min). Garbage collection keeps versions
	// for longer than that (see GCTTL in internal/server).
	MaxTxnAge time.Duration
	// UncertaintyWindow is the maximum clock offset between nodes (0:
	// none, e.g. a standalone node with one clock). A read at readTS that
	// meets a version in (readTS, start + UncertaintyWindow] cannot tell
	// whether it was written before the transaction started, by a node
	// whose clock is ahead: the transaction moves its read timestamp above
	// it (see Txn.readUncertain).
	UncertaintyWindow time.Duration
	// MaxCommandBytes is the replicated command size limit of the nodes
	// (raft_max_command_bytes; default replica.DefaultMaxCommandBytes).
	// A transaction whose writes in its home partition could come near it
	// lays them as intents in several commands before its commit record
	// instead of committing them with it (Txn.commitWrites).
	MaxCommandBytes int
	// MaxWriteBytes bounds the writes one transaction buffers until its
	// commit (kvpb.WriteCost each; 0: no bound): past it a write fails
	// with *kvpb.TxnTooLargeError and is not buffered. The buffer lives
	// in the coordinator's memory, so without a bound one statement
	// touching every row of a large table could take the node's memory.
	MaxWriteBytes int64
	Logger        *slog.Logger
	// Knobs are hooks for tests; the zero value is the product behaviour.
	Knobs TestingKnobs
}

// TestingKnobs inject faults in tests.
type TestingKnobs struct {
	// BeforeCommitRecord runs after every participant prepared and before
	// the COMMITTED record is written. An error abandons the commit right
	// there, leaving intents and no record, as if the coordinator process
	// died; Commit returns that error.
	BeforeCommitRecord func(id mvcc.TxnID) error
	// OnHolderWait runs when a transaction holding intents starts waiting
	// for another transaction's intent.
	OnHolderWait func(waiter, owner mvcc.TxnID)
}

// DB is the coordinator side of the kv layer on one node.
type DB struct {
	cfg     Config
	sender  Sender
	clock   *hlc.Clock
	metrics metrics

	mu struct {
		sync.Mutex
		// committing holds the transactions of this node between their first
		// prepare and their final decision; their intents must be waited on.
		committing map[mvcc.TxnID]struct{}
		// waitsFor: a committing transaction of this node -> the
		// transactions whose intents it waits for (see deadlock.go).
		waitsFor map[mvcc.TxnID]map[mvcc.TxnID]*waitEdge
	}
	// async intent resolution after commit
	asyncCtx    context.Context
	asyncCancel context.CancelFunc
	asyncWG     sync.WaitGroup
	resolver    *resolver
	closing     chan struct{} // closed by Close
	closeOnce   sync.Once

	// ids hands out transaction id generators: ChaCha8 streams, each
	// seeded from crypto/rand when made. Reading crypto/rand for every
	// transaction was a system call, over a microsecond of a point
	// query's CPU; ids stay random, so unique with overwhelming
	// probability across nodes and restarts, as before. A pool, not one
	// generator under a mutex: sixteen clients contended for that.
	ids sync.Pool // *mathrand.ChaCha8
}

func newIDGenerator() any {
	var seed [32]byte
	_, _ = rand.Read(seed[:]) // crypto/rand.Read never returns an error (it crashes instead)
	return mathrand.NewChaCha8(seed)
}

// NewDB returns a DB.
func NewDB(cfg Config) *DB {
	if cfg.AbandonAfter <= 0 {
		cfg.AbandonAfter = 10 * time.Second
	}
	if cfg.MaxCommandBytes <= 0 {
		cfg.MaxCommandBytes = replica.DefaultMaxCommandBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxTxnAge <= 0 {
		cfg.MaxTxnAge = 5 * time.Minute
	}
	if cfg.NumPartitions < 1 {
		cfg.NumPartitions = 1
	}
	db := &DB{cfg: cfg, sender: cfg.Sender, clock: cfg.Clock}
	db.ids.New = newIDGenerator
	db.mu.committing = make(map[mvcc.TxnID]struct{})
	db.mu.waitsFor = make(map[mvcc.TxnID]map[mvcc.TxnID]*waitEdge)
	db.asyncCtx, db.asyncCancel = context.WithCancel(context.Background())
	db.closing = make(chan struct{})
	db.resolver = newResolver(db)
	db.asyncWG.Add(1)
	go func() {
		defer db.asyncWG.Done()
		db.resolver.run()
	}()
	return db
}

// Close waits for background intent resolution to finish (bounded by ctx);
// what it does not finish, readers resolve later.
func (db *DB) Close(ctx context.Context) {
	db.closeOnce.Do(func() { close(db.closing) })
	done := make(chan struct{})
	go func() { db.asyncWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		db.asyncCancel()
		<-done
	}
	db.asyncCancel()
}

// Clock returns the coordinator's clock.
func (db *DB) Clock() *hlc.Clock { return db.clock }

// Begin starts a transaction reading at the clock's current time.
func (db *DB) Begin(ctx context.Context) (*Txn, error) {
	db.metrics.begun.Add(1)
	t := &Txn{db: db, readTS: db.clock.Now()}
	if w := db.cfg.UncertaintyWindow; w > 0 {
		t.uncertainty = hlc.Timestamp{WallTime: t.readTS.WallTime + int64(w)}
	}
	ids := db.ids.Get().(*mathrand.ChaCha8)
	_, _ = ids.Read(t.id[:]) // never fails
	db.ids.Put(ids)
	return t, nil
}

// RunTxn runs fn in a transaction and commits it, retrying on retryable
// errors up to attempts times.
func (db *DB) RunTxn(ctx context.Context, attempts int, fn func(*Txn) error) error {
	var err error
	for i := 0; i < attempts; i++ {
		var t *Txn
		if t, err = db.Begin(ctx); err != nil {
			return err
		}
		if err = fn(t); err == nil {
			err = t.Commit(ctx)
		}
		if err == nil {
			return nil
		}
		_ = t.Rollback(ctx)
		if !kvpb.IsRetryable(err) {
			return err
		}
		if werr := backoff(ctx, i); werr != nil {
			return err
		}
	}
	return err
}

func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(1<<min(attempt, 6)) * time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ClearSpan removes every version and intent of the keys in [start, end)
// with one replicated range deletion instead of a tombstone per key. The
// span must be one bucket's (a prefix and its PrefixEnd: a dropped table's
// rows or one of its indexes) and hold only keys no transaction will read
// at or above notBelow or write again. It fails with a *kvpb.RetryError,
// changing nothing, until the partition's GC threshold reaches notBelow
// (see kvserver.Server.ClearSpan): until then an old transaction may still
// read the keys.
func (db *DB) ClearSpan(ctx context.Context, start, end []byte, notBelow hlc.Timestamp) error {
	c, ok := db.sender.(SpanClearer)
	if !ok {
		return errors.New("kv: this node's sender cannot clear spans")
	}
	pid, err := db.partitionOf(start)
	if err != nil {
		return err
	}
	return c.ClearSpan(ctx, pid, start, end, notBelow)
}

func (db *DB) partitionOf(key []byte) (uint64, error) {
	p, err := kvpb.PartitionOf(key, db.cfg.NumPartitions)
	if err != nil {
		return 0, fmt.Errorf("kv: %w", err)
	}
	return p, nil
}

// spanPartition routes a span, which must lie within one bucket.
func (db *DB) spanPartition(start, end []byte) (uint64, error) {
	bucket, err := kvpb.BucketOf(start)
	if err != nil {
		return 0, fmt.Errorf("kv: scan start: %w", err)
	}
	if end != nil {
		if bEnd := kvpb.PrefixEnd(bucket); bEnd != nil && bytes.Compare(end, bEnd) > 0 {
			return 0, fmt.Errorf("kv: scan [%x, %x) crosses its bucket %x", start, end, bucket)
		}
	}
	return kvpb.PartitionOfBucket(bucket, db.cfg.NumPartitions), nil
}

func (db *DB) setCommitting(id mvcc.TxnID, on bool) {
	db.mu.Lock()
	if on {
		db.mu.committing[id] = struct{}{}
	} else {
		delete(db.mu.committing, id)
	}
	db.mu.Unlock()
}

func (db *DB) isCommitting(id mvcc.TxnID) bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	_, ok := db.mu.committing[id]
	return ok
}

// withIntentRetry runs op, resolving intents it meets and retrying; see
// handleIntent for holder.
func (db *DB) withIntentRetry(ctx context.Context, partitionID uint64, holder *holderTxn, op func() error) error {
	for round := 0; ; round++ {
		err := op()
		if err == nil {
			return nil
		}
		if err := db.afterIntent(ctx, partitionID, holder, round, err); err != nil {
			return err
		}
	}
}

// afterIntent handles the error of round (from 0) of an operation
// withIntentRetry runs: nil when it was an intent, now resolved or gone,
// and the operation is to run again; the error to return otherwise.
func (db *DB) afterIntent(ctx context.Context, partitionID uint64, holder *holderTxn, round int, err error) error {
	var ie *mvcc.IntentError
	if !errors.As(err, &ie) {
		return err
	}
	if round >= maxIntentRounds {
		return &kvpb.ConflictError{Reason: fmt.Sprintf("key %q stayed locked by transaction %s", ie.Key, ie.Intent.TxnID)}
	}
	if herr := db.handleIntent(ctx, partitionID, ie, round, holder); herr != nil {
		if errors.Is(herr, context.Canceled) || errors.Is(herr, context.DeadlineExceeded) {
			return &kvpb.RetryError{Reason: herr.Error()}
		}
		return herr
	}
	return nil
}
