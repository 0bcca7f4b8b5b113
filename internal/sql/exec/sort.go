package exec

import (
	"container/heap"
	"context"
	"slices"

	"github.com/camusdb/camusdb-go/internal/sql/exec/spill"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// sortOp orders its input by keys. Three regimes:
//
//   - In memory: every row is buffered, then sorted.
//   - Top-k (topK > 0, an ORDER BY under a LIMIT): only the first topK
//     rows are kept, in a bounded max-heap, so ORDER BY ... LIMIT 10 holds
//     ten rows whatever its input. Should even those not fit the query
//     budget, the heap becomes the buffer of the external sort.
//   - External merge sort: when the next row does not fit the query
//     budget (and the statement may spill) the buffer is sorted and
//     written as a run file, its memory released; at the end the runs
//     are merged (at most mergeFanIn at a time) into the output.
//
// Every row carries its input sequence number as the last key, so the
// order is stable in every regime (ties keep their input order).
type sortOp struct {
	in    Operator
	keys  []plan.SortKey
	mem   *mon.Account
	spill *spiller
	topK  int64

	held  int64
	rows  []sortRow
	seq   int64
	runs  []*spill.Run
	err   error // first comparison error
	done  bool
	out   [][]types.Value
	pos   int
	merge *runMerger
}

type sortRow struct {
	row  []types.Value
	keys []types.Value
	seq  int64
	size int64
}

// maxMergeFanIn bounds the runs merged at once (open files); fanIn
// lowers it so the read buffers of one merge take at most half the query
// budget.
const maxMergeFanIn = 64

// readerBuffer is what one open run reader costs (its read buffer).
const readerBuffer = 16 << 10

func (o *sortOp) fanIn() int {
	return int(min(max(o.mem.Limit()/2/readerBuffer, 2), maxMergeFanIn))
}

func (o *sortOp) compare(a, b *sortRow) int {
	for k, key := range o.keys {
		c, err := compareForSort(a.keys[k], b.keys[k], key.Desc, key.NullsFirst)
		if err != nil && o.err == nil {
			o.err = err
		}
		if c != 0 {
			return c
		}
	}
	switch {
	case a.seq < b.seq:
		return -1
	case a.seq > b.seq:
		return 1
	}
	return 0
}

func (o *sortOp) Next(ctx context.Context) ([][]types.Value, error) {
	if !o.done {
		if err := o.fill(ctx); err != nil {
			return nil, err
		}
		o.done = true
	}
	if o.merge != nil {
		return o.merge.next(o)
	}
	if o.pos >= len(o.out) {
		return nil, nil
	}
	end := min(o.pos+BatchSize, len(o.out))
	out := o.out[o.pos:end]
	o.pos = end
	return out, nil
}

func (o *sortOp) fill(ctx context.Context) error {
	for {
		batch, err := o.in.Next(ctx)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		for _, row := range batch {
			r := sortRow{row: row, keys: make([]types.Value, len(o.keys)), seq: o.seq}
			o.seq++
			for i, k := range o.keys {
				if r.keys[i], err = k.Expr.Eval(row); err != nil {
					return err
				}
			}
			r.size = rowSize(row) + rowSize(r.keys)
			if o.topK > 0 {
				if err := o.addTopK(r); err != nil {
					return err
				}
				continue
			}
			if err := o.add(r); err != nil {
				return err
			}
		}
	}
	if len(o.runs) == 0 { // (a top-k heap is sorted here too)
		slices.SortFunc(o.rows, func(a, b sortRow) int { return o.compare(&a, &b) })
		if o.err != nil {
			return o.err
		}
		o.out = make([][]types.Value, len(o.rows))
		for i := range o.rows {
			o.out[i] = o.rows[i].row
		}
		return nil
	}
	if len(o.rows) > 0 {
		if err := o.flushRun(); err != nil {
			return err
		}
	}
	for fanIn := o.fanIn(); len(o.runs) > fanIn; {
		var merged []*spill.Run
		for start := 0; start < len(o.runs); start += fanIn {
			group := o.runs[start:min(start+fanIn, len(o.runs))]
			run, err := o.mergeToRun(group)
			if err != nil {
				return err
			}
			merged = append(merged, run)
		}
		o.runs = merged
	}
	m, err := o.openMerger(o.runs)
	if err != nil {
		return err
	}
	o.merge = m
	return nil
}

// add buffers r, first writing the buffer out as a run when r does not
// fit the query budget.
func (o *sortOp) add(r sortRow) error {
	if o.spill.enabled() {
		if !o.mem.Fits(r.size) && len(o.rows) > 0 {
			if err := o.flushRun(); err != nil {
				return err
			}
		}
		if err := o.mem.Grow(r.size, "sort"); err != nil {
			return err
		}
	} else if err := o.mem.GrowBounded(r.size, "sort"); err != nil {
		return err
	}
	o.held += r.size
	o.rows = append(o.rows, r)
	return nil
}

// addTopK keeps r if it is among the first topK rows seen so far. The
// buffer is then a max-heap (its root is the last of the kept rows).
func (o *sortOp) addTopK(r sortRow) error {
	h := (*topKHeap)(o)
	if int64(len(o.rows)) >= o.topK {
		if o.compare(&r, &o.rows[0]) >= 0 {
			return o.err
		}
		old := o.rows[0].size
		if !o.mem.Fits(r.size - old) {
			return o.abandonTopK(r)
		}
		if err := o.mem.Grow(r.size, "sort"); err != nil {
			return err
		}
		o.mem.Shrink(old)
		o.held += r.size - old
		o.rows[0] = r
		heap.Fix(h, 0)
		return o.err
	}
	if !o.mem.Fits(r.size) {
		return o.abandonTopK(r)
	}
	if err := o.mem.Grow(r.size, "sort"); err != nil {
		return err
	}
	o.held += r.size
	heap.Push(h, r)
	return o.err
}

// abandonTopK turns the heap into the buffer of an ordinary (spilling)
// sort when even topK rows do not fit the budget.
func (o *sortOp) abandonTopK(r sortRow) error {
	o.topK = 0
	return o.add(r)
}

// topKHeap is a max-heap over sortOp.rows.
type topKHeap sortOp

func (h *topKHeap) Len() int           { return len(h.rows) }
func (h *topKHeap) Less(i, j int) bool { return (*sortOp)(h).compare(&h.rows[i], &h.rows[j]) > 0 }
func (h *topKHeap) Swap(i, j int)      { h.rows[i], h.rows[j] = h.rows[j], h.rows[i] }
func (h *topKHeap) Push(x any)         { h.rows = append(h.rows, x.(sortRow)) }
func (h *topKHeap) Pop() any {
	last := h.rows[len(h.rows)-1]
	h.rows = h.rows[:len(h.rows)-1]
	return last
}

// record is what a run stores per row: keys, sequence number, row.
func (o *sortOp) record(dst []types.Value, r *sortRow) []types.Value {
	dst = append(dst[:0], r.keys...)
	dst = append(dst, types.NewInt(r.seq))
	return append(dst, r.row...)
}

func (o *sortOp) fromRecord(rec []types.Value) (sortRow, error) {
	k := len(o.keys)
	if len(rec) < k+1 || rec[k].Kind != types.Int64 {
		return sortRow{}, spillErr(spill.ErrCorrupt)
	}
	return sortRow{keys: rec[:k:k], seq: rec[k].Int, row: rec[k+1:]}, nil
}

// flushRun sorts the buffer, writes it as a run and releases it.
func (o *sortOp) flushRun() error {
	slices.SortFunc(o.rows, func(a, b sortRow) int { return o.compare(&a, &b) })
	if o.err != nil {
		return o.err
	}
	w, err := o.spill.create(readerBuffer)
	if err != nil {
		return err
	}
	var rec []types.Value
	for i := range o.rows {
		rec = o.record(rec, &o.rows[i])
		if err := w.Write(rec); err != nil {
			return spillErr(err)
		}
	}
	run, err := w.Finish()
	if err != nil {
		return spillErr(err)
	}
	o.runs = append(o.runs, run)
	o.mem.Shrink(o.held)
	o.held, o.rows = 0, nil
	return nil
}

// mergeToRun merges runs into one new run (a pass of a multi-pass merge).
func (o *sortOp) mergeToRun(runs []*spill.Run) (*spill.Run, error) {
	m, err := o.openMerger(runs)
	if err != nil {
		return nil, err
	}
	defer m.close(o)
	w, err := o.spill.create(readerBuffer)
	if err != nil {
		return nil, err
	}
	var rec []types.Value
	for {
		r, ok, err := m.pop(o)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		rec = o.record(rec, &r)
		if err := w.Write(rec); err != nil {
			return nil, spillErr(err)
		}
	}
	for _, r := range runs {
		r.Remove()
	}
	run, err := w.Finish()
	return run, spillErr(err)
}

// runMerger is a k-way merge of sorted runs: a min-heap of each run's
// current row.
type runMerger struct {
	readers []*spill.Reader
	heads   []sortRow
	from    []int // reader of each head
	held    int64
}

func (o *sortOp) openMerger(runs []*spill.Run) (*runMerger, error) {
	m := &runMerger{}
	for _, run := range runs {
		if err := o.mem.Grow(readerBuffer, "sort"); err != nil {
			m.close(o)
			return nil, err
		}
		m.held += readerBuffer
		rd := run.Open(readerBuffer)
		m.readers = append(m.readers, rd)
		if err := m.advance(o, len(m.readers)-1); err != nil {
			m.close(o)
			return nil, err
		}
	}
	return m, nil
}

// advance pushes reader i's next row onto the heap.
func (m *runMerger) advance(o *sortOp, i int) error {
	rec, err := m.readers[i].Next()
	if err != nil {
		return spillErr(err)
	}
	if rec == nil {
		return nil
	}
	r, err := o.fromRecord(rec)
	if err != nil {
		return err
	}
	heap.Push(&mergeHeap{m: m, o: o}, mergeItem{row: r, from: i})
	return o.err
}

type mergeItem struct {
	row  sortRow
	from int
}

// mergeHeap adapts runMerger's heads to container/heap.
type mergeHeap struct {
	m *runMerger
	o *sortOp
}

func (h *mergeHeap) Len() int { return len(h.m.heads) }
func (h *mergeHeap) Less(i, j int) bool {
	return h.o.compare(&h.m.heads[i], &h.m.heads[j]) < 0
}
func (h *mergeHeap) Swap(i, j int) {
	h.m.heads[i], h.m.heads[j] = h.m.heads[j], h.m.heads[i]
	h.m.from[i], h.m.from[j] = h.m.from[j], h.m.from[i]
}
func (h *mergeHeap) Push(x any) {
	it := x.(mergeItem)
	h.m.heads = append(h.m.heads, it.row)
	h.m.from = append(h.m.from, it.from)
}
func (h *mergeHeap) Pop() any {
	n := len(h.m.heads) - 1
	it := mergeItem{row: h.m.heads[n], from: h.m.from[n]}
	h.m.heads, h.m.from = h.m.heads[:n], h.m.from[:n]
	return it
}

// pop returns the smallest head; ok=false when every run is exhausted.
func (m *runMerger) pop(o *sortOp) (sortRow, bool, error) {
	if len(m.heads) == 0 {
		return sortRow{}, false, nil
	}
	it := heap.Pop(&mergeHeap{m: m, o: o}).(mergeItem)
	if err := m.advance(o, it.from); err != nil {
		return sortRow{}, false, err
	}
	return it.row, true, o.err
}

func (m *runMerger) next(o *sortOp) ([][]types.Value, error) {
	var out [][]types.Value
	for len(out) < BatchSize {
		r, ok, err := m.pop(o)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		out = append(out, r.row)
	}
	return out, nil
}

func (m *runMerger) close(o *sortOp) {
	o.mem.Shrink(m.held)
	m.held, m.readers, m.heads = 0, nil, nil
}

func (o *sortOp) Close() {
	o.in.Close()
	if o.merge != nil {
		o.merge.close(o)
		o.merge = nil
	}
	o.mem.Shrink(o.held)
	o.held, o.rows, o.out = 0, nil, nil
	for _, r := range o.runs {
		r.Remove()
	}
	o.runs = nil
}
