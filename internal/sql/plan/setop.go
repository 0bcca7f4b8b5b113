package plan

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// UnionAll streams the Left rows, then the Right rows.
type UnionAll struct {
	Left, Right Node
	Cols        []Column
}

func (n *UnionAll) Name() string      { return "union-all" }
func (n *UnionAll) Detail() string    { return "" }
func (n *UnionAll) Children() []Node  { return []Node{n.Left, n.Right} }
func (n *UnionAll) Columns() []Column { return n.Cols }

// planSetOp plans UNION [ALL], INTERSECT and EXCEPT. UNION is a distinct
// over union-all; INTERSECT and EXCEPT are a semi-join and an anti-join
// on every column (NULLs equal, as set operations compare rows) under a
// distinct. ORDER BY, LIMIT and OFFSET apply to the whole result.
func (p *Planner) planSetOp(sel *ast.Select) (Node, error) {
	left, err := p.PlanQuery(sel.Left)
	if err != nil {
		return nil, err
	}
	right, err := p.PlanQuery(sel.Right)
	if err != nil {
		return nil, err
	}
	lc, rc := left.Columns(), right.Columns()
	if len(lc) != len(rc) {
		return nil, errcode.New(errcode.InvalidInput, "each %s query must have the same number of columns (%d and %d)", sel.SetOp, len(lc), len(rc))
	}
	cols := make([]Column, len(lc))
	var widenLeft, widenRight []int
	for i := range lc {
		l, r := lc[i].Kind, rc[i].Kind
		kind := l
		switch {
		case l == r || r == types.Null:
		case l == types.Null:
			kind = r
		case l == types.Int64 && r == types.Float64:
			kind = types.Float64
			widenLeft = append(widenLeft, i)
		case l == types.Float64 && r == types.Int64:
			widenRight = append(widenRight, i)
		default:
			return nil, errcode.New(errcode.InvalidInput, "%s types %s and %s cannot be matched (column %d)", sel.SetOp, l, r, i+1)
		}
		cols[i] = Column{Name: lc[i].Name, Kind: kind, NotNull: lc[i].NotNull && rc[i].NotNull}
	}
	left, right = widen(left, widenLeft), widen(right, widenRight)
	keys := func() []Expr {
		out := make([]Expr, len(cols))
		for i, c := range cols {
			out[i] = Expr{Compiled: columnRead(i, c.Kind), Text: c.Name}
		}
		return out
	}
	var node Node
	switch sel.SetOp {
	case "UNION ALL":
		node = &UnionAll{Left: left, Right: right, Cols: cols}
	case "UNION":
		node = &Distinct{Input: &UnionAll{Left: left, Right: right, Cols: cols}}
	case "INTERSECT", "EXCEPT":
		kind := Semi
		if sel.SetOp == "EXCEPT" {
			kind = Anti
		}
		node = &Distinct{Input: &SemiJoin{Kind: kind, Left: left, Right: right, LeftKeys: keys(), RightKeys: keys(),
			NullsEqual: true, Text: sel.SetOp}}
	default:
		return nil, errcode.New(errcode.Unsupported, "set operation %s is not supported", sel.SetOp)
	}
	return p.orderAndLimit(node, sel)
}

// widen converts the INT64 columns ords of n's rows to FLOAT64.
func widen(n Node, ords []int) Node {
	if len(ords) == 0 {
		return n
	}
	cols := append([]Column(nil), n.Columns()...)
	exprs := make([]Expr, len(cols))
	for i, c := range cols {
		exprs[i] = Expr{Compiled: columnRead(i, c.Kind), Text: c.Name}
	}
	for _, i := range ords {
		slot := i
		cols[i].Kind = types.Float64
		exprs[i].Kind = types.Float64
		exprs[i].Eval = func(row []types.Value) (types.Value, error) {
			v := row[slot]
			if v.Kind == types.Int64 {
				return types.NewFloat(float64(v.Int)), nil
			}
			return v, nil
		}
	}
	return &Project{Input: n, Exprs: exprs, Cols: cols}
}

// orderAndLimit sorts and limits the output rows of node: ORDER BY names
// output columns by position or name, or is an expression over them.
func (p *Planner) orderAndLimit(node Node, sel *ast.Select) (Node, error) {
	cols := node.Columns()
	sc := &scope{cols: cols}
	if len(sel.OrderBy) > 0 {
		keys := make([]SortKey, len(sel.OrderBy))
		for i, o := range sel.OrderBy {
			var x Expr
			if lit, ok := o.Expr.(*ast.Literal); ok && lit.Value.Kind == types.Int64 {
				pos := lit.Value.Int
				if pos < 1 || pos > int64(len(cols)) {
					return nil, errcode.New(errcode.InvalidInput, "ORDER BY position %d is not in the select list", pos)
				}
				x = Expr{Compiled: columnRead(int(pos-1), cols[pos-1].Kind), Text: cols[pos-1].Name}
			} else {
				c := &compiler{p: p, scope: sc, what: "ORDER BY"}
				var err error
				if x, err = c.compile(o.Expr); err != nil {
					return nil, err
				}
			}
			keys[i] = SortKey{Expr: x, Desc: o.Desc, NullsFirst: nullsFirst(o)}
		}
		node = &Sort{Input: node, Keys: keys}
	}
	limit, hasLimit, err := p.limitValue(sel.Limit, "LIMIT")
	if err != nil {
		return nil, err
	}
	offset, _, err := p.limitValue(sel.Offset, "OFFSET")
	if err != nil {
		return nil, err
	}
	if hasLimit || offset > 0 {
		count := int64(-1)
		if hasLimit {
			count = limit
		}
		node = &Limit{Input: node, Count: count, Offset: offset}
	}
	return node, nil
}
