package eval

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

func (c *compiler) compileArgs(args []ast.Expr) ([]node, error) {
	out := make([]node, len(args))
	for i, a := range args {
		n, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func allConst(ns []node) (konst, foldable bool) {
	konst, foldable = true, true
	for _, n := range ns {
		konst = konst && n.konst
		foldable = foldable && n.foldable
	}
	return konst, foldable
}

func (c *compiler) compileFunc(e *ast.FuncCall) (node, error) {
	name := e.Name
	if IsAggregate(name) {
		return node{}, invalid("aggregate function %s() is not allowed here", name)
	}
	if e.Star {
		return node{}, invalid("%s(*) is not a valid call", name)
	}
	if e.Distinct {
		return node{}, invalid("DISTINCT is only allowed in aggregate functions, not %s()", name)
	}
	switch lowerASCII(name) {
	case "coalesce":
		return c.compileCoalesce("coalesce", e.Args, 1, -1)
	case "ifnull":
		return c.compileCoalesce("ifnull", e.Args, 2, 2)
	case "nullif":
		return c.compileNullIf(e.Args)
	}
	f, ok := builtins.Lookup(name)
	if !ok {
		return node{}, invalid("unknown function %s()", name)
	}
	args, err := c.compileArgs(e.Args)
	if err != nil {
		return node{}, err
	}
	kinds := make([]types.Kind, len(args))
	for i, a := range args {
		kinds[i] = a.kind
	}
	kind, err := f.Check(kinds)
	if err != nil {
		return node{}, err
	}
	konst, foldable := allConst(args)
	if f.Volatile && !f.StatementStable {
		konst, foldable = false, false
	}
	fnCtx := c.fnCtx
	if len(args) == 0 {
		return node{kind: kind, konst: konst, foldable: foldable,
			fn: func([]types.Value) (types.Value, error) { return f.Call(fnCtx, nil) }}, nil
	}
	fns := make([]evalFn, len(args))
	for i, a := range args {
		fns[i] = a.fn
	}
	buf := &argBuffer{buf: make([]types.Value, len(args))}
	fn := func(row []types.Value) (types.Value, error) {
		vals, pooled := buf.get()
		for i, af := range fns {
			v, err := af(row)
			if err != nil {
				if pooled {
					buf.put(vals)
				}
				return v, err
			}
			vals[i] = v
		}
		res, err := f.Call(fnCtx, vals)
		if pooled {
			buf.put(vals)
		}
		return res, err
	}
	return node{fn: fn, kind: kind, konst: konst, foldable: foldable}, nil
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// unifyKinds is the result kind of CASE/COALESCE branches: unknown (Null)
// kinds are ignored, INT64 mixed with FLOAT64 gives FLOAT64, other mixes
// are CADB0400.
func unifyKinds(what string, kinds []types.Kind) (types.Kind, error) {
	out := types.Null
	for _, k := range kinds {
		switch {
		case k == types.Null || k == out:
		case out == types.Null:
			out = k
		case isNumeric(out) && isNumeric(k):
			out = types.Float64
		default:
			return types.Null, invalid("%s branches have incompatible types %s and %s", what, out, k)
		}
	}
	return out, nil
}

// coerce makes n produce values of kind to (only INT64 → FLOAT64 is ever
// needed after unifyKinds).
func coerce(n node, to types.Kind) evalFn {
	if to != types.Float64 || n.kind == types.Float64 {
		return n.fn
	}
	f := n.fn
	return func(row []types.Value) (types.Value, error) {
		v, err := f(row)
		if err == nil && v.Kind == types.Int64 {
			return types.NewFloat(float64(v.Int)), nil
		}
		return v, err
	}
}

func (c *compiler) compileCoalesce(name string, argExprs []ast.Expr, minArgs, maxArgs int) (node, error) {
	if len(argExprs) < minArgs || (maxArgs >= 0 && len(argExprs) > maxArgs) {
		return node{}, invalid("%s() takes %d argument(s), got %d", name, minArgs, len(argExprs))
	}
	args, err := c.compileArgs(argExprs)
	if err != nil {
		return node{}, err
	}
	kinds := make([]types.Kind, len(args))
	for i, a := range args {
		kinds[i] = a.kind
	}
	kind, err := unifyKinds(name+"()", kinds)
	if err != nil {
		return node{}, err
	}
	fns := make([]evalFn, len(args))
	for i, a := range args {
		fns[i] = coerce(a, kind)
	}
	konst, foldable := allConst(args)
	fn := func(row []types.Value) (types.Value, error) {
		for _, f := range fns {
			v, err := f(row)
			if err != nil || v.Kind != types.Null {
				return v, err
			}
		}
		return types.NullValue, nil
	}
	return node{fn: fn, kind: kind, konst: konst, foldable: foldable}, nil
}

func (c *compiler) compileNullIf(argExprs []ast.Expr) (node, error) {
	if len(argExprs) != 2 {
		return node{}, invalid("nullif() takes 2 argument(s), got %d", len(argExprs))
	}
	args, err := c.compileArgs(argExprs)
	if err != nil {
		return node{}, err
	}
	a, b := args[0], args[1]
	if !comparableKinds(a.kind, b.kind) {
		return node{}, invalid("nullif(): cannot compare %s with %s", a.kind, b.kind)
	}
	af, bf := a.fn, b.fn
	fn := func(row []types.Value) (types.Value, error) {
		x, err := af(row)
		if err != nil {
			return x, err
		}
		y, err := bf(row)
		if err != nil {
			return y, err
		}
		if x.Kind == types.Null || y.Kind == types.Null {
			return x, nil
		}
		cmp, err := compareValues(x, y)
		if err != nil {
			return types.Value{}, err
		}
		if cmp == 0 {
			return types.NullValue, nil
		}
		return x, nil
	}
	konst, foldable := allConst(args)
	return node{fn: fn, kind: a.kind, konst: konst, foldable: foldable}, nil
}

func (c *compiler) compileCase(e *ast.CaseExpr) (node, error) {
	if len(e.Whens) == 0 {
		return node{}, invalid("CASE needs at least one WHEN")
	}
	var operand node
	all := make([]node, 0, 2*len(e.Whens)+2)
	if e.Operand != nil {
		var err error
		if operand, err = c.compile(e.Operand); err != nil {
			return node{}, err
		}
		all = append(all, operand)
	}
	conds := make([]node, len(e.Whens))
	results := make([]node, len(e.Whens), len(e.Whens)+1)
	for i, w := range e.Whens {
		cond, err := c.compile(w.Cond)
		if err != nil {
			return node{}, err
		}
		if e.Operand != nil {
			if !comparableKinds(operand.kind, cond.kind) {
				return node{}, invalid("CASE cannot compare %s with %s", operand.kind, cond.kind)
			}
		} else if err := wantBool("CASE WHEN", cond.kind); err != nil {
			return node{}, err
		}
		res, err := c.compile(w.Result)
		if err != nil {
			return node{}, err
		}
		conds[i], results[i] = cond, res
		all = append(all, cond, res)
	}
	if e.Else != nil {
		els, err := c.compile(e.Else)
		if err != nil {
			return node{}, err
		}
		results = append(results, els)
		all = append(all, els)
	}
	kinds := make([]types.Kind, len(results))
	for i, r := range results {
		kinds[i] = r.kind
	}
	kind, err := unifyKinds("CASE", kinds)
	if err != nil {
		return node{}, err
	}
	condFns := make([]evalFn, len(conds))
	for i, cn := range conds {
		condFns[i] = cn.fn
	}
	resFns := make([]evalFn, len(results))
	for i, r := range results {
		resFns[i] = coerce(r, kind)
	}
	var elseFn evalFn
	if e.Else != nil {
		elseFn = resFns[len(resFns)-1]
	}
	konst, foldable := allConst(all)
	out := node{kind: kind, konst: konst, foldable: foldable}
	if e.Operand == nil {
		out.fn = func(row []types.Value) (types.Value, error) {
			for i, cf := range condFns {
				v, err := cf(row)
				if err != nil {
					return v, err
				}
				switch v.Kind {
				case types.Bool:
					if v.Bool {
						return resFns[i](row)
					}
				case types.Null:
				default:
					return types.Value{}, invalid("CASE WHEN needs a BOOL condition, not %s", v.Kind)
				}
			}
			if elseFn != nil {
				return elseFn(row)
			}
			return types.NullValue, nil
		}
		return out, nil
	}
	opFn := operand.fn
	out.fn = func(row []types.Value) (types.Value, error) {
		x, err := opFn(row)
		if err != nil {
			return x, err
		}
		if x.Kind != types.Null {
			for i, cf := range condFns {
				w, err := cf(row)
				if err != nil {
					return w, err
				}
				if w.Kind == types.Null {
					continue
				}
				cmp, err := compareValues(x, w)
				if err != nil {
					return types.Value{}, err
				}
				if cmp == 0 {
					return resFns[i](row)
				}
			}
		}
		if elseFn != nil {
			return elseFn(row)
		}
		return types.NullValue, nil
	}
	return out, nil
}

// inSet answers IN for a list of constants without a linear scan when all
// non-NULL items share the probe's kind.
type inSet struct {
	ints    map[int64]struct{}
	strs    map[string]struct{}
	kind    types.Kind // kind of the map entries; Null when no map
	items   []types.Value
	hasNull bool
}

func newInSet(items []types.Value) *inSet {
	s := &inSet{}
	kind := types.Null
	uniform := true
	for _, v := range items {
		if v.Kind == types.Null {
			s.hasNull = true
			continue
		}
		s.items = append(s.items, v)
		if kind == types.Null {
			kind = v.Kind
		} else if kind != v.Kind {
			uniform = false
		}
	}
	if !uniform || len(s.items) < 4 {
		return s
	}
	switch kind {
	case types.Int64:
		s.ints = make(map[int64]struct{}, len(s.items))
		for _, v := range s.items {
			s.ints[v.Int] = struct{}{}
		}
		s.kind = kind
	case types.String, types.OID:
		s.strs = make(map[string]struct{}, len(s.items))
		for _, v := range s.items {
			s.strs[v.Str] = struct{}{}
		}
		s.kind = kind
	}
	return s
}

// contains is x IN (items) with NULL semantics: TRUE on a match, else NULL
// when the list holds a NULL, else FALSE.
func (s *inSet) contains(x types.Value) (types.Value, error) {
	if x.Kind == types.Null {
		return types.NullValue, nil
	}
	found := false
	switch {
	case s.kind != types.Null && x.Kind == s.kind && s.ints != nil:
		_, found = s.ints[x.Int]
	case s.kind != types.Null && x.Kind == s.kind && s.strs != nil:
		_, found = s.strs[x.Str]
	default:
		for _, v := range s.items {
			cmp, err := compareValues(x, v)
			if err != nil {
				return types.Value{}, err
			}
			if cmp == 0 {
				found = true
				break
			}
		}
	}
	if found {
		return types.NewBool(true), nil
	}
	if s.hasNull {
		return types.NullValue, nil
	}
	return types.NewBool(false), nil
}

func (c *compiler) compileInList(e *ast.InExpr) (node, error) {
	if len(e.List) == 0 {
		return node{}, invalid("IN needs at least one value")
	}
	x, err := c.compile(e.X)
	if err != nil {
		return node{}, err
	}
	items, err := c.compileArgs(e.List)
	if err != nil {
		return node{}, err
	}
	allLit := true
	for _, it := range items {
		if !comparableKinds(x.kind, it.kind) {
			return node{}, invalid("IN cannot compare %s with %s", x.kind, it.kind)
		}
		allLit = allLit && it.isLit
	}
	konst, foldable := allConst(items)
	out := node{kind: types.Bool, konst: konst && x.konst, foldable: foldable && x.foldable}
	xf, neg := x.fn, e.Not
	finish := func(v types.Value, err error) (types.Value, error) {
		if err != nil || !neg {
			return v, err
		}
		return not(v)
	}
	if allLit {
		vals := make([]types.Value, len(items))
		for i, it := range items {
			vals[i] = it.val
		}
		set := newInSet(vals)
		out.fn = func(row []types.Value) (types.Value, error) {
			v, err := xf(row)
			if err != nil {
				return v, err
			}
			return finish(set.contains(v))
		}
		return out, nil
	}
	fns := make([]evalFn, len(items))
	for i, it := range items {
		fns[i] = it.fn
	}
	out.fn = func(row []types.Value) (types.Value, error) {
		v, err := xf(row)
		if err != nil || v.Kind == types.Null {
			return v, err
		}
		sawNull := false
		for _, f := range fns {
			w, err := f(row)
			if err != nil {
				return w, err
			}
			if w.Kind == types.Null {
				sawNull = true
				continue
			}
			cmp, err := compareValues(v, w)
			if err != nil {
				return types.Value{}, err
			}
			if cmp == 0 {
				return finish(types.NewBool(true), nil)
			}
		}
		if sawNull {
			return types.NullValue, nil
		}
		return finish(types.NewBool(false), nil)
	}
	return out, nil
}
