package exec

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/procs"
)

// A fused aggregate over a whole primary-key span (no filter, plain
// column arguments) reads the span with several goroutines when the KV can
// (catalog.ParallelScanner): the span is cut into pieces, each piece
// aggregated on its own, and the pieces' partial results merged in key
// order. Only aggregates whose merge gives exactly what one pass in key
// order gives take this path: COUNT, MIN and MAX of any column (MIN/MAX
// keep the first of equal values, and the pieces are merged in order),
// SUM and AVG of integers. A SUM/AVG meeting another kind, an integer sum
// that would overflow somewhere along the serial order, a value MIN/MAX
// cannot compare, a row that does not decode: each makes the operator
// drop the partial results and run serially, so that errors and results
// are the serial ones.
const (
	// parallelPiecesPerWorker: more pieces than goroutines even out keys
	// that are spread unevenly.
	parallelPiecesPerWorker = 4
	// parallelBatchBytes is what each goroutine holds of the rows read
	// and not yet aggregated, reserved from the statement's memory
	// account for the length of the scan.
	parallelBatchBytes = 2 << 20
)

// errSerial makes a parallel aggregate fall back to the serial one.
var errSerial = errors.New("exec: aggregate runs serially")

// scanWorkers, when set, is how many goroutines a parallel scan uses
// (SetParallelWorkers).
var scanWorkers atomic.Int32

// SetParallelWorkers sets how many goroutines a parallel scan uses (n <= 0:
// GOMAXPROCS). The server sets it to the Ps it found before adding one for
// goroutines blocked in system calls (cli.extraProcs): that extra P would
// only split a scan into more pieces than there are cores to run them.
func SetParallelWorkers(n int) { scanWorkers.Store(int32(max(0, n))) }

// parallelWorkers is how many goroutines a parallel scan uses: one per
// core.
func parallelWorkers() int {
	if n := scanWorkers.Load(); n > 0 {
		return int(n)
	}
	return max(1, runtime.GOMAXPROCS(0))
}

// pieceAgg is the partial state of one piece.
type pieceAgg struct {
	row, full []types.Value
	parts     []partAgg
	ticks     uint32
}

// partAgg is one aggregate's partial state over a piece.
type partAgg struct {
	n int64 // values counted (COUNT(*): rows)
	// sum of the integers, and the lowest and highest of its running sums
	// (from 0): the merge checks the serial order's running sums with them.
	sum, lo, hi int64
	mm          eval.Aggregator // MIN, MAX
}

type aggKind uint8

const (
	aggCountStar aggKind = iota
	aggCount
	aggSum
	aggAvg
	aggMinMax
)

// parallelKinds returns the kind of each aggregate, ok=false when one
// cannot be merged.
func parallelKinds(aggs []plan.AggregateSpec) ([]aggKind, bool) {
	kinds := make([]aggKind, len(aggs))
	for i, s := range aggs {
		switch lowerName(s.Name) {
		case "count":
			kinds[i] = aggCount
			if s.Star {
				kinds[i] = aggCountStar
			}
		case "sum":
			kinds[i] = aggSum
		case "avg":
			kinds[i] = aggAvg
		case "min", "max":
			kinds[i] = aggMinMax
		default:
			return nil, false
		}
	}
	return kinds, true
}

func lowerName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// runParallel computes the aggregates with a parallel scan. ok=false: it
// did not, the caller runs serially.
func (o *scanAggOp) runParallel(ctx context.Context) (out []types.Value, ok bool, err error) {
	scan := o.scan.n
	ps, can := o.scan.kv.(catalog.ParallelScanner)
	workers := parallelWorkers()
	if !can || workers < 2 || o.need == nil || scan.Kind == plan.ScanLookup || len(scan.Spans) != 1 || scan.LimitHint > 0 {
		return nil, false, nil
	}
	kinds, mergeable := parallelKinds(o.n.Aggs)
	if !mergeable {
		return nil, false, nil
	}
	if o.mem != nil {
		reserve := int64(workers * parallelBatchBytes)
		if err := o.mem.Grow(reserve, "parallel scan"); err != nil {
			return nil, false, nil // within the budget serially
		}
		defer o.mem.Shrink(reserve)
	}
	// The workers need the cores: a node narrowed to one P for a lone
	// client widens while they run.
	defer procs.Hold()()
	cols := make([]int, len(kinds)) // the column each aggregate reads
	for j, s := range o.n.Aggs {
		cols[j] = s.ArgColumn
	}
	opts := catalog.ParallelScan{Workers: workers, Pieces: workers * parallelPiecesPerWorker, BatchBytes: parallelBatchBytes}
	pieces := make([]*pieceAgg, opts.Pieces+1)
	t := scan.Table
	visit := func(i int, value []byte) error {
		p := pieces[i]
		if p == nil {
			var err error
			if p, err = o.newPiece(kinds, len(t.Columns)); err != nil {
				return err
			}
			pieces[i] = p
		}
		p.ticks++
		if p.ticks%cancelCheckInterval == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		cur, full, err := t.DecodeRowColumns(p.row, value, o.need, p.full)
		p.full = full
		if err != nil {
			return errSerial
		}
		for j, k := range kinds {
			a := &p.parts[j]
			if k == aggCountStar {
				a.n++
				continue
			}
			v := &cur[cols[j]]
			switch k {
			case aggCount:
				if v.Kind != types.Null {
					a.n++
				}
				continue
			case aggMinMax:
				if err := a.mm.Add(*v); err != nil {
					return errSerial
				}
				continue
			}
			switch v.Kind {
			case types.Null:
				continue
			case types.Int64:
			default:
				return errSerial // a float or decimal sum depends on the order
			}
			sum := a.sum + v.Int
			if (a.sum^sum)&(v.Int^sum) < 0 {
				return errSerial
			}
			a.sum = sum
			a.lo, a.hi = min(a.lo, sum), max(a.hi, sum)
			a.n++
		}
		return nil
	}
	sp := scan.Spans[0]
	done, err := ps.ScanValuesParallel(ctx, sp.Start, sp.End, opts, visit)
	if errors.Is(err, errSerial) || (err == nil && !done) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return o.merge(kinds, pieces)
}

func (o *scanAggOp) newPiece(kinds []aggKind, ncols int) (*pieceAgg, error) {
	p := &pieceAgg{row: make([]types.Value, ncols), parts: make([]partAgg, len(kinds))}
	for j, k := range kinds {
		if k == aggMinMax {
			s := o.n.Aggs[j]
			mm, err := eval.NewAggregatorSep(s.Name, false, false, s.Arg.Kind, s.Sep)
			if err != nil {
				return nil, err
			}
			p.parts[j].mm = mm
		}
	}
	return p, nil
}

// merge combines the pieces' partial results in key order. ok=false when
// the serial order would have met an integer overflow (or MIN/MAX values
// it cannot compare): the serial run reports it.
func (o *scanAggOp) merge(kinds []aggKind, pieces []*pieceAgg) ([]types.Value, bool, error) {
	out := make([]types.Value, len(kinds))
	for j, k := range kinds {
		var n, sum int64
		var mm eval.Aggregator
		if k == aggMinMax {
			s := o.n.Aggs[j]
			var err error
			if mm, err = eval.NewAggregatorSep(s.Name, false, false, s.Arg.Kind, s.Sep); err != nil {
				return nil, false, err
			}
		}
		for _, p := range pieces {
			if p == nil {
				continue
			}
			a := &p.parts[j]
			n += a.n
			switch k {
			case aggSum, aggAvg:
				if addOverflows(sum, a.lo) || addOverflows(sum, a.hi) || addOverflows(sum, a.sum) {
					return nil, false, nil
				}
				sum += a.sum
			case aggMinMax:
				v, err := a.mm.Result()
				if err != nil {
					return nil, false, nil
				}
				if err := mm.Add(v); err != nil {
					return nil, false, nil
				}
			}
		}
		switch k {
		case aggCountStar, aggCount:
			out[j] = types.NewInt(n)
		case aggSum:
			out[j] = types.NullValue
			if n > 0 {
				out[j] = types.NewInt(sum)
			}
		case aggAvg:
			out[j] = types.NullValue
			if n > 0 {
				out[j] = types.NewFloat(float64(sum) / float64(n))
			}
		case aggMinMax:
			v, err := mm.Result()
			if err != nil {
				return nil, false, err
			}
			out[j] = v
		}
	}
	return out, true, nil
}

// addOverflows reports whether a+b overflows an int64.
func addOverflows(a, b int64) bool {
	s := a + b
	return (a^s)&(b^s) < 0
}
