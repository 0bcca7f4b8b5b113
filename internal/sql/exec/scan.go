package exec

import (
	"context"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// scanOp reads the rows a plan.Scan names: whole spans of rows, spans of
// index entries (each followed by a point read of its row), or point
// reads by complete key. Batches start small and double up to BatchSize,
// so a consumer that stops early (LIMIT) reads little more than it needs.
type scanOp struct {
	kv      catalog.KV
	n       *plan.Scan
	primary bool

	next    int // next span or key to open, in iteration order
	it      catalog.Iterator
	emitted int64
	size    int
	done    bool
	cc      cancelCheck
	// flat holds the values of the rows of the batch being built, which
	// are sub-slices of it: one allocation per batch, not one per row.
	flat []types.Value
}

const firstBatch = 16

// valuesOnlyIterator is an iterator that can skip building keys for a
// caller that reads only values (kv.Iterator).
type valuesOnlyIterator interface{ ValuesOnly() }

func newScanOp(kv catalog.KV, n *plan.Scan) *scanOp {
	return &scanOp{kv: kv, n: n, primary: n.Index == &n.Table.PrimaryKey, size: firstBatch}
}

func (o *scanOp) Next(ctx context.Context) ([][]types.Value, error) {
	if o.done {
		return nil, nil
	}
	want := o.size
	if o.size < BatchSize {
		o.size *= 2
	}
	if h := o.n.LimitHint; h > 0 {
		want = int(min(int64(want), h-o.emitted))
	}
	out := make([][]types.Value, 0, want)
	o.flat = make([]types.Value, 0, want*len(o.n.Table.Columns))
	for len(out) < want {
		if err := o.cc.tick(ctx); err != nil {
			return nil, err
		}
		row, ok, err := o.nextRow(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			o.done = true
			break
		}
		out = append(out, row)
	}
	o.emitted += int64(len(out))
	if h := o.n.LimitHint; h > 0 && o.emitted >= h {
		o.done = true
	}
	if o.done {
		o.Close()
	}
	return out, nil
}

// nextRow returns the next row, ok=false at the end.
func (o *scanOp) nextRow(ctx context.Context) ([]types.Value, bool, error) {
	key, value, ok, err := o.nextEntry(ctx)
	if !ok || err != nil {
		return nil, false, err
	}
	if o.primary {
		row, err := o.decode(value)
		return row, err == nil, err
	}
	row, err := o.fetchByIndexEntry(ctx, key, value)
	return row, err == nil, err
}

// nextEntry returns the next key and value read from the index (a row
// payload when the index is the primary key), ok=false at the end. They
// are valid until the next call.
func (o *scanOp) nextEntry(ctx context.Context) (key, value []byte, ok bool, err error) {
	if o.n.Kind == plan.ScanLookup {
		for o.next < len(o.n.Keys) {
			i := o.next
			if o.n.Reverse {
				i = len(o.n.Keys) - 1 - o.next
			}
			o.next++
			key := o.n.Keys[i]
			value, found, err := o.kv.Get(ctx, key)
			if err != nil {
				return nil, nil, false, err
			}
			if found {
				return key, value, true, nil
			}
		}
		return nil, nil, false, nil
	}
	for {
		if o.it == nil {
			if o.next >= len(o.n.Spans) {
				return nil, nil, false, nil
			}
			i := o.next
			if o.n.Reverse {
				i = len(o.n.Spans) - 1 - o.next
			}
			o.next++
			sp := o.n.Spans[i]
			o.it = o.kv.Scan(ctx, sp.Start, sp.End, o.n.Reverse)
			if v, ok := o.it.(valuesOnlyIterator); ok && o.primary {
				v.ValuesOnly() // rows are decoded from values alone
			}
		}
		if !o.it.Next(ctx) {
			err := o.it.Err()
			o.it.Close()
			o.it = nil
			if err != nil {
				return nil, nil, false, err
			}
			continue
		}
		return o.it.Key(), o.it.Value(), true, nil
	}
}

// fetchByIndexEntry reads the row an index entry points to.
func (o *scanOp) fetchByIndexEntry(ctx context.Context, key, value []byte) ([]types.Value, error) {
	t := o.n.Table
	_, pk, err := t.DecodeIndexEntry(o.n.Index, key, value)
	if err != nil {
		return nil, err
	}
	rowValue, found, err := o.kv.Get(ctx, t.RowKey(pk))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errcode.New(errcode.Corruption, "index %q of table %q points to a missing row", o.n.Index.Name, t.Name)
	}
	return o.decode(rowValue)
}

// decode decodes a row payload into o.flat and returns the row, capped so
// that appending to it cannot overwrite the next row.
func (o *scanOp) decode(value []byte) ([]types.Value, error) {
	start := len(o.flat)
	flat, err := o.n.Table.DecodeRowValueAppend(o.flat, value)
	if err != nil {
		return nil, err
	}
	o.flat = flat
	return flat[start:len(flat):len(flat)], nil
}

func (o *scanOp) Close() {
	if o.it != nil {
		o.it.Close()
		o.it = nil
	}
}
