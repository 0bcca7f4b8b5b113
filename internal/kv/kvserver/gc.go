package kvserver

import (
	"context"
	"fmt"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// gcBatch bounds the versions one GC proposal deletes.
const gcBatch = 2000

// CollectGarbage deletes, in a partition this node leads, every version no
// read at or above threshold can see and the ABORTED records of
// transactions that started below it, and raises the partition's GC
// threshold so that reads below it fail (with a retry error) instead of
// missing data. The in-memory threshold is raised before anything is
// proposed, and reads check it after reading, so a read that raced with a
// deletion always learns about it.
func (s *Server) CollectGarbage(ctx context.Context, partitionID uint64, threshold hlc.Timestamp) (deleted int, err error) {
	st, release, err := s.replicator.Admit(partitionID)
	if err != nil {
		return 0, err
	}
	release() // deleting what no read can see needs no lease afterwards
	// No latches either: see above.
	e := &evaluation{term: st.Term}
	e.refs.Store(1)
	if cur := s.gcThreshold(partitionID); !cur.Less(threshold) {
		return 0, nil
	}
	s.mu.Lock()
	s.mu.gcThresholds[partitionID] = threshold
	s.mu.Unlock()
	var from []byte
	first := true
	for {
		rec := &recorder{}
		if first {
			if err := mvcc.PutGCThreshold(rec, partitionID, threshold); err != nil {
				return deleted, err
			}
			n, err := mvcc.CollectAbortedRecords(s.engine, rec, partitionID, threshold)
			if err != nil {
				return deleted, err
			}
			deleted += n
			first = false
		}
		n, resume, err := mvcc.CollectGarbage(s.engine, rec, partitionID, threshold, from, gcBatch)
		if err != nil {
			return deleted, err
		}
		if len(rec.writes) > 0 {
			if err := s.proposeChunked(ctx, partitionID, e, rec.writes); err != nil {
				return deleted, err
			}
		}
		deleted += n
		if resume == nil {
			return deleted, nil
		}
		from = resume
	}
}

// ClearSpan removes every intent and version of the user keys in
// [start, end) of a partition this node leads with one replicated range
// deletion, instead of a tombstone per key. Only once no read below
// notBelow can succeed on the partition any more: while its GC threshold
// is below notBelow it fails with a *kvpb.RetryError and changes nothing.
// The span must hold keys that no transaction reads at or above notBelow
// or writes again: a dropped table's (table ids are never reused), with
// notBelow at or above the drop's commit timestamp.
func (s *Server) ClearSpan(ctx context.Context, partitionID uint64, start, end []byte, notBelow hlc.Timestamp) error {
	return s.withLatches(ctx, partitionID, []latchSpan{spanLatch(Span{Key: start, EndKey: end}, true)}, func(e *evaluation) error {
		if th := s.gcThreshold(partitionID); th.Less(notBelow) {
			return &kvpb.RetryError{Reason: fmt.Sprintf("partition %d: the span can be cleared once its GC threshold (%s) reaches %s", partitionID, th, notBelow)}
		}
		rec := &recorder{}
		if err := mvcc.ClearSpan(rec, partitionID, start, end); err != nil {
			return err
		}
		return s.propose(ctx, partitionID, e, Command{Writes: rec.writes})
	})
}

// gcThreshold returns the partition's GC threshold, loading the replicated
// value on first use.
func (s *Server) gcThreshold(partitionID uint64) hlc.Timestamp {
	s.mu.Lock()
	ts, ok := s.mu.gcThresholds[partitionID]
	s.mu.Unlock()
	if ok {
		return ts
	}
	stored, err := mvcc.GetGCThreshold(s.engine, partitionID)
	if err != nil {
		stored = hlc.MaxTimestamp // unreadable: refuse reads rather than risk a wrong one
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.mu.gcThresholds[partitionID]; ok && stored.Less(cur) {
		return cur
	}
	s.mu.gcThresholds[partitionID] = stored
	return stored
}

// checkGC fails a read or validation at readTS below the GC threshold.
func (s *Server) checkGC(partitionID uint64, readTS hlc.Timestamp) error {
	if th := s.gcThreshold(partitionID); !th.IsEmpty() && readTS.Less(th) {
		return &kvpb.RetryError{Reason: fmt.Sprintf("transaction too old: read timestamp %s is below partition %d's GC threshold %s", readTS, partitionID, th)}
	}
	return nil
}

// StaleCommittedRecords lists, in a partition whose lease this node holds,
// COMMITTED records older than the wall time before that list their
// intents (see mvcc.StaleCommittedRecords); kv.DB.FinishCommitted
// resolves their intents and deletes them.
func (s *Server) StaleCommittedRecords(partitionID uint64, before int64, max int) ([]mvcc.RecordEntry, error) {
	_, release, err := s.replicator.Admit(partitionID)
	if err != nil {
		return nil, err
	}
	defer release()
	return mvcc.StaleCommittedRecords(s.engine, partitionID, before, max)
}
