package exec

import (
	"context"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// scanAggOp is an aggregate without GROUP BY straight over a primary-key
// scan (optionally filtered): SELECT COUNT(*), SUM(v) FROM t WHERE ....
// It reads the row payloads from the scan and decodes each into one
// reused row instead of building batches of rows for aggregateOp: only the
// columns the aggregates read when every argument is a plain column and
// there is no filter, the whole row otherwise. Nothing is allocated per
// row (but the copy a row's strings share, when a decoded column is a
// string), and nothing is held but the aggregates' state, so it needs no
// memory budget. EXPLAIN shows the same plan: it is only an operator.
type scanAggOp struct {
	scan *scanOp
	n    *plan.Aggregate
	pred func(row []types.Value) (bool, error) // nil: no filter
	// need marks the columns decoded; nil: every column.
	need []bool
	cc   cancelCheck
	done bool
	// mem is the statement's account (nil: none): a parallel scan
	// reserves what its goroutines hold (scanpar.go).
	mem *mon.Account
}

// newScanAggOp returns the fused operator for n when its shape allows,
// nil otherwise (aggregateOp then does the work).
func newScanAggOp(kv catalog.KV, n *plan.Aggregate, mem *mon.Account) *scanAggOp {
	if len(n.GroupBy) != 0 {
		return nil
	}
	input := n.Input
	var pred func([]types.Value) (bool, error)
	if f, ok := input.(*plan.Filter); ok && !f.Having {
		pred, input = f.Pred, f.Input
	}
	scan, ok := input.(*plan.Scan)
	if !ok || scan.Index != &scan.Table.PrimaryKey {
		return nil
	}
	ncols := len(scan.Table.Columns)
	need := make([]bool, ncols)
	for _, s := range n.Aggs {
		if s.Distinct {
			return nil
		}
		switch {
		case s.Star:
		case s.ArgColumn >= 0 && s.ArgColumn < ncols && need != nil:
			need[s.ArgColumn] = true
		default:
			need = nil // an expression: decode whole rows
		}
	}
	if pred != nil {
		need = nil
	}
	return &scanAggOp{scan: newScanOp(kv, scan), n: n, pred: pred, need: need, mem: mem}
}

func (o *scanAggOp) Next(ctx context.Context) ([][]types.Value, error) {
	if o.done {
		return nil, nil
	}
	o.done = true
	if out, ok, err := o.runParallel(ctx); err != nil {
		return nil, err
	} else if ok {
		return [][]types.Value{out}, nil
	}
	aggs := make([]eval.Aggregator, len(o.n.Aggs))
	for i, s := range o.n.Aggs {
		a, err := eval.NewAggregatorSep(s.Name, s.Distinct, s.Star, s.Arg.Kind, s.Sep)
		if err != nil {
			return nil, err
		}
		aggs[i] = a
	}
	t := o.scan.n.Table
	row := make([]types.Value, len(t.Columns))
	var full []types.Value // a whole row (an expression, a filter, an old layout)
	for {
		if err := o.cc.tick(ctx); err != nil {
			return nil, err
		}
		_, value, ok, err := o.scan.nextEntry(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		var cur []types.Value
		if o.need != nil {
			cur, full, err = t.DecodeRowColumns(row, value, o.need, full)
		} else {
			clear(full)
			full, err = t.DecodeRowValueAppend(full[:0], value)
			cur = full
		}
		if err != nil {
			return nil, err
		}
		if o.pred != nil {
			keep, err := o.pred(cur)
			if err != nil {
				return nil, err
			}
			if !keep {
				continue
			}
		}
		for i, s := range o.n.Aggs {
			v := types.NewBool(true) // COUNT(*) counts any value
			switch {
			case s.Star:
			case o.need != nil:
				v = cur[s.ArgColumn]
			default:
				if v, err = s.Arg.Eval(cur); err != nil {
					return nil, err
				}
			}
			if err := aggs[i].Add(v); err != nil {
				return nil, err
			}
		}
	}
	o.scan.Close()
	out := make([]types.Value, len(aggs))
	for i, a := range aggs {
		v, err := a.Result()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return [][]types.Value{out}, nil
}

func (o *scanAggOp) Close() { o.scan.Close() }
