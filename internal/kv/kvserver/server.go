package kvserver

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// Write is one raw engine mutation of a proposed command.
type Write = replica.Write

// Replicator is the slice of the replica layer kvserver needs.
type Replicator interface {
	// LeaderTerm returns the current term when this node is the ready
	// leader of the partition; ok=false otherwise.
	LeaderTerm(partitionID uint64) (term uint64, ok bool)
	// Propose replicates writes and returns once they are applied locally.
	// evalTerm is the term the command was evaluated in; the replica layer
	// applies it as a no-op (and returns a retry error) if it lands in a
	// log entry of another term.
	Propose(ctx context.Context, partitionID uint64, evalTerm uint64, writes []Write) error
}

// Span is a user-key span; EndKey == nil means the single key Key.
type Span struct {
	Key, EndKey []byte
}

// Mutation is a buffered transactional write.
type Mutation struct {
	Key    []byte
	Value  []byte
	Delete bool
}

// Server evaluates requests for the partitions this node leads.
type Server struct {
	engine     *storage.Engine
	clock      *hlc.Clock
	replicator Replicator

	mu struct {
		sync.Mutex
		latches map[uint64]*latchManager  // guarded by mu: per partition
		waiters map[uint64]*intentWaiters // guarded by mu: per partition
		// gcThresholds: per partition, reads below it are refused.
		gcThresholds map[uint64]hlc.Timestamp
	}
}

// New returns a Server over the node's engine and replicas.
func New(engine *storage.Engine, clock *hlc.Clock, r Replicator) *Server {
	s := &Server{engine: engine, clock: clock, replicator: r}
	s.mu.latches = make(map[uint64]*latchManager)
	s.mu.waiters = make(map[uint64]*intentWaiters)
	s.mu.gcThresholds = make(map[uint64]hlc.Timestamp)
	return s
}

// Clock returns the node's clock.
func (s *Server) Clock() *hlc.Clock { return s.clock }

func (s *Server) latchesFor(partitionID uint64) *latchManager {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mu.latches[partitionID]
	if m == nil {
		m = newLatchManager()
		s.mu.latches[partitionID] = m
	}
	return m
}

func notLeader(partitionID uint64) error {
	return &kvpb.RetryError{Reason: fmt.Sprintf("this node does not lead partition %d", partitionID)}
}

func userLatch(key []byte, write bool) latchSpan {
	return latchSpan{start: "k" + string(key), write: write}
}

func spanLatch(sp Span, write bool) latchSpan {
	if sp.EndKey == nil {
		return userLatch(sp.Key, write)
	}
	return latchSpan{start: "k" + string(sp.Key), end: "k" + string(sp.EndKey), write: write}
}

func recordLatch(id mvcc.TxnID) latchSpan {
	return latchSpan{start: "x" + string(id[:]), write: true}
}

// withLatches runs fn holding latches on the partition, after checking
// leadership. fn receives the evaluation term.
func (s *Server) withLatches(ctx context.Context, partitionID uint64, spans []latchSpan, fn func(term uint64) error) error {
	if _, ok := s.replicator.LeaderTerm(partitionID); !ok {
		return notLeader(partitionID)
	}
	lm := s.latchesFor(partitionID)
	g, err := lm.acquire(ctx, spans)
	if err != nil {
		return &kvpb.RetryError{Reason: err.Error()}
	}
	defer lm.release(g)
	term, ok := s.replicator.LeaderTerm(partitionID)
	if !ok {
		return notLeader(partitionID)
	}
	return fn(term)
}

// Get reads key at readTS.
func (s *Server) Get(ctx context.Context, partitionID uint64, key []byte, readTS hlc.Timestamp, own *mvcc.TxnID) (value []byte, found bool, err error) {
	err = s.withLatches(ctx, partitionID, []latchSpan{userLatch(key, false)}, func(uint64) error {
		s.clock.Update(readTS)
		value, found, err = mvcc.Get(s.engine, partitionID, key, readTS, own)
		if err != nil {
			return err
		}
		return s.checkGC(partitionID, readTS) // after reading: see CollectGarbage
	})
	return value, found, err
}

// Scan reads [start, end) at readTS; see mvcc.Scan for resume.
func (s *Server) Scan(ctx context.Context, partitionID uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions) (kvs []mvcc.KeyValue, resume []byte, err error) {
	err = s.withLatches(ctx, partitionID, []latchSpan{spanLatch(Span{Key: start, EndKey: end}, false)}, func(uint64) error {
		s.clock.Update(readTS)
		kvs, resume, err = mvcc.Scan(s.engine, partitionID, start, end, readTS, opts)
		if err != nil {
			return err
		}
		return s.checkGC(partitionID, readTS)
	})
	return kvs, resume, err
}

// validateReads fails when a key in reads was written in (after, upTo].
// Point reads of keys in written are also checked for foreign intents of
// any timestamp (see checkNoForeignIntents).
func (s *Server) validateReads(partitionID uint64, reads []Span, after, upTo hlc.Timestamp, own *mvcc.TxnID, written map[string]struct{}) error {
	if len(reads) > 0 {
		if err := s.checkGC(partitionID, after); err != nil {
			return err
		}
	}
	for _, sp := range reads {
		_, isWritten := written[string(sp.Key)]
		key, err := mvcc.CheckNoWritesOrIntents(s.engine, partitionID, sp.Key, sp.EndKey, after, upTo, own, sp.EndKey == nil && isWritten)
		if err != nil {
			return err
		}
		if key != nil {
			return &kvpb.ConflictError{Reason: fmt.Sprintf("key %q was written after the transaction read it", key)}
		}
	}
	return nil
}

// pointReads returns the keys read as points that are also written: their
// intent check is folded into the read validation.
func pointReadsWritten(reads []Span, writes []Mutation) map[string]struct{} {
	if len(reads) == 0 || len(writes) == 0 {
		return nil
	}
	points := make(map[string]struct{}, len(reads))
	for _, r := range reads {
		if r.EndKey == nil {
			points[string(r.Key)] = struct{}{}
		}
	}
	out := make(map[string]struct{})
	for _, w := range writes {
		if _, ok := points[string(w.Key)]; ok {
			out[string(w.Key)] = struct{}{}
		}
	}
	return out
}

// checkNoForeignIntents returns *mvcc.IntentError when a write key carries
// another transaction's intent. Keys in checked were covered by the read
// validation already.
func (s *Server) checkNoForeignIntents(partitionID uint64, writes []Mutation, own mvcc.TxnID, checked map[string]struct{}) error {
	for _, w := range writes {
		if _, ok := checked[string(w.Key)]; ok {
			continue
		}
		in, err := mvcc.GetIntent(s.engine, partitionID, w.Key)
		if err != nil {
			return err
		}
		if in != nil && in.TxnID != own {
			return &mvcc.IntentError{Key: append([]byte(nil), w.Key...), Intent: in}
		}
	}
	return nil
}

func commitLatches(reads []Span, writes []Mutation) []latchSpan {
	spans := make([]latchSpan, 0, len(reads)+len(writes))
	for _, w := range writes {
		spans = append(spans, userLatch(w.Key, true))
	}
	for _, r := range reads {
		spans = append(spans, spanLatch(r, false))
	}
	return spans
}

// recorder collects engine writes for a proposal.
type recorder struct{ writes []Write }

func (r *recorder) Set(key, value []byte) error {
	r.writes = append(r.writes, Write{Key: key, Value: value})
	return nil
}
func (r *recorder) Delete(key []byte) error {
	r.writes = append(r.writes, Write{Key: key, Delete: true})
	return nil
}
func (r *recorder) DeleteRange(start, end []byte) error {
	return errors.New("kvserver: range deletes are not proposed")
}

// CommitRequest is a one-phase commit or a prepare.
type CommitRequest struct {
	TxnID  mvcc.TxnID
	ReadTS hlc.Timestamp
	Reads  []Span
	Writes []Mutation
	// Intent carries Home, CoordNode, CoordEpoch and WriteWall for a prepare.
	Intent mvcc.Intent
}

// Commit1PC validates and commits a transaction whose reads and writes all
// lie in this partition, in one Raft command. It returns the commit
// timestamp. *mvcc.IntentError means another transaction's intent is in the
// way: resolve it and call again.
func (s *Server) Commit1PC(ctx context.Context, partitionID uint64, req *CommitRequest) (commitTS hlc.Timestamp, err error) {
	err = s.withLatches(ctx, partitionID, commitLatches(req.Reads, req.Writes), func(term uint64) error {
		s.clock.Update(req.ReadTS)
		commitTS = s.clock.Now()
		written := pointReadsWritten(req.Reads, req.Writes)
		if err := s.validateReads(partitionID, req.Reads, req.ReadTS, commitTS, &req.TxnID, written); err != nil {
			return err
		}
		if err := s.checkNoForeignIntents(partitionID, req.Writes, req.TxnID, written); err != nil {
			return err
		}
		rec := &recorder{writes: make([]Write, 0, len(req.Writes))}
		for _, w := range req.Writes {
			if err := mvcc.PutVersion(rec, partitionID, w.Key, commitTS, w.Value, w.Delete); err != nil {
				return err
			}
		}
		return s.replicator.Propose(ctx, partitionID, term, rec.writes)
	})
	return commitTS, err
}

// Prepare validates the transaction's reads in this partition up to a new
// provisional timestamp and lays intents for its writes there. It returns
// the provisional timestamp; the final commit timestamp is the maximum over
// all participants.
func (s *Server) Prepare(ctx context.Context, partitionID uint64, req *CommitRequest) (prepTS hlc.Timestamp, err error) {
	err = s.withLatches(ctx, partitionID, commitLatches(req.Reads, req.Writes), func(term uint64) error {
		s.clock.Update(req.ReadTS)
		prepTS = s.clock.Now()
		written := pointReadsWritten(req.Reads, req.Writes)
		if err := s.validateReads(partitionID, req.Reads, req.ReadTS, prepTS, &req.TxnID, written); err != nil {
			return err
		}
		if len(req.Writes) == 0 {
			return nil
		}
		if err := s.checkNoForeignIntents(partitionID, req.Writes, req.TxnID, written); err != nil {
			return err
		}
		rec := &recorder{writes: make([]Write, 0, len(req.Writes))}
		for _, w := range req.Writes {
			in := req.Intent
			in.TxnID, in.TS = req.TxnID, prepTS
			in.Value, in.Deleted = w.Value, w.Delete
			if err := mvcc.PutIntent(rec, partitionID, w.Key, &in); err != nil {
				return err
			}
		}
		return s.replicator.Propose(ctx, partitionID, term, rec.writes)
	})
	return prepTS, err
}

// Refresh re-validates reads over (from, to] and forwards the clock to to,
// so that no later write in this partition lands at or below to.
func (s *Server) Refresh(ctx context.Context, partitionID uint64, id mvcc.TxnID, reads []Span, from, to hlc.Timestamp) error {
	spans := make([]latchSpan, len(reads))
	for i, r := range reads {
		spans[i] = spanLatch(r, false)
	}
	return s.withLatches(ctx, partitionID, spans, func(uint64) error {
		s.clock.Update(to)
		return s.validateReads(partitionID, reads, from, to, &id, nil)
	})
}

// Resolution finalises one transaction's intents on some keys of a
// partition: written as versions at CommitTS when Commit, removed otherwise.
type Resolution struct {
	TxnID    mvcc.TxnID
	Keys     [][]byte
	Commit   bool
	CommitTS hlc.Timestamp
}

// ResolveIntents applies resolutions (of any number of transactions) in
// one Raft command. Keys whose intent is already gone (or belongs to
// another transaction) are skipped, so resolving twice is harmless.
func (s *Server) ResolveIntents(ctx context.Context, partitionID uint64, items []Resolution) error {
	var spans []latchSpan
	for _, it := range items {
		for _, k := range it.Keys {
			spans = append(spans, userLatch(k, true))
		}
	}
	defer func() {
		w := s.waitersFor(partitionID)
		for _, it := range items {
			for _, k := range it.Keys {
				w.release(string(k))
			}
		}
	}()
	return s.withLatches(ctx, partitionID, spans, func(term uint64) error {
		rec := &recorder{}
		for _, it := range items {
			for _, k := range it.Keys {
				in, err := mvcc.GetIntent(s.engine, partitionID, k)
				if err != nil {
					return err
				}
				if in == nil || in.TxnID != it.TxnID {
					continue
				}
				if err := mvcc.ResolveIntent(rec, partitionID, k, in, it.Commit, it.CommitTS); err != nil {
					return err
				}
			}
		}
		if len(rec.writes) == 0 {
			return nil
		}
		return s.replicator.Propose(ctx, partitionID, term, rec.writes)
	})
}

// GetTxnRecord reads a record on its home partition (nil when absent).
func (s *Server) GetTxnRecord(ctx context.Context, home uint64, id mvcc.TxnID) (rec *mvcc.TxnRecord, err error) {
	err = s.withLatches(ctx, home, []latchSpan{{start: "x" + string(id[:])}}, func(uint64) error {
		rec, err = mvcc.GetTxnRecord(s.engine, home, id)
		return err
	})
	return rec, err
}

// FinalizeTxn moves a record to a final status. Committing fails (returning
// the ABORTED record) if the record was aborted; aborting fails (returning
// the COMMITTED record) if it was committed. The returned record is the one
// in force afterwards. When this call commits, the transaction's intents on
// resolveKeys (keys of the home partition) are resolved in the same Raft
// command, saving a later one.
func (s *Server) FinalizeTxn(ctx context.Context, home uint64, id mvcc.TxnID, want *mvcc.TxnRecord, resolveKeys [][]byte) (rec *mvcc.TxnRecord, err error) {
	spans := []latchSpan{recordLatch(id)}
	for _, k := range resolveKeys {
		spans = append(spans, userLatch(k, true))
	}
	if len(resolveKeys) > 0 {
		defer func() {
			w := s.waitersFor(home)
			for _, k := range resolveKeys {
				w.release(string(k))
			}
		}()
	}
	err = s.withLatches(ctx, home, spans, func(term uint64) error {
		cur, err := mvcc.GetTxnRecord(s.engine, home, id)
		if err != nil {
			return err
		}
		if cur != nil && cur.Status != mvcc.TxnPending {
			rec = cur
			return nil
		}
		w := &recorder{}
		if err := mvcc.PutTxnRecord(w, home, id, want); err != nil {
			return err
		}
		if want.Status == mvcc.TxnCommitted {
			for _, k := range resolveKeys {
				in, err := mvcc.GetIntent(s.engine, home, k)
				if err != nil {
					return err
				}
				if in != nil && in.TxnID == id {
					if err := mvcc.ResolveIntent(w, home, k, in, true, want.CommitTS); err != nil {
						return err
					}
				}
			}
		}
		if err := s.replicator.Propose(ctx, home, term, w.writes); err != nil {
			return err
		}
		rec = want
		return nil
	})
	return rec, err
}

// DeleteTxnRecords removes COMMITTED records whose intents are all
// resolved, in one Raft command (other records are left alone).
func (s *Server) DeleteTxnRecords(ctx context.Context, home uint64, ids []mvcc.TxnID) error {
	spans := make([]latchSpan, len(ids))
	for i, id := range ids {
		spans[i] = recordLatch(id)
	}
	return s.withLatches(ctx, home, spans, func(term uint64) error {
		w := &recorder{}
		for _, id := range ids {
			cur, err := mvcc.GetTxnRecord(s.engine, home, id)
			if err != nil {
				return err
			}
			if cur != nil && cur.Status == mvcc.TxnCommitted {
				_ = mvcc.DeleteTxnRecord(w, home, id)
			}
		}
		if len(w.writes) == 0 {
			return nil
		}
		return s.replicator.Propose(ctx, home, term, w.writes)
	})
}
