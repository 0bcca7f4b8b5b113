package kv

import (
	"context"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// Sender reaches the leader of a partition. *kvserver.Server is the local
// implementation; a cluster node wraps it with forwarding to remote leaders.
type Sender interface {
	Get(ctx context.Context, partitionID uint64, key []byte, readTS hlc.Timestamp, opts mvcc.ReadOptions) ([]byte, bool, error)
	Scan(ctx context.Context, partitionID uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions) ([]mvcc.KeyValue, []byte, error)
	Commit1PC(ctx context.Context, partitionID uint64, req *kvserver.CommitRequest) (hlc.Timestamp, error)
	Prepare(ctx context.Context, partitionID uint64, req *kvserver.CommitRequest) (hlc.Timestamp, error)
	Refresh(ctx context.Context, partitionID uint64, id mvcc.TxnID, reads []kvserver.Span, from, to hlc.Timestamp) error
	ResolveIntents(ctx context.Context, partitionID uint64, items []kvserver.Resolution) error
	GetTxnRecord(ctx context.Context, home uint64, id mvcc.TxnID) (*mvcc.TxnRecord, error)
	// FinalizeTxn decides a transaction record.
	FinalizeTxn(ctx context.Context, home uint64, id mvcc.TxnID, want *mvcc.TxnRecord) (*mvcc.TxnRecord, error)
	DeleteTxnRecords(ctx context.Context, home uint64, ids []mvcc.TxnID) error
	// WaitIntent parks until owner's intent on key is resolved or maxWait
	// passed (the partition's wait queue).
	WaitIntent(ctx context.Context, partitionID uint64, key []byte, owner mvcc.TxnID, maxWait time.Duration) error
}

var _ Sender = (*kvserver.Server)(nil)

// SpanClearer is a Sender that can remove a span of a partition's user
// keys with one range deletion (see kvserver.Server.ClearSpan).
type SpanClearer interface {
	ClearSpan(ctx context.Context, partitionID uint64, start, end []byte, notBelow hlc.Timestamp) error
}

var _ SpanClearer = (*kvserver.Server)(nil)
