package kvserver

import (
	"context"
	"errors"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// SplitSpan suggests up to n-1 keys that cut [start, end) of a partition
// into n pieces of similar key range (mvcc.SplitSpan), read from this
// node's engine without latches: the keys are a hint for scanning the
// pieces concurrently, any keys being correct. kv.SpanSplitter.
func (s *Server) SplitSpan(_ context.Context, partitionID uint64, start, end []byte, n int) ([][]byte, error) {
	return mvcc.SplitSpan(s.engine, partitionID, start, end, n)
}

// ScanValues is a forward Scan (same latches, timestamp cache and GC
// check) that hands each visible value to visit instead of returning
// copies (mvcc.ScanValues): value is valid only during the call, which
// runs under the scan's latches. A blocking intent met after some values
// were visited returns its *mvcc.IntentError with resume at its key, the
// part before it recorded as read: the caller resolves it and resumes
// there. kv.ValueScanner.
func (s *Server) ScanValues(ctx context.Context, partitionID uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions, visit func(value []byte) error) (resume []byte, err error) {
	if opts.Reverse {
		return nil, errors.New("kvserver: ScanValues scans forward only")
	}
	latchEnd := end
	var narrowedAt []byte
	if opts.MaxKeys > 0 && opts.MaxKeys <= optimisticScanMaxKeys {
		// As Scan: learn the extent of a short scan before latching it.
		probe := opts
		probe.Uncertainty = s.capUncertainty(probe.Uncertainty)
		if _, res, perr := mvcc.Scan(s.engine, partitionID, start, end, readTS, probe); perr == nil && res != nil {
			narrowedAt, latchEnd = res, res
		}
	}
	latch := scanLatch(Span{Key: start, EndKey: latchEnd}, readTS, opts)
	err = s.withLatches(ctx, partitionID, []latchSpan{latch}, func(e *evaluation) error {
		s.clock.Update(readTS)
		opts.Uncertainty = s.capUncertainty(opts.Uncertainty)
		var ie *mvcc.IntentError
		resume, err = mvcc.ScanValues(s.engine, partitionID, start, latchEnd, readTS, opts, visit)
		if gcErr := s.checkGC(partitionID, readTS); gcErr != nil {
			return gcErr // what was read may have lost versions
		}
		switch {
		case errors.As(err, &ie) && resume != nil:
			s.tsCacheFor(partitionID).addSpan(start, resume, readTS, ownID(opts.Own))
			return err
		case err != nil:
			return err
		}
		if resume == nil && narrowedAt != nil {
			resume = narrowedAt
		}
		readEnd := end
		if resume != nil {
			readEnd = resume
		}
		s.tsCacheFor(partitionID).addSpan(start, readEnd, readTS, ownID(opts.Own))
		return nil
	})
	return resume, err
}
