package plan

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/rowenc"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Runner executes the plan of a subquery that an expression evaluates
// while the statement runs (scalar subqueries, EXISTS and IN that could
// not become joins). It is declared here and implemented by sql/exec.
type Runner interface {
	// Run returns at most limit rows of n (limit < 0: all of them).
	Run(n Node, limit int) ([][]types.Value, error)
}

// SemiJoinKind selects what a SemiJoin keeps.
type SemiJoinKind int

const (
	// Semi keeps the left rows with a match (IN, EXISTS, INTERSECT).
	Semi SemiJoinKind = iota
	// Anti keeps the left rows without a match (NOT EXISTS, EXCEPT).
	Anti
	// NullAwareAnti is NOT IN: a left row passes only when no right key
	// equals it and the comparison is never unknown (a NULL key on the
	// right, or a NULL left key against a non-empty right, fails it).
	NullAwareAnti
)

// SemiJoin filters Left by the existence of Right rows with equal keys
// (no keys: by Right being non-empty). It hashes the Right keys once;
// NULL keys never match unless NullsEqual (set operations). Output rows
// are the Left rows.
type SemiJoin struct {
	Kind                SemiJoinKind
	Left, Right         Node
	LeftKeys, RightKeys []Expr
	NullsEqual          bool
	Text                string
}

func (n *SemiJoin) Name() string {
	switch n.Kind {
	case Anti:
		return "anti-join"
	case NullAwareAnti:
		return "null-aware-anti-join"
	}
	return "semi-join"
}
func (n *SemiJoin) Detail() string    { return n.Text }
func (n *SemiJoin) Children() []Node  { return []Node{n.Left, n.Right} }
func (n *SemiJoin) Columns() []Column { return n.Left.Columns() }

// outerScope is an enclosing query block seen from a subquery: its
// columns, and the cell through which the subquery reads the current
// outer row.
type outerScope struct {
	cols   []Column
	cell   *outerCell
	parent *outerScope
	// used is set when a reference resolved through this scope (or one
	// further out): the subquery planned inside it is correlated.
	used bool
}

// outerCell holds the outer row while a correlated subquery runs.
type outerCell struct{ row []types.Value }

// outerColumn compiles a reference that does not resolve in the block's
// own columns but in an enclosing block's (a correlated reference).
func (c *compiler) outerColumn(ref *ast.ColumnRef) (eval.Compiled, bool, error) {
	if c.p.outer == nil {
		return eval.Compiled{}, false, nil
	}
	if _, _, err := c.scope.Resolve(ref.Table, ref.Column); errcode.Of(err) != errcode.UnknownColumn {
		return eval.Compiled{}, false, nil
	}
	if ref.Table == "" && c.agg != nil {
		for _, it := range c.items {
			if it.name == ref.Column {
				return eval.Compiled{}, false, nil // an alias, compiled by the aggregate hook
			}
		}
	}
	for s := c.p.outer; s != nil; s = s.parent {
		idx, kind, err := (&scope{cols: s.cols}).Resolve(ref.Table, ref.Column)
		if errcode.Of(err) == errcode.UnknownColumn {
			continue
		}
		if err != nil {
			return eval.Compiled{}, true, err
		}
		for t := c.p.outer; ; t = t.parent {
			t.used = true
			if t == s {
				break
			}
		}
		cell := s.cell
		return eval.Compiled{Kind: kind, Eval: func([]types.Value) (types.Value, error) {
			if idx >= len(cell.row) {
				return types.Value{}, errcode.New(errcode.Internal, "correlated reference %q read without an outer row", qualified(ref.Table, ref.Column))
			}
			return cell.row[idx], nil
		}}, true, nil
	}
	return eval.Compiled{}, false, nil
}

// subquery is a planned subquery expression.
type subquery struct {
	node       Node
	cell       *outerCell
	correlated bool
	runner     Runner

	cached bool
	rows   [][]types.Value
	set    *keySet
}

// planSubquery plans sel as a subquery of the block c compiles for.
func (c *compiler) planSubquery(sel *ast.Select) (*subquery, error) {
	if c.p.Runner == nil {
		return nil, errcode.New(errcode.Unsupported, "subqueries are not supported in this context")
	}
	node, os, err := c.p.planCorrelated(c.scope, c.agg == nil, sel)
	if err != nil {
		return nil, err
	}
	return &subquery{node: node, cell: os.cell, correlated: os.used, runner: c.p.Runner}, nil
}

// planCorrelated plans sel with the columns of sc (when visible) as its
// outer scope.
func (p *Planner) planCorrelated(sc eval.Scope, visible bool, sel *ast.Select) (Node, *outerScope, error) {
	var cols []Column
	if s, ok := sc.(*scope); ok && visible {
		cols = s.cols
	}
	os := &outerScope{cols: cols, cell: &outerCell{}, parent: p.outer}
	child := *p
	child.outer = os
	node, err := child.PlanQuery(sel)
	return node, os, err
}

// run returns the subquery's rows for the outer row (cached when the
// subquery is not correlated).
func (s *subquery) run(row []types.Value, limit int) ([][]types.Value, error) {
	if s.cached {
		return s.rows, nil
	}
	s.cell.row = row
	rows, err := s.runner.Run(s.node, limit)
	s.cell.row = nil
	if err != nil {
		return nil, err
	}
	if !s.correlated {
		s.cached, s.rows = true, rows
	}
	return rows, nil
}

func oneColumn(n Node) (Column, error) {
	cols := n.Columns()
	if len(cols) != 1 {
		return Column{}, errcode.New(errcode.InvalidInput, "subquery must return exactly one column, not %d", len(cols))
	}
	return cols[0], nil
}

func (c *compiler) scalarSubquery(n *ast.SubqueryExpr) (eval.Compiled, bool, error) {
	sq, err := c.planSubquery(n.Subquery)
	if err != nil {
		return eval.Compiled{}, true, err
	}
	col, err := oneColumn(sq.node)
	if err != nil {
		return eval.Compiled{}, true, err
	}
	return eval.Compiled{Kind: col.Kind, Eval: func(row []types.Value) (types.Value, error) {
		rows, err := sq.run(row, 2)
		if err != nil {
			return types.Value{}, err
		}
		switch len(rows) {
		case 0:
			return types.NullValue, nil
		case 1:
			return rows[0][0], nil
		}
		return types.Value{}, errcode.New(errcode.InvalidInput, "more than one row returned by a subquery used as an expression")
	}}, true, nil
}

func (c *compiler) existsSubquery(n *ast.ExistsExpr) (eval.Compiled, bool, error) {
	sq, err := c.planSubquery(n.Subquery)
	if err != nil {
		return eval.Compiled{}, true, err
	}
	return eval.Compiled{Kind: types.Bool, Eval: func(row []types.Value) (types.Value, error) {
		rows, err := sq.run(row, 1)
		if err != nil {
			return types.Value{}, err
		}
		return types.NewBool(len(rows) > 0), nil
	}}, true, nil
}

// comparableKinds reports whether values of kinds a and b may be compared
// with = (unknown kinds are checked at run time).
func comparableKinds(a, b types.Kind) bool {
	if a == types.Null || b == types.Null || a == b || keyKindsMatch(a, b) {
		return true
	}
	numLike := func(k types.Kind) bool { return k == types.Int64 || k == types.Float64 || k == types.Numeric }
	if numLike(a) && numLike(b) || types.IsDatetime(a) && types.IsDatetime(b) {
		return true
	}
	return (a == types.String && (b == types.OID || types.TextInput(b))) ||
		(b == types.String && (a == types.OID || types.TextInput(a)))
}

func (c *compiler) inSubquery(n *ast.InExpr) (eval.Compiled, bool, error) {
	x, err := c.compile(n.X)
	if err != nil {
		return eval.Compiled{}, true, err
	}
	sq, err := c.planSubquery(n.Subquery)
	if err != nil {
		return eval.Compiled{}, true, err
	}
	col, err := oneColumn(sq.node)
	if err != nil {
		return eval.Compiled{}, true, err
	}
	if !comparableKinds(x.Kind, col.Kind) {
		return eval.Compiled{}, true, errcode.New(errcode.InvalidInput, "cannot compare %s with %s in IN (SELECT ...)", x.Kind, col.Kind)
	}
	not := n.Not
	return eval.Compiled{Kind: types.Bool, Eval: func(row []types.Value) (types.Value, error) {
		v, err := x.Eval(row)
		if err != nil {
			return types.Value{}, err
		}
		set := sq.set
		if set == nil || sq.correlated {
			rows, err := sq.run(row, -1)
			if err != nil {
				return types.Value{}, err
			}
			set = newKeySet()
			for _, r := range rows {
				set.add(r[:1])
			}
			sq.set = set
		}
		res := set.in(v)
		if not && !res.IsNull() {
			res = types.NewBool(!res.Bool)
		}
		return res, nil
	}}, true, nil
}

// keySet is a hash set of encoded key tuples for IN (SELECT ...).
type keySet struct {
	keys    map[string]struct{}
	hasNull bool
	n       int
	buf     []byte
}

func newKeySet() *keySet { return &keySet{keys: map[string]struct{}{}} }

func (s *keySet) add(vals []types.Value) {
	s.n++
	for _, v := range vals {
		if v.IsNull() {
			s.hasNull = true
			return
		}
	}
	s.buf = HashKey(s.buf[:0], vals)
	s.keys[string(s.buf)] = struct{}{}
}

// in is the three-valued result of v IN (set).
func (s *keySet) in(v types.Value) types.Value {
	switch {
	case s.n == 0:
		return types.NewBool(false)
	case v.IsNull():
		return types.NullValue
	}
	s.buf = HashKey(s.buf[:0], []types.Value{v})
	if _, ok := s.keys[string(s.buf)]; ok {
		return types.NewBool(true)
	}
	if s.hasNull {
		return types.NullValue
	}
	return types.NewBool(false)
}

// HashKey appends an encoding of vals under which values SQL = considers
// equal encode equally (an integral FLOAT64 like the INT64 of its value).
func HashKey(b []byte, vals []types.Value) []byte {
	for _, v := range vals {
		if v.Kind == types.Float64 && v.Float >= -(1<<63) && v.Float < 1<<63 && v.Float == float64(int64(v.Float)) {
			v = types.NewInt(int64(v.Float))
		}
		b = rowenc.AppendKey(b, v, false)
	}
	return b
}

// hasSubquery reports whether e contains a subquery.
func hasSubquery(e ast.Expr) bool {
	found := false
	walkExpr(e, func(x ast.Expr) bool {
		switch n := x.(type) {
		case *ast.SubqueryExpr, *ast.ExistsExpr:
			found = true
		case *ast.InExpr:
			if n.Subquery != nil {
				found = true
			}
		}
		return !found
	})
	return found
}

// applySubqueryConjuncts applies the WHERE conjuncts that contain
// subqueries: [NOT] IN (SELECT ...) and [NOT] EXISTS become semi/anti
// joins when the subquery is uncorrelated or correlated only through
// equalities; anything else is a filter evaluating the subquery per row.
func (p *Planner) applySubqueryConjuncts(node Node, sc *scope, conj []ast.Expr) (Node, error) {
	for _, e := range conj {
		joined, err := p.subqueryJoin(node, sc, e)
		if err != nil {
			return nil, err
		}
		if joined != nil {
			node = joined
			continue
		}
		if node, err = p.filter(node, sc, e, "WHERE"); err != nil {
			return nil, err
		}
	}
	return node, nil
}

func (p *Planner) subqueryJoin(node Node, sc *scope, e ast.Expr) (Node, error) {
	not := false
	text := ast.FormatExpr(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == "NOT" {
		e, not = u.X, true
	}
	if p.Runner == nil {
		return nil, nil
	}
	switch x := e.(type) {
	case *ast.ExistsExpr:
		kind := Semi
		if not {
			kind = Anti
		}
		right, os, err := p.planCorrelated(sc, true, x.Subquery)
		if err != nil {
			return nil, err
		}
		if !os.used {
			return &SemiJoin{Kind: kind, Left: node, Right: right, Text: text}, nil
		}
		return p.decorrelated(node, sc, x.Subquery, kind, nil, nil, text)
	case *ast.InExpr:
		if x.Subquery == nil {
			return nil, nil
		}
		not = not != x.Not
		right, os, err := p.planCorrelated(sc, true, x.Subquery)
		if err != nil {
			return nil, err
		}
		col, err := oneColumn(right)
		if err != nil {
			return nil, err
		}
		c := &compiler{p: p, scope: sc, what: "WHERE"}
		lx, err := c.compile(x.X)
		if err != nil {
			return nil, err
		}
		if !comparableKinds(lx.Kind, col.Kind) {
			return nil, errcode.New(errcode.InvalidInput, "cannot compare %s with %s in IN (SELECT ...)", lx.Kind, col.Kind)
		}
		if !keyKindsMatch(lx.Kind, col.Kind) {
			return nil, nil // unknown or STRING/OID kinds: compare per row
		}
		if !os.used {
			kind := Semi
			if not {
				kind = NullAwareAnti
			}
			return &SemiJoin{Kind: kind, Left: node, Right: right, Text: text,
				LeftKeys: []Expr{lx}, RightKeys: []Expr{{Compiled: columnRead(0, col.Kind), Text: col.Name}}}, nil
		}
		if not || len(x.Subquery.Items) != 1 || x.Subquery.Items[0].Star {
			return nil, nil
		}
		return p.decorrelated(node, sc, x.Subquery, Semi, x.Subquery.Items[0].Expr, x.X, text)
	}
	return nil, nil
}

// decorrelated rewrites a subquery correlated only through conjuncts
// inner = outer into an uncorrelated one producing the inner sides, and
// joins it by key. extraInner = extraOuter is one more such pair (IN).
// It returns nil when the subquery does not have that shape.
func (p *Planner) decorrelated(node Node, sc *scope, sub *ast.Select, kind SemiJoinKind, extraInner, extraOuter ast.Expr, text string) (Node, error) {
	if sub.SetOp != "" || len(sub.With) > 0 || len(sub.GroupBy) > 0 || sub.Having != nil ||
		sub.Limit != nil || sub.Offset != nil || len(sub.From) == 0 {
		return nil, nil
	}
	for _, it := range sub.Items {
		if it.Expr != nil && containsAggregate(it.Expr) {
			return nil, nil
		}
	}
	innerSrc, _, err := p.planFrom(sub.From)
	if err != nil {
		return nil, err
	}
	inner := &scope{cols: innerSrc.cols}
	// side classifies e: reads inner columns, reads others (outer).
	side := func(e ast.Expr) (readsInner, readsOuter, ok bool) {
		ok = !hasSubquery(e)
		walkExpr(e, func(x ast.Expr) bool {
			if ref, isRef := x.(*ast.ColumnRef); isRef {
				if _, _, err := inner.Resolve(ref.Table, ref.Column); err == nil {
					readsInner = true
				} else if errcode.Of(err) == errcode.UnknownColumn {
					readsOuter = true
				} else {
					ok = false
				}
			}
			return true
		})
		return readsInner, readsOuter, ok
	}
	var innerKeys, outerKeys, kept []ast.Expr
	if extraInner != nil {
		innerKeys, outerKeys = append(innerKeys, extraInner), append(outerKeys, extraOuter)
	}
	for _, e := range conjuncts(sub.Where, nil) {
		if b, isEq := e.(*ast.BinaryExpr); isEq && b.Op == "=" {
			li, lo, lok := side(b.L)
			ri, ro, rok := side(b.R)
			switch {
			case lok && rok && li && !lo && ro && !ri:
				innerKeys, outerKeys = append(innerKeys, b.L), append(outerKeys, b.R)
				continue
			case lok && rok && ri && !ro && lo && !li:
				innerKeys, outerKeys = append(innerKeys, b.R), append(outerKeys, b.L)
				continue
			}
		}
		kept = append(kept, e)
	}
	if len(innerKeys) == 0 {
		return nil, nil
	}
	rewritten := &ast.Select{At: sub.At, From: sub.From, Where: andAll(kept)}
	for _, k := range innerKeys {
		rewritten.Items = append(rewritten.Items, ast.SelectItem{Expr: k})
	}
	right, os, err := p.planCorrelated(sc, true, rewritten)
	if err != nil || os.used {
		return nil, err
	}
	sj := &SemiJoin{Kind: kind, Left: node, Right: right, Text: text}
	c := &compiler{p: p, scope: sc, what: "WHERE"}
	for i, e := range outerKeys {
		lx, err := c.compile(e)
		if err != nil {
			return nil, err
		}
		rk := right.Columns()[i].Kind
		if !keyKindsMatch(lx.Kind, rk) {
			return nil, nil
		}
		sj.LeftKeys = append(sj.LeftKeys, lx)
		sj.RightKeys = append(sj.RightKeys, Expr{Compiled: columnRead(i, rk), Text: right.Columns()[i].Name})
	}
	return sj, nil
}
