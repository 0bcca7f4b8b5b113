package plan

import (
	"context"
	"math"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// TableStats are the planner statistics of one table, as of the last
// refresh (they may lag behind the data; they only steer choices and
// estimates, never results).
type TableStats struct {
	Rows int64 `json:"rows"`
	// Min and Max per column id (absent: no non-NULL value).
	Min map[uint32]types.Value `json:"min,omitempty"`
	Max map[uint32]types.Value `json:"max,omitempty"`
	// Indexes per index id (the primary key included).
	Indexes map[uint32]IndexStats `json:"indexes,omitempty"`
}

// IndexStats describe one index.
type IndexStats struct {
	Entries int64 `json:"entries"`
	// Bytes is the size of the entries' keys and values.
	Bytes int64 `json:"bytes"`
	// DistinctFirst counts the distinct values of the first key column
	// (NULL included).
	DistinctFirst int64 `json:"distinctFirst"`
}

// StatsSource gives the planner table statistics; it must not read
// through the statement's transaction (statistics never take part in
// serializability). ok=false: none known.
type StatsSource interface {
	TableStats(ctx context.Context, t *catalog.TableDesc) (stats *TableStats, ok bool)
}

// wideRangeFraction: a secondary index range expected to return more than
// this fraction of the table costs more (one row read per entry) than
// scanning the table, so the planner scans the table instead.
const wideRangeFraction = 0.25

// Estimate is a row estimate attached to plan nodes (Known=false: none).
type Estimate struct {
	Rows  int64
	Known bool
}

func (p *Planner) tableStats(t *catalog.TableDesc) (*TableStats, bool) {
	if p.Stats == nil || p.Logical {
		return nil, false
	}
	return p.Stats.TableStats(p.Ctx, t)
}

// estimateCandidate estimates the rows an access path returns.
func estimateCandidate(t *catalog.TableDesc, st *TableStats, c *candidate) int64 {
	rows := float64(st.Rows)
	if len(c.eqVals) == 0 && !c.hasRng {
		return st.Rows
	}
	ords := t.IndexOrdinals(c.idx)
	if c.lookup {
		return min(int64(c.probes), st.Rows)
	}
	for j, vals := range c.eqVals {
		sel := 0.1
		if j == 0 {
			if is, ok := st.Indexes[c.idx.ID]; ok && is.DistinctFirst > 0 {
				sel = 1 / float64(is.DistinctFirst)
			}
		}
		rows *= math.Min(1, sel*float64(len(vals)))
	}
	if c.hasRng && len(c.eqVals) < len(ords) {
		col := t.Columns[ords[len(c.eqVals)]]
		rows *= rangeFraction(st.Min[col.ID], st.Max[col.ID], c.lo, c.hi)
	}
	return int64(math.Ceil(rows))
}

// rangeFraction is the fraction of [min, max] that lo..hi covers,
// assuming uniformly spread numeric values; 1/3 when unknown.
func rangeFraction(minV, maxV types.Value, lo, hi *bound) float64 {
	num := func(v types.Value) (float64, bool) {
		switch v.Kind {
		case types.Int64:
			return float64(v.Int), true
		case types.Float64:
			return v.Float, true
		}
		return 0, false
	}
	mn, ok1 := num(minV)
	mx, ok2 := num(maxV)
	if !ok1 || !ok2 {
		return 1.0 / 3
	}
	integral := minV.Kind == types.Int64
	from, to := mn, mx
	if lo != nil {
		if v, ok := num(lo.v); ok {
			if integral && !lo.inclusive {
				v = math.Floor(v) + 1
			}
			from = math.Max(from, v)
		}
	}
	if hi != nil {
		if v, ok := num(hi.v); ok {
			if integral && !hi.inclusive {
				v = math.Ceil(v) - 1
			}
			to = math.Min(to, v)
		}
	}
	switch {
	case to < from:
		return 0
	case mx == mn:
		return 1
	}
	// An integer range [a, b] holds b-a+1 values.
	width := to - from
	span := mx - mn
	if integral {
		width++
		span++
	}
	return math.Min(1, width/span)
}

// EstimatedRows is the row estimate of a node, derived from the
// statistics the planner used for the scans below it (unknown without
// statistics, and for joins).
func EstimatedRows(n Node) Estimate {
	switch n := n.(type) {
	case *Scan:
		return n.Est
	case *Filter:
		in := EstimatedRows(n.Input)
		if !in.Known {
			return in
		}
		return Estimate{Rows: (in.Rows + 2) / 3, Known: true}
	case *Project:
		return EstimatedRows(n.Input)
	case *Sort:
		return EstimatedRows(n.Input)
	case *DerivedTable:
		return EstimatedRows(n.Input)
	case *Limit:
		in := EstimatedRows(n.Input)
		if !in.Known {
			return in
		}
		rows := max(0, in.Rows-n.Offset)
		if n.Count >= 0 {
			rows = min(rows, n.Count)
		}
		return Estimate{Rows: rows, Known: true}
	case *Aggregate:
		if len(n.GroupBy) == 0 && EstimatedRows(n.Input).Known {
			return Estimate{Rows: 1, Known: true}
		}
	}
	return Estimate{}
}

// EstimatedCost is the cost estimate of a node and everything below it,
// in rows touched: a scan costs the rows it reads plus one seek; filter,
// project, derived table, aggregate and distinct add one unit per input
// row; a sort adds n·log2(n+1); a limit costs what its input costs (an
// upper bound: pushed-down limits stop early). Unknown (ok=false) when a
// row estimate below is unknown, and for joins.
func EstimatedCost(n Node) (cost float64, ok bool) {
	perRow := func(in Node) (float64, bool) {
		c, ok := EstimatedCost(in)
		rows := EstimatedRows(in)
		if !ok || !rows.Known {
			return 0, false
		}
		return c + float64(rows.Rows), true
	}
	switch n := n.(type) {
	case *Scan:
		if !n.Est.Known {
			return 0, false
		}
		return float64(n.Est.Rows) + 1, true
	case *Filter:
		return perRow(n.Input)
	case *Project:
		return perRow(n.Input)
	case *DerivedTable:
		return perRow(n.Input)
	case *Aggregate:
		return perRow(n.Input)
	case *Distinct:
		return perRow(n.Input)
	case *Sort:
		c, ok := EstimatedCost(n.Input)
		rows := EstimatedRows(n.Input)
		if !ok || !rows.Known {
			return 0, false
		}
		r := float64(rows.Rows)
		return c + r*math.Log2(r+1), true
	case *Limit:
		return EstimatedCost(n.Input)
	}
	return 0, false
}
