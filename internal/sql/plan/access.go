package plan

import (
	"bytes"
	"slices"
	"strings"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/rowenc"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Access path selection (rules, corrected by statistics when present):
//
//  1. equality (or IN) on every primary key column → index-lookup on ~pk;
//  2. equality (or IN) on every column of a unique index → index-lookup;
//  3. otherwise the index (primary key included) with the longest prefix of
//     equality/IN columns, plus a range (<, <=, >, >=, BETWEEN) on the next
//     column → index-range-scan;
//  4. otherwise a full scan in primary key order (table-scan), or, when a
//     LIMIT is present and a secondary index gives the ORDER BY order, a
//     full scan of that index (also for a streaming DISTINCT);
//  5. with statistics, a secondary-index range (3) expected to return more
//     than wideRangeFraction of the table becomes a full scan.
//
// @{FORCE_INDEX=name} restricts the choice to that index. The conjuncts
// the chosen path encodes exactly are dropped from the residual filter;
// the others stay. IN lists expand into at most maxProbes keys/spans.

const maxProbes = 1000

// minRowsForStats: below this many rows any path is cheap and the index
// rules alone decide (keeps plans of tiny tables stable).
const minRowsForStats = 16

// orderColumn is an ORDER BY key that is a plain column of the table.
type orderColumn struct {
	ord        int // -1: not a plain column, cannot be satisfied by an index
	desc       bool
	nullsFirst bool
}

func orderColumns(exprs []ast.Expr, order []ast.OrderItem, sc *scope) []orderColumn {
	out := make([]orderColumn, 0, len(exprs))
	for i, e := range exprs {
		ref, ok := e.(*ast.ColumnRef)
		if !ok {
			return []orderColumn{{ord: -1}}
		}
		ord, _, err := sc.Resolve(ref.Table, ref.Column)
		if err != nil {
			return []orderColumn{{ord: -1}}
		}
		out = append(out, orderColumn{ord: ord, desc: order[i].Desc, nullsFirst: nullsFirst(order[i])})
	}
	return out
}

// constraint is a condition col op constant(s) extracted from a conjunct.
type constraint struct {
	conj int
	col  int
	op   string // = < <= > >= in
	vals []types.Value
}

type bound struct {
	v         types.Value
	inclusive bool
}

type candidate struct {
	idx     *catalog.IndexDesc
	primary bool
	eqVals  [][]types.Value
	lo, hi  *bound
	hasRng  bool
	used    []int // constraint indexes encoded by the path
	lookup  bool
	probes  int
}

type access struct {
	scan           *Scan
	residual       []ast.Expr
	orderSatisfied bool
}

func (p *Planner) chooseAccess(src *source, sc *scope, conj []ast.Expr, want []orderColumn, hasLimit bool) (*access, error) {
	t := src.table.desc
	if p.Logical {
		// No physical choices: the whole table, every condition a filter.
		if f := src.table.forceIndex; f != "" && t.FindIndex(f) == nil {
			return nil, errcode.New(errcode.UnknownIndex, "index %q does not exist on table %q", f, t.Name)
		}
		prefix := t.RowPrefix()
		scan := &Scan{Kind: ScanFull, Table: t, Alias: src.table.alias, Index: &t.PrimaryKey, Cols: src.cols,
			Spans: []Span{{Start: prefix, End: kvpb.PrefixEnd(prefix)}}}
		return &access{scan: scan, residual: conj, orderSatisfied: len(want) == 0}, nil
	}
	cons, perConj := p.extractConstraints(sc, t, conj)

	indexes := []*catalog.IndexDesc{&t.PrimaryKey}
	for i := range t.Indexes {
		if t.Indexes[i].State == catalog.IndexPublic {
			indexes = append(indexes, &t.Indexes[i])
		}
	}
	forced := false
	if f := src.table.forceIndex; f != "" {
		idx := t.FindIndex(f)
		if idx == nil || (idx != &t.PrimaryKey && idx.State != catalog.IndexPublic) {
			return nil, errcode.New(errcode.UnknownIndex, "index %q does not exist on table %q", f, t.Name)
		}
		indexes, forced = []*catalog.IndexDesc{idx}, true
	}

	var best *candidate
	for _, idx := range indexes {
		c := buildCandidate(t, idx, idx == &t.PrimaryKey, cons)
		if better(c, best) {
			best = c
		}
	}
	useful := best != nil && (len(best.eqVals) > 0 || best.hasRng)
	if !useful && !forced {
		best = &candidate{idx: &t.PrimaryKey, primary: true}
		if _, ok := orderMatch(t, best, want); !ok && hasLimit {
			for _, idx := range indexes[1:] {
				c := &candidate{idx: idx}
				if _, ok := orderMatch(t, c, want); ok {
					best = c
					break
				}
			}
		}
	}

	// Statistics: a secondary index range returning much of the table
	// costs a row read per entry; scan the table instead.
	st, hasStats := p.tableStats(t)
	if hasStats && useful && !forced && !best.primary && !best.lookup && st.Rows >= minRowsForStats &&
		float64(estimateCandidate(t, st, best)) > wideRangeFraction*float64(st.Rows) {
		best = &candidate{idx: &t.PrimaryKey, primary: true}
	}

	scan := &Scan{Table: t, Alias: src.table.alias, Index: best.idx, Cols: src.cols}
	if hasStats {
		scan.Est = Estimate{Rows: estimateCandidate(t, st, best), Known: true}
	}
	// Conjuncts fully encoded by the path leave the residual filter.
	usedPerConj := map[int]int{}
	for _, ci := range best.used {
		usedPerConj[cons[ci].conj]++
	}
	var residual, encoded []ast.Expr
	for i, e := range conj {
		if n := usedPerConj[i]; n > 0 && n == perConj[i] {
			encoded = append(encoded, e)
		} else {
			residual = append(residual, e)
		}
	}
	texts := make([]string, len(encoded))
	for i, e := range encoded {
		texts[i] = ast.FormatExpr(e)
	}
	scan.Constraint = strings.Join(texts, " AND ")

	prefix := t.IndexPrefix(best.idx)
	if best.primary {
		prefix = t.RowPrefix()
	}
	prefixes := [][]byte{prefix}
	for j, vals := range best.eqVals {
		desc := best.idx.Columns[j].Desc
		next := make([][]byte, 0, len(prefixes)*len(vals))
		for _, pfx := range prefixes {
			for _, v := range vals {
				next = append(next, rowenc.AppendKey(slices.Clip(pfx), v, desc))
			}
		}
		prefixes = next
	}
	slices.SortFunc(prefixes, bytes.Compare)
	prefixes = slices.CompactFunc(prefixes, bytes.Equal)
	switch {
	case best.lookup:
		scan.Kind, scan.Keys = ScanLookup, prefixes
	case len(best.eqVals) == 0 && !best.hasRng && best.primary:
		scan.Kind = ScanFull
		scan.Spans = []Span{{Start: prefix, End: kvpb.PrefixEnd(prefix)}}
	default:
		scan.Kind = ScanRange
		for _, pfx := range prefixes {
			var s Span
			if best.hasRng {
				s = rangeSpan(pfx, best.idx.Columns[len(best.eqVals)].Desc, best.lo, best.hi)
			} else {
				s = Span{Start: pfx, End: kvpb.PrefixEnd(pfx)}
			}
			if bytes.Compare(s.Start, s.End) < 0 {
				scan.Spans = append(scan.Spans, s)
			}
		}
	}
	reverse, ok := orderMatch(t, best, want)
	scan.Reverse = ok && reverse
	return &access{scan: scan, residual: residual, orderSatisfied: ok}, nil
}

// better reports whether c is a better access path than best.
func better(c, best *candidate) bool {
	if best == nil {
		return true
	}
	if c.lookup != best.lookup {
		return c.lookup
	}
	if c.lookup {
		if c.primary != best.primary {
			return c.primary
		}
		return c.probes < best.probes
	}
	cs, bs := 2*len(c.eqVals), 2*len(best.eqVals)
	if c.hasRng {
		cs++
	}
	if best.hasRng {
		bs++
	}
	return cs > bs
}

func buildCandidate(t *catalog.TableDesc, idx *catalog.IndexDesc, primary bool, cons []constraint) *candidate {
	c := &candidate{idx: idx, primary: primary, probes: 1}
	ords := t.IndexOrdinals(idx)
	j := 0
	for ; j < len(ords); j++ {
		found := -1
		for ci, k := range cons {
			if k.col == ords[j] && k.op == "=" {
				found = ci
				break
			}
		}
		if found < 0 {
			for ci, k := range cons {
				if k.col == ords[j] && k.op == "in" {
					found = ci
					break
				}
			}
		}
		if found < 0 || c.probes*max(1, len(cons[found].vals)) > maxProbes {
			break
		}
		c.probes *= max(1, len(cons[found].vals))
		c.eqVals = append(c.eqVals, cons[found].vals)
		c.used = append(c.used, found)
	}
	if j == len(ords) {
		c.lookup = idx.Unique
		return c
	}
	for ci, k := range cons {
		if k.col != ords[j] {
			continue
		}
		v := k.vals[0]
		switch k.op {
		case ">", ">=":
			b := &bound{v: v, inclusive: k.op == ">="}
			if c.lo == nil || tighterLow(b, c.lo) {
				c.lo = b
			}
		case "<", "<=":
			b := &bound{v: v, inclusive: k.op == "<="}
			if c.hi == nil || tighterHigh(b, c.hi) {
				c.hi = b
			}
		default:
			continue
		}
		c.hasRng = true
		c.used = append(c.used, ci)
	}
	return c
}

func tighterLow(a, b *bound) bool {
	cmp, _ := types.Compare(a.v, b.v)
	return cmp > 0 || (cmp == 0 && !a.inclusive)
}

func tighterHigh(a, b *bound) bool {
	cmp, _ := types.Compare(a.v, b.v)
	return cmp < 0 || (cmp == 0 && !a.inclusive)
}

// rangeSpan is the key span of the entries under prefix whose next column
// lies between lo and hi (nil: unbounded), NULLs excluded.
func rangeSpan(prefix []byte, desc bool, lo, hi *bound) Span {
	enc := func(v types.Value) []byte { return rowenc.AppendKey(slices.Clip(prefix), v, desc) }
	nullKey := enc(types.NullValue)
	var s Span
	if !desc {
		switch {
		case lo == nil:
			s.Start = kvpb.PrefixEnd(nullKey)
		case lo.inclusive:
			s.Start = enc(lo.v)
		default:
			s.Start = kvpb.PrefixEnd(enc(lo.v))
		}
		switch {
		case hi == nil:
			s.End = kvpb.PrefixEnd(prefix)
		case hi.inclusive:
			s.End = kvpb.PrefixEnd(enc(hi.v))
		default:
			s.End = enc(hi.v)
		}
		return s
	}
	switch {
	case hi == nil:
		s.Start = prefix
	case hi.inclusive:
		s.Start = enc(hi.v)
	default:
		s.Start = kvpb.PrefixEnd(enc(hi.v))
	}
	switch {
	case lo == nil:
		s.End = nullKey
	case lo.inclusive:
		s.End = kvpb.PrefixEnd(enc(lo.v))
	default:
		s.End = enc(lo.v)
	}
	return s
}

// orderMatch reports whether reading c's index (forward or, reverse=true,
// backward) yields rows in the order want asks for.
func orderMatch(t *catalog.TableDesc, c *candidate, want []orderColumn) (reverse, ok bool) {
	if len(want) == 0 {
		return false, true
	}
	if c.lookup && c.probes == 1 {
		return false, true // at most one row
	}
	type keyCol struct {
		ord  int
		desc bool
	}
	var keyCols []keyCol
	inKey := map[int]bool{}
	for i, ord := range t.IndexOrdinals(c.idx) {
		keyCols = append(keyCols, keyCol{ord, c.idx.Columns[i].Desc})
		inKey[ord] = true
	}
	if !c.primary {
		for i, ord := range t.IndexOrdinals(&t.PrimaryKey) {
			if !inKey[ord] {
				keyCols = append(keyCols, keyCol{ord, t.PrimaryKey.Columns[i].Desc})
			}
		}
	}
	single := map[int]bool{}
	for j, vals := range c.eqVals {
		if len(vals) == 1 {
			single[keyCols[j].ord] = true
		}
	}
	j, dirSet := 0, false
	for _, oc := range want {
		if oc.ord < 0 {
			return false, false
		}
		for j < len(keyCols) && single[keyCols[j].ord] && keyCols[j].ord != oc.ord {
			j++
		}
		if j == len(keyCols) || keyCols[j].ord != oc.ord {
			if single[oc.ord] {
				continue
			}
			return false, false
		}
		if oc.nullsFirst == oc.desc {
			return false, false // explicit non-default NULL placement
		}
		rev := oc.desc != keyCols[j].desc
		if dirSet && rev != reverse {
			return false, false
		}
		reverse, dirSet = rev, true
		j++
	}
	return reverse, true
}

// extractConstraints finds the conjuncts of the form column op constant
// that index spans can encode; perConj counts the constraints drawn from
// each conjunct.
func (p *Planner) extractConstraints(sc *scope, t *catalog.TableDesc, conj []ast.Expr) ([]constraint, map[int]int) {
	var out []constraint
	perConj := map[int]int{}
	add := func(i, col int, op string, vals ...types.Value) {
		out = append(out, constraint{conj: i, col: col, op: op, vals: vals})
		perConj[i]++
	}
	for i, e := range conj {
		switch n := e.(type) {
		case *ast.BinaryExpr:
			op := n.Op
			switch op {
			case "=", "<", "<=", ">", ">=":
			default:
				continue
			}
			if col, ok := columnOf(sc, n.L); ok {
				if v, ok := p.constFor(sc, n.R, t.Columns[col].Type()); ok {
					add(i, col, op, v)
				}
			} else if col, ok := columnOf(sc, n.R); ok {
				if v, ok := p.constFor(sc, n.L, t.Columns[col].Type()); ok {
					add(i, col, flipOp(op), v)
				}
			}
		case *ast.BetweenExpr:
			if n.Not {
				continue
			}
			if col, ok := columnOf(sc, n.X); ok {
				lo, ok1 := p.constFor(sc, n.Lo, t.Columns[col].Type())
				hi, ok2 := p.constFor(sc, n.Hi, t.Columns[col].Type())
				if ok1 && ok2 {
					add(i, col, ">=", lo)
					add(i, col, "<=", hi)
				}
			}
		case *ast.InExpr:
			if n.Not || n.Subquery != nil {
				continue
			}
			col, ok := columnOf(sc, n.X)
			if !ok {
				continue
			}
			var vals []types.Value
			all := true
			for _, x := range n.List {
				v, ok := p.constFor(sc, x, t.Columns[col].Type())
				if !ok {
					if lit, isLit := x.(*ast.Literal); isLit && lit.Value.IsNull() {
						continue // x IN (.., NULL) never matches through the NULL
					}
					all = false
					break
				}
				vals = append(vals, v)
			}
			if all && len(vals) > 0 {
				add(i, col, "in", vals...)
			}
		}
	}
	return out, perConj
}

func flipOp(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

func columnOf(sc *scope, e ast.Expr) (int, bool) {
	ref, ok := e.(*ast.ColumnRef)
	if !ok {
		return 0, false
	}
	ord, _, err := sc.Resolve(ref.Table, ref.Column)
	return ord, err == nil
}

// constFor evaluates e when it reads no column and converts it to kind
// without changing its value; ok=false otherwise (the residual filter then
// evaluates, and reports errors of, the condition).
//
// A NUMERIC constant is used only for a NUMERIC(p,s) column and only when
// it is exact at scale s: keys keep a value's scale, and every value of
// such a column has scale s (an unconstrained NUMERIC column is filtered
// row by row).
func (p *Planner) constFor(sc *scope, e ast.Expr, typ types.T) (types.Value, bool) {
	kind := typ.Kind
	c := &compiler{p: p, scope: sc, what: "WHERE"}
	x, err := c.compile(e)
	if err != nil || !x.Const {
		return types.Value{}, false
	}
	v, err := x.Eval(nil)
	if err != nil {
		return types.Value{}, false
	}
	if kind == types.Numeric {
		return numericConst(v, typ)
	}
	switch {
	case v.Kind == kind:
		return v, true
	case v.Kind == types.Int64 && kind == types.Float64:
		f := float64(v.Int)
		if int64(f) != v.Int {
			return types.Value{}, false
		}
		return types.NewFloat(f), true
	case v.Kind == types.String && types.TextInput(kind):
		if c, err := types.ParseText(kind, v.Str); err == nil {
			return c, true
		}
	}
	return types.Value{}, false
}

// numericConst converts a constant to the scale of a NUMERIC(p,s) column
// when that changes nothing but the scale.
func numericConst(v types.Value, typ types.T) (types.Value, bool) {
	if typ.Precision == 0 {
		return types.Value{}, false
	}
	switch v.Kind {
	case types.Int64:
		v = types.NumericFromInt(v.Int)
	case types.String:
		n, err := types.ParseNumeric(v.Str)
		if err != nil {
			return types.Value{}, false
		}
		v = n
	case types.Numeric:
	default:
		return types.Value{}, false
	}
	c, err := typ.Conform(v, false)
	if err != nil {
		return types.Value{}, false
	}
	if !types.NumericEqual(c, v) {
		return types.Value{}, false
	}
	return c, true
}
