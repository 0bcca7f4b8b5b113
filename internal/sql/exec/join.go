package exec

import (
	"context"
	"slices"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/exec/spill"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/rowenc"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

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

// joinDriver pairs each left row with the candidate right rows a join
// offers for it and emits the combinations that pass Pred, at most
// BatchSize rows per Next call. It keeps its place (the left batch, the
// left row, the candidate position) between calls, so the output of one
// left row with many matches (a cross join) streams in bounded batches
// instead of being built at once: a join never holds more than one output
// batch, whatever the size of its product.
type joinDriver struct {
	left       Operator
	kind       plan.JoinKind
	pred       plan.Predicate
	leftWidth  int
	rightWidth int
	// open starts the candidates of a left row; next returns them one at a
	// time (nil at the end).
	open func(ctx context.Context, row []types.Value) error
	next func(ctx context.Context) ([]types.Value, error)

	batch   [][]types.Value // current left batch
	pos     int             // next left row of batch
	cur     []types.Value   // left row whose candidates are being paired
	matched bool
	done    bool
}

func (d *joinDriver) Next(ctx context.Context) ([][]types.Value, error) {
	// One check per output batch: a cancelled statement stops even when a
	// single left row pairs with millions of right rows.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out [][]types.Value
	var slab []types.Value
	width := d.leftWidth + d.rightWidth
	emit := func(left, right []types.Value) []types.Value {
		rightWidth := d.rightWidth
		if right != nil {
			rightWidth = len(right)
		}
		if len(left)+rightWidth != width {
			// Not the widths the plan announced: a row of its own.
			row := make([]types.Value, len(left)+rightWidth)
			copy(row, left)
			copy(row[len(left):], right)
			return row
		}
		if slab == nil {
			slab = make([]types.Value, BatchSize*width)
		}
		row := slab[len(out)*width : (len(out)+1)*width : (len(out)+1)*width]
		copy(row, left)
		if right == nil {
			clear(row[len(left):])
		} else {
			copy(row[len(left):], right)
		}
		return row
	}
	for len(out) < BatchSize {
		if d.cur == nil {
			if d.done {
				break
			}
			if d.pos >= len(d.batch) {
				batch, err := d.left.Next(ctx)
				if err != nil {
					return nil, err
				}
				if len(batch) == 0 {
					d.done = true
					break
				}
				d.batch, d.pos = batch, 0
			}
			d.cur, d.matched = d.batch[d.pos], false
			d.pos++
			if err := d.open(ctx, d.cur); err != nil {
				return nil, err
			}
		}
		right, err := d.next(ctx)
		if err != nil {
			return nil, err
		}
		if right == nil {
			if !d.matched && d.kind == plan.LeftJoin {
				out = append(out, emit(d.cur, nil))
			}
			d.cur = nil
			continue
		}
		joined := emit(d.cur, right)
		if d.pred != nil {
			ok, err := d.pred(joined)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		d.matched = true
		out = append(out, joined)
	}
	return out, nil
}

// hashJoinOp builds a hash table over the right input, then streams the
// left input through it.
//
// When the table no longer fits the query budget it becomes a grace hash
// join: the rows of the table and the rest of the right input are written
// to partition files by a hash of their key, then the whole left input
// too (left rows with a NULL key can match nothing; a LEFT JOIN sends them
// to partition 0 so it still emits them), and each pair of partitions is
// joined by a hashJoinOp of its own, one level deeper, which partitions
// again (with a new seed) if its right side still does not fit. At
// maxSpillDepth a table is bounded only by the node budget: only a key
// with more rows than the budget holds (skew) gets there.
type hashJoinOp struct {
	cc cancelCheck // looked at every cancelCheckInterval rows
	joinDriver
	n     *plan.HashJoin
	right Operator
	mem   *mon.Account
	spill *spiller
	depth int

	built   bool
	table   map[string][][]types.Value
	keyVals []types.Value
	keyBuf  []byte
	held    int64
	bucket  [][]types.Value

	// probe is the left input (the driver's own in memory mode).
	probe Operator
	// grace mode
	grace      bool
	rightParts *partitioner
	rightRuns  []*spill.Run
	leftRuns   []*spill.Run
	part       int
	child      *hashJoinOp
}

func newHashJoinOp(n *plan.HashJoin, left, right Operator, mem *mon.Account, s *spiller, depth int) *hashJoinOp {
	o := &hashJoinOp{n: n, right: right, mem: mem, spill: s, depth: depth, probe: left}
	o.joinDriver = joinDriver{left: left, kind: n.Kind, pred: n.Pred,
		leftWidth: len(n.Left.Columns()), rightWidth: len(n.Right.Columns()),
		open: o.open, next: o.nextMatch}
	return o
}

func (o *hashJoinOp) build(ctx context.Context) error {
	o.table = map[string][][]types.Value{}
	for {
		batch, err := o.right.Next(ctx)
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
			keys, null, err := evalKeys(o.keyVals, o.n.RightKeys, row)
			if err != nil {
				return err
			}
			o.keyVals = keys
			if null {
				continue
			}
			o.keyBuf = plan.HashKey(o.keyBuf[:0], keys)
			size := rowSize(row) + int64(len(o.keyBuf)) + 16
			spillable := canSpill(o.spill, o.depth)
			if !o.grace && spillable && !o.mem.Fits(size) {
				if err := o.startGrace(); err != nil {
					return err
				}
			}
			if o.grace {
				if err := o.rightParts.write(o.keyBuf, row); err != nil {
					return err
				}
				continue
			}
			grow := o.mem.GrowBounded
			if o.depth >= maxSpillDepth {
				grow = o.mem.Grow // a skewed key: bounded by the node budget
			}
			if err := grow(size, "hash-join"); err != nil {
				return err
			}
			o.held += size
			o.table[string(o.keyBuf)] = append(o.table[string(o.keyBuf)], row)
		}
	}
	if !o.grace {
		return nil
	}
	return o.partitionLeft(ctx)
}

// startGrace moves the table to partition files.
func (o *hashJoinOp) startGrace() error {
	o.grace = true
	o.rightParts = newPartitioner(o.spill, o.mem)
	for key, rows := range o.table {
		for _, row := range rows {
			if err := o.rightParts.write([]byte(key), row); err != nil {
				return err
			}
		}
	}
	o.mem.Shrink(o.held)
	o.held, o.table = 0, nil
	return nil
}

// partitionLeft writes the left input to partitions matching the right
// ones.
func (o *hashJoinOp) partitionLeft(ctx context.Context) error {
	runs, err := o.rightParts.finish()
	if err != nil {
		return err
	}
	o.rightRuns = runs
	leftParts := newPartitioner(o.spill, o.mem)
	leftParts.seed = o.rightParts.seed // the same key goes to the same pair
	defer leftParts.discard()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := o.probe.Next(ctx)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		for _, row := range batch {
			keys, null, err := evalKeys(o.keyVals, o.n.LeftKeys, row)
			if err != nil {
				return err
			}
			o.keyVals = keys
			if null {
				if o.n.Kind == plan.LeftJoin {
					if err := leftParts.writeTo(0, row); err != nil {
						return err
					}
				}
				continue
			}
			o.keyBuf = plan.HashKey(o.keyBuf[:0], keys)
			if err := leftParts.write(o.keyBuf, row); err != nil {
				return err
			}
		}
	}
	o.leftRuns, err = leftParts.finish()
	o.part = -1
	return err
}

// nextPair starts the join of the next pair of partitions that has left
// rows; ok=false after the last.
func (o *hashJoinOp) nextPair() (bool, error) {
	for o.part++; o.part < numPartitions; o.part++ {
		leftRun, rightRun := o.leftRuns[o.part], o.rightRuns[o.part]
		o.leftRuns[o.part], o.rightRuns[o.part] = nil, nil
		if leftRun == nil {
			if rightRun != nil {
				rightRun.Remove()
			}
			continue
		}
		var right Operator = &valuesOp{n: &plan.Values{}}
		if rightRun != nil {
			r, err := newRunOp(rightRun, o.mem)
			if err != nil {
				leftRun.Remove()
				return false, err
			}
			right = r
		}
		left, err := newRunOp(leftRun, o.mem)
		if err != nil {
			right.Close()
			return false, err
		}
		o.child = newHashJoinOp(o.n, left, right, o.mem, o.spill, o.depth+1)
		return true, nil
	}
	return false, nil
}

func (o *hashJoinOp) open(_ context.Context, row []types.Value) error {
	o.bucket = nil
	keys, null, err := evalKeys(o.keyVals, o.n.LeftKeys, row)
	if err != nil {
		return err
	}
	o.keyVals = keys
	if !null {
		o.keyBuf = plan.HashKey(o.keyBuf[:0], keys)
		o.bucket = o.table[string(o.keyBuf)]
	}
	return nil
}

func (o *hashJoinOp) nextMatch(context.Context) ([]types.Value, error) {
	if len(o.bucket) == 0 {
		return nil, nil
	}
	r := o.bucket[0]
	o.bucket = o.bucket[1:]
	return r, nil
}

func (o *hashJoinOp) Next(ctx context.Context) ([][]types.Value, error) {
	if !o.built {
		if err := o.build(ctx); err != nil {
			return nil, err
		}
		o.built = true
	}
	if !o.grace {
		return o.joinDriver.Next(ctx)
	}
	for {
		if o.child != nil {
			batch, err := o.child.Next(ctx)
			if err != nil || len(batch) > 0 {
				return batch, err
			}
			o.child.Close()
			o.child = nil
		}
		ok, err := o.nextPair()
		if err != nil || !ok {
			return nil, err
		}
	}
}

func (o *hashJoinOp) Close() {
	o.probe.Close()
	o.right.Close()
	if o.child != nil {
		o.child.Close()
		o.child = nil
	}
	o.rightParts.discard()
	for _, runs := range [][]*spill.Run{o.leftRuns, o.rightRuns} {
		for _, r := range runs {
			if r != nil {
				r.Remove()
			}
		}
	}
	o.mem.Shrink(o.held)
	o.held, o.table = 0, nil
}

// nestedLoopJoinOp materialises the right input and pairs each left row
// with every right row, streaming the pairs. A right input over the
// query budget goes to a run file, and the join becomes a block nested
// loop: it buffers left rows up to half the budget, reads the file once
// per block and pairs every right row with the block's rows (then, for a
// LEFT JOIN, emits the block's unmatched rows).
type nestedLoopJoinOp struct {
	joinDriver
	n     *plan.NestedLoopJoin
	right Operator
	mem   *mon.Account
	spill *spiller

	built bool
	rows  [][]types.Value
	held  int64
	rpos  int
	// spilled inner side
	writer *spill.Writer
	run    *spill.Run
	rd     *spill.Reader
	blk    nestedBlock
}

// nestedBlock is the state of the block nested loop over a spilled right
// side.
type nestedBlock struct {
	rows      [][]types.Value // left rows of the block
	matched   []bool
	held      int64
	right     []types.Value // right row being paired, nil between rows
	pos       int           // next block row to pair with right / to emit unmatched
	scanning  bool          // reading the run for this block
	unmatched bool          // emitting the block's unmatched rows
	leftDone  bool
}

func newNestedLoopJoinOp(n *plan.NestedLoopJoin, left, right Operator, mem *mon.Account, s *spiller) *nestedLoopJoinOp {
	o := &nestedLoopJoinOp{n: n, right: right, mem: mem, spill: s}
	o.joinDriver = joinDriver{left: left, kind: n.Kind, pred: n.Pred,
		leftWidth: len(n.Left.Columns()), rightWidth: len(n.Right.Columns()),
		open: func(context.Context, []types.Value) error { o.rpos = 0; return nil },
		next: func(context.Context) ([]types.Value, error) {
			if o.rpos >= len(o.rows) {
				return nil, nil
			}
			o.rpos++
			return o.rows[o.rpos-1], nil
		}}
	return o
}

func (o *nestedLoopJoinOp) materialise(ctx context.Context) error {
	for {
		batch, err := o.right.Next(ctx)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		for _, row := range batch {
			if o.writer != nil {
				if err := o.writer.Write(row); err != nil {
					return spillErr(err)
				}
				continue
			}
			size := rowSize(row)
			if canSpill(o.spill, 0) && !o.mem.Fits(size) {
				if err := o.startSpill(); err != nil {
					return err
				}
				if err := o.writer.Write(row); err != nil {
					return spillErr(err)
				}
				continue
			}
			if err := o.mem.GrowBounded(size, "nested-loop-join"); err != nil {
				return err
			}
			o.held += size
			o.rows = append(o.rows, row)
		}
	}
	if o.writer != nil {
		run, err := o.writer.Finish()
		if err != nil {
			return spillErr(err)
		}
		o.writer, o.run = nil, run
		o.mem.Shrink(o.held - readerBuffer) // keep one reader's buffer
		o.held = readerBuffer
	}
	return nil
}

// startSpill moves the buffered right rows to a run file.
func (o *nestedLoopJoinOp) startSpill() error {
	w, err := o.spill.create(readerBuffer)
	if err != nil {
		return err
	}
	o.writer = w
	for _, row := range o.rows {
		if err := w.Write(row); err != nil {
			return spillErr(err)
		}
	}
	if err := o.mem.Grow(readerBuffer, "nested-loop-join"); err != nil {
		return err
	}
	o.held += readerBuffer
	o.rows = nil
	return nil
}

func (o *nestedLoopJoinOp) Next(ctx context.Context) ([][]types.Value, error) {
	if !o.built {
		if err := o.materialise(ctx); err != nil {
			return nil, err
		}
		o.built = true
	}
	if o.run != nil {
		return o.nextBlock(ctx)
	}
	return o.joinDriver.Next(ctx)
}

// nextBlock is Next of the block nested loop (spilled right side).
func (o *nestedLoopJoinOp) nextBlock(ctx context.Context) ([][]types.Value, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := &o.blk
	var out [][]types.Value
	for len(out) < BatchSize {
		switch {
		case b.unmatched:
			for b.pos < len(b.rows) && len(out) < BatchSize {
				if o.n.Kind == plan.LeftJoin && !b.matched[b.pos] {
					out = append(out, joinRows(b.rows[b.pos], nil, o.rightWidth))
				}
				b.pos++
			}
			if b.pos >= len(b.rows) {
				o.mem.Shrink(b.held)
				b.rows, b.matched, b.held, b.unmatched = nil, nil, 0, false
			}
		case b.scanning:
			if b.right == nil {
				right, err := o.rd.Next()
				if err != nil {
					return nil, spillErr(err)
				}
				if right == nil {
					b.scanning, b.unmatched, b.pos = false, true, 0
					continue
				}
				b.right, b.pos = right, 0
			}
			for b.pos < len(b.rows) && len(out) < BatchSize {
				i := b.pos
				b.pos++
				joined := joinRows(b.rows[i], b.right, o.rightWidth)
				if o.n.Pred != nil {
					ok, err := o.n.Pred(joined)
					if err != nil {
						return nil, err
					}
					if !ok {
						continue
					}
				}
				b.matched[i] = true
				out = append(out, joined)
			}
			if b.pos >= len(b.rows) {
				b.right = nil
			}
		default: // fill the next block
			if err := o.fillBlock(ctx); err != nil {
				return nil, err
			}
			if len(b.rows) == 0 {
				return out, nil
			}
			o.rd = o.run.Open(readerBuffer)
			b.scanning, b.right = true, nil
		}
	}
	return out, nil
}

// fillBlock buffers left rows while they fit half the query budget (at
// least one batch).
func (o *nestedLoopJoinOp) fillBlock(ctx context.Context) error {
	b := &o.blk
	for !b.leftDone && (len(b.rows) == 0 || o.mem.Fits(o.mem.Limit()/2)) {
		batch, err := o.left.Next(ctx)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			b.leftDone = true
			break
		}
		var size int64
		for _, row := range batch {
			size += rowSize(row)
		}
		if err := o.mem.Grow(size, "nested-loop-join"); err != nil {
			return err
		}
		b.held += size
		b.rows = append(b.rows, batch...)
	}
	b.matched = make([]bool, len(b.rows))
	return nil
}

// joinRows returns left ++ right (right nil: rightWidth NULLs) in a new row.
func joinRows(left, right []types.Value, rightWidth int) []types.Value {
	if right == nil {
		return append(slices.Clip(left), make([]types.Value, rightWidth)...)
	}
	return append(slices.Clip(left), right...)
}

func (o *nestedLoopJoinOp) Close() {
	o.left.Close()
	o.right.Close()
	o.mem.Shrink(o.blk.held)
	o.blk = nestedBlock{}
	if o.run != nil {
		o.run.Remove()
		o.run = nil
	}
	o.mem.Shrink(o.held)
	o.held, o.rows = 0, nil
}

// indexJoinOp probes the right table's index for every left row; the
// rows of one probe stream from their scan.
type indexJoinOp struct {
	joinDriver
	n     *plan.IndexJoin
	kv    catalog.KV
	probe *nodeStats // EXPLAIN ANALYZE counters of the probe, or nil
	inner *nodeStats

	keyVals []types.Value
	prefix  []byte
	scan    *scanOp
	rows    [][]types.Value // current batch of the probe's scan
}

func newIndexJoinOp(n *plan.IndexJoin, left Operator, kv catalog.KV) *indexJoinOp {
	o := &indexJoinOp{n: n, kv: kv}
	o.joinDriver = joinDriver{left: left, kind: n.Kind, pred: n.Pred,
		leftWidth: len(n.Left.Columns()), rightWidth: len(n.Probe.Cols),
		open: o.open, next: o.nextMatch}
	return o
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

// open starts the scan of the index entries under the row's keys.
func (o *indexJoinOp) open(_ context.Context, row []types.Value) error {
	o.closeScan()
	keys, _, err := evalKeys(o.keyVals, o.n.LeftKeys, row)
	if err != nil {
		return err
	}
	o.keyVals = keys
	key, ok := o.probeKey(keys)
	if !ok {
		return nil
	}
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
	o.scan = newScanOp(kv, &probe)
	return nil
}

// nextMatch returns the next right row of the probe that passes
// RightFilter.
func (o *indexJoinOp) nextMatch(ctx context.Context) ([]types.Value, error) {
	for o.scan != nil {
		for len(o.rows) > 0 {
			r := o.rows[0]
			o.rows = o.rows[1:]
			if o.n.RightFilter != nil {
				ok, err := o.n.RightFilter(r)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
				if o.inner != nil {
					o.inner.rows++
				}
			}
			return r, nil
		}
		rows, err := o.scan.Next(ctx)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			o.closeScan()
			break
		}
		if o.probe != nil {
			o.probe.rows += int64(len(rows))
		}
		o.rows = rows
	}
	return nil, nil
}

func (o *indexJoinOp) closeScan() {
	if o.scan != nil {
		o.scan.Close()
		o.scan, o.rows = nil, nil
	}
}

func (o *indexJoinOp) Close() {
	o.closeScan()
	o.left.Close()
}

// semiJoinOp filters the left rows by membership of their keys in the
// hashed right keys.
//
// When the key set no longer fits the query budget, the keys (the ones
// held and the rest of the right input's) go to partition files by hash,
// then the left rows too, and each partition's left rows are decided
// against that partition's keys. The facts NOT IN needs about the whole
// right side (any row, any NULL key) are gathered while partitioning.
type semiJoinOp struct {
	cc          cancelCheck // looked at every cancelCheckInterval rows
	n           *plan.SemiJoin
	left, right Operator
	mem         *mon.Account
	spill       *spiller

	built        bool
	keys         map[string]struct{}
	rightRows    int64
	rightHasNull bool
	keyVals      []types.Value
	keyBuf       []byte
	held         int64

	// grace mode
	grace      bool
	rightParts *partitioner
	rightRuns  []*spill.Run
	leftRuns   []*spill.Run
	part       int
	partLeft   *runOp
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
			if o.grace {
				if err := o.rightParts.write(o.keyBuf, []types.Value{types.NewString(string(o.keyBuf))}); err != nil {
					return err
				}
				continue
			}
			if _, dup := o.keys[string(o.keyBuf)]; dup {
				continue
			}
			size := int64(len(o.keyBuf)) + 32
			if canSpill(o.spill, 0) && !o.mem.Fits(size) {
				if err := o.startGrace(); err != nil {
					return err
				}
				if err := o.rightParts.write(o.keyBuf, []types.Value{types.NewString(string(o.keyBuf))}); err != nil {
					return err
				}
				continue
			}
			if err := o.mem.GrowBounded(size, o.n.Name()); err != nil {
				return err
			}
			o.held += size
			o.keys[string(o.keyBuf)] = struct{}{}
		}
	}
}

// startGrace moves the key set to partition files.
func (o *semiJoinOp) startGrace() error {
	o.grace = true
	o.rightParts = newPartitioner(o.spill, o.mem)
	for key := range o.keys {
		if err := o.rightParts.write([]byte(key), []types.Value{types.NewString(key)}); err != nil {
			return err
		}
	}
	o.mem.Shrink(o.held)
	o.held, o.keys = 0, nil
	return nil
}

// partitionLeft writes the left rows to the partitions of their keys
// (rows with a NULL key, which no key set decides, to partition 0).
func (o *semiJoinOp) partitionLeft(ctx context.Context) error {
	runs, err := o.rightParts.finish()
	if err != nil {
		return err
	}
	o.rightRuns = runs
	leftParts := newPartitioner(o.spill, o.mem)
	leftParts.seed = o.rightParts.seed
	defer leftParts.discard()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := o.left.Next(ctx)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		for _, row := range batch {
			keys, null, err := evalKeys(o.keyVals, o.n.LeftKeys, row)
			if err != nil {
				return err
			}
			o.keyVals = keys
			if null && !o.n.NullsEqual {
				err = leftParts.writeTo(0, row)
			} else {
				o.keyBuf = plan.HashKey(o.keyBuf[:0], keys)
				err = leftParts.write(o.keyBuf, row)
			}
			if err != nil {
				return err
			}
		}
	}
	o.leftRuns, err = leftParts.finish()
	o.part = -1
	return err
}

// nextPartition loads the next partition's keys and opens its left rows;
// ok=false after the last.
func (o *semiJoinOp) nextPartition(ctx context.Context) (bool, error) {
	o.mem.Shrink(o.held)
	o.held, o.keys = 0, map[string]struct{}{}
	for o.part++; o.part < numPartitions; o.part++ {
		leftRun, rightRun := o.leftRuns[o.part], o.rightRuns[o.part]
		o.leftRuns[o.part], o.rightRuns[o.part] = nil, nil
		if rightRun != nil {
			in, err := newRunOp(rightRun, o.mem)
			if err != nil {
				return false, err
			}
			err = o.loadKeys(ctx, in)
			in.Close()
			if err != nil {
				return false, err
			}
		}
		if leftRun == nil {
			continue
		}
		left, err := newRunOp(leftRun, o.mem)
		if err != nil {
			return false, err
		}
		o.partLeft = left
		return true, nil
	}
	return false, nil
}

// loadKeys reads a partition of keys into the set (bounded by the node
// budget only: a partition is an eighth of a set that did not fit).
func (o *semiJoinOp) loadKeys(ctx context.Context, in Operator) error {
	for {
		batch, err := in.Next(ctx)
		if err != nil || len(batch) == 0 {
			return err
		}
		for _, row := range batch {
			key := row[0].Str
			if _, dup := o.keys[key]; dup {
				continue
			}
			size := int64(len(key)) + 32
			if err := o.mem.Grow(size, o.n.Name()); err != nil {
				return err
			}
			o.held += size
			o.keys[key] = struct{}{}
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
		if o.grace {
			if err := o.partitionLeft(ctx); err != nil {
				return nil, err
			}
		}
		o.built = true
	}
	for {
		in := o.left
		if o.grace {
			if o.partLeft == nil {
				ok, err := o.nextPartition(ctx)
				if err != nil || !ok {
					return nil, err
				}
			}
			in = o.partLeft
		}
		batch, err := in.Next(ctx)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			if !o.grace {
				return nil, nil
			}
			o.partLeft.Close()
			o.partLeft = nil
			continue
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
	if o.partLeft != nil {
		o.partLeft.Close()
		o.partLeft = nil
	}
	o.rightParts.discard()
	for _, runs := range [][]*spill.Run{o.leftRuns, o.rightRuns} {
		for _, r := range runs {
			if r != nil {
				r.Remove()
			}
		}
	}
	o.mem.Shrink(o.held)
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
