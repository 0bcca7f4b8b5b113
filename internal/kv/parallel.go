package kv

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// SpanSplitter is a Sender that can suggest keys cutting a span of a
// partition into pieces of similar size (a hint: any keys are correct).
// *kvserver.Server is one; a Sender that is not only scans serially.
type SpanSplitter interface {
	SplitSpan(ctx context.Context, partitionID uint64, start, end []byte, n int) ([][]byte, error)
}

// ValueScanner is a Sender that can hand a scan's values to a callback
// without copying them (kvserver.Server.ScanValues): a parallel scan then
// holds no batches.
type ValueScanner interface {
	ScanValues(ctx context.Context, partitionID uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions, visit func(value []byte) error) (resume []byte, err error)
}

var (
	_ SpanSplitter = (*kvserver.Server)(nil)
	_ ValueScanner = (*kvserver.Server)(nil)
)

// ParallelScanOptions configures Txn.ScanValuesParallel.
type ParallelScanOptions struct {
	// Workers is how many goroutines scan at once (at least 2, or the scan
	// is not parallel).
	Workers int
	// Pieces is how many pieces the span is cut into after the first
	// batch (at least Workers to use them all; more pieces even out keys
	// spread unevenly). The piece numbers given to visit are below
	// Pieces+1.
	Pieces int
	// BatchBytes bounds the keys and values one worker holds (one batch of
	// a round trip; at least scanBatchMin keys).
	BatchBytes int
}

// ScanValuesParallel reads the values of the visible keys of [start,
// end) at the transaction's snapshot, exactly like Scan does, but with
// several goroutines: it reads the first batch, and when the span goes on
// beyond it, cuts the rest into pieces (SpanSplitter) scanned by
// opts.Workers goroutines. visit receives each value with the number of
// its piece: pieces are numbered in key order from 0, the values of one
// piece come in key order from one goroutine, different pieces
// concurrently. A value is valid only during its visit call.
//
// It returns ok=false, having recorded nothing, when it could not do
// this: the transaction has its own writes in the span (they must be
// merged by key), the sender cannot split spans, or a read met a version
// in the uncertainty interval (Scan moves the read timestamp; that is not
// done concurrently). visit may have been called before: the caller
// discards what it gathered and scans with Scan. When ok, the whole span
// is in the read set as one span, as a Scan to its end would record it.
// The first error of visit or of a read stops every goroutine and is
// returned.
func (t *Txn) ScanValuesParallel(ctx context.Context, start, end []byte, opts ParallelScanOptions, visit func(piece int, value []byte) error) (ok bool, err error) {
	splitter, canSplit := t.db.sender.(SpanSplitter)
	if !canSplit || opts.Workers < 2 {
		return false, nil
	}
	if t.done {
		return false, kvpb.ErrTxnClosed
	}
	if err := t.checkAge(); err != nil {
		return false, err
	}
	if end == nil {
		bucket, err := kvpb.BucketOf(start)
		if err != nil {
			return false, err
		}
		end = kvpb.PrefixEnd(bucket)
	}
	pid, err := t.db.spanPartition(start, end)
	if err != nil {
		return false, err
	}
	keys := t.sortedWriteKeys()
	if lo, hi := sort.SearchStrings(keys, string(start)), sort.SearchStrings(keys, string(end)); lo < hi {
		return false, nil // own writes to merge
	}
	batchBytes := max(opts.BatchBytes, 1)
	pieces := max(opts.Pieces, 1)

	// The first batch, in this goroutine: a short span ends here.
	first := scanBatchFirst
	resume, err := t.scanPiece(ctx, pid, start, end, &first, batchBytes, true, func(v []byte) error { return visit(0, v) })
	if err != nil || resume == nil {
		if errors.Is(err, errParallelUncertain) {
			return false, nil
		}
		if err == nil {
			t.recordSpan(pid, start, end)
		}
		return err == nil, err
	}
	cuts, err := splitter.SplitSpan(ctx, pid, resume, end, pieces)
	if err != nil {
		return false, err
	}
	bounds := make([][]byte, 0, len(cuts)+2)
	bounds = append(bounds, resume)
	bounds = append(bounds, cuts...)
	bounds = append(bounds, end)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64 // the next piece to take, minus one
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	workers := min(opts.Workers, len(bounds)-1)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := first // sized from the first batch's rows
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bounds)-1 || ctx.Err() != nil {
					return
				}
				piece := i + 1
				_, err := t.scanPiece(ctx, pid, bounds[i], bounds[i+1], &batch, batchBytes, false, func(v []byte) error { return visit(piece, v) })
				if err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		if errors.Is(firstErr, errParallelUncertain) {
			return false, nil
		}
		return false, firstErr
	}
	t.recordSpan(pid, start, end)
	return true, nil
}

// errParallelUncertain stops a parallel scan that met an uncertain
// version.
var errParallelUncertain = errors.New("kv: uncertain read in a parallel scan")

// scanPiece reads [start, end) at the read timestamp in batches of up to
// *batch keys (then as many as fit in batchBytes at the size of the keys
// read so far, within scanBatchMax, updating *batch), visiting every value, and returns where it stopped: nil at
// the end of the span, the resume key after one batch when once is set. It
// touches no state of the transaction, so pieces can be read concurrently.
func (t *Txn) scanPiece(ctx context.Context, pid uint64, start, end []byte, batch *int, batchBytes int, once bool, visit func([]byte) error) ([]byte, error) {
	var keys, size int64
	counted := func(v []byte) error {
		keys++
		size += int64(len(v))
		return visit(v)
	}
	vs, zeroCopy := t.db.sender.(ValueScanner)
	for {
		opts := mvcc.ScanOptions{MaxKeys: *batch, Own: &t.id, Uncertainty: t.uncertainty, ValuesOnly: true, NonBlocking: t.nonBlocking}
		var resume []byte
		err := t.db.withIntentRetry(ctx, pid, nil, func() error {
			if zeroCopy {
				res, err := vs.ScanValues(ctx, pid, start, end, t.readTS, opts, counted)
				var ie *mvcc.IntentError
				if errors.As(err, &ie) && res != nil {
					start = res // the keys before the intent were visited
				}
				resume = res
				return err
			}
			kvs, res, err := t.db.sender.Scan(ctx, pid, start, end, t.readTS, opts)
			if err != nil {
				return err
			}
			resume = res
			for i := range kvs {
				size += int64(len(kvs[i].Key))
				if err := counted(kvs[i].Value); err != nil {
					return err
				}
			}
			return nil
		})
		var ue *mvcc.UncertaintyError
		if errors.As(err, &ue) {
			return nil, errParallelUncertain
		}
		if err != nil {
			return nil, err
		}
		if keys > 0 {
			perKey := max(size/keys, 1)
			*batch = int(min(scanBatchMax, max(int64(batchBytes)/perKey, scanBatchMin)))
		}
		if resume == nil || once {
			return resume, nil
		}
		start = resume
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// recordSpan adds [start, end) to the read set of partition pid.
func (t *Txn) recordSpan(pid uint64, start, end []byte) {
	rs := t.readSetFor(pid)
	rs.spans = append(rs.spans, kvserver.Span{Key: append([]byte(nil), start...), EndKey: append([]byte(nil), end...)})
}
