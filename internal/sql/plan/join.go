package plan

import (
	"slices"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// JoinKind is the kind of a two-input join.
type JoinKind int

const (
	// InnerJoin emits the combinations that satisfy the condition.
	InnerJoin JoinKind = iota
	// LeftJoin also emits each unmatched left row with NULLs on the right.
	LeftJoin
)

func (k JoinKind) String() string {
	if k == LeftJoin {
		return "left"
	}
	return "inner"
}

// Predicate is a compiled boolean condition (only TRUE passes).
type Predicate func(row []types.Value) (bool, error)

// HashJoin builds a hash table of the Right rows keyed by RightKeys and
// streams the Left rows through it (probe with LeftKeys). NULL keys never
// match. Pred, when set, is checked on every combined row (left ++ right)
// whose keys matched. Output rows are left ++ right.
type HashJoin struct {
	Kind                JoinKind
	Left, Right         Node
	LeftKeys, RightKeys []Expr
	Pred                Predicate
	Text                string
	Cols                []Column
}

// NestedLoopJoin materialises the Right rows and pairs every Left row with
// each of them; only used without an equality condition.
type NestedLoopJoin struct {
	Kind        JoinKind
	Left, Right Node
	Pred        Predicate // nil: every pair (cross join)
	Text        string
	Cols        []Column
}

// IndexJoin (index-nested-loop-join) probes an index (or the primary key)
// of Table for every Left row: LeftKeys give the values of the first
// len(LeftKeys) columns of Index. Lookup is set when they complete a
// unique index (a point read per row). RightFilter applies to the table's
// row, Pred to the combined row.
type IndexJoin struct {
	Kind        JoinKind
	Left        Node
	Table       *catalog.TableDesc
	Index       *catalog.IndexDesc
	LeftKeys    []Expr
	Lookup      bool
	RightFilter Predicate
	Pred        Predicate
	Text        string
	Cols        []Column
	// Probe describes the per-row index read for EXPLAIN; Inner is Probe,
	// or a filter over it when RightFilter is set.
	Probe *Scan
	Inner Node
}

func (n *HashJoin) Name() string       { return "hash-join" }
func (n *NestedLoopJoin) Name() string { return "nested-loop-join" }
func (n *IndexJoin) Name() string      { return "index-nested-loop-join" }

func joinDetail(k JoinKind, text string) string {
	if text == "" {
		return k.String() + " cross"
	}
	return k.String() + " on " + text
}

func (n *HashJoin) Detail() string       { return joinDetail(n.Kind, n.Text) }
func (n *NestedLoopJoin) Detail() string { return joinDetail(n.Kind, n.Text) }
func (n *IndexJoin) Detail() string      { return joinDetail(n.Kind, n.Text) }

func (n *HashJoin) Children() []Node       { return []Node{n.Left, n.Right} }
func (n *NestedLoopJoin) Children() []Node { return []Node{n.Left, n.Right} }
func (n *IndexJoin) Children() []Node      { return []Node{n.Left, n.Inner} }

func (n *HashJoin) Columns() []Column       { return n.Cols }
func (n *NestedLoopJoin) Columns() []Column { return n.Cols }
func (n *IndexJoin) Columns() []Column      { return n.Cols }

// maxJoinSources bounds the sources of one FROM clause (leaf sets are
// bit masks).
const maxJoinSources = 64

// leaf is one source of a FROM clause: a base table (access path chosen
// with its local conditions) or an already planned relation.
type leaf struct {
	table *tableRef
	node  Node
	cols  []Column
}

// fromItem is a leaf with the way it joins the sources before it.
type fromItem struct {
	leaf *leaf
	kind JoinKind
	on   ast.Expr
}

// flattenFrom turns a FROM clause into a left-deep sequence of joins.
// Commas are inner joins without a condition.
func (p *Planner) flattenFrom(from []ast.TableExpr) ([]fromItem, error) {
	var items []fromItem
	var add func(te ast.TableExpr, kind JoinKind, on ast.Expr) error
	add = func(te ast.TableExpr, kind JoinKind, on ast.Expr) error {
		if j, ok := te.(*ast.Join); ok {
			if err := add(j.Left, kind, on); err != nil {
				return err
			}
			jk := InnerJoin
			if j.Kind == "LEFT" {
				jk = LeftJoin
			}
			if len(j.Using) > 0 {
				return p.addUsingJoin(&items, j, jk)
			}
			if nested, ok := j.Right.(*ast.Join); ok {
				inner, err := p.flattenFrom([]ast.TableExpr{nested})
				if err != nil {
					return err
				}
				node, err := p.planRelation(inner, nil, true)
				if err != nil {
					return err
				}
				items = append(items, fromItem{leaf: &leaf{node: node, cols: node.Columns()}, kind: jk, on: j.On})
				return nil
			}
			return add(j.Right, jk, j.On)
		}
		l, err := p.planSource(te)
		if err != nil {
			return err
		}
		items = append(items, fromItem{leaf: l, kind: kind, on: on})
		return nil
	}
	for _, te := range from {
		if err := add(te, InnerJoin, nil); err != nil {
			return nil, err
		}
	}
	if len(items) > maxJoinSources {
		return nil, errcode.New(errcode.InvalidInput, "a query may join at most %d sources", maxJoinSources)
	}
	seen := map[string]bool{}
	for _, it := range items {
		if it.leaf.table == nil {
			continue
		}
		if a := it.leaf.table.alias; seen[a] {
			return nil, errcode.New(errcode.InvalidInput, "table name %q specified more than once", a)
		} else {
			seen[a] = true
		}
	}
	return items, nil
}

// planSource resolves a table name (or CTE) or plans a derived table.
func (p *Planner) planSource(te ast.TableExpr) (*leaf, error) {
	switch f := te.(type) {
	case *ast.TableName:
		if cte, ok := p.lookupCTE(f.Name); ok && f.ForceIndex == "" {
			alias := f.Alias
			if alias == "" {
				alias = f.Name
			}
			return p.derived(cte.query, alias, cte.env)
		}
		if f.ForceIndex == "" {
			if l, err := p.virtualLeaf(f); l != nil || err != nil {
				return l, err
			}
		}
		desc, err := p.Relation(f.Name)
		if err != nil {
			return nil, err
		}
		alias := f.Alias
		if alias == "" {
			alias = f.Name
		}
		if desc.View != "" {
			return p.viewLeaf(desc, alias)
		}
		if desc.Sequence != nil {
			return p.sequenceLeaf(desc, alias)
		}
		return &leaf{cols: tableColumns(desc, alias), table: &tableRef{desc: desc, alias: alias, forceIndex: f.ForceIndex}}, nil
	case *ast.DerivedTable:
		return p.derived(f.Subquery, f.Alias, nil)
	case *ast.FuncTable:
		return p.funcLeaf(f)
	}
	return nil, errcode.New(errcode.Unsupported, "unsupported FROM source %T", te)
}

func (p *Planner) derived(q *ast.Select, alias string, ctes *cteScope) (*leaf, error) {
	child := *p
	child.outer = nil // derived tables are not correlated (no LATERAL)
	if ctes != nil {
		child.ctes = ctes
	}
	inner, err := child.PlanQuery(q)
	if err != nil {
		return nil, err
	}
	d := &DerivedTable{Input: inner, Alias: alias}
	for _, c := range inner.Columns() {
		d.Cols = append(d.Cols, Column{Name: c.Name, Kind: c.Kind, Table: alias, NotNull: c.NotNull})
	}
	return &leaf{node: d, cols: d.Cols}, nil
}

// planLeaf plans a leaf with the conditions that read only its columns.
func (p *Planner) planLeaf(l *leaf, conj []ast.Expr) (Node, error) {
	sc := &scope{cols: l.cols}
	if l.table != nil {
		acc, err := p.chooseAccess(&source{cols: l.cols, table: l.table}, sc, conj, nil, false)
		if err != nil {
			return nil, err
		}
		if len(acc.residual) == 0 {
			return acc.scan, nil
		}
		return p.filter(acc.scan, sc, andAll(acc.residual), "WHERE")
	}
	if len(conj) == 0 {
		return l.node, nil
	}
	return p.filter(l.node, sc, andAll(conj), "WHERE")
}

// pendingConj is a WHERE conjunct waiting for the sources it reads.
type pendingConj struct {
	expr    ast.Expr
	mask    uint64
	applied bool
}

// planRelation joins the items left to right. Each WHERE conjunct is
// applied as early as possible: on a leaf's scan when it reads only that
// leaf (never below the NULL-extended side of a LEFT JOIN), as a join
// condition of the inner join that completes its inputs, or as a filter
// right after the LEFT JOIN that completes them.
//
// When every join is an inner join and the written order would build a
// cross product while another source could be joined through a
// condition, the sources are reordered greedily (joinOrder) and a project
// restores the written column order.
func (p *Planner) planRelation(items []fromItem, where []ast.Expr, reorder bool) (Node, error) {
	var all []Column
	leafOf := []int{}
	for i, it := range items {
		all = append(all, it.leaf.cols...)
		for range it.leaf.cols {
			leafOf = append(leafOf, i)
		}
	}
	allScope := &scope{cols: all}
	// The ON conditions of inner joins are WHERE conditions in disguise.
	for i, it := range items {
		if i > 0 && it.kind == InnerJoin {
			where = append(slices.Clip(where), conjuncts(it.on, nil)...)
			items[i].on = nil
		}
	}
	allMask := ^uint64(0) >> (maxJoinSources - len(items))
	pool := make([]*pendingConj, 0, len(where))
	for _, e := range where {
		m, err := exprLeaves(e, allScope, leafOf)
		if err != nil {
			return nil, err
		}
		pool = append(pool, &pendingConj{expr: e, mask: m & allMask})
	}
	if reorder && !p.Logical {
		if order := p.joinOrder(items, pool); order != nil {
			return p.planReordered(items, order, where)
		}
	}

	var node Node
	var cols []Column
	var done uint64
	for i, it := range items {
		bit := uint64(1) << i
		var leafConj, joinConj, postConj []ast.Expr
		for _, e := range conjuncts(it.on, nil) {
			m, err := exprLeaves(e, allScope, leafOf)
			if err != nil {
				return nil, err
			}
			if m&allMask&^bit == 0 && i > 0 {
				leafConj = append(leafConj, e)
			} else {
				joinConj = append(joinConj, e)
			}
		}
		for _, pc := range pool {
			if pc.applied || pc.mask&^(done|bit) != 0 {
				continue
			}
			pc.applied = true
			switch {
			case pc.mask&^bit == 0 && (it.kind != LeftJoin || i == 0):
				leafConj = append(leafConj, pc.expr)
			case it.kind == InnerJoin:
				joinConj = append(joinConj, pc.expr)
			default:
				postConj = append(postConj, pc.expr)
			}
		}
		if i == 0 {
			var err error
			if node, err = p.planLeaf(it.leaf, append(leafConj, joinConj...)); err != nil {
				return nil, err
			}
			cols = it.leaf.cols
			done = bit
			continue
		}
		var err error
		node, err = p.join(node, cols, done, it, leafConj, joinConj, allScope, leafOf)
		if err != nil {
			return nil, err
		}
		cols = node.Columns()
		done |= bit
		if len(postConj) > 0 {
			if node, err = p.filter(node, &scope{cols: cols}, andAll(postConj), "WHERE"); err != nil {
				return nil, err
			}
		}
	}
	for _, pc := range pool {
		if !pc.applied {
			return nil, errcode.New(errcode.Internal, "plan: condition %s was not placed", ast.FormatExpr(pc.expr))
		}
	}
	return node, nil
}

// exprLeaves returns the set of leaves e reads. References that resolve
// in no leaf (outer references of a correlated subquery) count for none;
// an expression with a subquery counts for all leaves, so it is applied
// once everything is joined.
func exprLeaves(e ast.Expr, all *scope, leafOf []int) (uint64, error) {
	var mask uint64
	var err error
	walkExpr(e, func(x ast.Expr) bool {
		switch n := x.(type) {
		case *ast.SubqueryExpr, *ast.ExistsExpr:
			mask = ^uint64(0)
		case *ast.InExpr:
			if n.Subquery != nil {
				mask = ^uint64(0)
			}
		case *ast.ColumnRef:
			idx, _, rerr := all.Resolve(n.Table, n.Column)
			if rerr == nil {
				mask |= uint64(1) << leafOf[idx]
			} else if errcode.Of(rerr) != errcode.UnknownColumn && err == nil {
				err = rerr
			}
		}
		return true
	})
	return mask, err
}

// equiPair is a join equality left = right with each side reading one input.
type equiPair struct {
	left, right         Expr
	leftExpr, rightExpr ast.Expr
	text                string
}

// join plans left ⋈ it.leaf.
func (p *Planner) join(left Node, leftCols []Column, done uint64, it fromItem, leafConj, joinConj []ast.Expr, all *scope, leafOf []int) (Node, error) {
	rightCols := it.leaf.cols
	if it.kind == LeftJoin {
		rightCols = nullable(rightCols)
	}
	cols := append(append([]Column(nil), leftCols...), rightCols...)
	combined := &scope{cols: cols}
	leftScope, rightScope := &scope{cols: leftCols}, &scope{cols: it.leaf.cols}
	var pairs []equiPair
	var residual []ast.Expr
	for _, e := range joinConj {
		if pair, ok := p.equiPair(e, done, all, leafOf, leftScope, rightScope); ok {
			pairs = append(pairs, pair)
			continue
		}
		residual = append(residual, e)
	}
	text := ast.FormatExpr(andAll(joinConj))
	if andAll(joinConj) == nil {
		text = ""
	}
	if p.Logical {
		residual, pairs = joinConj, nil
	}
	var pred Predicate
	if len(residual) > 0 {
		c := &compiler{p: p, scope: combined, what: "ON"}
		var err error
		if pred, err = c.compilePredicate(andAll(residual)); err != nil {
			return nil, err
		}
	}
	if len(pairs) > 0 && it.leaf.table != nil {
		ij, err := p.indexJoin(left, it, pairs, leafConj, residual, pred, cols, text)
		if err != nil || ij != nil {
			return ij, err
		}
	}
	right, err := p.planLeaf(it.leaf, leafConj)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return &NestedLoopJoin{Kind: it.kind, Left: left, Right: right, Pred: pred, Text: text, Cols: cols}, nil
	}
	hj := &HashJoin{Kind: it.kind, Left: left, Right: right, Pred: pred, Text: text, Cols: cols}
	for _, pr := range pairs {
		hj.LeftKeys = append(hj.LeftKeys, pr.left)
		hj.RightKeys = append(hj.RightKeys, pr.right)
	}
	return hj, nil
}

func nullable(cols []Column) []Column {
	out := append([]Column(nil), cols...)
	for i := range out {
		out[i].NotNull = false
	}
	return out
}

// equiPair recognises l = r where one side reads only the joined inputs
// and the other only the new leaf, with comparable kinds.
func (p *Planner) equiPair(e ast.Expr, done uint64, all *scope, leafOf []int, leftScope, rightScope *scope) (equiPair, bool) {
	b, ok := e.(*ast.BinaryExpr)
	if !ok || b.Op != "=" {
		return equiPair{}, false
	}
	lm, err1 := exprLeaves(b.L, all, leafOf)
	rm, err2 := exprLeaves(b.R, all, leafOf)
	if err1 != nil || err2 != nil || lm == 0 || rm == 0 || hasSubquery(b.L) || hasSubquery(b.R) {
		return equiPair{}, false
	}
	l, r := b.L, b.R
	switch {
	case lm&^done == 0 && rm&done == 0:
	case rm&^done == 0 && lm&done == 0:
		l, r = r, l
	default:
		return equiPair{}, false
	}
	lc := &compiler{p: p, scope: leftScope, what: "ON"}
	rc := &compiler{p: p, scope: rightScope, what: "ON"}
	lx, err := lc.compile(l)
	if err != nil {
		return equiPair{}, false
	}
	rx, err := rc.compile(r)
	if err != nil || !keyKindsMatch(lx.Kind, rx.Kind) {
		return equiPair{}, false
	}
	return equiPair{left: lx, right: rx, leftExpr: l, rightExpr: r, text: ast.FormatExpr(e)}, true
}

// keyKindsMatch reports whether hashing values of kinds a and b finds
// exactly the pairs = holds for (numeric kinds hash alike).
//
// NUMERIC values hash with their scale (1.5 and 1.50 differ), so NUMERIC
// equalities are evaluated pair by pair instead.
func keyKindsMatch(a, b types.Kind) bool {
	if a == b && a != types.Null && a != types.Numeric {
		return true
	}
	num := func(k types.Kind) bool { return k == types.Int64 || k == types.Float64 }
	return num(a) && num(b)
}

// indexJoin plans an index-nested-loop join when the equalities give a
// prefix of the primary key or of a public index of the leaf's table.
func (p *Planner) indexJoin(left Node, it fromItem, pairs []equiPair, leafConj, residual []ast.Expr, pred Predicate, cols []Column, text string) (Node, error) {
	ref := it.leaf.table
	t := ref.desc
	rightScope := &scope{cols: it.leaf.cols}
	indexes := []*catalog.IndexDesc{&t.PrimaryKey}
	for i := range t.Indexes {
		if t.Indexes[i].State == catalog.IndexPublic {
			indexes = append(indexes, &t.Indexes[i])
		}
	}
	if ref.forceIndex != "" {
		idx := t.FindIndex(ref.forceIndex)
		if idx == nil || (idx != &t.PrimaryKey && idx.State != catalog.IndexPublic) {
			return nil, errcode.New(errcode.UnknownIndex, "index %q does not exist on table %q", ref.forceIndex, t.Name)
		}
		indexes = []*catalog.IndexDesc{idx}
	}
	var best *catalog.IndexDesc
	var bestKeys []int // pair per index column
	bestLookup := false
	for _, idx := range indexes {
		var used []int
		for _, ord := range t.IndexOrdinals(idx) {
			found := -1
			for pi, pr := range pairs {
				if ord2, ok := columnOf(rightScope, pr.rightExpr); ok && ord2 == ord && keyKindsMatch(pr.left.Kind, t.Columns[ord].Kind) {
					found = pi
					break
				}
			}
			if found < 0 {
				break
			}
			used = append(used, found)
		}
		if len(used) == 0 {
			continue
		}
		lookup := idx.Unique && len(used) == len(idx.Columns)
		if best == nil || (lookup && !bestLookup) || (lookup == bestLookup && len(used) > len(bestKeys)) {
			best, bestKeys, bestLookup = idx, used, lookup
		}
	}
	if best == nil {
		return nil, nil
	}
	ij := &IndexJoin{Kind: it.kind, Left: left, Table: t, Index: best, Lookup: bestLookup, Text: text, Cols: cols}
	inKey := map[int]bool{}
	var keyTexts []string
	for _, pi := range bestKeys {
		ij.LeftKeys = append(ij.LeftKeys, pairs[pi].left)
		inKey[pi] = true
		keyTexts = append(keyTexts, pairs[pi].text)
	}
	var rest []ast.Expr
	for pi, pr := range pairs {
		if !inKey[pi] {
			rest = append(rest, &ast.BinaryExpr{Op: "=", L: pr.leftExpr, R: pr.rightExpr})
		}
	}
	if len(rest) > 0 {
		// Equalities beyond the index prefix are checked on the combined row.
		all := append(rest, residual...)
		c := &compiler{p: p, scope: &scope{cols: cols}, what: "ON"}
		var err error
		if pred, err = c.compilePredicate(andAll(all)); err != nil {
			return nil, err
		}
	}
	ij.Pred = pred
	kind := ScanRange
	if bestLookup {
		kind = ScanLookup
	}
	ij.Probe = &Scan{Kind: kind, Table: t, Alias: ref.alias, Index: best, Constraint: strings.Join(keyTexts, " AND "), Cols: it.leaf.cols}
	ij.Inner = ij.Probe
	if len(leafConj) > 0 {
		c := &compiler{p: p, scope: rightScope, what: "WHERE"}
		f, err := c.compilePredicate(andAll(leafConj))
		if err != nil {
			return nil, err
		}
		ij.RightFilter = f
		ij.Inner = &Filter{Input: ij.Probe, Pred: f, Text: ast.FormatExpr(andAll(leafConj))}
	}
	return ij, nil
}

// joinOrder returns a better order of items (indexes into items), or nil
// to keep the written one. It only reorders inner joins, and only when the
// written order would join a source without any condition (a cross
// product) while a condition could join another one: select5-style
// queries over many small tables then never multiply their intermediates.
//
// The order is greedy: start from the source with the fewest estimated
// rows; then repeatedly take, among the sources an equality condition
// joins to those placed, the one with the fewest estimated rows (else
// among those any condition joins, else among all: the cross product is
// unavoidable). Every condition is still applied at the first join that
// covers it.
func (p *Planner) joinOrder(items []fromItem, pool []*pendingConj) []int {
	if len(items) < 3 {
		return nil
	}
	for _, it := range items[1:] {
		if it.kind != InnerJoin {
			return nil
		}
	}
	// joins reports whether a condition joins item i to the sources in
	// done (eqOnly: an equality).
	joins := func(i int, done uint64, eqOnly bool) bool {
		bit := uint64(1) << i
		for _, pc := range pool {
			if pc.mask&bit == 0 || pc.mask&done == 0 || pc.mask&^(done|bit) != 0 {
				continue
			}
			if !eqOnly {
				return true
			}
			if b, ok := pc.expr.(*ast.BinaryExpr); ok && b.Op == "=" {
				return true
			}
		}
		return false
	}
	avoidable := false
	var done uint64 = 1
	for i := 1; i < len(items) && !avoidable; i++ {
		if !joins(i, done, false) {
			for j := i + 1; j < len(items); j++ {
				if joins(j, done, false) {
					avoidable = true
					break
				}
			}
		}
		done |= uint64(1) << i
	}
	if !avoidable {
		return nil
	}
	est := make([]float64, len(items))
	for i, it := range items {
		est[i] = p.leafEstimate(it.leaf, i, pool)
	}
	placed := make([]bool, len(items))
	pick := func(ok func(int) bool) int {
		best := -1
		for i := range items {
			if !placed[i] && ok(i) && (best < 0 || est[i] < est[best]) {
				best = i
			}
		}
		return best
	}
	order := make([]int, 0, len(items))
	done = 0
	for len(order) < len(items) {
		next := -1
		if len(order) > 0 {
			if next = pick(func(i int) bool { return joins(i, done, true) }); next < 0 {
				next = pick(func(i int) bool { return joins(i, done, false) })
			}
		}
		if next < 0 {
			next = pick(func(int) bool { return true })
		}
		placed[next] = true
		order = append(order, next)
		done |= uint64(1) << next
	}
	return order
}

// leafEstimate guesses the rows item i returns after its own conditions:
// the table's row count from statistics (1000 without), a tenth per
// equality and a third per other condition that reads only it.
func (p *Planner) leafEstimate(l *leaf, i int, pool []*pendingConj) float64 {
	rows := 1000.0
	if l.table != nil {
		if st, ok := p.tableStats(l.table.desc); ok {
			rows = float64(st.Rows)
		}
	} else if est := EstimatedRows(l.node); est.Known {
		rows = float64(est.Rows)
	}
	bit := uint64(1) << i
	for _, pc := range pool {
		if pc.mask != bit {
			continue
		}
		if b, ok := pc.expr.(*ast.BinaryExpr); ok && b.Op == "=" {
			rows *= 0.1
		} else {
			rows *= 0.33
		}
	}
	return max(rows, 1)
}

// planReordered plans items in order and projects the written column
// order back.
func (p *Planner) planReordered(items []fromItem, order []int, where []ast.Expr) (Node, error) {
	reordered := make([]fromItem, len(items))
	for pos, i := range order {
		reordered[pos] = items[i]
		reordered[pos].kind, reordered[pos].on = InnerJoin, nil
	}
	node, err := p.planRelation(reordered, where, false)
	if err != nil {
		return nil, err
	}
	// offset of each item's columns in the reordered output
	offset := make([]int, len(items))
	at := 0
	for _, i := range order {
		offset[i] = at
		at += len(items[i].leaf.cols)
	}
	out := node.Columns()
	proj := &Project{Input: node}
	for i, it := range items {
		for c := range it.leaf.cols {
			idx := offset[i] + c
			col := out[idx]
			proj.Exprs = append(proj.Exprs, Expr{
				Compiled: eval.Compiled{Kind: col.Kind, Eval: func(row []types.Value) (types.Value, error) { return row[idx], nil }},
				Text:     col.Table + "." + col.Name,
			})
			proj.Cols = append(proj.Cols, col)
		}
	}
	return proj, nil
}

// addUsingJoin adds the right side of JOIN ... USING (cols) to items: the
// condition is left.c = right.c for each column (left.c from the first
// source before it that has c), and the right side's copies are hidden
// from '*' and from unqualified names.
func (p *Planner) addUsingJoin(items *[]fromItem, j *ast.Join, kind JoinKind) error {
	if _, nested := j.Right.(*ast.Join); nested {
		return errcode.New(errcode.Unsupported, "JOIN ... USING with a parenthesized join on its right is not supported")
	}
	l, err := p.planSource(j.Right)
	if err != nil {
		return err
	}
	cols := append([]Column(nil), l.cols...)
	var on ast.Expr
	for _, name := range j.Using {
		leftTable := ""
		for _, it := range *items {
			for _, c := range it.leaf.cols {
				if c.Name == name && !c.UsingDup && leftTable == "" {
					leftTable = c.Table
				}
			}
		}
		right := -1
		for i, c := range cols {
			if c.Name == name {
				right = i
			}
		}
		if leftTable == "" || right < 0 {
			return errcode.New(errcode.UnknownColumn, "column %q specified in USING clause does not exist on both sides", name)
		}
		cols[right].UsingDup, cols[right].Hidden = true, true
		eq := &ast.BinaryExpr{At: j.At, Op: "=", L: &ast.ColumnRef{At: j.At, Table: leftTable, Column: name},
			R: &ast.ColumnRef{At: j.At, Table: cols[right].Table, Column: name}}
		if on == nil {
			on = eq
		} else {
			on = &ast.BinaryExpr{At: j.At, Op: "AND", L: on, R: eq}
		}
	}
	l.cols = cols
	*items = append(*items, fromItem{leaf: l, kind: kind, on: on})
	return nil
}
