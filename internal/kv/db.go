package kv

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
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
	Logger          *slog.Logger
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
		// transactions whose intents it waits for (with wait counts).
		waitsFor map[mvcc.TxnID]map[mvcc.TxnID]int
	}
	// async intent resolution after commit
	asyncCtx    context.Context
	asyncCancel context.CancelFunc
	asyncWG     sync.WaitGroup
	resolver    *resolver
	closing     chan struct{} // closed by Close
	closeOnce   sync.Once
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
	db.mu.committing = make(map[mvcc.TxnID]struct{})
	db.mu.waitsFor = make(map[mvcc.TxnID]map[mvcc.TxnID]int)
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
	if _, err := rand.Read(t.id[:]); err != nil {
		return nil, err
	}
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

// maxIntentRounds bounds how often one request resolves intents and retries.
const maxIntentRounds = 200

// Waiting on the intent of a live transaction: a reader waits in the
// partition's queue up to readerWait per round; a request that holds intents
// of its own (prepare, refresh) waits up to holderWait per round and at most
// holderRounds rounds, and never when waiting would close a cycle in the
// node's waits-for graph (deadlock): then it fails with a conflict.
const (
	readerWait   = 50 * time.Millisecond
	holderWait   = 20 * time.Millisecond
	holderRounds = 10
)

// handleIntent decides what to do about another transaction's intent met
// at key in partitionID: resolve it when the owner's outcome is known, abort
// the owner when its coordinator is gone, or wait in the partition's queue
// when it is alive and committing. The caller retries its request after.
// holder is the transaction making the request when that request holds
// intents of its own, nil for plain reads.
func (db *DB) handleIntent(ctx context.Context, partitionID uint64, ie *mvcc.IntentError, round int, holder *holderTxn) error {
	in := ie.Intent
	rec, err := db.sender.GetTxnRecord(ctx, in.Home, in.TxnID)
	if err != nil {
		return err
	}
	if rec == nil || rec.Status == mvcc.TxnPending {
		if db.ownerAlive(ctx, in) && !db.shouldPush(ie, round, holder) {
			db.metrics.intentWaits.Add(1)
			if holder == nil {
				return db.sender.WaitIntent(ctx, partitionID, ie.Key, in.TxnID, readerWait)
			}
			if round >= holderRounds || !db.addWait(holder.id, in.TxnID) {
				return &kvpb.ConflictError{Reason: fmt.Sprintf("key %q is being committed by transaction %s", ie.Key, in.TxnID)}
			}
			defer db.removeWait(holder.id, in.TxnID)
			if hook := db.cfg.Knobs.OnHolderWait; hook != nil {
				hook(holder.id, in.TxnID)
			}
			return db.sender.WaitIntent(ctx, partitionID, ie.Key, in.TxnID, holderWait)
		}
		db.metrics.pushed.Add(1)
		rec, err = db.sender.FinalizeTxn(ctx, in.Home, in.TxnID, &mvcc.TxnRecord{Status: mvcc.TxnAborted, StartWall: in.Priority})
		if err != nil {
			return err
		}
	}
	commit := rec.Status == mvcc.TxnCommitted
	return db.sender.ResolveIntents(ctx, partitionID, []kvserver.Resolution{{TxnID: in.TxnID, Keys: [][]byte{ie.Key}, Commit: commit, CommitTS: rec.CommitTS}})
}

// holderTxn is a committing transaction that holds intents of its own.
type holderTxn struct {
	id       mvcc.TxnID
	priority int64 // start wall time: smaller = older = wins pushes
}

// shouldPush decides that a holder stops waiting for a live owner and
// aborts it instead: when waiting longer is not allowed (its wait rounds
// are used up, or waiting would close a deadlock cycle) and the holder is
// the older transaction. The younger side of a conflict gives way, so a
// long-running transaction is not starved by a stream of younger ones.
func (db *DB) shouldPush(ie *mvcc.IntentError, round int, holder *holderTxn) bool {
	if holder == nil || holder.priority >= ie.Intent.Priority {
		return false
	}
	if round >= holderRounds {
		return true
	}
	if !db.addWait(holder.id, ie.Intent.TxnID) {
		return true // deadlock, and we are older
	}
	db.removeWait(holder.id, ie.Intent.TxnID)
	return false
}

// addWait records that waiter waits for owner, unless owner (transitively)
// waits for waiter already: then it reports false (a deadlock).
func (db *DB) addWait(waiter, owner mvcc.TxnID) bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	seen := map[mvcc.TxnID]bool{}
	var reaches func(from mvcc.TxnID) bool
	reaches = func(from mvcc.TxnID) bool {
		if from == waiter {
			return true
		}
		if seen[from] {
			return false
		}
		seen[from] = true
		for next := range db.mu.waitsFor[from] {
			if reaches(next) {
				return true
			}
		}
		return false
	}
	if reaches(owner) {
		return false
	}
	edges := db.mu.waitsFor[waiter]
	if edges == nil {
		edges = make(map[mvcc.TxnID]int)
		db.mu.waitsFor[waiter] = edges
	}
	edges[owner]++
	return true
}

func (db *DB) removeWait(waiter, owner mvcc.TxnID) {
	db.mu.Lock()
	defer db.mu.Unlock()
	edges := db.mu.waitsFor[waiter]
	if edges[owner]--; edges[owner] <= 0 {
		delete(edges, owner)
	}
	if len(edges) == 0 {
		delete(db.mu.waitsFor, waiter)
	}
}

// CoordinatorProber is an optional Sender capability: asking another node
// whether one of its transactions is still committing, and which
// incarnation (epoch) of the node answers.
type CoordinatorProber interface {
	ProbeCoordinator(ctx context.Context, node uint64, id mvcc.TxnID) (epoch uint64, committing bool, err error)
}

// CoordinatorStatus answers a probe about a transaction of this node.
func (db *DB) CoordinatorStatus(id mvcc.TxnID) (epoch uint64, committing bool) {
	return db.cfg.Epoch, db.isCommitting(id)
}

// ownerAlive reports whether the coordinator of an intent may still commit
// it, so that waiting is worthwhile. Aborting a transaction whose
// coordinator is in fact alive is always safe (its commit record write
// then fails), so doubt resolves to "dead".
func (db *DB) ownerAlive(ctx context.Context, in *mvcc.Intent) bool {
	if in.CoordNode == db.cfg.NodeID {
		return in.CoordEpoch == db.cfg.Epoch && db.isCommitting(in.TxnID)
	}
	if prober, ok := db.sender.(CoordinatorProber); ok {
		epoch, committing, err := prober.ProbeCoordinator(ctx, in.CoordNode, in.TxnID)
		return err == nil && epoch == in.CoordEpoch && committing
	}
	// No way to ask: alive until the abandonment timeout.
	return time.Duration(db.clock.Now().WallTime-in.WriteWall) < db.cfg.AbandonAfter
}

// withIntentRetry runs op, resolving intents it meets and retrying; see
// handleIntent for holder.
func (db *DB) withIntentRetry(ctx context.Context, partitionID uint64, holder *holderTxn, op func() error) error {
	for round := 0; ; round++ {
		err := op()
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
	}
}
