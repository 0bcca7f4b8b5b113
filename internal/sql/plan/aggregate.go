package plan

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// aggState collects the group keys and aggregates of an aggregating query
// block. Expressions above the aggregate (select list, HAVING, ORDER BY)
// compile through hook: aggregate calls and grouped expressions become
// reads of the aggregate's output row; other column references are
// CADB0400 (not grouped).
type aggState struct {
	input     *scope
	groupBy   []Expr
	groupText []string
	// groupCol is the input column of a group key that is a plain column
	// reference, -1 otherwise.
	groupCol []int
	aggs     []AggregateSpec
	aggIndex map[string]int
	p        *Planner
}

func newAggState(p *Planner, input *scope, groupBy []ast.Expr, items []selectItem) (*aggState, error) {
	a := &aggState{input: input, aggIndex: map[string]int{}, p: p}
	c := &compiler{p: p, scope: input, what: "GROUP BY"}
	for _, g := range groupBy {
		// GROUP BY 2 and GROUP BY alias name select list entries; an input
		// column of the same name wins over an alias (as in PostgreSQL).
		if lit, ok := g.(*ast.Literal); ok && lit.Value.Kind == types.Int64 {
			pos := lit.Value.Int
			if pos < 1 || pos > int64(len(items)) {
				return nil, errcode.New(errcode.InvalidInput, "GROUP BY position %d is not in the select list", pos)
			}
			g = items[pos-1].expr
		} else if ref, ok := g.(*ast.ColumnRef); ok && ref.Table == "" {
			if _, _, err := input.Resolve("", ref.Column); err != nil {
				for _, it := range items {
					if it.name == ref.Column {
						g = it.expr
						break
					}
				}
			}
		}
		if containsAggregate(g) {
			return nil, errcode.New(errcode.InvalidInput, "aggregate functions are not allowed in GROUP BY")
		}
		x, err := c.compile(g)
		if err != nil {
			return nil, err
		}
		col := -1
		if ref, ok := g.(*ast.ColumnRef); ok {
			col, _, _ = input.Resolve(ref.Table, ref.Column)
		}
		a.groupBy = append(a.groupBy, x)
		a.groupText = append(a.groupText, x.Text)
		a.groupCol = append(a.groupCol, col)
	}
	return a, nil
}

// node builds the Aggregate node once every aggregate has been registered.
func (a *aggState) node(input Node) *Aggregate {
	cols := make([]Column, 0, len(a.groupBy)+len(a.aggs))
	for i, g := range a.groupBy {
		c := Column{Name: g.Text, Kind: g.Kind}
		if a.groupCol[i] >= 0 {
			c = a.input.cols[a.groupCol[i]]
		}
		cols = append(cols, c)
	}
	for _, s := range a.aggs {
		cols = append(cols, Column{Name: s.Text, Kind: eval.AggregateKind(s.Name, s.Arg.Kind)})
	}
	return &Aggregate{Input: input, GroupBy: a.groupBy, Aggs: a.aggs, Cols: cols}
}

func columnRead(slot int, kind types.Kind) eval.Compiled {
	return eval.Compiled{
		Eval: func(row []types.Value) (types.Value, error) { return row[slot], nil },
		Kind: kind,
	}
}

func (a *aggState) hook(c *compiler, e ast.Expr) (eval.Compiled, bool, error) {
	if fc, ok := isAggregateCall(e); ok {
		return a.aggregate(fc)
	}
	switch e.(type) {
	case *ast.Literal, *ast.Param:
		return eval.Compiled{}, false, nil
	}
	text := ast.FormatExpr(e)
	for i, g := range a.groupText {
		if g == text {
			return columnRead(i, a.groupBy[i].Kind), true, nil
		}
	}
	ref, ok := e.(*ast.ColumnRef)
	if !ok {
		return eval.Compiled{}, false, nil
	}
	col, _, err := a.input.Resolve(ref.Table, ref.Column)
	if err == nil {
		for i, g := range a.groupCol {
			if g == col {
				return columnRead(i, a.groupBy[i].Kind), true, nil
			}
		}
	}
	// HAVING and ORDER BY may name a select list alias.
	if ref.Table == "" && !c.inAlias[ref.Column] {
		for _, it := range c.items {
			if it.name != ref.Column || sameColumn(it.expr, ref) {
				continue
			}
			if c.inAlias == nil {
				c.inAlias = map[string]bool{}
			}
			c.inAlias[ref.Column] = true
			x, err := eval.Compile(it.expr, c.scope, c.p.Env, c.hook)
			delete(c.inAlias, ref.Column)
			return x, true, err
		}
	}
	if err != nil {
		return eval.Compiled{}, true, err
	}
	return eval.Compiled{}, true, errcode.New(errcode.InvalidInput,
		"column %q must appear in the GROUP BY clause or be used in an aggregate function", qualified(ref.Table, ref.Column))
}

// aggregate registers (once per distinct text) an aggregate call and
// returns a read of its result slot.
func (a *aggState) aggregate(fc *ast.FuncCall) (eval.Compiled, bool, error) {
	text := ast.FormatExpr(fc)
	slot, ok := a.aggIndex[text]
	if !ok {
		spec := AggregateSpec{Name: fc.Name, Distinct: fc.Distinct, Star: fc.Star, Text: text, ArgColumn: -1}
		if !fc.Star && fc.Name == "string_agg" && len(fc.Args) == 2 {
			// string_agg(x, sep): sep is a constant of the whole group.
			sep, err := a.p.constValue(fc.Args[1], "string_agg's separator")
			if err != nil {
				return eval.Compiled{}, true, err
			}
			if sep.Kind != types.String && sep.Kind != types.Null {
				return eval.Compiled{}, true, errcode.New(errcode.InvalidInput, "string_agg's separator must be STRING, not %s", sep.Kind)
			}
			spec.Sep = sep.Str
			fc = &ast.FuncCall{At: fc.At, Name: fc.Name, Args: fc.Args[:1], Distinct: fc.Distinct}
		}
		if !fc.Star {
			if len(fc.Args) != 1 {
				return eval.Compiled{}, true, errcode.New(errcode.InvalidInput, "%s takes exactly one argument", fc.Name)
			}
			if containsAggregate(fc.Args[0]) {
				return eval.Compiled{}, true, errcode.New(errcode.InvalidInput, "aggregate function calls cannot be nested")
			}
			inner := &compiler{p: a.p, scope: a.input, what: "an aggregate argument"}
			arg, err := inner.compile(fc.Args[0])
			if err != nil {
				return eval.Compiled{}, true, err
			}
			spec.Arg = arg
			if ref, ok := fc.Args[0].(*ast.ColumnRef); ok {
				if col, _, err := a.input.Resolve(ref.Table, ref.Column); err == nil {
					spec.ArgColumn = col
				}
			}
		}
		// Reject SUM('x') and friends at plan time.
		if _, err := eval.NewAggregator(spec.Name, spec.Distinct, spec.Star, spec.Arg.Kind); err != nil {
			return eval.Compiled{}, true, err
		}
		slot = len(a.aggs)
		a.aggs = append(a.aggs, spec)
		a.aggIndex[text] = slot
	}
	spec := a.aggs[slot]
	return columnRead(len(a.groupBy)+slot, eval.AggregateKind(spec.Name, spec.Arg.Kind)), true, nil
}
