package kvtest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// errCrashed is the cause of the errors a crashed incarnation answers.
var errCrashed = errors.New("kvtest: node crashed")

// gate is the kv.Sender of one incarnation. Once closed (the node crashes
// or stops) new requests fail with a RetryError, and a request that was in
// flight fails too: AmbiguousError for requests that write, so that no
// write is acknowledged after the crash image was taken. wait returns once
// no request is in flight, so the engine can be closed under none.
type gate struct {
	inner *kvserver.Server
	// the node's hooks, shared by its incarnations
	fault     *atomic.Pointer[FaultFunc]
	lostReply *atomic.Pointer[FaultFunc]

	mu       sync.RWMutex
	closed   bool // guarded by mu
	inflight sync.WaitGroup
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

func (g *gate) wait() { g.inflight.Wait() }

func (g *gate) isClosed() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.closed
}

// FaultFunc decides whether a request of the named Sender method (for
// example "ResolveIntents") to a partition fails, before it is sent: a
// non-nil error is returned in place of the answer.
type FaultFunc func(method string, partitionID uint64) error

// do runs fn unless the gate is closed or a fault says otherwise, and hides
// its outcome if the gate closed meanwhile.
func (g *gate) do(method string, partitionID uint64, writes bool, fn func() error) error {
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return &kvpb.RetryError{Reason: errCrashed.Error()}
	}
	g.inflight.Add(1)
	g.mu.RUnlock()
	defer g.inflight.Done()
	if f := g.fault.Load(); f != nil {
		if err := (*f)(method, partitionID); err != nil {
			return err
		}
	}
	err := fn()
	if f := g.lostReply.Load(); f != nil && err == nil && writes {
		if lost := (*f)(method, partitionID); lost != nil {
			return &kvpb.AmbiguousError{Cause: lost}
		}
	}
	if g.isClosed() {
		if writes {
			return &kvpb.AmbiguousError{Cause: errCrashed}
		}
		return &kvpb.RetryError{Reason: errCrashed.Error()}
	}
	return err
}

func (g *gate) Get(ctx context.Context, partitionID uint64, key []byte, readTS hlc.Timestamp, opts mvcc.ReadOptions) (v []byte, found bool, err error) {
	err = g.do("Get", partitionID, false, func() error {
		v, found, err = g.inner.Get(ctx, partitionID, key, readTS, opts)
		return err
	})
	return v, found, err
}

func (g *gate) Scan(ctx context.Context, partitionID uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions) (kvs []mvcc.KeyValue, resume []byte, err error) {
	err = g.do("Scan", partitionID, false, func() error {
		kvs, resume, err = g.inner.Scan(ctx, partitionID, start, end, readTS, opts)
		return err
	})
	return kvs, resume, err
}

func (g *gate) Commit1PC(ctx context.Context, partitionID uint64, req *kvserver.CommitRequest) (ts hlc.Timestamp, err error) {
	err = g.do("Commit1PC", partitionID, true, func() error {
		ts, err = g.inner.Commit1PC(ctx, partitionID, req)
		return err
	})
	return ts, err
}

func (g *gate) Prepare(ctx context.Context, partitionID uint64, req *kvserver.CommitRequest) (ts hlc.Timestamp, err error) {
	err = g.do("Prepare", partitionID, true, func() error {
		ts, err = g.inner.Prepare(ctx, partitionID, req)
		return err
	})
	return ts, err
}

func (g *gate) Refresh(ctx context.Context, partitionID uint64, id mvcc.TxnID, reads []kvserver.Span, from, to hlc.Timestamp) error {
	return g.do("Refresh", partitionID, false, func() error { return g.inner.Refresh(ctx, partitionID, id, reads, from, to) })
}

func (g *gate) ResolveIntents(ctx context.Context, partitionID uint64, items []kvserver.Resolution) error {
	return g.do("ResolveIntents", partitionID, true, func() error { return g.inner.ResolveIntents(ctx, partitionID, items) })
}

func (g *gate) GetTxnRecord(ctx context.Context, home uint64, id mvcc.TxnID) (rec *mvcc.TxnRecord, err error) {
	err = g.do("GetTxnRecord", home, false, func() error {
		rec, err = g.inner.GetTxnRecord(ctx, home, id)
		return err
	})
	return rec, err
}

func (g *gate) FinalizeTxn(ctx context.Context, home uint64, id mvcc.TxnID, want *mvcc.TxnRecord) (rec *mvcc.TxnRecord, err error) {
	err = g.do("FinalizeTxn", home, true, func() error {
		rec, err = g.inner.FinalizeTxn(ctx, home, id, want)
		return err
	})
	return rec, err
}

func (g *gate) DeleteTxnRecords(ctx context.Context, home uint64, ids []mvcc.TxnID) error {
	return g.do("DeleteTxnRecords", home, true, func() error { return g.inner.DeleteTxnRecords(ctx, home, ids) })
}

// intentWaiter is the server's intent wait queue (kv.Sender.WaitIntent).
type intentWaiter interface {
	WaitIntent(ctx context.Context, partitionID uint64, key []byte, owner mvcc.TxnID, maxWait time.Duration) error
}

func (g *gate) WaitIntent(ctx context.Context, partitionID uint64, key []byte, owner mvcc.TxnID, maxWait time.Duration) error {
	w, ok := any(g.inner).(intentWaiter)
	if !ok {
		return nil // no wait queue: the caller re-reads
	}
	return g.do("WaitIntent", partitionID, false, func() error { return w.WaitIntent(ctx, partitionID, key, owner, maxWait) })
}
