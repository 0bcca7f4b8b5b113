package exec

import (
	"context"
	"hash/maphash"

	"github.com/camusdb/camusdb-go/internal/sql/exec/spill"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// Partitioned spilling (hash aggregation, DISTINCT, hash join): once an
// operator's hash table no longer fits the query budget, the rows it
// cannot place in memory are written to numPartitions run files by a
// hash of their key, so every row of one key lands in the same file; each
// file is then processed on its own, by an operator of the same kind one
// level deeper (with a new hash seed, so a file that is still too big
// splits differently). Past maxSpillDepth levels nothing spills any more
// and the operator is bounded by the budget (CADB0511).
const (
	numPartitions  = 8
	maxSpillDepth  = 4
	partitionWrite = 8 << 10 // buffer of one partition's writer
)

// canSpill says whether an operator at depth may spill.
func canSpill(s *spiller, depth int) bool { return s.enabled() && depth < maxSpillDepth }

// partitioner writes rows to numPartitions run files by key hash.
type partitioner struct {
	spill   *spiller
	mem     *mon.Account
	seed    maphash.Seed
	writers [numPartitions]*spill.Writer
	held    int64
}

func newPartitioner(s *spiller, mem *mon.Account) *partitioner {
	return &partitioner{spill: s, mem: mem, seed: maphash.MakeSeed()}
}

// write appends row to the partition of key.
func (p *partitioner) write(key []byte, row []types.Value) error {
	return p.writeTo(int(maphash.Bytes(p.seed, key)%numPartitions), row)
}

func (p *partitioner) writeTo(i int, row []types.Value) error {
	w := p.writers[i]
	if w == nil {
		if err := p.mem.Grow(partitionWrite, "spill partitions"); err != nil {
			return err
		}
		p.held += partitionWrite
		var err error
		if w, err = p.spill.create(partitionWrite); err != nil {
			return err
		}
		p.writers[i] = w
	}
	return spillErr(w.Write(row))
}

// finish closes the writers and returns the partitions (nil for the
// empty ones). A second call returns no partitions.
func (p *partitioner) finish() ([]*spill.Run, error) {
	runs := make([]*spill.Run, numPartitions)
	for i, w := range p.writers {
		if w == nil {
			continue
		}
		p.writers[i] = nil
		run, err := w.Finish()
		if err != nil {
			return nil, spillErr(err)
		}
		runs[i] = run
	}
	p.mem.Shrink(p.held)
	p.held = 0
	return runs, nil
}

// runOp reads a run file back as an operator.
type runOp struct {
	rd   *spill.Reader
	run  *spill.Run
	mem  *mon.Account
	held int64
}

func newRunOp(run *spill.Run, mem *mon.Account) (*runOp, error) {
	if err := mem.Grow(readerBuffer, "spill reader"); err != nil {
		return nil, err
	}
	return &runOp{rd: run.Open(readerBuffer), run: run, mem: mem, held: readerBuffer}, nil
}

func (o *runOp) Next(context.Context) ([][]types.Value, error) {
	var out [][]types.Value
	for len(out) < BatchSize {
		row, err := o.rd.Next()
		if err != nil {
			return nil, spillErr(err)
		}
		if row == nil {
			break
		}
		out = append(out, row)
	}
	return out, nil
}

// Close releases the reader and deletes the file (it is read once).
func (o *runOp) Close() {
	o.mem.Shrink(o.held)
	o.held = 0
	if o.run != nil {
		o.run.Remove()
		o.run = nil
	}
}

// partitionQueue runs a child operator over each partition in turn and
// streams their output.
type partitionQueue struct {
	runs  []*spill.Run
	child Operator
	mem   *mon.Account
	// open builds the operator that processes one partition.
	open func(in Operator) Operator
}

func (q *partitionQueue) Next(ctx context.Context) ([][]types.Value, error) {
	for {
		if q.child != nil {
			batch, err := q.child.Next(ctx)
			if err != nil || len(batch) > 0 {
				return batch, err
			}
			q.child.Close()
			q.child = nil
		}
		for len(q.runs) > 0 && q.runs[0] == nil {
			q.runs = q.runs[1:]
		}
		if len(q.runs) == 0 {
			return nil, nil
		}
		in, err := newRunOp(q.runs[0], q.mem)
		if err != nil {
			return nil, err
		}
		q.runs = q.runs[1:]
		q.child = q.open(in)
	}
}

func (q *partitionQueue) Close() {
	if q.child != nil {
		q.child.Close()
		q.child = nil
	}
	for _, r := range q.runs {
		if r != nil {
			r.Remove()
		}
	}
	q.runs = nil
}

// discard finishes p (when set) and deletes its files: the operator was
// closed before it read them.
func (p *partitioner) discard() {
	if p == nil {
		return
	}
	runs, _ := p.finish()
	for _, r := range runs {
		if r != nil {
			r.Remove()
		}
	}
}
