package kvremote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/rpc"
)

// Leaders tells which node leads a partition, as far as this node knows.
type Leaders interface {
	// Leader returns the leader's node id, 0 when none is known.
	Leader(partitionID uint64) uint64
}

// LeadersFunc adapts a function to Leaders.
type LeadersFunc func(partitionID uint64) uint64

// Leader calls f.
func (f LeadersFunc) Leader(partitionID uint64) uint64 { return f(partitionID) }

// DefaultRetryWait bounds how long one request keeps re-routing (an
// election takes one to two seconds; the SQL session retries the statement
// on top of this).
const DefaultRetryWait = 2 * time.Second

// Config configures a Sender.
type Config struct {
	// Network reaches the other nodes; its NodeID is this node.
	Network *rpc.Network
	// Local serves partitions this node leads (its *kvserver.Server).
	Local kv.Sender
	// Leaders locates partition leaders.
	Leaders Leaders
	// RetryWait bounds the re-routing of one request on not-leader and
	// unreachable errors (default DefaultRetryWait; the context may end it
	// sooner). After it, the last retry error is returned.
	RetryWait time.Duration
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Load, when set, counts the requests this node originates, by
	// partition (see follow.go).
	Load *Load
}

// Sender is a kv.Sender for a cluster node: each request goes to the
// current leader of its partition — a local call when that is this node,
// a gRPC call otherwise — and is re-routed with backoff while the
// partition has no reachable leader.
type Sender struct {
	cfg  Config
	self uint64
}

var _ kv.Sender = (*Sender)(nil)

// NewSender returns a Sender.
func NewSender(cfg Config) *Sender {
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = DefaultRetryWait
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Sender{cfg: cfg, self: cfg.Network.NodeID()}
}

// errUnreachable marks a call that got no answer from the remote node.
type errUnreachable struct {
	node uint64
	err  error
}

func (e *errUnreachable) Error() string {
	return fmt.Sprintf("node %d unreachable: %v", e.node, e.err)
}
func (e *errUnreachable) Unwrap() error { return e.err }

// commitPoint says how a request may be retried once it may have reached
// a leader without an answer coming back.
type commitPoint int

const (
	// idempotent: retrying is always safe (reads, resolution, records).
	idempotent commitPoint = iota
	// decisive: the request may commit and must not run twice; a lost
	// answer is ambiguous at once.
	decisive
	// decisiveIdempotent: the request may commit, but a retry returns the
	// decision already taken (FinalizeTxn); a lost answer is retried, and
	// is ambiguous only if no later attempt gets an answer.
	decisiveIdempotent
)

// call routes one request. local runs it on this node; req writes the
// request body after the partition id; resp reads the response body.
func (s *Sender) call(ctx context.Context, partitionID uint64, o op, cp commitPoint,
	local func() error, req func(*encoder), resp func(*decoder)) error {
	s.cfg.Load.add(partitionID, s.self)
	deadline := time.Now().Add(s.cfg.RetryWait)
	maybeDelivered := false
	var lastErr error
	for attempt := 0; ; attempt++ {
		var err error
		switch leader := s.cfg.Leaders.Leader(partitionID); leader {
		case 0:
			err = &kvpb.RetryError{Reason: fmt.Sprintf("partition %d has no leader", partitionID)}
		case s.self:
			err = local()
		default:
			var delivered bool
			delivered, err = s.remote(ctx, leader, partitionID, o, cp, req, resp)
			maybeDelivered = maybeDelivered || delivered
		}
		if err == nil {
			return nil
		}
		var unreachable *errUnreachable
		isUnreachable := errors.As(err, &unreachable)
		switch {
		case isUnreachable && cp == decisive && maybeDelivered:
			return &kvpb.AmbiguousError{Cause: err}
		case isUnreachable:
			lastErr = &kvpb.RetryError{Reason: err.Error()}
		case isRetry(err):
			lastErr = err
		default:
			return err // an answer: success's opposite is final
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			if maybeDelivered && cp != idempotent {
				return &kvpb.AmbiguousError{Cause: lastErr}
			}
			var r *kvpb.RetryError
			if errors.As(lastErr, &r) && ctx.Err() == nil {
				return &kvpb.RetryError{Reason: r.Reason, Rerouted: true}
			}
			return lastErr
		}
		if err := sleep(ctx, min(10*time.Millisecond<<min(attempt, 5), 250*time.Millisecond)); err != nil {
			if maybeDelivered && cp != idempotent {
				return &kvpb.AmbiguousError{Cause: lastErr}
			}
			return lastErr
		}
	}
}

func isRetry(err error) bool {
	var r *kvpb.RetryError
	return errors.As(err, &r)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bulkRequestBytes: a larger request (a bulk INSERT's commit) travels on
// the bulk lane, where it does not hold up short requests.
const bulkRequestBytes = 64 << 10

// remote sends one request to node. delivered is true when the request
// may have reached node (so a lost answer leaves its effect unknown).
func (s *Sender) remote(ctx context.Context, node, partitionID uint64, o op, cp commitPoint,
	req func(*encoder), resp func(*decoder)) (delivered bool, err error) {
	e := &encoder{b: make([]byte, 0, 128)}
	e.byte(byte(o))
	e.uvarint(s.self)
	e.ts(s.cfg.Network.Stamp())
	e.uvarint(partitionID)
	req(e)
	// A request that may commit waits (briefly) for a connection in
	// transient failure; the others fail fast and re-route.
	lane := rpc.LaneDefault
	if o == opScan || len(e.b) > bulkRequestBytes {
		lane = rpc.LaneBulk // a scan's batch (up to a few MiB), a big commit
	}
	out, err := s.cfg.Network.Call(ctx, node, lane, e.b, cp == idempotent)
	if err != nil {
		return !errors.Is(err, rpc.ErrNotSent), &errUnreachable{node: node, err: err}
	}
	d := &decoder{b: out}
	ts := d.ts()
	status := d.byte()
	if d.err != nil {
		return true, &errUnreachable{node: node, err: d.err}
	}
	if err := s.cfg.Network.Receive(node, ts); err != nil {
		return true, &errUnreachable{node: node, err: err}
	}
	if status != 0 {
		rerr := d.error()
		if err := d.done(); err != nil {
			return true, &errUnreachable{node: node, err: err}
		}
		return true, rerr
	}
	resp(d)
	if err := d.done(); err != nil {
		return true, &errUnreachable{node: node, err: err}
	}
	return true, nil
}

// Get implements kv.Sender.
func (s *Sender) Get(ctx context.Context, partitionID uint64, key []byte, readTS hlc.Timestamp, opts mvcc.ReadOptions) (value []byte, found bool, err error) {
	err = s.call(ctx, partitionID, opGet, idempotent,
		func() (err error) {
			value, found, err = s.cfg.Local.Get(ctx, partitionID, key, readTS, opts)
			return err
		},
		func(e *encoder) { e.bytes(key); e.ts(readTS); e.optTxnID(opts.Own); e.ts(opts.Uncertainty) },
		func(d *decoder) { value, found = d.bytes(), d.bool() })
	return value, found, err
}

// Scan implements kv.Sender.
func (s *Sender) Scan(ctx context.Context, partitionID uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions) (kvs []mvcc.KeyValue, resume []byte, err error) {
	err = s.call(ctx, partitionID, opScan, idempotent,
		func() (err error) {
			kvs, resume, err = s.cfg.Local.Scan(ctx, partitionID, start, end, readTS, opts)
			return err
		},
		func(e *encoder) { e.bytes(start); e.bytes(end); e.ts(readTS); encodeScanOptions(e, opts) },
		func(d *decoder) {
			n := d.count()
			kvs = make([]mvcc.KeyValue, n)
			for i := range kvs {
				kvs[i] = mvcc.KeyValue{Key: d.bytes(), Value: d.bytes()}
			}
			resume = d.bytes()
		})
	return kvs, resume, err
}

// Commit1PC implements kv.Sender. A request that may have reached the
// leader without an answer returns *kvpb.AmbiguousError: it is never sent
// twice.
func (s *Sender) Commit1PC(ctx context.Context, partitionID uint64, req *kvserver.CommitRequest) (ts hlc.Timestamp, err error) {
	err = s.call(ctx, partitionID, opCommit1PC, decisive,
		func() (err error) {
			ts, err = s.cfg.Local.Commit1PC(ctx, partitionID, req)
			return err
		},
		func(e *encoder) { e.commitRequest(req) },
		func(d *decoder) { ts = d.ts() })
	return ts, err
}

// Prepare implements kv.Sender. Prepares are re-sent after a lost answer:
// laying the same intents twice is harmless, and the coordinator aborts
// them if the transaction does not commit.
func (s *Sender) Prepare(ctx context.Context, partitionID uint64, req *kvserver.CommitRequest) (ts hlc.Timestamp, err error) {
	err = s.call(ctx, partitionID, opPrepare, idempotent,
		func() (err error) {
			ts, err = s.cfg.Local.Prepare(ctx, partitionID, req)
			return err
		},
		func(e *encoder) { e.commitRequest(req) },
		func(d *decoder) { ts = d.ts() })
	return ts, err
}

// Refresh implements kv.Sender.
func (s *Sender) Refresh(ctx context.Context, partitionID uint64, id mvcc.TxnID, reads []kvserver.Span, from, to hlc.Timestamp) error {
	return s.call(ctx, partitionID, opRefresh, idempotent,
		func() error { return s.cfg.Local.Refresh(ctx, partitionID, id, reads, from, to) },
		func(e *encoder) { e.txnID(id); e.spans(reads); e.ts(from); e.ts(to) },
		func(*decoder) {})
}

// ResolveIntents implements kv.Sender.
func (s *Sender) ResolveIntents(ctx context.Context, partitionID uint64, items []kvserver.Resolution) error {
	return s.call(ctx, partitionID, opResolveIntents, idempotent,
		func() error { return s.cfg.Local.ResolveIntents(ctx, partitionID, items) },
		func(e *encoder) { e.resolutions(items) },
		func(*decoder) {})
}

// GetTxnRecord implements kv.Sender.
func (s *Sender) GetTxnRecord(ctx context.Context, home uint64, id mvcc.TxnID) (rec *mvcc.TxnRecord, err error) {
	err = s.call(ctx, home, opGetTxnRecord, idempotent,
		func() (err error) {
			rec, err = s.cfg.Local.GetTxnRecord(ctx, home, id)
			return err
		},
		func(e *encoder) { e.txnID(id) },
		func(d *decoder) { rec = d.record() })
	return rec, err
}

// FinalizeTxn implements kv.Sender. The record decides once, so a lost
// answer is retried (the retry returns the decision in force); it is
// ambiguous only when no attempt after it is answered.
func (s *Sender) FinalizeTxn(ctx context.Context, home uint64, id mvcc.TxnID, want *mvcc.TxnRecord) (rec *mvcc.TxnRecord, err error) {
	err = s.call(ctx, home, opFinalizeTxn, decisiveIdempotent,
		func() (err error) {
			rec, err = s.cfg.Local.FinalizeTxn(ctx, home, id, want)
			return err
		},
		func(e *encoder) { e.txnID(id); e.record(want) },
		func(d *decoder) { rec = d.record() })
	return rec, err
}

// DeleteTxnRecords implements kv.Sender.
func (s *Sender) DeleteTxnRecords(ctx context.Context, home uint64, ids []mvcc.TxnID) error {
	return s.call(ctx, home, opDeleteTxnRecord, idempotent,
		func() error { return s.cfg.Local.DeleteTxnRecords(ctx, home, ids) },
		func(e *encoder) { e.txnIDs(ids) },
		func(*decoder) {})
}

// WaitIntent implements kv.Sender.
func (s *Sender) WaitIntent(ctx context.Context, partitionID uint64, key []byte, owner mvcc.TxnID, maxWait time.Duration) error {
	return s.call(ctx, partitionID, opWaitIntent, idempotent,
		func() error { return s.cfg.Local.WaitIntent(ctx, partitionID, key, owner, maxWait) },
		func(e *encoder) { e.bytes(key); e.txnID(owner); e.uvarint(uint64(max(maxWait, 0))) },
		func(*decoder) {})
}

// ClearSpan implements kv.SpanClearer. Clearing twice is harmless: the
// call is retried like a read.
func (s *Sender) ClearSpan(ctx context.Context, partitionID uint64, start, end []byte, notBelow hlc.Timestamp) error {
	return s.call(ctx, partitionID, opClearSpan, idempotent,
		func() error {
			c, ok := s.cfg.Local.(kv.SpanClearer)
			if !ok {
				return errNoClearSpan
			}
			return c.ClearSpan(ctx, partitionID, start, end, notBelow)
		},
		func(e *encoder) { e.bytes(start); e.bytes(end); e.ts(notBelow) },
		func(*decoder) {})
}

// errNoClearSpan: the local sender cannot clear spans (a test's).
var errNoClearSpan = errors.New("kvremote: the local sender cannot clear spans")

// ProbeCoordinator implements kv.CoordinatorProber: it asks node whether
// transaction id is still committing there. An unreachable node is an
// error (the caller treats the coordinator as gone).
func (s *Sender) ProbeCoordinator(ctx context.Context, node uint64, id mvcc.TxnID) (st kv.CoordinatorState, err error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	_, err = s.remote(ctx, node, 0, opProbeCoordinator, idempotent,
		func(e *encoder) { e.txnID(id) },
		func(d *decoder) { st = d.coordinatorState() })
	return st, err
}

// probeTimeout bounds a coordinator probe; a coordinator that cannot answer
// within it is treated as gone (aborting its transaction is safe).
const probeTimeout = time.Second

var _ kv.CoordinatorProber = (*Sender)(nil)

// SplitSpan implements kv.SpanSplitter from this node's own engine, if it
// keeps a replica of the partition (the keys are only a hint for cutting a
// scan into pieces; the pieces are read from the leader as any scan is).
func (s *Sender) SplitSpan(ctx context.Context, partitionID uint64, start, end []byte, n int) ([][]byte, error) {
	if sp, ok := s.cfg.Local.(kv.SpanSplitter); ok {
		return sp.SplitSpan(ctx, partitionID, start, end, n)
	}
	return nil, nil
}
