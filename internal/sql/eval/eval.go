package eval

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Scope resolves column references for Compile.
type Scope interface {
	// Resolve returns the index of the column in the input row and its
	// static kind. Unknown → *errcode.Error CADB0404, ambiguous → CADB0400.
	Resolve(table, column string) (index int, kind types.Kind, err error)
}

// Env is the per-statement input of Compile.
type Env struct {
	// Params maps parameter names without '@' to values; a missing one is
	// CADB0400 at Compile time.
	Params map[string]types.Value
	// Now is the statement timestamp for now()/current_*; the zero time
	// means "the wall clock when Compile runs".
	Now time.Time
	// IDs, when set, generates gen_id() values (tests); nil means the
	// process-wide generator.
	IDs *builtins.IDGenerator
	// Settings and Database are what the session functions read
	// (current_setting, set_config, current_database...); nil and "" outside
	// a session.
	Settings builtins.Settings
	Database string
	// Catalog answers the catalog functions (format_type, regclass...);
	// nil where there is none.
	Catalog builtins.Catalog
	// Sequences answers nextval, currval, setval and lastval (nil: they
	// fail with CADB0407).
	Sequences builtins.Sequences
}

// Compiled is an expression ready to evaluate.
type Compiled struct {
	// Eval computes the value for one input row. It never retains row.
	Eval func(row []types.Value) (types.Value, error)
	// Kind is the static result kind when known, types.Null when unknown.
	Kind types.Kind
	// Const is true when the value depends on no column and no volatile
	// function (it may be evaluated once, e.g. for an index range).
	Const bool
}

// Hook lets the planner compile nodes eval does not know itself
// (subqueries, aggregate references): called first for every node;
// handled=false falls through to eval's own rules.
type Hook func(e ast.Expr) (c Compiled, handled bool, err error)

type evalFn = func(row []types.Value) (types.Value, error)

// node is a compiled subtree plus what the compiler needs to know about it.
type node struct {
	fn   evalFn
	kind types.Kind
	// konst: depends on no column and no per-row volatile function.
	konst bool
	// foldable: konst and safe to run at compile time (no hook node inside).
	foldable bool
	// isLit: fn returns val, fixed at compile time.
	isLit bool
	val   types.Value
}

func literal(v types.Value) node {
	return node{fn: func([]types.Value) (types.Value, error) { return v, nil },
		kind: v.Kind, konst: true, foldable: true, isLit: true, val: v}
}

type compiler struct {
	scope Scope
	env   *Env
	hook  Hook
	fnCtx *builtins.Context
}

// Compile turns e into a closure tree. Errors are *errcode.Error: CADB0404
// for unknown columns, CADB0400 for kind errors known before any row is
// read (STRING + INT64, comparing STRING with INT64, a missing parameter,
// a bad function argument count...), CADB0407 for subqueries when no hook
// handles them. Constant subtrees are evaluated once here; when that fails
// (1/0) the error is left for evaluation time, so an untaken CASE branch
// never fails the statement.
func Compile(e ast.Expr, scope Scope, env *Env, hook Hook) (Compiled, error) {
	n, err := newCompiler(scope, env, hook).compile(e)
	if err != nil {
		return Compiled{}, err
	}
	return Compiled{Eval: n.fn, Kind: n.kind, Const: n.konst}, nil
}

// CompilePredicate compiles a WHERE/ON/HAVING condition: only TRUE passes,
// NULL and FALSE do not. A condition of a known non-BOOL kind is CADB0400
// at compile time; a non-BOOL value at run time is CADB0400 too.
func CompilePredicate(e ast.Expr, scope Scope, env *Env, hook Hook) (func(row []types.Value) (bool, error), error) {
	c, err := Compile(e, scope, env, hook)
	if err != nil {
		return nil, err
	}
	if c.Kind != types.Bool && c.Kind != types.Null {
		return nil, invalid("condition must be BOOL, not %s", c.Kind)
	}
	fn := c.Eval
	return func(row []types.Value) (bool, error) {
		v, err := fn(row)
		if err != nil {
			return false, err
		}
		switch v.Kind {
		case types.Bool:
			return v.Bool, nil
		case types.Null:
			return false, nil
		}
		return false, invalid("condition must be BOOL, not %s", v.Kind)
	}, nil
}

func newCompiler(scope Scope, env *Env, hook Hook) *compiler {
	c := &compiler{scope: scope, env: env, hook: hook, fnCtx: &builtins.Context{}}
	if env != nil {
		c.fnCtx.Now = env.Now
		c.fnCtx.IDs = env.IDs
		c.fnCtx.Settings = env.Settings
		c.fnCtx.Database = env.Database
		c.fnCtx.Catalog = env.Catalog
		c.fnCtx.Sequences = env.Sequences
	}
	if c.fnCtx.Now.IsZero() {
		c.fnCtx.Now = time.Now()
	}
	c.fnCtx.Now = c.fnCtx.Now.UTC()
	return c
}

func (c *compiler) compile(e ast.Expr) (node, error) {
	if e == nil {
		return node{}, errcode.New(errcode.Internal, "eval: nil expression")
	}
	if c.hook != nil {
		hc, handled, err := c.hook(e)
		if err != nil {
			return node{}, err
		}
		if handled {
			if hc.Eval == nil {
				return node{}, errcode.New(errcode.Internal, "eval: hook returned no Eval for %T", e)
			}
			return node{fn: hc.Eval, kind: hc.Kind, konst: hc.Const}, nil
		}
	}
	n, err := c.compileNode(e)
	if err != nil {
		return node{}, err
	}
	return fold(n), nil
}

// fold evaluates a foldable subtree once. A failure is kept for run time.
func fold(n node) node {
	if !n.foldable || n.isLit {
		return n
	}
	v, err := n.fn(nil)
	if err != nil {
		return n
	}
	lit := literal(v)
	if n.kind != types.Null {
		lit.kind = n.kind
	}
	return lit
}

func (c *compiler) compileNode(e ast.Expr) (node, error) {
	switch e := e.(type) {
	case *ast.Literal:
		return literal(e.Value), nil
	case *ast.ColumnRef:
		return c.compileColumn(e)
	case *ast.Param:
		return c.compileParam(e)
	case *ast.UnaryExpr:
		return c.compileUnary(e)
	case *ast.BinaryExpr:
		return c.compileBinary(e)
	case *ast.LikeExpr:
		return c.compileLike(e)
	case *ast.BetweenExpr:
		return c.compileBetween(e)
	case *ast.IsNullExpr:
		return c.compileIsNull(e)
	case *ast.InExpr:
		if e.Subquery != nil {
			return node{}, unsupported("IN (SELECT ...)")
		}
		return c.compileInList(e)
	case *ast.ExistsExpr:
		return node{}, unsupported("EXISTS (SELECT ...)")
	case *ast.SubqueryExpr:
		return node{}, unsupported("a scalar subquery")
	case *ast.FuncCall:
		return c.compileFunc(e)
	case *ast.CaseExpr:
		return c.compileCase(e)
	case *ast.CastExpr:
		return c.compileCast(e)
	case *ast.DefaultExpr:
		return node{}, invalid("DEFAULT is only allowed as an INSERT value")
	case *ast.AnyExpr:
		return c.compileAny(e)
	case *ast.ArrayExpr:
		return c.compileArray(e)
	}
	return node{}, errcode.New(errcode.Unsupported, "unsupported expression %T", e)
}

func unsupported(what string) error {
	return errcode.New(errcode.Unsupported, "%s is not supported in this context", what)
}

func (c *compiler) compileColumn(e *ast.ColumnRef) (node, error) {
	var (
		index int
		kind  types.Kind
		err   error
	)
	if c.scope == nil {
		err = errcode.New(errcode.UnknownColumn, "unknown column %q", qualified(e.Table, e.Column))
	} else {
		index, kind, err = c.scope.Resolve(e.Table, e.Column)
	}
	if err != nil {
		// CURRENT_TIMESTAMP and CURRENT_DATE may be written without
		// parentheses; a real column of that name wins.
		// (Also where no column may be read at all: VALUES, DEFAULT.)
		if e.Table == "" && (errcode.Of(err) == errcode.UnknownColumn || errcode.Of(err) == errcode.InvalidInput) {
			switch e.Column {
			case "current_timestamp", "current_date":
				return c.compileFunc(&ast.FuncCall{At: e.At, Name: e.Column})
			}
		}
		return node{}, err
	}
	if index < 0 {
		return node{}, errcode.New(errcode.Internal, "eval: scope resolved %q to index %d", e.Column, index)
	}
	fn := func(row []types.Value) (types.Value, error) {
		if index >= len(row) {
			return types.Value{}, errcode.New(errcode.Internal, "eval: row has %d columns, column %d requested", len(row), index)
		}
		return row[index], nil
	}
	return node{fn: fn, kind: kind}, nil
}

func qualified(table, column string) string {
	if table == "" {
		return column
	}
	return table + "." + column
}

func (c *compiler) compileParam(e *ast.Param) (node, error) {
	if v, ok := ParamValue(c.env, e); ok {
		return literal(v), nil
	}
	return node{}, invalid("missing parameter @%s", strings.TrimPrefix(e.Name, "@"))
}

// ParamValue is the value env gives parameter e, which a parameter
// compiles to (a constant).
func ParamValue(env *Env, e *ast.Param) (types.Value, bool) {
	if env == nil || env.Params == nil {
		return types.Value{}, false
	}
	name := strings.TrimPrefix(e.Name, "@")
	if v, ok := env.Params[name]; ok {
		return v, true
	}
	if v, ok := env.Params["@"+name]; ok {
		return v, true
	}
	for k, v := range env.Params { // rare: differently cased key
		if strings.EqualFold(strings.TrimPrefix(k, "@"), name) {
			return v, true
		}
	}
	return types.Value{}, false
}

func (c *compiler) compileUnary(e *ast.UnaryExpr) (node, error) {
	x, err := c.compile(e.X)
	if err != nil {
		return node{}, err
	}
	out := node{kind: x.kind, konst: x.konst, foldable: x.foldable}
	xf := x.fn
	switch strings.ToUpper(e.Op) {
	case "-":
		if x.kind != types.Null && !isNumeric(x.kind) && x.kind != types.Interval {
			return node{}, invalid("unary - cannot be applied to %s", x.kind)
		}
		out.fn = func(row []types.Value) (types.Value, error) {
			v, err := xf(row)
			if err != nil {
				return v, err
			}
			return negate(v)
		}
	case "+":
		if x.kind != types.Null && !isNumeric(x.kind) {
			return node{}, invalid("unary + cannot be applied to %s", x.kind)
		}
		out.fn = func(row []types.Value) (types.Value, error) {
			v, err := xf(row)
			if err != nil {
				return v, err
			}
			if v.Kind != types.Null && !isNumeric(v.Kind) {
				return types.Value{}, invalid("unary + cannot be applied to %s", v.Kind)
			}
			return v, nil
		}
	case "NOT":
		if err := wantBool("NOT", x.kind); err != nil {
			return node{}, err
		}
		out.kind = types.Bool
		out.fn = func(row []types.Value) (types.Value, error) {
			v, err := xf(row)
			if err != nil {
				return v, err
			}
			return not(v)
		}
	default:
		return node{}, invalid("unknown unary operator %q", e.Op)
	}
	return out, nil
}

func not(v types.Value) (types.Value, error) {
	switch v.Kind {
	case types.Bool:
		return types.NewBool(!v.Bool), nil
	case types.Null:
		return v, nil
	}
	return types.Value{}, invalid("NOT cannot be applied to %s", v.Kind)
}

func wantBool(op string, k types.Kind) error {
	if k != types.Bool && k != types.Null {
		return invalid("%s needs BOOL operands, not %s", op, k)
	}
	return nil
}

func (c *compiler) compileBinary(e *ast.BinaryExpr) (node, error) {
	l, err := c.compile(e.L)
	if err != nil {
		return node{}, err
	}
	r, err := c.compile(e.R)
	if err != nil {
		return node{}, err
	}
	op := strings.ToUpper(e.Op)
	if isRegexOp(op) {
		return c.compileRegex(op, l, r)
	}
	if _, ok := parseCmpOp(op); ok {
		if l, r, err = coerceUnknownLiteral(l, r); err != nil {
			return node{}, err
		}
	}
	out := node{konst: l.konst && r.konst, foldable: l.foldable && r.foldable}
	lf, rf := l.fn, r.fn
	if o, ok := parseArithOp(op); ok {
		switch {
		case temporalOperands(l.kind, r.kind):
			kind, ok := temporalArithKind(o, l.kind, r.kind)
			if !ok {
				return node{}, invalid("operator %s cannot be applied to %s and %s", op, l.kind, r.kind)
			}
			out.kind = kind
		case (l.kind != types.Null && !isNumeric(l.kind)) || (r.kind != types.Null && !isNumeric(r.kind)):
			return node{}, invalid("operator %s cannot be applied to %s and %s", op, l.kind, r.kind)
		case l.kind == types.Numeric || r.kind == types.Numeric:
			out.kind = numericArithKind(l.kind, r.kind)
		case l.kind == types.Int64 && r.kind == types.Int64:
			out.kind = types.Int64
		case l.kind == types.Float64 || r.kind == types.Float64:
			out.kind = types.Float64
		}
		out.fn = func(row []types.Value) (types.Value, error) {
			a, err := lf(row)
			if err != nil {
				return a, err
			}
			b, err := rf(row)
			if err != nil {
				return b, err
			}
			return arith(o, a, b)
		}
		return out, nil
	}
	if isJSONOp(op) {
		kind, err := jsonOpKind(op, l.kind, r.kind)
		if err != nil {
			return node{}, err
		}
		out.kind = kind
		out.fn = func(row []types.Value) (types.Value, error) {
			a, err := lf(row)
			if err != nil {
				return a, err
			}
			b, err := rf(row)
			if err != nil {
				return b, err
			}
			return jsonOp(op, a, b)
		}
		return out, nil
	}
	if o, ok := parseCmpOp(op); ok {
		if !comparableKinds(l.kind, r.kind) {
			return node{}, invalid("cannot compare %s with %s", l.kind, r.kind)
		}
		out.kind = types.Bool
		out.fn = compareFn(o, l, r)
		return out, nil
	}
	switch op {
	case "AND":
		if err := wantBool("AND", l.kind); err != nil {
			return node{}, err
		}
		if err := wantBool("AND", r.kind); err != nil {
			return node{}, err
		}
		out.kind = types.Bool
		out.fn = func(row []types.Value) (types.Value, error) {
			a, err := lf(row)
			if err != nil {
				return a, err
			}
			if a.Kind == types.Bool && !a.Bool {
				return a, nil
			}
			if a.Kind != types.Bool && a.Kind != types.Null {
				return types.Value{}, invalid("AND needs BOOL operands, not %s", a.Kind)
			}
			b, err := rf(row)
			if err != nil {
				return b, err
			}
			switch b.Kind {
			case types.Bool:
				if b.Bool && a.Kind == types.Null {
					return types.NullValue, nil // NULL AND TRUE
				}
				return b, nil
			case types.Null:
				return b, nil
			}
			return types.Value{}, invalid("AND needs BOOL operands, not %s", b.Kind)
		}
		return out, nil
	case "OR":
		if err := wantBool("OR", l.kind); err != nil {
			return node{}, err
		}
		if err := wantBool("OR", r.kind); err != nil {
			return node{}, err
		}
		out.kind = types.Bool
		out.fn = func(row []types.Value) (types.Value, error) {
			a, err := lf(row)
			if err != nil {
				return a, err
			}
			if a.Kind == types.Bool && a.Bool {
				return a, nil
			}
			if a.Kind != types.Bool && a.Kind != types.Null {
				return types.Value{}, invalid("OR needs BOOL operands, not %s", a.Kind)
			}
			b, err := rf(row)
			if err != nil {
				return b, err
			}
			switch b.Kind {
			case types.Bool:
				if b.Bool || a.Kind == types.Bool {
					return b, nil
				}
				return types.NullValue, nil // NULL OR FALSE
			case types.Null:
				return b, nil
			}
			return types.Value{}, invalid("OR needs BOOL operands, not %s", b.Kind)
		}
		return out, nil
	case "||":
		out.kind = types.String
		out.fn = func(row []types.Value) (types.Value, error) {
			a, err := lf(row)
			if err != nil {
				return a, err
			}
			b, err := rf(row)
			if err != nil {
				return b, err
			}
			return concatValues(a, b), nil
		}
		return out, nil
	}
	return node{}, invalid("unknown operator %q", e.Op)
}

// compareFn builds a comparison closure, with a fast path for the common
// "column op constant" shape.
func compareFn(op cmpOp, l, r node) evalFn {
	lf, rf := l.fn, r.fn
	if r.isLit {
		k := r.val
		if k.Kind == types.Null {
			return func(row []types.Value) (types.Value, error) {
				if _, err := lf(row); err != nil {
					return types.Value{}, err
				}
				return types.NullValue, nil
			}
		}
		return func(row []types.Value) (types.Value, error) {
			a, err := lf(row)
			if err != nil {
				return a, err
			}
			if a.Kind == types.Int64 && k.Kind == types.Int64 {
				cmp := 0
				if a.Int < k.Int {
					cmp = -1
				} else if a.Int > k.Int {
					cmp = 1
				}
				return types.NewBool(op.holds(cmp)), nil
			}
			return compare(op, a, k)
		}
	}
	return func(row []types.Value) (types.Value, error) {
		a, err := lf(row)
		if err != nil {
			return a, err
		}
		b, err := rf(row)
		if err != nil {
			return b, err
		}
		return compare(op, a, b)
	}
}

func (c *compiler) compileLike(e *ast.LikeExpr) (node, error) {
	x, err := c.compile(e.X)
	if err != nil {
		return node{}, err
	}
	p, err := c.compile(e.Pattern)
	if err != nil {
		return node{}, err
	}
	name := "LIKE"
	if e.CaseInsensitive {
		name = "ILIKE"
	}
	if x.kind != types.Null && x.kind != types.String {
		return node{}, invalid("%s needs a STRING operand, not %s", name, x.kind)
	}
	if p.kind != types.Null && p.kind != types.String {
		return node{}, invalid("%s needs a STRING pattern, not %s", name, p.kind)
	}
	neg, ci := e.Not, e.CaseInsensitive
	xf, pf := x.fn, p.fn
	out := node{kind: types.Bool, konst: x.konst && p.konst, foldable: x.foldable && p.foldable}
	if p.isLit {
		if p.val.Kind == types.Null {
			out.fn = func(row []types.Value) (types.Value, error) {
				if _, err := xf(row); err != nil {
					return types.Value{}, err
				}
				return types.NullValue, nil
			}
			return out, nil
		}
		m := compileLike(p.val.Str, ci)
		out.fn = func(row []types.Value) (types.Value, error) {
			v, err := xf(row)
			if err != nil || v.Kind == types.Null {
				return v, err
			}
			if v.Kind != types.String {
				return types.Value{}, invalid("%s needs a STRING operand, not %s", name, v.Kind)
			}
			return types.NewBool(m.match(v.Str) != neg), nil
		}
		return out, nil
	}
	out.fn = func(row []types.Value) (types.Value, error) {
		v, err := xf(row)
		if err != nil {
			return v, err
		}
		pat, err := pf(row)
		if err != nil {
			return pat, err
		}
		if v.Kind == types.Null || pat.Kind == types.Null {
			return types.NullValue, nil
		}
		if v.Kind != types.String || pat.Kind != types.String {
			return types.Value{}, invalid("%s needs STRING operands, not %s and %s", name, v.Kind, pat.Kind)
		}
		return types.NewBool(Like(v.Str, pat.Str, ci) != neg), nil
	}
	return out, nil
}

func (c *compiler) compileBetween(e *ast.BetweenExpr) (node, error) {
	x, err := c.compile(e.X)
	if err != nil {
		return node{}, err
	}
	lo, err := c.compile(e.Lo)
	if err != nil {
		return node{}, err
	}
	hi, err := c.compile(e.Hi)
	if err != nil {
		return node{}, err
	}
	if !comparableKinds(x.kind, lo.kind) {
		return node{}, invalid("cannot compare %s with %s", x.kind, lo.kind)
	}
	if !comparableKinds(x.kind, hi.kind) {
		return node{}, invalid("cannot compare %s with %s", x.kind, hi.kind)
	}
	xf, lof, hif, neg := x.fn, lo.fn, hi.fn, e.Not
	fn := func(row []types.Value) (types.Value, error) {
		v, err := xf(row)
		if err != nil {
			return v, err
		}
		l, err := lof(row)
		if err != nil {
			return l, err
		}
		h, err := hif(row)
		if err != nil {
			return h, err
		}
		geLo, err := compare(opGE, v, l)
		if err != nil {
			return geLo, err
		}
		leHi, err := compare(opLE, v, h)
		if err != nil {
			return leHi, err
		}
		res := and3(geLo, leHi)
		if neg {
			return not(res)
		}
		return res, nil
	}
	return node{fn: fn, kind: types.Bool, konst: x.konst && lo.konst && hi.konst,
		foldable: x.foldable && lo.foldable && hi.foldable}, nil
}

// and3 is AND over two BOOL-or-NULL values.
func and3(a, b types.Value) types.Value {
	if (a.Kind == types.Bool && !a.Bool) || (b.Kind == types.Bool && !b.Bool) {
		return types.NewBool(false)
	}
	if a.Kind == types.Null || b.Kind == types.Null {
		return types.NullValue
	}
	return types.NewBool(true)
}

func (c *compiler) compileIsNull(e *ast.IsNullExpr) (node, error) {
	x, err := c.compile(e.X)
	if err != nil {
		return node{}, err
	}
	xf, neg := x.fn, e.Not
	fn := func(row []types.Value) (types.Value, error) {
		v, err := xf(row)
		if err != nil {
			return v, err
		}
		return types.NewBool((v.Kind == types.Null) != neg), nil
	}
	return node{fn: fn, kind: types.Bool, konst: x.konst, foldable: x.foldable}, nil
}

func (c *compiler) compileCast(e *ast.CastExpr) (node, error) {
	x, err := c.compile(e.X)
	if err != nil {
		return node{}, err
	}
	to := e.Type
	if !builtins.CastKind(x.kind, to.Kind) {
		return node{}, invalid("cannot cast %s to %s", x.kind, to)
	}
	xf := x.fn
	fn := func(row []types.Value) (types.Value, error) {
		v, err := xf(row)
		if err != nil {
			return v, err
		}
		return builtins.CastTo(v, to)
	}
	return node{fn: fn, kind: to.Kind, konst: x.konst, foldable: x.foldable}, nil
}

// argBuffer hands out a reusable argument slice to one caller at a time;
// a concurrent or re-entrant caller gets a fresh slice instead, so a
// Compiled stays safe for concurrent use without allocating per row in
// the common case.
type argBuffer struct {
	busy atomic.Bool
	buf  []types.Value
}

func (b *argBuffer) get() ([]types.Value, bool) {
	if b.busy.CompareAndSwap(false, true) {
		return b.buf, true
	}
	return make([]types.Value, len(b.buf)), false
}

func (b *argBuffer) put(args []types.Value) {
	clear(args) // do not keep row strings alive
	b.busy.Store(false)
}
