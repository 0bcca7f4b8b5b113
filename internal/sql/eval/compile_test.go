package eval

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func mustParse(t testing.TB, s string) ast.Expr {
	t.Helper()
	e, err := parseWithSQLParser(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return e
}

func TestCompileConstAndKind(t *testing.T) {
	scope := testScope{testColumns}
	for _, tc := range []struct {
		expr  string
		kind  types.Kind
		konst bool
	}{
		{"1 + 2", types.Int64, true},
		{"a + 1", types.Int64, false},
		{"a + b", types.Float64, false},
		{"dynint + 1", types.Null, false},
		{"@p * 2", types.Int64, true},
		{"upper('x') || 'y'", types.String, true},
		{"now()", types.String, true},
		{"random()", types.Float64, false},
		{"gen_id()", types.OID, false},
		{"random() + 1", types.Float64, false},
		{"a IN (1, 2)", types.Bool, false},
		{"1 IN (1, 2)", types.Bool, true},
		{"CASE WHEN a > 1 THEN 1 ELSE 2.0 END", types.Float64, false},
		{"CAST('1' AS INT64)", types.Int64, true},
		{"json_value('{}', '$.a')", types.Null, true},
		{"1 / 0", types.Int64, true},
	} {
		c, err := Compile(mustParse(t, tc.expr), scope, testEnv(), nil)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if c.Kind != tc.kind || c.Const != tc.konst {
			t.Errorf("%s: kind %s const %v, want %s %v", tc.expr, c.Kind, c.Const, tc.kind, tc.konst)
		}
	}
}

// Constant subtrees are evaluated at compile time: a constant expression
// must not look at the row at all, and volatile ones must still vary.
func TestConstantFolding(t *testing.T) {
	c, err := Compile(mustParse(t, "length(upper('abc')) * 2 + @p"), nil, testEnv(), nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Eval(nil)
	if err != nil || v != types.NewInt(16) {
		t.Fatalf("got %v, %v", v, err)
	}
	ids := builtins.NewIDGenerator(func() time.Time { return testNow })
	env := testEnv()
	env.IDs = ids
	g, err := Compile(mustParse(t, "gen_id()"), nil, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := g.Eval(nil)
	second, _ := g.Eval(nil)
	if first == second {
		t.Fatalf("gen_id() was folded: %v twice", first)
	}
}

// A SELECT without FROM has no scope; columns are unknown there.
func TestNilScope(t *testing.T) {
	_, err := Compile(mustParse(t, "a + 1"), nil, nil, nil)
	if errcode.Of(err) != errcode.UnknownColumn {
		t.Fatalf("got %v, want CADB0404", err)
	}
	c, err := Compile(mustParse(t, "1 + 1"), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Eval(nil); v != types.NewInt(2) {
		t.Fatalf("got %v", v)
	}
}

func TestHook(t *testing.T) {
	// The hook stands in for the planner: it compiles aggregate calls as
	// references to column 0 of the aggregated row and leaves the rest.
	hookCalls := 0
	hook := func(e ast.Expr) (Compiled, bool, error) {
		hookCalls++
		if f, ok := e.(*ast.FuncCall); ok && IsAggregate(f.Name) {
			return Compiled{Kind: types.Int64, Eval: func(row []types.Value) (types.Value, error) {
				return row[0], nil
			}}, true, nil
		}
		if _, ok := e.(*ast.SubqueryExpr); ok {
			return Compiled{}, false, errcode.New(errcode.InvalidInput, "subquery rejected by hook")
		}
		return Compiled{}, false, nil
	}
	c, err := Compile(mustParse(t, "count(*) + 1"), nil, nil, hook)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.Eval([]types.Value{types.NewInt(41)}); err != nil || v != types.NewInt(42) {
		t.Fatalf("got %v, %v", v, err)
	}
	if c.Kind != types.Int64 || c.Const {
		t.Fatalf("kind %s const %v", c.Kind, c.Const)
	}
	if hookCalls != 3 { // the +, count(*) and the literal 1
		t.Fatalf("hook called %d times, want 3", hookCalls)
	}
	// Without a hook, aggregates and subqueries are errors.
	if _, err := Compile(mustParse(t, "sum(1)"), nil, nil, nil); errcode.Of(err) != errcode.InvalidInput {
		t.Fatalf("aggregate without hook: %v", err)
	}
	sub := &ast.SubqueryExpr{Subquery: &ast.Select{}}
	if _, err := Compile(sub, nil, nil, nil); errcode.Of(err) != errcode.Unsupported {
		t.Fatalf("subquery without hook: %v", err)
	}
	if _, err := Compile(sub, nil, nil, hook); errcode.Of(err) != errcode.InvalidInput {
		t.Fatalf("hook error not returned: %v", err)
	}
	for _, e := range []ast.Expr{
		&ast.ExistsExpr{Subquery: &ast.Select{}},
		&ast.InExpr{X: &ast.Literal{Value: types.NewInt(1)}, Subquery: &ast.Select{}},
	} {
		if _, err := Compile(e, nil, nil, nil); errcode.Of(err) != errcode.Unsupported {
			t.Errorf("%T without hook: %v", e, err)
		}
	}
	if _, err := Compile(&ast.DefaultExpr{}, nil, nil, nil); errcode.Of(err) != errcode.InvalidInput {
		t.Errorf("DEFAULT: %v", err)
	}
	if _, err := Compile(nil, nil, nil, nil); err == nil {
		t.Errorf("nil expression compiled")
	}
}

// A row shorter than the scope promised is a caller bug reported as an
// error, never a panic.
func TestShortRow(t *testing.T) {
	c, err := Compile(mustParse(t, "t.k"), testScope{testColumns}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Eval(nil); errcode.Of(err) != errcode.Internal {
		t.Fatalf("got %v, want CADB0099", err)
	}
}

func TestExportedHelpers(t *testing.T) {
	if v, err := CompareOp("<>", types.NewInt(1), types.NewFloat(1)); err != nil || v != types.NewBool(false) {
		t.Errorf("1 <> 1.0 = %v, %v", v, err)
	}
	if v, err := CompareOp("<", types.NullValue, types.NewInt(1)); err != nil || v != types.NullValue {
		t.Errorf("NULL < 1 = %v, %v", v, err)
	}
	if _, err := CompareOp("=", types.NewString("1"), types.NewInt(1)); errcode.Of(err) != errcode.InvalidInput {
		t.Errorf("'1' = 1: %v", err)
	}
	if _, err := CompareOp("~", types.NewInt(1), types.NewInt(1)); err == nil {
		t.Errorf("unknown operator accepted")
	}
	if v, err := Arith("%", types.NewInt(-17), types.NewInt(5)); err != nil || v != types.NewInt(-2) {
		t.Errorf("-17 %% 5 = %v, %v", v, err)
	}
	if v, err := Cast(types.NewString("7"), types.Int64); err != nil || v != types.NewInt(7) {
		t.Errorf("cast: %v, %v", v, err)
	}
	if !Truth(types.NewBool(true)) || Truth(types.NewBool(false)) || Truth(types.NullValue) || Truth(types.NewInt(1)) {
		t.Errorf("Truth is wrong")
	}
	if !Like("abc", "a%", false) || Like("abc", "A%", false) || !Like("abc", "A%", true) {
		t.Errorf("Like is wrong")
	}
}

// Compiled expressions are shared by concurrent executors; the argument
// buffer reuse must not mix their rows (run with -race).
func TestConcurrentEval(t *testing.T) {
	c, err := Compile(mustParse(t, "concat(name, '-', to_string(t.k))"), testScope{testColumns}, testEnv(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			row := testRow()
			row[2] = types.NewString(string(rune('a' + g)))
			want := string(rune('a'+g)) + "-1"
			for range 2000 {
				v, err := c.Eval(row)
				if err != nil {
					errs <- err
					return
				}
				if v.Str != want {
					errs <- errcode.New(errcode.Internal, "got %q want %q", v.Str, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func BenchmarkEvalPredicate(b *testing.B) {
	pred, err := CompilePredicate(mustParse(b, "a > 10 AND name LIKE 'x%'"), testScope{testColumns}, testEnv(), nil)
	if err != nil {
		b.Fatal(err)
	}
	row := testRow()
	b.ReportAllocs()
	for b.Loop() {
		ok, err := pred(row)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkEvalArithmetic(b *testing.B) {
	c, err := Compile(mustParse(b, "(a * 3 + t.k) % 7 - neg"), testScope{testColumns}, testEnv(), nil)
	if err != nil {
		b.Fatal(err)
	}
	row := testRow()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Eval(row); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalFunction(b *testing.B) {
	c, err := Compile(mustParse(b, "substring(name, 2, 3)"), testScope{testColumns}, testEnv(), nil)
	if err != nil {
		b.Fatal(err)
	}
	row := testRow()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Eval(row); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLikeGeneral(b *testing.B) {
	m := compileLike("%iss%pp_", false)
	b.ReportAllocs()
	for b.Loop() {
		if !m.match("mississippi") {
			b.Fatal("no match")
		}
	}
}

func BenchmarkInList(b *testing.B) {
	c, err := Compile(mustParse(b, "a IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)"), testScope{testColumns}, testEnv(), nil)
	if err != nil {
		b.Fatal(err)
	}
	row := testRow()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Eval(row); err != nil {
			b.Fatal(err)
		}
	}
}
