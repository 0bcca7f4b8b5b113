package exec

import (
	"context"
	"slices"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/rowenc"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// combine returns left ++ right in a new row.
func combine(left, right []types.Value) []types.Value {
	out := make([]types.Value, 0, len(left)+len(right))
	return append(append(out, left...), right...)
}

// nullRow returns n NULLs.
func nullRow(n int) []types.Value { return make([]types.Value, n) }

// evalKeys evaluates keys on row into dst; null reports a NULL key.
func evalKeys(dst []types.Value, keys []plan.Expr, row []types.Value) (_ []types.Value, null bool, err error) {
	dst = dst[:0]
	for _, k := range keys {
		v, err := k.Eval(row)
		if err != nil {
			return nil, false, err
		}
		null = null || v.IsNull()
		dst = append(dst, v)
	}
	return dst, null, nil
}

// hashJoinOp builds a hash table over the right input, then streams the
// left input through it, one output batch per left batch.
type hashJoinOp struct {
	n           *plan.HashJoin
	left, right Operator
	mem         *memAccount
	rightWidth  int

	built   bool
	table   map[string][][]types.Value
	keyVals []types.Value
	keyBuf  []byte
	held    int64
	cc      cancelCheck
}

func (o *hashJoinOp) build(ctx context.Context) error {
	o.table = map[string][][]types.Value{}
	o.rightWidth = len(o.n.Right.Columns())
	for {
		batch, err := o.right.Next(ctx)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, row := range batch {
			if err := o.cc.tick(ctx); err != nil {
				return err
			}
			keys, null, err := evalKeys(o.keyVals, o.n.RightKeys, row)
			if err != nil {
				return err
			}
			o.keyVals = keys
			if null {
				continue
			}
			size := rowSize(row) + int64(len(o.keyBuf)) + 16
			if err := o.mem.grow(size, "hash-join"); err != nil {
				return err
			}
			o.held += size
			o.keyBuf = plan.HashKey(o.keyBuf[:0], keys)
			o.table[string(o.keyBuf)] = append(o.table[string(o.keyBuf)], row)
		}
	}
}

func (o *hashJoinOp) Next(ctx context.Context) ([][]types.Value, error) {
	if !o.built {
		if err := o.build(ctx); err != nil {
			return nil, err
		}
		o.built = true
	}
	for {
		batch, err := o.left.Next(ctx)
		if err != nil || len(batch) == 0 {
			return nil, err
		}
		var out [][]types.Value
		for _, row := range batch {
			keys, null, err := evalKeys(o.keyVals, o.n.LeftKeys, row)
			if err != nil {
				return nil, err
			}
			o.keyVals = keys
			matched := false
			if !null {
				o.keyBuf = plan.HashKey(o.keyBuf[:0], keys)
				for _, r := range o.table[string(o.keyBuf)] {
					if err := o.cc.tick(ctx); err != nil {
						return nil, err
					}
					joined := combine(row, r)
					if o.n.Pred != nil {
						ok, err := o.n.Pred(joined)
						if err != nil {
							return nil, err
						}
						if !ok {
							continue
						}
					}
					matched = true
					out = append(out, joined)
				}
			}
			if !matched && o.n.Kind == plan.LeftJoin {
				out = append(out, combine(row, nullRow(o.rightWidth)))
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}

func (o *hashJoinOp) Close() {
	o.left.Close()
	o.right.Close()
	o.mem.shrink(o.held)
	o.held, o.table = 0, nil
}

// nestedLoopJoinOp materialises the right input and pairs each left row
// with every right row.
type nestedLoopJoinOp struct {
	n           *plan.NestedLoopJoin
	left, right Operator
	mem         *memAccount

	built bool
	rows  [][]types.Value
	held  int64
	cc    cancelCheck
}

func (o *nestedLoopJoinOp) Next(ctx context.Context) ([][]types.Value, error) {
	if !o.built {
		for {
			batch, err := o.right.Next(ctx)
			if err != nil {
				return nil, err
			}
			if len(batch) == 0 {
				break
			}
			for _, row := range batch {
				if err := o.cc.tick(ctx); err != nil {
					return nil, err
				}
				size := rowSize(row)
				if err := o.mem.grow(size, "nested-loop-join"); err != nil {
					return nil, err
				}
				o.held += size
				o.rows = append(o.rows, row)
			}
		}
		o.built = true
	}
	width := len(o.n.Right.Columns())
	for {
		batch, err := o.left.Next(ctx)
		if err != nil || len(batch) == 0 {
			return nil, err
		}
		var out [][]types.Value
		for _, row := range batch {
			matched := false
			for _, r := range o.rows {
				if err := o.cc.tick(ctx); err != nil {
					return nil, err
				}
				joined := combine(row, r)
				if o.n.Pred != nil {
					ok, err := o.n.Pred(joined)
					if err != nil {
						return nil, err
					}
					if !ok {
						continue
					}
				}
				matched = true
				out = append(out, joined)
			}
			if !matched && o.n.Kind == plan.LeftJoin {
				out = append(out, combine(row, nullRow(width)))
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}

func (o *nestedLoopJoinOp) Close() {
	o.left.Close()
	o.right.Close()
	o.mem.shrink(o.held)
	o.held, o.rows = 0, nil
}

// indexJoinOp probes the right table's index for every left row.
type indexJoinOp struct {
	n     *plan.IndexJoin
	left  Operator
	kv    catalog.KV
	probe *nodeStats // EXPLAIN ANALYZE counters of the probe, or nil
	inner *nodeStats

	keyVals []types.Value
	prefix  []byte
	cc      cancelCheck
}

// probeKey encodes the index prefix for keys; ok=false when no row can
// match (a NULL, or a value the column's kind cannot hold).
func (o *indexJoinOp) probeKey(keys []types.Value) ([]byte, bool) {
	t, idx := o.n.Table, o.n.Index
	if idx == &t.PrimaryKey {
		o.prefix = append(o.prefix[:0], t.RowPrefix()...)
	} else {
		o.prefix = append(o.prefix[:0], t.IndexPrefix(idx)...)
	}
	ords := t.IndexOrdinals(idx)
	for i, v := range keys {
		kind := t.Columns[ords[i]].Kind
		switch {
		case v.IsNull():
			return nil, false
		case v.Kind == kind:
		case v.Kind == types.Int64 && kind == types.Float64:
			v = types.NewFloat(float64(v.Int))
		case v.Kind == types.Float64 && kind == types.Int64:
			if v.Float != float64(int64(v.Float)) {
				return nil, false
			}
			v = types.NewInt(int64(v.Float))
		default:
			return nil, false
		}
		o.prefix = rowenc.AppendKey(o.prefix, v, idx.Columns[i].Desc)
	}
	return o.prefix, true
}

func (o *indexJoinOp) Next(ctx context.Context) ([][]types.Value, error) {
	width := len(o.n.Probe.Cols)
	for {
		batch, err := o.left.Next(ctx)
		if err != nil || len(batch) == 0 {
			return nil, err
		}
		var out [][]types.Value
		for _, row := range batch {
			if err := o.cc.tick(ctx); err != nil {
				return nil, err
			}
			keys, _, err := evalKeys(o.keyVals, o.n.LeftKeys, row)
			if err != nil {
				return nil, err
			}
			o.keyVals = keys
			matched := false
			if key, ok := o.probeKey(keys); ok {
				rights, err := o.fetch(ctx, key)
				if err != nil {
					return nil, err
				}
				for _, r := range rights {
					joined := combine(row, r)
					if o.n.Pred != nil {
						ok, err := o.n.Pred(joined)
						if err != nil {
							return nil, err
						}
						if !ok {
							continue
						}
					}
					matched = true
					out = append(out, joined)
				}
			}
			if !matched && o.n.Kind == plan.LeftJoin {
				out = append(out, combine(row, nullRow(width)))
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}

// fetch reads the right rows under key and applies RightFilter.
func (o *indexJoinOp) fetch(ctx context.Context, key []byte) ([][]types.Value, error) {
	probe := *o.n.Probe
	key = slices.Clone(key)
	if o.n.Lookup {
		probe.Keys = [][]byte{key}
	} else {
		probe.Spans = []plan.Span{{Start: key, End: kvpb.PrefixEnd(key)}}
	}
	kv := o.kv
	if o.probe != nil {
		kv = &countingKV{KV: kv, st: o.probe}
	}
	scan := newScanOp(kv, &probe)
	defer scan.Close()
	rows, err := Drain(ctx, scan)
	if err != nil {
		return nil, err
	}
	if o.probe != nil {
		o.probe.rows += int64(len(rows))
	}
	if o.n.RightFilter != nil {
		kept := rows[:0]
		for _, r := range rows {
			ok, err := o.n.RightFilter(r)
			if err != nil {
				return nil, err
			}
			if ok {
				kept = append(kept, r)
			}
		}
		rows = kept
		if o.inner != nil {
			o.inner.rows += int64(len(rows))
		}
	}
	return rows, nil
}

func (o *indexJoinOp) Close() { o.left.Close() }

// semiJoinOp filters the left rows by membership of their keys in the
// hashed right keys.
type semiJoinOp struct {
	n           *plan.SemiJoin
	left, right Operator
	mem         *memAccount

	built        bool
	keys         map[string]struct{}
	rightRows    int64
	rightHasNull bool
	keyVals      []types.Value
	keyBuf       []byte
	held         int64
	cc           cancelCheck
}

func (o *semiJoinOp) build(ctx context.Context) error {
	o.keys = map[string]struct{}{}
	for {
		batch, err := o.right.Next(ctx)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, row := range batch {
			if err := o.cc.tick(ctx); err != nil {
				return err
			}
			o.rightRows++
			if len(o.n.RightKeys) == 0 {
				return nil // only emptiness matters
			}
			keys, null, err := evalKeys(o.keyVals, o.n.RightKeys, row)
			if err != nil {
				return err
			}
			o.keyVals = keys
			if null && !o.n.NullsEqual {
				o.rightHasNull = true
				continue
			}
			o.keyBuf = plan.HashKey(o.keyBuf[:0], keys)
			if _, dup := o.keys[string(o.keyBuf)]; dup {
				continue
			}
			size := int64(len(o.keyBuf)) + 32
			if err := o.mem.grow(size, o.n.Name()); err != nil {
				return err
			}
			o.held += size
			o.keys[string(o.keyBuf)] = struct{}{}
		}
	}
}

// keep decides one left row.
func (o *semiJoinOp) keep(row []types.Value) (bool, error) {
	if len(o.n.LeftKeys) == 0 {
		return (o.rightRows > 0) == (o.n.Kind == plan.Semi), nil
	}
	keys, null, err := evalKeys(o.keyVals, o.n.LeftKeys, row)
	if err != nil {
		return false, err
	}
	o.keyVals = keys
	found := false
	if !null || o.n.NullsEqual {
		o.keyBuf = plan.HashKey(o.keyBuf[:0], keys)
		_, found = o.keys[string(o.keyBuf)]
	}
	switch o.n.Kind {
	case plan.Semi:
		return found, nil
	case plan.Anti:
		return !found, nil
	}
	// NOT IN: TRUE only when the comparison with every right key is FALSE.
	if o.rightRows == 0 {
		return true, nil
	}
	return !found && !null && !o.rightHasNull, nil
}

func (o *semiJoinOp) Next(ctx context.Context) ([][]types.Value, error) {
	if !o.built {
		if err := o.build(ctx); err != nil {
			return nil, err
		}
		o.built = true
	}
	for {
		batch, err := o.left.Next(ctx)
		if err != nil || len(batch) == 0 {
			return nil, err
		}
		out := batch[:0]
		for _, row := range batch {
			ok, err := o.keep(row)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, row)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}

func (o *semiJoinOp) Close() {
	o.left.Close()
	o.right.Close()
	o.mem.shrink(o.held)
	o.held, o.keys = 0, nil
}

// unionAllOp streams its left input, then its right input.
type unionAllOp struct {
	left, right Operator
	leftDone    bool
}

func (o *unionAllOp) Next(ctx context.Context) ([][]types.Value, error) {
	if !o.leftDone {
		batch, err := o.left.Next(ctx)
		if err != nil || len(batch) > 0 {
			return batch, err
		}
		o.leftDone = true
	}
	return o.right.Next(ctx)
}

func (o *unionAllOp) Close() {
	o.left.Close()
	o.right.Close()
}
