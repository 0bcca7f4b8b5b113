package plan

import (
	"fmt"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// Column is one column of a node's output rows.
type Column struct {
	Name string
	Kind types.Kind // types.Null when unknown
	// Table is the name (or alias) a qualified reference t.col matches;
	// "" for computed columns.
	Table string
	// Hidden columns (the implicit row id) are not part of '*'.
	Hidden bool
	// NotNull is set when the column can never hold NULL.
	NotNull bool
	// UsingDup marks the right side's copy of a JOIN ... USING column: an
	// unqualified name means the left one (it is also Hidden from '*').
	UsingDup bool
}

// Node is a physical plan operator. Plans are trees; exec builds one
// operator per node. EXPLAIN renders Name and Detail.
type Node interface {
	// Name is the SPEC §2.8 node name (table-scan, filter, sort, ...).
	Name() string
	// Detail describes the node's arguments for EXPLAIN.
	Detail() string
	Children() []Node
	// Columns describes the output rows.
	Columns() []Column
}

// Expr is a compiled scalar expression with its source text (for EXPLAIN).
type Expr struct {
	eval.Compiled
	Text string
}

func exprList(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Text
	}
	return strings.Join(parts, ", ")
}

// Values produces constant rows (SELECT without FROM, INSERT ... VALUES).
// Each expression is evaluated against an empty row.
type Values struct {
	Rows [][]Expr
	Cols []Column
}

// Span is a half-open key range [Start, End) within one bucket.
type Span struct{ Start, End []byte }

// Scan reads rows of a table. Depending on Kind it is a full scan of the
// rows ("table-scan"), point reads of rows or index entries by complete
// key ("index-lookup") or a scan of key ranges of an index or of the
// primary key ("index-range-scan"). Rows come out in key order of Index
// (reversed when Reverse), spans in ascending key order.
type Scan struct {
	Kind  ScanKind
	Table *catalog.TableDesc
	// Alias is the name the table answers to in this query.
	Alias string
	// Index is the index read: &Table.PrimaryKey for row spans and lookups.
	Index *catalog.IndexDesc
	// Spans for ScanRange and ScanFull; Keys (complete index keys with
	// prefix) for ScanLookup.
	Spans   []Span
	Keys    [][]byte
	Reverse bool
	// LimitHint, when > 0, is the most rows anybody above will pull.
	LimitHint int64
	// Constraint is the EXPLAIN text of the condition the spans encode.
	Constraint string
	Cols       []Column
	// Est is the row estimate from statistics, when there are any.
	Est Estimate
}

// ScanKind selects the access path of a Scan.
type ScanKind int

const (
	ScanFull ScanKind = iota
	ScanLookup
	ScanRange
)

// Filter keeps the rows for which Pred is TRUE.
type Filter struct {
	Input  Node
	Pred   func(row []types.Value) (bool, error)
	Text   string
	Having bool // renders as having-filter
}

// Project computes Exprs over each input row.
type Project struct {
	Input Node
	Exprs []Expr
	Cols  []Column
}

// AggregateSpec is one aggregate computed by an Aggregate node.
type AggregateSpec struct {
	Name     string // count, sum, avg, min, max
	Distinct bool
	Star     bool
	Arg      Expr // unset when Star
	// ArgColumn is the input column Arg reads when Arg is a plain column
	// reference, -1 otherwise (a scan can then decode just that column).
	ArgColumn int
	Text      string
	// Sep is string_agg's separator.
	Sep string
}

// Aggregate groups its input by GroupBy and computes Aggs per group. Its
// output rows are the group key values followed by the aggregate results.
// Without GroupBy it produces exactly one row, even for empty input.
type Aggregate struct {
	Input   Node
	GroupBy []Expr
	Aggs    []AggregateSpec
	Cols    []Column
}

// SortKey is one ORDER BY key, evaluated on the input row.
type SortKey struct {
	Expr       Expr
	Desc       bool
	NullsFirst bool
}

// Sort orders its input (stable).
type Sort struct {
	Input Node
	Keys  []SortKey
}

// Distinct removes duplicate rows. Streaming is set when the input
// arrives ordered on all its columns (duplicates adjacent): then only the
// previous row is kept instead of a hash set.
type Distinct struct {
	Input     Node
	Streaming bool
}

// Limit skips Offset rows and passes at most Count (Count < 0: all).
type Limit struct {
	Input  Node
	Count  int64
	Offset int64
}

func (n *Values) Name() string { return "values" }
func (n *Scan) Name() string {
	switch n.Kind {
	case ScanLookup:
		return "index-lookup"
	case ScanRange:
		return "index-range-scan"
	}
	return "table-scan"
}
func (n *Filter) Name() string {
	if n.Having {
		return "having-filter"
	}
	return "filter"
}
func (n *Project) Name() string   { return "project" }
func (n *Aggregate) Name() string { return "aggregate" }
func (n *Sort) Name() string      { return "sort" }
func (n *Distinct) Name() string  { return "distinct" }
func (n *Limit) Name() string     { return "limit" }

func (n *Values) Detail() string { return fmt.Sprintf("%d row(s)", len(n.Rows)) }
func (n *Scan) Detail() string {
	var b strings.Builder
	b.WriteString(n.Table.Name)
	if n.Alias != "" && n.Alias != n.Table.Name {
		b.WriteString(" AS " + n.Alias)
	}
	if n.Kind != ScanFull || n.Index != &n.Table.PrimaryKey {
		fmt.Fprintf(&b, "@%s", n.Index.Name)
	}
	if n.Constraint != "" {
		b.WriteString(" " + n.Constraint)
	}
	if n.Reverse {
		b.WriteString(" reverse")
	}
	if n.LimitHint > 0 {
		fmt.Fprintf(&b, " limit=%d", n.LimitHint)
	}
	return b.String()
}
func (n *Filter) Detail() string  { return n.Text }
func (n *Project) Detail() string { return exprList(n.Exprs) }
func (n *Aggregate) Detail() string {
	parts := make([]string, len(n.Aggs))
	for i, a := range n.Aggs {
		parts[i] = a.Text
	}
	s := strings.Join(parts, ", ")
	if len(n.GroupBy) > 0 {
		s += " group by " + exprList(n.GroupBy)
	}
	return s
}
func (n *Sort) Detail() string {
	parts := make([]string, len(n.Keys))
	for i, k := range n.Keys {
		parts[i] = k.Expr.Text
		if k.Desc {
			parts[i] += " DESC"
		}
		if k.NullsFirst == k.Desc {
			if k.NullsFirst {
				parts[i] += " NULLS FIRST"
			} else {
				parts[i] += " NULLS LAST"
			}
		}
	}
	return strings.Join(parts, ", ")
}
func (n *Distinct) Detail() string {
	if n.Streaming {
		return "streaming"
	}
	return ""
}
func (n *Limit) Detail() string {
	var parts []string
	if n.Count >= 0 {
		parts = append(parts, fmt.Sprintf("limit=%d", n.Count))
	}
	if n.Offset > 0 {
		parts = append(parts, fmt.Sprintf("offset=%d", n.Offset))
	}
	return strings.Join(parts, " ")
}

func (n *Values) Children() []Node    { return nil }
func (n *Scan) Children() []Node      { return nil }
func (n *Filter) Children() []Node    { return []Node{n.Input} }
func (n *Project) Children() []Node   { return []Node{n.Input} }
func (n *Aggregate) Children() []Node { return []Node{n.Input} }
func (n *Sort) Children() []Node      { return []Node{n.Input} }
func (n *Distinct) Children() []Node  { return []Node{n.Input} }
func (n *Limit) Children() []Node     { return []Node{n.Input} }

func (n *Values) Columns() []Column    { return n.Cols }
func (n *Scan) Columns() []Column      { return n.Cols }
func (n *Filter) Columns() []Column    { return n.Input.Columns() }
func (n *Project) Columns() []Column   { return n.Cols }
func (n *Aggregate) Columns() []Column { return n.Cols }
func (n *Sort) Columns() []Column      { return n.Input.Columns() }
func (n *Distinct) Columns() []Column  { return n.Input.Columns() }
func (n *Limit) Columns() []Column     { return n.Input.Columns() }

// ExplainRow is one line of EXPLAIN output.
type ExplainRow struct {
	Stage  string // position in the tree: "1", "1.1", "1.1.1", ...
	Node   string
	Detail string
	Plan   Node // the node rendered
}

// Explain renders a plan top-down, one row per node.
func Explain(n Node) []ExplainRow {
	var out []ExplainRow
	var walk func(n Node, stage string)
	walk = func(n Node, stage string) {
		out = append(out, ExplainRow{Stage: stage, Node: n.Name(), Detail: n.Detail(), Plan: n})
		for i, c := range n.Children() {
			walk(c, fmt.Sprintf("%s.%d", stage, i+1))
		}
	}
	walk(n, "1")
	return out
}

// DerivedTable passes the rows of a subquery in FROM through under an alias.
type DerivedTable struct {
	Input Node
	Alias string
	Cols  []Column
}

func (n *DerivedTable) Name() string      { return "derived-table-scan" }
func (n *DerivedTable) Detail() string    { return n.Alias }
func (n *DerivedTable) Children() []Node  { return []Node{n.Input} }
func (n *DerivedTable) Columns() []Column { return n.Cols }
