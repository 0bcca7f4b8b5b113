package kvserver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// Write is one raw engine mutation of a proposed command.
type Write = replica.Write

// Command is a proposed command.
type Command = replica.Command

// Replicator is the slice of the replica layer kvserver needs.
type Replicator interface {
	// Admit admits one request for evaluation when this node holds the
	// partition's lease (see replica.Store.Admit); release must be called
	// once the request is evaluated. It fails with a retry error
	// otherwise.
	Admit(partitionID uint64) (st replica.LeaseStatus, release func(), err error)
	// Propose replicates a command and returns once it is applied locally.
	// Its EvalTerm is the term it was evaluated in; the replica layer
	// applies it as a no-op (and returns a retry error) if it lands in a
	// log entry of another term. See Command.Lazy.
	Propose(ctx context.Context, partitionID uint64, cmd Command) error
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
	// MustNotExist: the write is made only if the key has no live version
	// at the write timestamp (checked under the commit's latches, so it
	// holds at the commit timestamp); else the request fails with
	// *kvpb.ConditionFailedError and writes nothing. An INSERT's primary
	// key uses it instead of reading the key first.
	MustNotExist bool
}

// Server evaluates requests for the partitions this node leads.
type Server struct {
	engine     *storage.Engine
	clock      *hlc.Clock
	replicator Replicator
	// maxCommandBytes is the replica layer's command size limit (chunk.go).
	maxCommandBytes int

	mu struct {
		sync.Mutex
		latches map[uint64]*latchManager  // guarded by mu: per partition
		waiters map[uint64]*intentWaiters // guarded by mu: per partition
		// gcThresholds: per partition, reads below it are refused.
		gcThresholds map[uint64]hlc.Timestamp
		// tsCaches: per partition, the reads served (see tsCache).
		tsCaches map[uint64]*tsCache
	}
}

// New returns a Server over the node's engine and replicas.
func New(engine *storage.Engine, clock *hlc.Clock, r Replicator) *Server {
	s := &Server{engine: engine, clock: clock, replicator: r, maxCommandBytes: replica.DefaultMaxCommandBytes}
	s.mu.latches = make(map[uint64]*latchManager)
	s.mu.waiters = make(map[uint64]*intentWaiters)
	s.mu.gcThresholds = make(map[uint64]hlc.Timestamp)
	s.mu.tsCaches = make(map[uint64]*tsCache)
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

func userLatch(key []byte, write bool) latchSpan {
	return latchSpan{start: "k" + string(key), write: write}
}

func spanLatch(sp Span, write bool) latchSpan {
	if sp.EndKey == nil {
		return userLatch(sp.Key, write)
	}
	return latchSpan{start: "k" + string(sp.Key), end: "k" + string(sp.EndKey), write: write}
}

// scanLatch is the read latch of a scan of sp at readTS. A NonBlocking
// scan's latch carries what it may observe (readTS forwarded to its
// uncertainty limit), so writes that land above that proceed while it
// reads (latchSpan.ts); the limit is the one the request brought: the scan
// caps it at this node's clock only under its latches and lease
// (capUncertainty), which can only lower what it observes. Other scans
// hold up every write to their span, as before.
func scanLatch(sp Span, readTS hlc.Timestamp, opts mvcc.ScanOptions) latchSpan {
	l := spanLatch(sp, false)
	if opts.NonBlocking {
		l.ts = readTS.Forward(opts.Uncertainty)
	}
	return l
}

func recordLatch(id mvcc.TxnID) latchSpan {
	return latchSpan{start: "x" + string(id[:]), write: true}
}

// evaluation is one request evaluated under latches (withLatches).
type evaluation struct {
	// term is the Raft term to evaluate commands in (Command.EvalTerm).
	term uint64
	lm   *latchManager // nil: no latches (garbage collection)
	g    *latchGroup
	// group is g's storage (withLatches): one allocation for both.
	group latchGroup
	// refs counts the evaluation itself and each of its commands not yet
	// settled; the latches are released when it drops to zero.
	refs atomic.Int32
}

func (e *evaluation) unref() {
	if e.refs.Add(-1) == 0 && e.lm != nil {
		e.lm.release(e.g)
	}
}

// propose replicates a command evaluated in e. e's latches stay held until
// the command is settled (replica.Command.OnSettled), not merely until
// Propose returns: when the caller's context ends while the command is in
// flight, Propose returns an ambiguous error at once, and the command may
// still commit; a request evaluated after it must wait for it, or it
// would read, or write over, the state without it (a lost update).
func (s *Server) propose(ctx context.Context, partitionID uint64, e *evaluation, cmd Command) error {
	cmd.EvalTerm = e.term
	e.refs.Add(1)
	cmd.OnSettled = e.unref
	return s.replicator.Propose(ctx, partitionID, cmd)
}

// withLatches runs fn holding latches on the partition, admitted under
// this node's lease (checked before waiting for latches and again, for
// real, once they are held). The latches are released once fn has
// returned and every command it proposed is settled (see propose).
func (s *Server) withLatches(ctx context.Context, partitionID uint64, spans []latchSpan, fn func(e *evaluation) error) error {
	e := &evaluation{}
	e.group.spans = spans
	return s.evaluate(ctx, partitionID, e, fn)
}

// withLatch is withLatches for a single latch (a point read): the
// evaluation holds it, so nothing else is allocated for it.
func (s *Server) withLatch(ctx context.Context, partitionID uint64, span latchSpan, fn func(e *evaluation) error) error {
	e := &evaluation{}
	e.group.one[0] = span
	e.group.spans = e.group.one[:]
	return s.evaluate(ctx, partitionID, e, fn)
}

// evaluate is withLatches for an evaluation whose group lists its spans.
func (s *Server) evaluate(ctx context.Context, partitionID uint64, e *evaluation, fn func(e *evaluation) error) error {
	if _, release, err := s.replicator.Admit(partitionID); err != nil {
		return err
	} else {
		release()
	}
	e.lm = s.latchesFor(partitionID)
	e.g = &e.group
	if err := e.lm.acquireInto(ctx, e.g); err != nil {
		return &kvpb.RetryError{Reason: err.Error()}
	}
	e.refs.Store(1)
	defer e.unref()
	st, release, err := s.replicator.Admit(partitionID)
	if err != nil {
		return err
	}
	defer release()
	s.observeLease(partitionID, st)
	e.term = st.Term
	return fn(e)
}

// observeLease resets what this node keeps per lease when a request is
// admitted under a newer lease than the last one seen: the timestamp
// cache starts over with a low-water mark at the lease's start (no earlier
// leaseholder served a read above it) or the clock, whichever is later;
// the GC threshold is read again from the replicated state; requests
// waiting on intents are woken to re-evaluate under the new lease.
func (s *Server) observeLease(partitionID uint64, st replica.LeaseStatus) {
	s.mu.Lock()
	c := s.mu.tsCaches[partitionID]
	if c != nil && c.lease >= st.Seq {
		s.mu.Unlock()
		return
	}
	s.mu.tsCaches[partitionID] = newTSCache(st.Seq, s.clock.Now().Forward(st.Start))
	delete(s.mu.gcThresholds, partitionID)
	w := s.mu.waiters[partitionID]
	s.mu.Unlock()
	if w != nil {
		w.releaseAll()
	}
}

// capUncertainty lowers a reader's uncertainty limit to this node's clock:
// every version this leaseholder holds was written at or below its clock
// (commits forward it), so nothing above it can precede the read.
func (s *Server) capUncertainty(limit hlc.Timestamp) hlc.Timestamp {
	if limit.IsEmpty() {
		return limit
	}
	if now := s.clock.Now(); now.Less(limit) {
		return now
	}
	return limit
}

// Get reads key at readTS (see mvcc.Get for the uncertainty limit).
func (s *Server) Get(ctx context.Context, partitionID uint64, key []byte, readTS hlc.Timestamp, opts mvcc.ReadOptions) (value []byte, found bool, err error) {
	own := opts.Own
	// The latch's key is "k" + key; the timestamp cache keeps key as the
	// rest of that string (one copy of the key, not two).
	latch := userLatch(key, false)
	err = s.withLatch(ctx, partitionID, latch, func(e *evaluation) error {
		s.clock.Update(readTS)
		opts.Uncertainty = s.capUncertainty(opts.Uncertainty)
		value, found, err = mvcc.Get(s.engine, partitionID, key, readTS, opts)
		if err != nil {
			return err
		}
		if err := s.checkGC(partitionID, readTS); err != nil { // after reading: see CollectGarbage
			return err
		}
		s.tsCacheFor(partitionID).addPointString(latch.start[1:], readTS, ownID(own))
		return nil
	})
	return value, found, err
}

// Scan reads [start, end) at readTS; see mvcc.Scan for resume.
func (s *Server) Scan(ctx context.Context, partitionID uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions) (kvs []mvcc.KeyValue, resume []byte, err error) {
	// A limited scan (LIMIT, or a batch of a longer one) reads only a
	// prefix of its span; latching the whole span would make it wait for
	// every write in flight anywhere in it, e.g. inserts at the end of a
	// table under a "WHERE k >= $1 LIMIT 10". So it first scans without
	// latches to learn how far it reaches, then latches only that extent
	// and scans it again: under the latches it sees every write committed
	// there, and it records (timestamp cache) only that extent, as it
	// always did. A write beyond it is not something this read depends on.
	latchStart, latchEnd := start, end
	var narrowedAt []byte
	if opts.MaxKeys > 0 && opts.MaxKeys <= optimisticScanMaxKeys {
		probe := opts
		probe.Uncertainty = s.capUncertainty(probe.Uncertainty)
		if _, res, perr := mvcc.Scan(s.engine, partitionID, start, end, readTS, probe); perr == nil && res != nil {
			narrowedAt = res
			if opts.Reverse {
				latchStart = res
			} else {
				latchEnd = res
			}
		}
	}
	latch := scanLatch(Span{Key: latchStart, EndKey: latchEnd}, readTS, opts)
	err = s.withLatches(ctx, partitionID, []latchSpan{latch}, func(e *evaluation) error {
		s.clock.Update(readTS)
		opts.Uncertainty = s.capUncertainty(opts.Uncertainty)
		kvs, resume, err = mvcc.Scan(s.engine, partitionID, latchStart, latchEnd, readTS, opts)
		if err != nil {
			return err
		}
		if resume == nil && narrowedAt != nil {
			// The extent was read to its end; the span goes on beyond it.
			resume = narrowedAt
		}
		if err := s.checkGC(partitionID, readTS); err != nil {
			return err
		}
		// Remember the part of the span that was read.
		readStart, readEnd := start, end
		if resume != nil {
			if opts.Reverse {
				readStart = resume
			} else {
				readEnd = resume
			}
		}
		s.tsCacheFor(partitionID).addSpan(readStart, readEnd, readTS, ownID(opts.Own))
		return nil
	})
	return kvs, resume, err
}

// optimisticScanMaxKeys bounds the scans that learn their extent before
// latching (see Scan): a short prefix scanned twice costs little.
const optimisticScanMaxKeys = 1024

func ownID(own *mvcc.TxnID) mvcc.TxnID {
	if own == nil {
		return mvcc.TxnID{}
	}
	return *own
}

// validateReads fails when a key in reads was written in (after, upTo].
func (s *Server) validateReads(partitionID uint64, reads []Span, after, upTo hlc.Timestamp, own *mvcc.TxnID) error {
	if len(reads) > 0 {
		if err := s.checkGC(partitionID, after); err != nil {
			return err
		}
	}
	for _, sp := range reads {
		key, err := mvcc.CheckNoWrites(s.engine, partitionID, sp.Key, sp.EndKey, after, upTo, own)
		if err != nil {
			return err
		}
		if key != nil {
			return &kvpb.ConflictError{Reason: fmt.Sprintf("key %q was written after the transaction read it", key)}
		}
	}
	return nil
}

// commitLatches are the latches of a commit or prepare: its writes, which
// land at or above from (the request's ReadTS forwarded to its MinTS: see
// writeTimestamp), and its reads, validated up to a timestamp not yet
// known (so they exclude every write).
func commitLatches(reads []Span, writes []Mutation, from hlc.Timestamp) []latchSpan {
	spans := make([]latchSpan, 0, len(reads)+len(writes))
	for _, w := range writes {
		l := userLatch(w.Key, true)
		l.ts = from
		spans = append(spans, l)
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
	r.writes = append(r.writes, Write{Key: start, End: end})
	return nil
}

// CommitRequest is a commit or a prepare of a transaction's part in one
// partition.
type CommitRequest struct {
	TxnID  mvcc.TxnID
	ReadTS hlc.Timestamp
	Reads  []Span
	Writes []Mutation
	// Intent carries Home, CoordNode, CoordEpoch and WriteWall for a prepare.
	Intent mvcc.Intent
	// MinTS: the writes go no lower (the transaction's other participants
	// are there already).
	MinTS hlc.Timestamp
	// MaxTS, when set: a commit whose write timestamp would exceed it writes
	// nothing and returns that timestamp (the other participants' reads
	// must be refreshed up to it first).
	MaxTS hlc.Timestamp
	// Record, for a commit on the home partition of a transaction with
	// intents elsewhere: the COMMITTED record (Participants) to write in
	// the same command, at the commit timestamp. The commit fails with a
	// conflict if the record was aborted meanwhile.
	Record *mvcc.TxnRecord
}

// writeTimestamp picks the timestamp of req's writes in this partition: the
// transaction's read timestamp, unless a committed version of a written key
// or a read of one by another transaction (the timestamp cache) sits at or
// above it — then just above the highest of those. When it moves, the
// transaction's reads here are validated up to it and remembered at it, as
// if they had been made there. *mvcc.IntentError reports another
// transaction's intent on a written key (of any timestamp: a write-write
// conflict); *kvpb.ConflictError a written key the transaction read and
// someone overwrote since.
func (s *Server) writeTimestamp(partitionID uint64, req *CommitRequest) (hlc.Timestamp, error) {
	tsc := s.tsCacheFor(partitionID)
	start := req.ReadTS.Forward(req.MinTS)
	ts := start
	keys := make([][]byte, len(req.Writes))
	for i, w := range req.Writes {
		keys[i] = w.Key
	}
	var points map[string]struct{} // keys read as points, built when needed
	err := mvcc.WriteCheck(s.engine, partitionID, keys, func(i int, in *mvcc.Intent, newest hlc.Timestamp, live bool) error {
		key := keys[i]
		if in != nil && in.TxnID != req.TxnID {
			return &mvcc.IntentError{Key: append([]byte(nil), key...), Intent: in}
		}
		// Under an intent of this transaction (a prepare repeated), the
		// condition was checked when the intent was laid.
		if req.Writes[i].MustNotExist && live && in == nil {
			return &kvpb.ConditionFailedError{Key: append([]byte(nil), key...)}
		}
		if req.ReadTS.Less(newest) {
			if points == nil {
				points = pointReads(req.Reads)
			}
			if _, read := points[string(key)]; read {
				return &kvpb.ConflictError{Reason: fmt.Sprintf("key %q was written after the transaction read it", key)}
			}
			ts = ts.Forward(newest.Next())
		}
		return nil
	})
	if err != nil {
		return hlc.Timestamp{}, err
	}
	if r := tsc.maxReadKeys(keys, req.TxnID, start); start.LessEq(r) {
		ts = ts.Forward(r.Next())
	}
	if ts != req.ReadTS {
		if err := s.validateReads(partitionID, req.Reads, req.ReadTS, ts, &req.TxnID); err != nil {
			return hlc.Timestamp{}, err
		}
		rememberReads(tsc, req.Reads, ts, req.TxnID)
	}
	return ts, nil
}

func pointReads(reads []Span) map[string]struct{} {
	m := make(map[string]struct{}, len(reads))
	for _, r := range reads {
		if r.EndKey == nil {
			m[string(r.Key)] = struct{}{}
		}
	}
	return m
}

func rememberReads(tsc *tsCache, reads []Span, ts hlc.Timestamp, txn mvcc.TxnID) {
	for _, r := range reads {
		if r.EndKey == nil {
			tsc.addPoint(r.Key, ts, txn)
		} else {
			tsc.addSpan(r.Key, r.EndKey, ts, txn)
		}
	}
}

// Commit1PC commits the transaction's writes in this partition as versions
// in one durable Raft command, at the timestamp writeTimestamp picks, which
// it returns (see CommitRequest for MinTS, MaxTS and Record). Its reads in
// this partition are valid at that timestamp; reads elsewhere are the
// caller's business. *mvcc.IntentError means another transaction's intent
// is in the way: resolve it and call again.
func (s *Server) Commit1PC(ctx context.Context, partitionID uint64, req *CommitRequest) (commitTS hlc.Timestamp, err error) {
	spans := commitLatches(req.Reads, req.Writes, req.ReadTS.Forward(req.MinTS))
	if req.Record != nil {
		spans = append(spans, recordLatch(req.TxnID))
	}
	err = s.withLatches(ctx, partitionID, spans, func(e *evaluation) error {
		s.clock.Update(req.ReadTS)
		if req.Record != nil {
			cur, err := mvcc.GetTxnRecord(s.engine, partitionID, req.TxnID)
			if err != nil {
				return err
			}
			if cur != nil && cur.Status == mvcc.TxnAborted {
				return &kvpb.ConflictError{Reason: "transaction was aborted by a concurrent transaction"}
			}
			if cur != nil && cur.Status == mvcc.TxnCommitted {
				commitTS = cur.CommitTS // a repeated request
				return nil
			}
			// After reading the record: garbage collection deletes ABORTED
			// records of transactions below the threshold, raising it
			// first, so a transaction that might have lost its ABORTED
			// record that way is refused here.
			if err := s.checkGC(partitionID, req.ReadTS); err != nil {
				return err
			}
		}
		if commitTS, err = s.writeTimestamp(partitionID, req); err != nil {
			return err
		}
		s.clock.Update(commitTS) // see capUncertainty
		if !req.MaxTS.IsEmpty() && req.MaxTS.Less(commitTS) {
			return nil // pushed: the caller refreshes its other reads first
		}
		rec := &recorder{writes: make([]Write, 0, len(req.Writes)+1)}
		for _, w := range req.Writes {
			if err := mvcc.PutVersion(rec, partitionID, w.Key, commitTS, w.Value, w.Delete); err != nil {
				return err
			}
		}
		if req.Record != nil {
			r := *req.Record
			r.Status, r.CommitTS = mvcc.TxnCommitted, commitTS
			if err := mvcc.PutTxnRecord(rec, partitionID, req.TxnID, &r); err != nil {
				return err
			}
		}
		return s.propose(ctx, partitionID, e, Command{Writes: rec.writes})
	})
	return commitTS, err
}

// Prepare lays intents for the transaction's writes in this partition at
// the timestamp writeTimestamp picks (its reads here are valid up to it),
// and returns it; the commit timestamp is the maximum over all
// participants.
func (s *Server) Prepare(ctx context.Context, partitionID uint64, req *CommitRequest) (prepTS hlc.Timestamp, err error) {
	err = s.withLatches(ctx, partitionID, commitLatches(req.Reads, req.Writes, req.ReadTS.Forward(req.MinTS)), func(e *evaluation) error {
		s.clock.Update(req.ReadTS)
		if prepTS, err = s.writeTimestamp(partitionID, req); err != nil {
			return err
		}
		s.clock.Update(prepTS) // see capUncertainty
		if len(req.Writes) == 0 {
			return nil
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
		// Lazy: the intents only matter with the commit record written
		// after them; so they may also go in several commands (chunk.go).
		return s.proposeChunked(ctx, partitionID, e, rec.writes)
	})
	return prepTS, err
}

// Refresh re-validates reads over (from, to] and remembers them at to, so
// that no later write in this partition lands at or below to on them.
func (s *Server) Refresh(ctx context.Context, partitionID uint64, id mvcc.TxnID, reads []Span, from, to hlc.Timestamp) error {
	spans := make([]latchSpan, len(reads))
	for i, r := range reads {
		spans[i] = spanLatch(r, false)
	}
	return s.withLatches(ctx, partitionID, spans, func(e *evaluation) error {
		s.clock.Update(to)
		if err := s.validateReads(partitionID, reads, from, to, &id); err != nil {
			return err
		}
		rememberReads(s.tsCacheFor(partitionID), reads, to, id)
		return nil
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
	return s.withLatches(ctx, partitionID, spans, func(e *evaluation) error {
		rec := &recorder{}
		for _, it := range items {
			if it.Commit {
				s.clock.Update(it.CommitTS) // see capUncertainty
			}
			// One iterator per transaction: its keys are usually sorted.
			if _, err := mvcc.ResolveTxnIntents(s.engine, rec, partitionID, it.TxnID, it.Keys, it.Commit, it.CommitTS); err != nil {
				return err
			}
		}
		if len(rec.writes) == 0 {
			return nil
		}
		// Lazy: the outcome is in a durable record; a lost resolution is
		// redone by the next reader.
		return s.proposeChunked(ctx, partitionID, e, rec.writes)
	})
}

// GetTxnRecord reads a record on its home partition (nil when absent).
func (s *Server) GetTxnRecord(ctx context.Context, home uint64, id mvcc.TxnID) (rec *mvcc.TxnRecord, err error) {
	err = s.withLatches(ctx, home, []latchSpan{{start: "x" + string(id[:])}}, func(*evaluation) error {
		rec, err = mvcc.GetTxnRecord(s.engine, home, id)
		return err
	})
	return rec, err
}

// FinalizeTxn moves a record to a final status. Committing fails (returning
// the ABORTED record) if the record was aborted; aborting fails (returning
// the COMMITTED record) if it was committed. The returned record is the one
// in force afterwards. (A coordinator commits through Commit1PC with a
// Record; FinalizeTxn is how others abort a transaction.)
func (s *Server) FinalizeTxn(ctx context.Context, home uint64, id mvcc.TxnID, want *mvcc.TxnRecord) (rec *mvcc.TxnRecord, err error) {
	err = s.withLatches(ctx, home, []latchSpan{recordLatch(id)}, func(e *evaluation) error {
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
		if err := s.propose(ctx, home, e, Command{Writes: w.writes}); err != nil {
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
	return s.withLatches(ctx, home, spans, func(e *evaluation) error {
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
		// Lazy: a record that reappears after a crash is deleted again.
		return s.proposeChunked(ctx, home, e, w.writes)
	})
}
