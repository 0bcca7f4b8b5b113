package exec

import (
	"context"
	"slices"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/rowenc"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// BatchSize is the most rows an operator returns from one Next call.
const BatchSize = 256

// Operator is a pull-based iterator over batches of rows. Next returns an
// empty batch at the end. A returned batch (and its rows) belongs to the
// caller until the next call to Next.
type Operator interface {
	Next(ctx context.Context) ([][]types.Value, error)
	Close()
}

// builder builds the operators of one query.
type builder struct {
	kv  catalog.KV
	mem *mon.Account // nil: no accounting
	// spill gives operators over the query budget run files (nil or
	// without a dir: nothing spills).
	spill *spiller
	// topK marks sorts under a LIMIT: they keep only that many rows.
	topK map[*plan.Sort]int64
	// stats, when set (EXPLAIN ANALYZE), receives counters per plan node.
	stats map[plan.Node]*nodeStats
}

func newBuilder(kv catalog.KV, mem *mon.Account) *builder {
	return &builder{kv: kv, mem: mem}
}

func (b *builder) statsFor(n plan.Node) *nodeStats {
	if b.stats == nil {
		return nil
	}
	st := b.stats[n]
	if st == nil {
		st = &nodeStats{}
		b.stats[n] = st
	}
	return st
}

func (b *builder) build(n plan.Node) (Operator, error) {
	op, err := b.buildNode(n)
	if err != nil || b.stats == nil {
		return op, err
	}
	return &statsOp{in: op, st: b.statsFor(n)}, nil
}

func (b *builder) buildNode(n plan.Node) (Operator, error) {
	kv := b.kv
	switch n := n.(type) {
	case *plan.Values:
		return &valuesOp{n: n}, nil
	case *plan.VirtualScan:
		return &virtualOp{n: n}, nil
	case *plan.FuncScan:
		return &funcScanOp{n: n}, nil
	case *plan.Scan:
		if st := b.statsFor(n); st != nil {
			st.decoded = true
			kv = &countingKV{KV: kv, st: st}
		}
		return newScanOp(kv, n), nil
	case *plan.Filter:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		return &filterOp{in: in, pred: n.Pred}, nil
	case *plan.Project:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		return &projectOp{in: in, exprs: n.Exprs}, nil
	case *plan.Aggregate:
		if b.stats == nil { // EXPLAIN ANALYZE counts per plan node
			if op := newScanAggOp(kv, n, b.mem); op != nil {
				return op, nil
			}
		}
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		return &aggregateOp{in: in, n: n, mem: b.mem, spill: b.spill}, nil
	case *plan.Sort:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		return &sortOp{in: in, keys: n.Keys, mem: b.mem, spill: b.spill, topK: b.topK[n]}, nil
	case *plan.Distinct:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		if n.Streaming {
			return &streamingDistinctOp{in: in}, nil
		}
		return newDistinctOp(in, b.mem, b.spill, 0), nil
	case *plan.Limit:
		// ORDER BY ... LIMIT: the sort (under any projections) needs only
		// the first Count+Offset rows.
		below := n.Input
		for {
			p, ok := below.(*plan.Project)
			if !ok {
				break
			}
			below = p.Input
		}
		if s, ok := below.(*plan.Sort); ok && n.Count >= 0 {
			if b.topK == nil {
				b.topK = map[*plan.Sort]int64{}
			}
			b.topK[s] = max(n.Count+n.Offset, 1)
		}
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		return &limitOp{in: in, remaining: n.Count, skip: n.Offset}, nil
	case *plan.DerivedTable:
		return b.build(n.Input)
	case *plan.HashJoin:
		left, right, err := b.build2(n.Left, n.Right)
		if err != nil {
			return nil, err
		}
		return newHashJoinOp(n, left, right, b.mem, b.spill, 0), nil
	case *plan.NestedLoopJoin:
		left, right, err := b.build2(n.Left, n.Right)
		if err != nil {
			return nil, err
		}
		return newNestedLoopJoinOp(n, left, right, b.mem, b.spill), nil
	case *plan.IndexJoin:
		left, err := b.build(n.Left)
		if err != nil {
			return nil, err
		}
		op := newIndexJoinOp(n, left, kv)
		if st := b.statsFor(n.Probe); st != nil {
			st.decoded = true
			op.probe = st
			if n.Inner != plan.Node(n.Probe) {
				op.inner = b.statsFor(n.Inner)
			}
		}
		return op, nil
	case *plan.SemiJoin:
		left, right, err := b.build2(n.Left, n.Right)
		if err != nil {
			return nil, err
		}
		return &semiJoinOp{n: n, left: left, right: right, mem: b.mem, spill: b.spill}, nil
	case *plan.UnionAll:
		left, right, err := b.build2(n.Left, n.Right)
		if err != nil {
			return nil, err
		}
		return &unionAllOp{left: left, right: right}, nil
	}
	return nil, errcode.New(errcode.Internal, "exec: no operator for plan node %T", n)
}

func (b *builder) build2(l, r plan.Node) (Operator, Operator, error) {
	left, err := b.build(l)
	if err != nil {
		return nil, nil, err
	}
	right, err := b.build(r)
	if err != nil {
		left.Close()
		return nil, nil, err
	}
	return left, right, nil
}

// runner executes subquery plans for the planner (plan.Runner).
type runner struct {
	ctx context.Context
	b   *builder
}

func (r *runner) Run(n plan.Node, limit int) ([][]types.Value, error) {
	b := *r.b
	b.stats = nil
	op, err := b.build(n)
	if err != nil {
		return nil, err
	}
	defer op.Close()
	// A subquery's rows are bounded by the query budget while they are
	// gathered (they cannot spill); the planner keeps them only as long as
	// it evaluates the expression (or the statement, for an uncorrelated
	// subquery's cache).
	var held int64
	defer func() { b.mem.Shrink(held) }()
	var out [][]types.Value
	for limit < 0 || len(out) < limit {
		batch, err := op.Next(r.ctx)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			break
		}
		var size int64
		for _, row := range batch {
			size += rowSize(row)
		}
		if err := b.mem.GrowBounded(size, "a subquery's result"); err != nil {
			return nil, err
		}
		held += size
		out = append(out, batch...)
	}
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Drain runs op to the end and returns every row.
func Drain(ctx context.Context, op Operator) ([][]types.Value, error) {
	var out [][]types.Value
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch, err := op.Next(ctx)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			return out, nil
		}
		out = append(out, batch...)
	}
}

type valuesOp struct {
	n    *plan.Values
	done bool
}

func (o *valuesOp) Next(context.Context) ([][]types.Value, error) {
	if o.done {
		return nil, nil
	}
	o.done = true
	out := make([][]types.Value, len(o.n.Rows))
	for i, exprs := range o.n.Rows {
		row := make([]types.Value, len(exprs))
		for j, e := range exprs {
			v, err := e.Eval(nil)
			if err != nil {
				return nil, err
			}
			row[j] = v
		}
		out[i] = row
	}
	return out, nil
}

func (o *valuesOp) Close() {}

type filterOp struct {
	in   Operator
	pred func([]types.Value) (bool, error)
	cc   cancelCheck
}

func (o *filterOp) Next(ctx context.Context) ([][]types.Value, error) {
	for {
		batch, err := o.in.Next(ctx)
		if err != nil || len(batch) == 0 {
			return nil, err
		}
		out := batch[:0]
		for _, row := range batch {
			if err := o.cc.tick(ctx); err != nil {
				return nil, err
			}
			ok, err := o.pred(row)
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

func (o *filterOp) Close() { o.in.Close() }

type projectOp struct {
	in    Operator
	exprs []plan.Expr
}

func (o *projectOp) Next(ctx context.Context) ([][]types.Value, error) {
	batch, err := o.in.Next(ctx)
	if err != nil || len(batch) == 0 {
		return nil, err
	}
	out := make([][]types.Value, len(batch))
	vals := make([]types.Value, len(batch)*len(o.exprs))
	for i, row := range batch {
		res := vals[i*len(o.exprs) : (i+1)*len(o.exprs) : (i+1)*len(o.exprs)]
		for j, e := range o.exprs {
			if res[j], err = e.Eval(row); err != nil {
				return nil, err
			}
		}
		out[i] = res
	}
	return out, nil
}

func (o *projectOp) Close() { o.in.Close() }

type limitOp struct {
	in        Operator
	remaining int64 // < 0: unlimited
	skip      int64
}

func (o *limitOp) Next(ctx context.Context) ([][]types.Value, error) {
	for o.remaining != 0 {
		batch, err := o.in.Next(ctx)
		if err != nil || len(batch) == 0 {
			return nil, err
		}
		if o.skip > 0 {
			n := min(o.skip, int64(len(batch)))
			batch, o.skip = batch[n:], o.skip-n
		}
		if o.remaining >= 0 && int64(len(batch)) > o.remaining {
			batch = batch[:o.remaining]
		}
		if o.remaining > 0 {
			o.remaining -= int64(len(batch))
		}
		if len(batch) > 0 {
			return batch, nil
		}
	}
	return nil, nil
}

func (o *limitOp) Close() { o.in.Close() }

// distinctOp drops rows it has seen, keeping the encoded rows in a set.
// When the set no longer fits the query budget it stops growing: rows it
// has not seen go to partition files instead (it cannot tell whether they
// are new), and once its input ends each partition is deduplicated by a
// distinctOp of its own.
type distinctOp struct {
	cc    cancelCheck // looked at every cancelCheckInterval rows
	in    Operator
	seen  map[string]struct{}
	key   []byte
	mem   *mon.Account
	spill *spiller
	depth int
	held  int64
	parts *partitioner
	rest  *partitionQueue
}

func newDistinctOp(in Operator, mem *mon.Account, s *spiller, depth int) *distinctOp {
	return &distinctOp{in: in, seen: map[string]struct{}{}, mem: mem, spill: s, depth: depth}
}

func (o *distinctOp) Next(ctx context.Context) ([][]types.Value, error) {
	if o.rest != nil {
		return o.rest.Next(ctx)
	}
	for {
		batch, err := o.in.Next(ctx)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			if o.parts == nil {
				return nil, nil
			}
			return o.spilled(ctx)
		}
		out := batch[:0]
		for _, row := range batch {
			if err := o.cc.tick(ctx); err != nil {
				return nil, err
			}
			o.key = rowenc.EncodeKeyValues(o.key[:0], normalizeForKey(row), nil)
			if _, dup := o.seen[string(o.key)]; dup {
				continue
			}
			size := int64(len(o.key)) + 32
			if o.parts != nil || (canSpill(o.spill, o.depth) && !o.mem.Fits(size)) {
				if o.parts == nil {
					o.parts = newPartitioner(o.spill, o.mem)
				}
				if err := o.parts.write(o.key, row); err != nil {
					return nil, err
				}
				continue
			}
			grow := o.mem.GrowBounded
			if canSpill(o.spill, o.depth) {
				grow = o.mem.Grow
			}
			if err := grow(size, "distinct"); err != nil {
				return nil, err
			}
			o.held += size
			o.seen[string(o.key)] = struct{}{}
			out = append(out, row)
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}

// spilled releases the in-memory set and deduplicates the partitions.
func (o *distinctOp) spilled(ctx context.Context) ([][]types.Value, error) {
	runs, err := o.parts.finish()
	if err != nil {
		return nil, err
	}
	o.mem.Shrink(o.held)
	o.held, o.seen = 0, nil
	o.rest = &partitionQueue{runs: runs, mem: o.mem, open: func(in Operator) Operator {
		return newDistinctOp(in, o.mem, o.spill, o.depth+1)
	}}
	return o.rest.Next(ctx)
}

func (o *distinctOp) Close() {
	o.in.Close()
	if o.rest != nil {
		o.rest.Close()
	}
	o.parts.discard()
	o.mem.Shrink(o.held)
	o.held, o.seen = 0, nil
}

// streamingDistinctOp drops rows equal to the previous row: its input
// arrives sorted on every column (an index scan), so duplicates are
// adjacent and nothing but the last row is kept.
type streamingDistinctOp struct {
	in   Operator
	last []byte
	key  []byte
	have bool
}

func (o *streamingDistinctOp) Next(ctx context.Context) ([][]types.Value, error) {
	for {
		batch, err := o.in.Next(ctx)
		if err != nil || len(batch) == 0 {
			return nil, err
		}
		out := batch[:0]
		for _, row := range batch {
			o.key = rowenc.EncodeKeyValues(o.key[:0], normalizeForKey(row), nil)
			if o.have && string(o.key) == string(o.last) {
				continue
			}
			o.last, o.key = o.key, o.last
			o.have = true
			out = append(out, row)
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}

func (o *streamingDistinctOp) Close() { o.in.Close() }

// normalizeForKey makes values that SQL considers equal encode equally:
// an integral FLOAT64 encodes like the INT64 of the same value, so 1 and
// 1.0 are one group / one distinct value.
func normalizeForKey(row []types.Value) []types.Value {
	var norm []types.Value
	for i, v := range row {
		if v.Kind == types.Float64 && v.Float >= -(1<<63) && v.Float < 1<<63 && v.Float == float64(int64(v.Float)) {
			if norm == nil {
				norm = slices.Clone(row)
			}
			norm[i] = types.NewInt(int64(v.Float))
		}
	}
	if norm == nil {
		return row
	}
	return norm
}

// compareForSort orders a before b (<0) for one ORDER BY key.
func compareForSort(a, b types.Value, desc, nullsFirst bool) (int, error) {
	an, bn := a.IsNull(), b.IsNull()
	switch {
	case an && bn:
		return 0, nil
	case an:
		if nullsFirst {
			return -1, nil
		}
		return 1, nil
	case bn:
		if nullsFirst {
			return 1, nil
		}
		return -1, nil
	}
	c, ok := types.Compare(a, b)
	if !ok {
		return 0, errcode.New(errcode.InvalidInput, "cannot order %s and %s values", a.Kind, b.Kind)
	}
	if desc {
		c = -c
	}
	return c, nil
}

// aggregateOp groups its input in a hash table. When a new group no
// longer fits the query budget the table stops growing: rows of groups
// it holds keep aggregating, rows of other groups go to partition files;
// after the in-memory groups are emitted each partition is aggregated by
// an aggregateOp of its own. Without GROUP BY there is one group and
// nothing spills.
type aggregateOp struct {
	cc    cancelCheck // looked at every cancelCheckInterval rows
	in    Operator
	n     *plan.Aggregate
	mem   *mon.Account
	spill *spiller
	depth int
	held  int64
	out   [][]types.Value
	pos   int
	done  bool
	parts *partitioner
	rest  *partitionQueue
}

type group struct {
	keys []types.Value
	aggs []eval.Aggregator
}

func (o *aggregateOp) newGroup(keys []types.Value) (*group, error) {
	g := &group{keys: keys, aggs: make([]eval.Aggregator, len(o.n.Aggs))}
	for i, s := range o.n.Aggs {
		a, err := eval.NewAggregatorSep(s.Name, s.Distinct, s.Star, s.Arg.Kind, s.Sep)
		if err != nil {
			return nil, err
		}
		g.aggs[i] = a
	}
	return g, nil
}

func (o *aggregateOp) Next(ctx context.Context) ([][]types.Value, error) {
	if !o.done {
		if err := o.run(ctx); err != nil {
			return nil, err
		}
		o.done = true
	}
	if o.pos >= len(o.out) {
		if o.parts == nil {
			return nil, nil
		}
		if o.rest == nil {
			runs, err := o.parts.finish()
			if err != nil {
				return nil, err
			}
			o.mem.Shrink(o.held)
			o.held, o.out = 0, nil
			o.rest = &partitionQueue{runs: runs, mem: o.mem, open: func(in Operator) Operator {
				return &aggregateOp{in: in, n: o.n, mem: o.mem, spill: o.spill, depth: o.depth + 1}
			}}
		}
		return o.rest.Next(ctx)
	}
	end := min(o.pos+BatchSize, len(o.out))
	out := o.out[o.pos:end]
	o.pos = end
	return out, nil
}

func (o *aggregateOp) run(ctx context.Context) error {
	groups := map[string]*group{}
	var order []*group
	var single *group
	if len(o.n.GroupBy) == 0 {
		g, err := o.newGroup(nil)
		if err != nil {
			return err
		}
		single = g
		order = append(order, g)
	}
	var keyBuf []byte
	for {
		batch, err := o.in.Next(ctx)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		for _, row := range batch {
			if err := o.cc.tick(ctx); err != nil {
				return err
			}
			g := single
			if g == nil {
				keys := make([]types.Value, len(o.n.GroupBy))
				for i, e := range o.n.GroupBy {
					if keys[i], err = e.Eval(row); err != nil {
						return err
					}
				}
				keyBuf = rowenc.EncodeKeyValues(keyBuf[:0], normalizeForKey(keys), nil)
				if g = groups[string(keyBuf)]; g == nil {
					size := rowSize(keys) + int64(len(keyBuf)) + 64*int64(len(o.n.Aggs)+1)
					spillable := canSpill(o.spill, o.depth)
					if o.parts != nil || (spillable && !o.mem.Fits(size)) {
						if o.parts == nil {
							o.parts = newPartitioner(o.spill, o.mem)
						}
						if err := o.parts.write(keyBuf, row); err != nil {
							return err
						}
						continue
					}
					grow := o.mem.GrowBounded
					if spillable {
						grow = o.mem.Grow
					}
					if err := grow(size, "aggregate"); err != nil {
						return err
					}
					o.held += size
					if g, err = o.newGroup(keys); err != nil {
						return err
					}
					groups[string(keyBuf)] = g
					order = append(order, g)
				}
			}
			for i, s := range o.n.Aggs {
				v := types.NewBool(true) // COUNT(*) counts any value
				if !s.Star {
					if v, err = s.Arg.Eval(row); err != nil {
						return err
					}
				}
				if err := g.aggs[i].Add(v); err != nil {
					return err
				}
			}
		}
	}
	o.out = make([][]types.Value, len(order))
	for i, g := range order {
		row := make([]types.Value, 0, len(g.keys)+len(g.aggs))
		row = append(row, g.keys...)
		for _, a := range g.aggs {
			v, err := a.Result()
			if err != nil {
				return err
			}
			row = append(row, v)
		}
		o.out[i] = row
	}
	return nil
}

func (o *aggregateOp) Close() {
	o.in.Close()
	if o.rest != nil {
		o.rest.Close()
	}
	o.parts.discard()
	o.mem.Shrink(o.held)
	o.held, o.out = 0, nil
}
