package eval

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// PostgreSQL operators of clients' catalog queries: regular-expression
// matches, x op ANY/ALL (array), ARRAY[...], and the typing of a string
// literal compared with a number or a boolean (PostgreSQL's "unknown"
// literal: c.oid = '16384').

func isRegexOp(op string) bool {
	switch op {
	case "~", "~*", "!~", "!~*":
		return true
	}
	return false
}

// coerceUnknownLiteral converts a string literal compared with an INT64,
// FLOAT64 or BOOL expression to that kind at compile time, as PostgreSQL
// types an untyped literal from the other operand. A literal that does
// not convert is CADB0400 naming it.
func coerceUnknownLiteral(l, r node) (node, node, error) {
	conv := func(lit node, kind types.Kind) (node, error) {
		text := lit.val.Str
		switch kind {
		case types.Int64:
			i, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
			if err != nil {
				return node{}, invalid("invalid input syntax for type bigint: %q", text)
			}
			return literal(types.NewInt(i)), nil
		case types.Float64, types.Bool:
			v, err := builtins.Cast(lit.val, kind)
			if err != nil {
				return node{}, err
			}
			return literal(v), nil
		}
		return lit, nil
	}
	var err error
	switch {
	case r.isLit && r.val.Kind == types.String && (isNumeric(l.kind) || l.kind == types.Bool):
		r, err = conv(r, l.kind)
	case l.isLit && l.val.Kind == types.String && (isNumeric(r.kind) || r.kind == types.Bool):
		l, err = conv(l, r.kind)
	}
	return l, r, err
}

// compileRegex compiles x ~ pattern (and ~*, !~, !~*). Patterns are Go
// regular expressions (RE2), which agree with PostgreSQL's for the
// patterns clients send (anchors, classes, alternation, repetition).
func (c *compiler) compileRegex(op string, l, r node) (node, error) {
	for _, k := range []types.Kind{l.kind, r.kind} {
		if k != types.Null && k != types.String {
			return node{}, invalid("operator %s needs STRING operands, not %s", op, k)
		}
	}
	negate := op[0] == '!'
	fold := strings.HasSuffix(op, "*")
	compile := func(pattern string) (*regexp.Regexp, error) {
		if fold {
			pattern = "(?i)" + pattern
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, invalid("invalid regular expression %q: %v", pattern, err)
		}
		return re, nil
	}
	var fixed *regexp.Regexp
	if r.isLit && r.val.Kind == types.String {
		re, err := compile(r.val.Str)
		if err != nil {
			return node{}, err
		}
		fixed = re
	}
	lf, rf := l.fn, r.fn
	out := node{kind: types.Bool, konst: l.konst && r.konst, foldable: l.foldable && r.foldable}
	out.fn = func(row []types.Value) (types.Value, error) {
		a, err := lf(row)
		if err != nil {
			return a, err
		}
		b, err := rf(row)
		if err != nil {
			return b, err
		}
		if a.Kind == types.Null || b.Kind == types.Null {
			return types.NullValue, nil
		}
		if a.Kind != types.String || b.Kind != types.String {
			return types.Value{}, invalid("operator %s needs STRING operands, not %s and %s", op, a.Kind, b.Kind)
		}
		re := fixed
		if re == nil {
			if re, err = compile(b.Str); err != nil {
				return types.Value{}, err
			}
		}
		return types.NewBool(re.MatchString(a.Str) != negate), nil
	}
	return out, nil
}

// compileAny compiles x op ANY (array) / x op ALL (array), the array being
// its text form. The result follows SQL's three-valued logic: ANY is TRUE
// when some element compares TRUE, NULL when none does but one compares
// NULL, else FALSE (ALL mirrors it); an empty array gives FALSE for ANY
// and TRUE for ALL.
func (c *compiler) compileAny(e *ast.AnyExpr) (node, error) {
	x, err := c.compile(e.X)
	if err != nil {
		return node{}, err
	}
	arr, err := c.compile(e.Array)
	if err != nil {
		return node{}, err
	}
	op, ok := parseCmpOp(e.Op)
	if !ok {
		return node{}, invalid("operator %s cannot be used with ANY/ALL", e.Op)
	}
	if arr.kind != types.Null && arr.kind != types.String {
		return node{}, invalid("ANY/ALL needs an array, not %s", arr.kind)
	}
	xf, af, all := x.fn, arr.fn, e.All
	out := node{kind: types.Bool, konst: x.konst && arr.konst, foldable: x.foldable && arr.foldable}
	out.fn = func(row []types.Value) (types.Value, error) {
		v, err := xf(row)
		if err != nil {
			return v, err
		}
		a, err := af(row)
		if err != nil {
			return a, err
		}
		if a.Kind == types.Null {
			return types.NullValue, nil
		}
		els, err := builtins.ParseArrayOrVector(a.Str)
		if err != nil {
			return types.Value{}, err
		}
		sawNull := false
		for _, el := range els {
			ev, err := builtins.ArrayElemValue(el, v.Kind)
			if err != nil {
				return types.Value{}, err
			}
			res, err := compare(op, v, ev)
			if err != nil {
				return types.Value{}, err
			}
			switch {
			case res.Kind == types.Null:
				sawNull = true
			case res.Bool != all:
				return types.NewBool(!all), nil
			}
		}
		if sawNull {
			return types.NullValue, nil
		}
		return types.NewBool(all), nil
	}
	return out, nil
}

// compileArray compiles ARRAY[e, ...] to the array's text form.
// ARRAY(SELECT ...) is the planner's (a subquery).
func (c *compiler) compileArray(e *ast.ArrayExpr) (node, error) {
	if e.Subquery != nil {
		return node{}, unsupported("ARRAY(SELECT ...)")
	}
	elems := make([]node, len(e.Elems))
	out := node{kind: types.String, konst: true, foldable: true}
	for i, el := range e.Elems {
		n, err := c.compile(el)
		if err != nil {
			return node{}, err
		}
		elems[i] = n
		out.konst = out.konst && n.konst
		out.foldable = out.foldable && n.foldable
	}
	out.fn = func(row []types.Value) (types.Value, error) {
		vals := make([]types.Value, len(elems))
		for i, n := range elems {
			v, err := n.fn(row)
			if err != nil {
				return v, err
			}
			vals[i] = v
		}
		return types.NewString(builtins.FormatArray(vals)), nil
	}
	return out, nil
}
