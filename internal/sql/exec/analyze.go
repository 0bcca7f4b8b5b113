package exec

import (
	"context"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// nodeStats are the EXPLAIN ANALYZE counters of one plan node.
type nodeStats struct {
	rows    int64         // rows the node produced
	elapsed time.Duration // time spent in Next, children included
	// decoded is set for nodes that read rows from KV themselves (scans):
	// rows_read is then rows, otherwise the rows their children produced.
	decoded     bool
	kvLookups   int64 // point reads (Get) the node issued
	scanEntries int64 // KV entries the node's scans returned
}

// statsOp counts the rows and time of the operator it wraps.
type statsOp struct {
	in Operator
	st *nodeStats
}

func (o *statsOp) Next(ctx context.Context) ([][]types.Value, error) {
	start := time.Now()
	batch, err := o.in.Next(ctx)
	o.st.elapsed += time.Since(start)
	o.st.rows += int64(len(batch))
	return batch, err
}

func (o *statsOp) Close() { o.in.Close() }

// countingKV counts the reads of one node.
type countingKV struct {
	catalog.KV
	st *nodeStats
}

func (k *countingKV) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	k.st.kvLookups++
	return k.KV.Get(ctx, key)
}

func (k *countingKV) Scan(ctx context.Context, start, end []byte, reverse bool) catalog.Iterator {
	return &countingIter{Iterator: k.KV.Scan(ctx, start, end, reverse), st: k.st}
}

type countingIter struct {
	catalog.Iterator
	st *nodeStats
}

func (it *countingIter) Next(ctx context.Context) bool {
	ok := it.Iterator.Next(ctx)
	if ok {
		it.st.scanEntries++
	}
	return ok
}

// analyzeColumns are the columns of EXPLAIN ANALYZE.
var analyzeColumns = []plan.Column{
	{Name: "actual_rows", Kind: types.Int64},
	{Name: "rows_read", Kind: types.Int64},
	{Name: "actual_time_ms", Kind: types.Float64},
	{Name: "kv_lookups", Kind: types.Int64},
	{Name: "kv_scan_entries", Kind: types.Int64},
}

// analyzeValues renders the counters of n.
func analyzeValues(n plan.Node, stats map[plan.Node]*nodeStats) []types.Value {
	st := stats[n]
	if st == nil {
		st = &nodeStats{}
	}
	read := st.rows
	if !st.decoded {
		read = 0
		for _, c := range n.Children() {
			if cs := stats[c]; cs != nil {
				read += cs.rows
			}
		}
	}
	return []types.Value{
		types.NewInt(st.rows),
		types.NewInt(read),
		types.NewFloat(float64(st.elapsed.Microseconds()) / 1000),
		types.NewInt(st.kvLookups),
		types.NewInt(st.scanEntries),
	}
}
