package kv

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

type bufferedWrite struct {
	value   []byte
	deleted bool
}

// readSet is what a transaction read in one partition.
type readSet struct {
	points map[string]struct{}
	spans  []kvserver.Span
}

func (r *readSet) asSpans() []kvserver.Span {
	out := make([]kvserver.Span, 0, len(r.points)+len(r.spans))
	for k := range r.points {
		out = append(out, kvserver.Span{Key: []byte(k)})
	}
	return append(out, r.spans...)
}

// Txn is a serializable transaction.
type Txn struct {
	db     *DB
	id     mvcc.TxnID
	readTS hlc.Timestamp
	done   bool

	writes     map[string]bufferedWrite
	sortedKeys []string // sorted keys of writes; nil when stale
	reads      map[uint64]*readSet
}

// ID returns the transaction id.
func (t *Txn) ID() mvcc.TxnID { return t.id }

// ReadTimestamp returns the snapshot the transaction reads at.
func (t *Txn) ReadTimestamp() hlc.Timestamp { return t.readTS }

func (t *Txn) readSetFor(partitionID uint64) *readSet {
	if t.reads == nil {
		t.reads = make(map[uint64]*readSet)
	}
	rs := t.reads[partitionID]
	if rs == nil {
		rs = &readSet{points: make(map[string]struct{})}
		t.reads[partitionID] = rs
	}
	return rs
}

// checkAge fails a transaction older than the configured maximum: its
// snapshot may be garbage-collected soon.
func (t *Txn) checkAge() error {
	if age := time.Duration(t.db.clock.Now().WallTime - t.readTS.WallTime); age > t.db.cfg.MaxTxnAge {
		return &kvpb.RetryError{Reason: fmt.Sprintf("transaction too old (%v)", age.Round(time.Second))}
	}
	return nil
}

// Get reads key, seeing the transaction's own writes.
func (t *Txn) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	if t.done {
		return nil, false, kvpb.ErrTxnClosed
	}
	if err := t.checkAge(); err != nil {
		return nil, false, err
	}
	if w, ok := t.writes[string(key)]; ok {
		if w.deleted {
			return nil, false, nil
		}
		return w.value, true, nil
	}
	pid, err := t.db.partitionOf(key)
	if err != nil {
		return nil, false, err
	}
	var value []byte
	var found bool
	err = t.db.withIntentRetry(ctx, pid, nil, func() error {
		var err error
		value, found, err = t.db.sender.Get(ctx, pid, key, t.readTS, &t.id)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	t.readSetFor(pid).points[string(key)] = struct{}{}
	return value, found, nil
}

// Put buffers a write.
func (t *Txn) Put(key, value []byte) error {
	return t.buffer(key, bufferedWrite{value: append([]byte(nil), value...)})
}

// Delete buffers a deletion.
func (t *Txn) Delete(key []byte) error {
	return t.buffer(key, bufferedWrite{deleted: true})
}

func (t *Txn) buffer(key []byte, w bufferedWrite) error {
	if t.done {
		return kvpb.ErrTxnClosed
	}
	if _, err := kvpb.BucketOf(key); err != nil {
		return err
	}
	if t.writes == nil {
		t.writes = make(map[string]bufferedWrite)
	}
	if _, exists := t.writes[string(key)]; !exists {
		t.sortedKeys = nil
	}
	t.writes[string(key)] = w
	return nil
}

func (t *Txn) sortedWriteKeys() []string {
	if t.sortedKeys == nil && len(t.writes) > 0 {
		t.sortedKeys = make([]string, 0, len(t.writes))
		for k := range t.writes {
			t.sortedKeys = append(t.sortedKeys, k)
		}
		sort.Strings(t.sortedKeys)
	}
	return t.sortedKeys
}

// Rollback discards the transaction. Nothing was written before Commit, so
// there is nothing to undo.
func (t *Txn) Rollback(ctx context.Context) error {
	t.done = true
	t.writes = nil
	return nil
}

// Commit commits the transaction atomically, or returns an error after
// which none of its writes are visible; *kvpb.AmbiguousError means the
// outcome is unknown.
func (t *Txn) Commit(ctx context.Context) error {
	err := t.commit(ctx)
	t.db.countOutcome(err)
	return err
}

func (db *DB) countOutcome(err error) {
	var ce *kvpb.ConflictError
	var re *kvpb.RetryError
	var ae *kvpb.AmbiguousError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		db.metrics.conflicts.Add(1)
	case errors.As(err, &re):
		db.metrics.retries.Add(1)
	case errors.As(err, &ae):
		db.metrics.ambiguous.Add(1)
	}
}

func (t *Txn) commit(ctx context.Context) error {
	if t.done {
		return kvpb.ErrTxnClosed
	}
	t.done = true
	if len(t.writes) == 0 {
		t.db.metrics.readOnly.Add(1)
		return nil // a read-only snapshot transaction is serializable as is
	}
	if err := t.checkAge(); err != nil {
		return err
	}
	byPartition := make(map[uint64][]kvserver.Mutation)
	var home uint64
	for i, k := range t.sortedWriteKeys() {
		w := t.writes[k]
		pid, err := t.db.partitionOf([]byte(k))
		if err != nil {
			return err
		}
		if i == 0 {
			home = pid
		}
		byPartition[pid] = append(byPartition[pid], kvserver.Mutation{Key: []byte(k), Value: w.value, Delete: w.deleted})
	}
	participants := make(map[uint64]struct{}, len(byPartition)+len(t.reads))
	for p := range byPartition {
		participants[p] = struct{}{}
	}
	for p := range t.reads {
		participants[p] = struct{}{}
	}
	if len(participants) == 1 {
		req := &kvserver.CommitRequest{TxnID: t.id, ReadTS: t.readTS, Writes: byPartition[home]}
		if rs := t.reads[home]; rs != nil {
			req.Reads = rs.asSpans()
		}
		err := t.db.withIntentRetry(ctx, home, nil, func() error {
			_, err := t.db.sender.Commit1PC(ctx, home, req)
			return err
		})
		if err == nil {
			t.db.metrics.onePC.Add(1)
		}
		return err
	}
	return t.commit2PC(ctx, home, byPartition)
}

func (t *Txn) commit2PC(ctx context.Context, home uint64, byPartition map[uint64][]kvserver.Mutation) error {
	db := t.db
	db.setCommitting(t.id, true)
	defer db.setCommitting(t.id, false)

	writeParts := make([]uint64, 0, len(byPartition))
	for p := range byPartition {
		writeParts = append(writeParts, p)
	}
	sort.Slice(writeParts, func(i, j int) bool { return writeParts[i] < writeParts[j] })
	template := mvcc.Intent{Home: home, CoordNode: db.cfg.NodeID, CoordEpoch: db.cfg.Epoch,
		WriteWall: db.clock.Now().WallTime, Priority: t.readTS.WallTime}

	// Phase 1: prepare every partition that has writes, in parallel.
	prepTS := make([]hlc.Timestamp, len(writeParts))
	errs := make([]error, len(writeParts))
	var wg sync.WaitGroup
	for i, p := range writeParts {
		req := &kvserver.CommitRequest{TxnID: t.id, ReadTS: t.readTS, Writes: byPartition[p], Intent: template}
		if rs := t.reads[p]; rs != nil {
			req.Reads = rs.asSpans()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.withIntentRetry(ctx, p, &holderTxn{id: t.id, priority: t.readTS.WallTime}, func() error {
				var err error
				prepTS[i], err = db.sender.Prepare(ctx, p, req)
				return err
			})
		}()
	}
	wg.Wait()
	commitTS := t.readTS
	var firstErr error
	for i := range writeParts {
		if errs[i] != nil && firstErr == nil {
			firstErr = errs[i]
		}
		commitTS = commitTS.Forward(prepTS[i])
	}
	if firstErr != nil {
		t.abortIntents(byPartition)
		return nonAmbiguous(firstErr)
	}

	// Phase 1b: every partition whose reads were validated below commitTS
	// (read-only participants: not at all) re-validates up to commitTS.
	var refreshErr error
	var mu sync.Mutex
	for p, rs := range t.reads {
		from := t.readTS
		for i, wp := range writeParts {
			if wp == p {
				from = prepTS[i]
			}
		}
		if from == commitTS {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.withIntentRetry(ctx, p, &holderTxn{id: t.id, priority: t.readTS.WallTime}, func() error {
				return db.sender.Refresh(ctx, p, t.id, rs.asSpans(), from, commitTS)
			})
			if err != nil {
				mu.Lock()
				refreshErr = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if refreshErr != nil {
		t.abortIntents(byPartition)
		return nonAmbiguous(refreshErr)
	}

	if hook := db.cfg.Knobs.BeforeCommitRecord; hook != nil {
		if err := hook(t.id); err != nil {
			return err
		}
	}
	// Commit point: the COMMITTED record on the home partition.
	homeKeys := make([][]byte, len(byPartition[home]))
	for i, m := range byPartition[home] {
		homeKeys[i] = m.Key
	}
	rec, err := db.sender.FinalizeTxn(ctx, home, t.id, &mvcc.TxnRecord{Status: mvcc.TxnCommitted, CommitTS: commitTS, Participants: writeParts}, homeKeys)
	if err != nil {
		var amb *kvpb.AmbiguousError
		if errors.As(err, &amb) {
			return err
		}
		t.abortIntents(byPartition)
		return nonAmbiguous(err)
	}
	if rec.Status != mvcc.TxnCommitted {
		t.abortIntents(byPartition)
		return &kvpb.ConflictError{Reason: "transaction was aborted by a concurrent transaction"}
	}
	// The home partition's intents were resolved with the record.
	rest := make(map[uint64][]kvserver.Mutation, len(byPartition)-1)
	for p, muts := range byPartition {
		if p != home {
			rest[p] = muts
		}
	}
	t.resolveAsync(home, rest, true, commitTS)
	db.metrics.twoPC.Add(1)
	return nil
}

// nonAmbiguous turns errors that happen before the commit point into
// retry errors: nothing was committed, so the outcome is not ambiguous.
func nonAmbiguous(err error) error {
	var amb *kvpb.AmbiguousError
	if errors.As(err, &amb) {
		return &kvpb.RetryError{Reason: "prepare did not complete: " + amb.Cause.Error()}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &kvpb.RetryError{Reason: err.Error()}
	}
	return err
}

func (t *Txn) abortIntents(byPartition map[uint64][]kvserver.Mutation) {
	t.resolveAsync(0, byPartition, false, hlc.Timestamp{})
}

// resolveAsync hands the transaction's intents to the background
// resolver; when commit and home != 0 the record is deleted afterwards.
func (t *Txn) resolveAsync(home uint64, byPartition map[uint64][]kvserver.Mutation, commit bool, commitTS hlc.Timestamp) {
	job := resolveJob{id: t.id, home: home, commit: commit, commitTS: commitTS, keys: make(map[uint64][][]byte, len(byPartition))}
	for p, muts := range byPartition {
		keys := make([][]byte, len(muts))
		for i, m := range muts {
			keys[i] = m.Key
		}
		job.keys[p] = keys
	}
	t.db.resolver.enqueue(job)
}
