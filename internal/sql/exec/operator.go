package exec

import (
	"context"
	"slices"
	"sort"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
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

// Build turns a plan into an operator tree reading through kv, with the
// default memory limit.
func Build(kv catalog.KV, n plan.Node) (Operator, error) {
	return newBuilder(kv).build(n)
}

// builder builds the operators of one query.
type builder struct {
	kv  catalog.KV
	mem *memAccount
	// stats, when set (EXPLAIN ANALYZE), receives counters per plan node.
	stats map[plan.Node]*nodeStats
}

func newBuilder(kv catalog.KV) *builder {
	return &builder{kv: kv, mem: newMemAccount(DefaultMemoryLimit)}
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
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		return &aggregateOp{in: in, n: n, mem: b.mem}, nil
	case *plan.Sort:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		return &sortOp{in: in, keys: n.Keys, mem: b.mem}, nil
	case *plan.Distinct:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		if n.Streaming {
			return &streamingDistinctOp{in: in}, nil
		}
		return &distinctOp{in: in, seen: map[string]struct{}{}, mem: b.mem}, nil
	case *plan.Limit:
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
		return &hashJoinOp{n: n, left: left, right: right, mem: b.mem}, nil
	case *plan.NestedLoopJoin:
		left, right, err := b.build2(n.Left, n.Right)
		if err != nil {
			return nil, err
		}
		return &nestedLoopJoinOp{n: n, left: left, right: right, mem: b.mem}, nil
	case *plan.IndexJoin:
		left, err := b.build(n.Left)
		if err != nil {
			return nil, err
		}
		op := &indexJoinOp{n: n, left: left, kv: kv}
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
		return &semiJoinOp{n: n, left: left, right: right, mem: b.mem}, nil
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
	var out [][]types.Value
	for limit < 0 || len(out) < limit {
		batch, err := op.Next(r.ctx)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			break
		}
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

type distinctOp struct {
	in   Operator
	seen map[string]struct{}
	key  []byte
	mem  *memAccount
	held int64
	cc   cancelCheck
}

func (o *distinctOp) Next(ctx context.Context) ([][]types.Value, error) {
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
			o.key = rowenc.EncodeKeyValues(o.key[:0], normalizeForKey(row), nil)
			if _, dup := o.seen[string(o.key)]; dup {
				continue
			}
			size := int64(len(o.key)) + 32
			if err := o.mem.grow(size, "distinct"); err != nil {
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

func (o *distinctOp) Close() {
	o.in.Close()
	o.mem.shrink(o.held)
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

type sortOp struct {
	in   Operator
	keys []plan.SortKey
	mem  *memAccount
	held int64
	rows [][]types.Value
	pos  int
	done bool
	cc   cancelCheck
}

type sortRow struct {
	row  []types.Value
	keys []types.Value
}

func (o *sortOp) Next(ctx context.Context) ([][]types.Value, error) {
	if !o.done {
		if err := o.fill(ctx); err != nil {
			return nil, err
		}
		o.done = true
	}
	if o.pos >= len(o.rows) {
		return nil, nil
	}
	end := min(o.pos+BatchSize, len(o.rows))
	out := o.rows[o.pos:end]
	o.pos = end
	return out, nil
}

func (o *sortOp) fill(ctx context.Context) error {
	var rows []sortRow
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
			keys := make([]types.Value, len(o.keys))
			for i, k := range o.keys {
				if keys[i], err = k.Expr.Eval(row); err != nil {
					return err
				}
			}
			size := rowSize(row) + rowSize(keys)
			if err := o.mem.grow(size, "sort"); err != nil {
				return err
			}
			o.held += size
			rows = append(rows, sortRow{row: row, keys: keys})
		}
	}
	var cmpErr error
	sort.SliceStable(rows, func(i, j int) bool {
		for k, key := range o.keys {
			c, err := compareForSort(rows[i].keys[k], rows[j].keys[k], key.Desc, key.NullsFirst)
			if err != nil && cmpErr == nil {
				cmpErr = err
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	if cmpErr != nil {
		return cmpErr
	}
	o.rows = make([][]types.Value, len(rows))
	for i := range rows {
		o.rows[i] = rows[i].row
	}
	return nil
}

func (o *sortOp) Close() {
	o.in.Close()
	o.mem.shrink(o.held)
	o.held, o.rows = 0, nil
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

type aggregateOp struct {
	in   Operator
	n    *plan.Aggregate
	mem  *memAccount
	held int64
	out  [][]types.Value
	pos  int
	done bool
	cc   cancelCheck
}

type group struct {
	keys []types.Value
	aggs []eval.Aggregator
}

func (o *aggregateOp) newGroup(keys []types.Value) (*group, error) {
	g := &group{keys: keys, aggs: make([]eval.Aggregator, len(o.n.Aggs))}
	for i, s := range o.n.Aggs {
		a, err := eval.NewAggregator(s.Name, s.Distinct, s.Star, s.Arg.Kind)
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
		return nil, nil
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
					if err := o.mem.grow(size, "aggregate"); err != nil {
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
	o.mem.shrink(o.held)
	o.held, o.out = 0, nil
}
