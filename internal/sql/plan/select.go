package plan

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// selectItem is a select list entry after '*' expansion.
type selectItem struct {
	expr ast.Expr
	name string
}

// PlanQuery plans a query. The result's Columns are the output columns.
func (p *Planner) PlanQuery(sel *ast.Select) (Node, error) {
	if len(sel.With) > 0 {
		child := *p
		seen := map[string]bool{}
		for _, cte := range sel.With {
			if seen[cte.Name] {
				return nil, errcode.New(errcode.InvalidInput, "WITH query name %q specified more than once", cte.Name)
			}
			seen[cte.Name] = true
			child.ctes = &cteScope{name: cte.Name, query: cte.Query, parent: child.ctes}
		}
		rest := *sel
		rest.With = nil
		return child.PlanQuery(&rest)
	}
	if sel.SetOp != "" {
		return p.planSetOp(sel)
	}
	return p.planSelect(sel)
}

// cteScope is one WITH name; parent holds the names defined before it.
type cteScope struct {
	name   string
	query  *ast.Select
	parent *cteScope
}

type cteRef struct {
	query *ast.Select
	env   *cteScope // the names the CTE's own query sees
}

func (p *Planner) lookupCTE(name string) (cteRef, bool) {
	for s := p.ctes; s != nil; s = s.parent {
		if s.name == name {
			return cteRef{query: s.query, env: &cteScope{parent: s.parent}}, true
		}
	}
	return cteRef{}, false
}

func (p *Planner) planSelect(sel *ast.Select) (Node, error) {
	var plainConj, subConj []ast.Expr
	for _, e := range conjuncts(sel.Where, nil) {
		if hasSubquery(e) {
			subConj = append(subConj, e)
		} else {
			plainConj = append(plainConj, e)
		}
	}
	src, fromItems, err := p.planFrom(sel.From)
	if err != nil {
		return nil, err
	}
	inputScope := &scope{cols: src.cols}
	items, err := expandItems(sel.Items, src.cols)
	if err != nil {
		return nil, err
	}

	limit, hasLimit, err := p.limitValue(sel.Limit, "LIMIT")
	if err != nil {
		return nil, err
	}
	offset, _, err := p.limitValue(sel.Offset, "OFFSET")
	if err != nil {
		return nil, err
	}

	aggregated := len(sel.GroupBy) > 0 || sel.Having != nil
	for _, it := range items {
		aggregated = aggregated || containsAggregate(it.expr)
	}
	for _, o := range sel.OrderBy {
		aggregated = aggregated || containsAggregate(o.Expr)
	}

	// ORDER BY keys as expressions over the block's rows (aliases and
	// positions replaced by the items they name).
	orderExprs := make([]ast.Expr, len(sel.OrderBy))
	for i, o := range sel.OrderBy {
		if orderExprs[i], err = resolveOrderKey(o.Expr, items, inputScope); err != nil {
			return nil, err
		}
	}

	// Access path and WHERE.
	var node Node
	orderDone, streamDistinct := false, false
	if src.table != nil {
		var want []orderColumn
		if !aggregated && !sel.Distinct {
			want = orderColumns(orderExprs, sel.OrderBy, inputScope)
		}
		var distinctWant []orderColumn
		if sel.Distinct && !aggregated && !p.Logical {
			distinctWant = distinctOrder(src.table.desc, items, inputScope)
		}
		if distinctWant != nil {
			want = distinctWant
		}
		acc, err := p.chooseAccess(src, inputScope, plainConj, want, hasLimit || distinctWant != nil)
		if err != nil {
			return nil, err
		}
		node, orderDone = acc.scan, acc.orderSatisfied
		streamDistinct = distinctWant != nil && acc.orderSatisfied
		if len(acc.residual) > 0 {
			if node, err = p.filter(node, inputScope, andAll(acc.residual), "WHERE"); err != nil {
				return nil, err
			}
		}
	} else if len(fromItems) > 1 {
		if node, err = p.planRelation(fromItems, plainConj, true); err != nil {
			return nil, err
		}
	} else {
		node = src.node
		if len(plainConj) > 0 {
			if node, err = p.filter(node, inputScope, andAll(plainConj), "WHERE"); err != nil {
				return nil, err
			}
		}
	}
	if node, err = p.applySubqueryConjuncts(node, inputScope, subConj); err != nil {
		return nil, err
	}
	residualFree := node == src.node || isScan(node)

	c := &compiler{p: p, scope: inputScope, what: "this context", items: items}
	if aggregated {
		agg, err := newAggState(p, inputScope, sel.GroupBy, items)
		if err != nil {
			return nil, err
		}
		c.agg = agg
		// Compile everything that reads the aggregate's output before
		// building the node, so the aggregates they use are registered.
		outputs, err := c.compileItems(items)
		if err != nil {
			return nil, err
		}
		var having func([]types.Value) (bool, error)
		if sel.Having != nil {
			c.what = "HAVING"
			if having, err = c.compilePredicate(sel.Having); err != nil {
				return nil, err
			}
		}
		keys, err := c.sortKeys(orderExprs, sel.OrderBy)
		if err != nil {
			return nil, err
		}
		node = agg.node(node)
		if having != nil {
			node = &Filter{Input: node, Pred: having, Text: ast.FormatExpr(sel.Having), Having: true}
		}
		return p.finish(node, sel, items, outputs, keys, limit, hasLimit, offset, streamDistinct)
	}

	c.what = "ORDER BY"
	var keys []SortKey
	if !sel.Distinct && !orderDone {
		if keys, err = c.sortKeys(orderExprs, sel.OrderBy); err != nil {
			return nil, err
		}
	}
	c.what = "the select list"
	outputs, err := c.compileItems(items)
	if err != nil {
		return nil, err
	}
	if hasLimit && residualFree && !sel.Distinct && len(keys) == 0 && !p.Logical {
		if s, ok := node.(*Scan); ok && limit+offset > 0 {
			s.LimitHint = limit + offset
		}
	}
	return p.finish(node, sel, items, outputs, keys, limit, hasLimit, offset, streamDistinct)
}

func isScan(n Node) bool {
	_, ok := n.(*Scan)
	return ok
}

// finish adds sort, projection, distinct and limit on top of a block's
// rows. keys sort the block's rows before projection; with DISTINCT the
// sort runs after it, on the output columns.
func (p *Planner) finish(node Node, sel *ast.Select, items []selectItem, outputs []Expr, keys []SortKey, limit int64, hasLimit bool, offset int64, streamDistinct bool) (Node, error) {
	cols := make([]Column, len(items))
	for i, it := range items {
		cols[i] = Column{Name: it.name, Kind: outputs[i].Kind}
	}
	if sel.Distinct {
		node = &Distinct{Input: &Project{Input: node, Exprs: outputs, Cols: cols}, Streaming: streamDistinct}
		if len(sel.OrderBy) > 0 {
			distinctKeys, err := distinctSortKeys(sel.OrderBy, items, cols)
			if err != nil {
				return nil, err
			}
			node = &Sort{Input: node, Keys: distinctKeys}
		}
	} else {
		if len(keys) > 0 {
			node = &Sort{Input: node, Keys: keys}
		}
		node = &Project{Input: node, Exprs: outputs, Cols: cols}
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

func (c *compiler) compileItems(items []selectItem) ([]Expr, error) {
	out := make([]Expr, len(items))
	for i, it := range items {
		x, err := c.compile(it.expr)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func (c *compiler) sortKeys(exprs []ast.Expr, order []ast.OrderItem) ([]SortKey, error) {
	keys := make([]SortKey, len(exprs))
	for i, e := range exprs {
		x, err := c.compile(e)
		if err != nil {
			return nil, err
		}
		keys[i] = SortKey{Expr: x, Desc: order[i].Desc, NullsFirst: nullsFirst(order[i])}
	}
	return keys, nil
}

func nullsFirst(o ast.OrderItem) bool {
	switch o.Nulls {
	case "FIRST":
		return true
	case "LAST":
		return false
	}
	return !o.Desc
}

func (p *Planner) filter(input Node, sc *scope, cond ast.Expr, what string) (Node, error) {
	c := &compiler{p: p, scope: sc, what: what}
	pred, err := c.compilePredicate(cond)
	if err != nil {
		return nil, err
	}
	return &Filter{Input: input, Pred: pred, Text: ast.FormatExpr(cond)}, nil
}

// source is a planned FROM clause.
type source struct {
	node  Node
	cols  []Column
	table *tableRef // set for a single base table (access path chosen later)
}

type tableRef struct {
	desc       *catalog.TableDesc
	alias      string
	forceIndex string
}

// planFrom resolves the FROM clause. A single base table is returned
// unplanned (its access path depends on WHERE and ORDER BY); several
// sources come back as items for planRelation.
func (p *Planner) planFrom(from []ast.TableExpr) (*source, []fromItem, error) {
	if len(from) == 0 {
		v := &Values{Rows: [][]Expr{{}}}
		return &source{node: v}, nil, nil
	}
	items, err := p.flattenFrom(from)
	if err != nil {
		return nil, nil, err
	}
	if len(items) == 1 {
		l := items[0].leaf
		return &source{node: l.node, cols: l.cols, table: l.table}, items, nil
	}
	var cols []Column
	for i, it := range items {
		c := it.leaf.cols
		if it.kind == LeftJoin && i > 0 {
			c = nullable(c)
		}
		cols = append(cols, c...)
	}
	return &source{cols: cols}, items, nil
}

// tableColumns are a table's columns as seen through alias.
func tableColumns(t *catalog.TableDesc, alias string) []Column {
	cols := make([]Column, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = Column{Name: ScopeName(&c), Kind: c.Kind, Table: alias, Hidden: c.Hidden || !c.Public(), NotNull: c.NotNull}
	}
	return cols
}

// ScopeName is the name a query resolves column c by: its name when it is
// public, a name no SQL text can spell while a schema change adds or drops
// it (write-only and delete-only columns stay in the row, unseen).
func ScopeName(c *catalog.ColumnDesc) string {
	if c.Public() {
		return c.Name
	}
	return "\x00" + c.Name
}

// expandItems expands '*' and 't.*' and names every item.
func expandItems(items []ast.SelectItem, cols []Column) ([]selectItem, error) {
	var out []selectItem
	for _, it := range items {
		if it.Star {
			matched := false
			for _, c := range cols {
				if c.Hidden || (it.StarTable != "" && c.Table != it.StarTable) {
					continue
				}
				matched = true
				out = append(out, selectItem{expr: &ast.ColumnRef{Table: c.Table, Column: c.Name}, name: c.Name})
			}
			if !matched && it.StarTable != "" {
				return nil, errcode.New(errcode.UnknownTable, "table %q is not in the FROM clause", it.StarTable)
			}
			if !matched && len(cols) == 0 {
				return nil, errcode.New(errcode.InvalidInput, "SELECT * with no tables specified is not valid")
			}
			continue
		}
		name := it.Alias
		if name == "" {
			if ref, ok := it.Expr.(*ast.ColumnRef); ok {
				name = ref.Column
			} else {
				name = ast.FormatExpr(it.Expr)
			}
		}
		out = append(out, selectItem{expr: it.Expr, name: name})
	}
	return out, nil
}

// resolveOrderKey maps an ORDER BY key to an expression over the block's
// rows: a position (ORDER BY 2) or an output name (alias) become the item
// they designate; anything else stays as written.
func resolveOrderKey(e ast.Expr, items []selectItem, input *scope) (ast.Expr, error) {
	if lit, ok := e.(*ast.Literal); ok && lit.Value.Kind == types.Int64 {
		pos := lit.Value.Int
		if pos < 1 || pos > int64(len(items)) {
			return nil, errcode.New(errcode.InvalidInput, "ORDER BY position %d is not in the select list", pos)
		}
		return items[pos-1].expr, nil
	}
	if ref, ok := e.(*ast.ColumnRef); ok && ref.Table == "" {
		var match ast.Expr
		n := 0
		for _, it := range items {
			if it.name == ref.Column {
				if n == 0 || ast.FormatExpr(it.expr) != ast.FormatExpr(match) {
					n++
				}
				match = it.expr
			}
		}
		if n > 1 {
			return nil, errcode.New(errcode.InvalidInput, "ORDER BY %q is ambiguous", ref.Column)
		}
		if n == 1 {
			return match, nil
		}
	}
	return e, nil
}

// distinctSortKeys resolves ORDER BY keys of a SELECT DISTINCT to output
// columns: they must appear in the select list.
func distinctSortKeys(order []ast.OrderItem, items []selectItem, cols []Column) ([]SortKey, error) {
	keys := make([]SortKey, len(order))
	for i, o := range order {
		idx := -1
		if lit, ok := o.Expr.(*ast.Literal); ok && lit.Value.Kind == types.Int64 {
			if lit.Value.Int < 1 || lit.Value.Int > int64(len(items)) {
				return nil, errcode.New(errcode.InvalidInput, "ORDER BY position %d is not in the select list", lit.Value.Int)
			}
			idx = int(lit.Value.Int - 1)
		}
		if ref, ok := o.Expr.(*ast.ColumnRef); idx < 0 && ok && ref.Table == "" {
			for j, it := range items {
				if it.name == ref.Column {
					idx = j
					break
				}
			}
		}
		if idx < 0 {
			text := ast.FormatExpr(o.Expr)
			for j, it := range items {
				if ast.FormatExpr(it.expr) == text || sameColumn(it.expr, o.Expr) {
					idx = j
					break
				}
			}
		}
		if idx < 0 {
			return nil, errcode.New(errcode.InvalidInput, "for SELECT DISTINCT, ORDER BY expressions must appear in the select list")
		}
		slot := idx
		keys[i] = SortKey{
			Expr:       Expr{Compiled: columnRead(slot, cols[slot].Kind), Text: cols[slot].Name},
			Desc:       o.Desc,
			NullsFirst: nullsFirst(o),
		}
	}
	return keys, nil
}

// sameColumn reports whether a and b are references to the same column
// name, one qualified and one not.
func sameColumn(a, b ast.Expr) bool {
	ra, ok1 := a.(*ast.ColumnRef)
	rb, ok2 := b.(*ast.ColumnRef)
	return ok1 && ok2 && ra.Column == rb.Column && (ra.Table == "" || rb.Table == "" || ra.Table == rb.Table)
}

// distinctOrder returns, for a SELECT DISTINCT of NOT NULL columns of t
// that are exactly the leading columns of an index (in any order), the
// order of that index: read in it, equal rows are adjacent and DISTINCT
// can stream. nil when there is no such index.
func distinctOrder(t *catalog.TableDesc, items []selectItem, sc *scope) []orderColumn {
	set := map[int]bool{}
	for _, it := range items {
		ref, ok := it.expr.(*ast.ColumnRef)
		if !ok {
			return nil
		}
		ord, _, err := sc.Resolve(ref.Table, ref.Column)
		if err != nil || !sc.cols[ord].NotNull {
			return nil
		}
		set[ord] = true
	}
	if len(set) == 0 {
		return nil
	}
	indexes := []*catalog.IndexDesc{&t.PrimaryKey}
	for i := range t.Indexes {
		if t.Indexes[i].State == catalog.IndexPublic {
			indexes = append(indexes, &t.Indexes[i])
		}
	}
	for _, idx := range indexes {
		ords := t.IndexOrdinals(idx)
		if len(ords) < len(set) {
			continue
		}
		want := make([]orderColumn, 0, len(set))
		for i, ord := range ords[:len(set)] {
			if !set[ord] {
				want = nil
				break
			}
			desc := idx.Columns[i].Desc
			want = append(want, orderColumn{ord: ord, desc: desc, nullsFirst: !desc})
		}
		if want != nil {
			return want
		}
	}
	return nil
}
