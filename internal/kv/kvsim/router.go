package kvsim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// router is a node's kv.Sender: it sends each request to the node its own
// Raft view names as the partition's leader, over the simulated network
// (a cut link answers a retry error, as an unreachable node does). It
// never retries or waits: the test decides when time passes.
type router struct {
	c    *Cluster
	from uint64
}

var (
	_ kv.Sender            = (*router)(nil)
	_ kv.CoordinatorProber = (*router)(nil)
)

func (r *router) target(partitionID uint64) (*kvserver.Server, error) {
	self := r.c.Node(r.from)
	if !self.Running {
		return nil, &kvpb.RetryError{Reason: fmt.Sprintf("node %d is stopped", r.from)}
	}
	st, err := self.Store.Status(partitionID)
	if err != nil {
		return nil, err
	}
	if st.LeaderID == 0 {
		return nil, &kvpb.RetryError{Reason: fmt.Sprintf("partition %d has no leader", partitionID)}
	}
	if !r.c.net.reachable(r.from, st.LeaderID) {
		return nil, &kvpb.RetryError{Reason: fmt.Sprintf("node %d cannot reach node %d", r.from, st.LeaderID)}
	}
	dst := r.c.Node(st.LeaderID)
	if !dst.Running {
		return nil, &kvpb.RetryError{Reason: fmt.Sprintf("node %d is stopped", st.LeaderID)}
	}
	return dst.Server, nil
}

func (r *router) Get(ctx context.Context, partitionID uint64, key []byte, readTS hlc.Timestamp, opts mvcc.ReadOptions) ([]byte, bool, error) {
	s, err := r.target(partitionID)
	if err != nil {
		return nil, false, err
	}
	return s.Get(ctx, partitionID, key, readTS, opts)
}

func (r *router) Scan(ctx context.Context, partitionID uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions) ([]mvcc.KeyValue, []byte, error) {
	s, err := r.target(partitionID)
	if err != nil {
		return nil, nil, err
	}
	return s.Scan(ctx, partitionID, start, end, readTS, opts)
}

func (r *router) Commit1PC(ctx context.Context, partitionID uint64, req *kvserver.CommitRequest) (hlc.Timestamp, error) {
	s, err := r.target(partitionID)
	if err != nil {
		return hlc.Timestamp{}, err
	}
	return s.Commit1PC(ctx, partitionID, req)
}

func (r *router) Prepare(ctx context.Context, partitionID uint64, req *kvserver.CommitRequest) (hlc.Timestamp, error) {
	s, err := r.target(partitionID)
	if err != nil {
		return hlc.Timestamp{}, err
	}
	return s.Prepare(ctx, partitionID, req)
}

func (r *router) Refresh(ctx context.Context, partitionID uint64, id mvcc.TxnID, reads []kvserver.Span, from, to hlc.Timestamp) error {
	s, err := r.target(partitionID)
	if err != nil {
		return err
	}
	return s.Refresh(ctx, partitionID, id, reads, from, to)
}

func (r *router) ResolveIntents(ctx context.Context, partitionID uint64, items []kvserver.Resolution) error {
	s, err := r.target(partitionID)
	if err != nil {
		return err
	}
	return s.ResolveIntents(ctx, partitionID, items)
}

func (r *router) GetTxnRecord(ctx context.Context, home uint64, id mvcc.TxnID) (*mvcc.TxnRecord, error) {
	s, err := r.target(home)
	if err != nil {
		return nil, err
	}
	return s.GetTxnRecord(ctx, home, id)
}

func (r *router) FinalizeTxn(ctx context.Context, home uint64, id mvcc.TxnID, want *mvcc.TxnRecord) (*mvcc.TxnRecord, error) {
	s, err := r.target(home)
	if err != nil {
		return nil, err
	}
	return s.FinalizeTxn(ctx, home, id, want)
}

func (r *router) DeleteTxnRecords(ctx context.Context, home uint64, ids []mvcc.TxnID) error {
	s, err := r.target(home)
	if err != nil {
		return err
	}
	return s.DeleteTxnRecords(ctx, home, ids)
}

func (r *router) WaitIntent(ctx context.Context, partitionID uint64, key []byte, owner mvcc.TxnID, maxWait time.Duration) error {
	s, err := r.target(partitionID)
	if err != nil {
		return err
	}
	return s.WaitIntent(ctx, partitionID, key, owner, maxWait)
}

// ProbeCoordinator asks another simulated node about its transaction.
func (r *router) ProbeCoordinator(_ context.Context, node uint64, id mvcc.TxnID) (kv.CoordinatorState, error) {
	if !r.c.net.reachable(r.from, node) {
		return kv.CoordinatorState{}, errors.New("kvsim: coordinator unreachable")
	}
	n := r.c.Node(node)
	if !n.Running {
		return kv.CoordinatorState{}, errors.New("kvsim: coordinator stopped")
	}
	return n.DB.CoordinatorStatus(id), nil
}
