package ast_test

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

func col(name string) ast.Expr              { return &ast.ColumnRef{Column: name} }
func intLit(i int64) ast.Expr               { return &ast.Literal{Value: types.NewInt(i)} }
func bin(op string, l, r ast.Expr) ast.Expr { return &ast.BinaryExpr{Op: op, L: l, R: r} }
func un(op string, x ast.Expr) ast.Expr     { return &ast.UnaryExpr{Op: op, X: x} }

// reparseExpr parses "SELECT <text>" and returns the single item.
func reparseExpr(t *testing.T, text string) ast.Expr {
	t.Helper()
	stmt, err := parser.Parse("SELECT " + text)
	if err != nil {
		t.Fatalf("%q does not parse: %v", text, err)
	}
	return stmt.(*ast.SelectStmt).Select.Items[0].Expr
}

func TestFormatExprPrecedence(t *testing.T) {
	a, b, c := col("a"), col("b"), col("c")
	for _, tc := range []struct {
		e    ast.Expr
		want string
	}{
		{bin("*", bin("+", a, b), c), "(a + b) * c"},
		{bin("+", a, bin("*", b, c)), "a + b * c"},
		{bin("-", a, bin("-", b, c)), "a - (b - c)"},
		{bin("-", bin("-", a, b), c), "a - b - c"},
		{bin("||", a, bin("+", b, c)), "a || (b + c)"},
		{bin("AND", bin("OR", a, b), c), "(a OR b) AND c"},
		{bin("OR", a, bin("AND", b, c)), "a OR b AND c"},
		{un("NOT", bin("AND", a, b)), "NOT (a AND b)"},
		{un("NOT", bin("=", a, b)), "NOT a = b"},
		{bin("=", a, un("NOT", b)), "a = (NOT b)"},
		{bin("=", a, bin("=", b, c)), "a = (b = c)"},
		{un("-", bin("+", a, b)), "-(a + b)"},
		{un("-", intLit(math.MinInt64)), "- -9223372036854775808"}, // the only minus not folded

		{un("-", un("-", a)), "- -a"},
		{un("+", intLit(-5)), "+-5"},
		{bin("-", a, intLit(-1)), "a - -1"},
		{bin("*", intLit(-1), a), "-1 * a"},
		{&ast.BetweenExpr{X: a, Lo: bin("AND", b, c), Hi: intLit(1)}, "a BETWEEN (b AND c) AND 1"},
		{&ast.BetweenExpr{X: bin("OR", a, b), Lo: b, Hi: c, Not: true}, "(a OR b) NOT BETWEEN b AND c"},
		{&ast.LikeExpr{X: a, Pattern: bin("=", b, c)}, "a LIKE (b = c)"},
		{&ast.InExpr{X: bin("AND", a, b), List: []ast.Expr{c}}, "(a AND b) IN (c)"},
		{&ast.IsNullExpr{X: bin("=", a, b), Not: true}, "a = b IS NOT NULL"},
		{&ast.IsNullExpr{X: un("NOT", a)}, "(NOT a) IS NULL"},
		{&ast.FuncCall{Name: "count", Star: true}, "COUNT(*)"},
		{&ast.FuncCall{Name: "select", Args: []ast.Expr{a}}, "`select`(a)"},
		{&ast.FuncCall{Name: "left", Args: []ast.Expr{a, intLit(2)}}, "LEFT(a, 2)"},
		{&ast.CastExpr{X: a, Type: types.T{Kind: types.Float64}}, "CAST(a AS FLOAT64)"},
		{&ast.Param{Name: "p"}, "@p"},
		{&ast.Param{Name: "12"}, "$12"},
	} {
		got := ast.FormatExpr(tc.e)
		if got != tc.want {
			t.Errorf("FormatExpr = %q, want %q", got, tc.want)
			continue
		}
		if again := reparseExpr(t, got); !equalIgnoringPos(tc.e, again) {
			t.Errorf("%q re-parses to %q (a different tree)", got, ast.FormatExpr(again))
		}
	}
}

func TestFormatLiterals(t *testing.T) {
	oid, err := types.ParseOID("0123456789abcdef01234567")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		v    types.Value
		want string
	}{
		{types.NullValue, "NULL"},
		{types.NewBool(true), "TRUE"},
		{types.NewInt(math.MinInt64), "-9223372036854775808"},
		{types.NewFloat(1), "1.0"},
		{types.NewFloat(-0.0 * 1), "0.0"},
		{types.NewFloat(math.Copysign(0, -1)), "-0.0"},
		{types.NewFloat(1e21), "1e+21"},
		{types.NewFloat(0.1), "0.1"},
		{types.NewFloat(math.SmallestNonzeroFloat64), "5e-324"},
		{types.NewFloat(math.MaxFloat64), "1.7976931348623157e+308"},
		{types.NewString(`it's a \ and a` + "\x00" + "\n"), `'it''s a \\ and a\0` + "\n'"},
		{types.NewString(""), "''"},
		{oid, "STR_ID('0123456789abcdef01234567')"},
		{types.NewFloat(math.Inf(1)), "CAST('+Inf' AS FLOAT64)"},
	} {
		lit := &ast.Literal{Value: tc.v}
		got := ast.FormatExpr(lit)
		if got != tc.want {
			t.Errorf("FormatExpr(%#v) = %q, want %q", tc.v, got, tc.want)
			continue
		}
		if tc.v.Kind == types.OID || math.IsInf(tc.v.Float, 0) {
			continue // rendered as a function call / cast, not a literal
		}
		again, ok := reparseExpr(t, got).(*ast.Literal)
		if !ok || !equalIgnoringPos(lit, again) {
			t.Errorf("%q does not re-parse to the same literal", got)
		}
	}
}

func TestFormatIdentifiers(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"robots", "robots"},
		{"_x1", "_x1"},
		{"key", "key"}, // non-reserved keyword
		{"select", "`select`"},
		{"1abc", "`1abc`"},
		{"a b", "`a b`"},
		{"a`b", "`a``b`"},
		{"ünï", "`ünï`"},
	} {
		got := ast.FormatExpr(&ast.ColumnRef{Table: tc.name, Column: tc.name})
		if want := tc.want + "." + tc.want; got != want {
			t.Errorf("%q: got %s, want %s", tc.name, got, want)
		}
		if again := reparseExpr(t, got).(*ast.ColumnRef); again.Table != tc.name || again.Column != tc.name {
			t.Errorf("%s re-parses to %q.%q", got, again.Table, again.Column)
		}
	}
}

func TestFormatStatements(t *testing.T) {
	sel := func(n int64) *ast.Select {
		return &ast.Select{Items: []ast.SelectItem{{Expr: intLit(n)}}}
	}
	union := func(l, r *ast.Select) *ast.Select { return &ast.Select{SetOp: "UNION", Left: l, Right: r} }
	for _, tc := range []struct {
		n    ast.Node
		want string
	}{
		{union(union(sel(1), sel(2)), union(sel(3), sel(4))), "SELECT 1 UNION SELECT 2 UNION (SELECT 3 UNION SELECT 4)"},
		{&ast.Select{SetOp: "INTERSECT", Left: union(sel(1), sel(2)), Right: sel(3)}, "(SELECT 1 UNION SELECT 2) INTERSECT SELECT 3"},
		{union(&ast.Select{Items: sel(1).Items, Limit: intLit(1)}, sel(2)), "(SELECT 1 LIMIT 1) UNION SELECT 2"},
		{&ast.Select{Items: []ast.SelectItem{{Expr: col("a"), Alias: "Total"}, {Expr: col("b"), Alias: "from"}}},
			"SELECT a AS 'Total', b AS `from`"},
		{&ast.Select{Items: []ast.SelectItem{{Star: true}}, From: []ast.TableExpr{&ast.Join{
			Kind: "INNER", Left: &ast.TableName{Name: "a"},
			Right: &ast.Join{Kind: "LEFT", Left: &ast.TableName{Name: "b"}, Right: &ast.TableName{Name: "c"}, On: col("x")},
			On:    col("y")}}},
			"SELECT * FROM a JOIN (b LEFT JOIN c ON x) ON y"},
		{&ast.CreateTable{Name: "t", Columns: []ast.ColumnDef{{Name: "a", Type: types.T{Kind: types.Int64}, TypeText: "INT64",
			Default: bin("=", col("b"), intLit(1))}}}, "CREATE TABLE t (a INT64 DEFAULT (b = 1))"},
		{&ast.Show{What: "COLUMNS", Table: "t"}, "SHOW COLUMNS FROM t"},
		{&ast.AlterTable{Table: "t", Action: "ADD INDEX", Index: &ast.IndexDef{Unique: true, Name: "u",
			Columns: []ast.IndexColumn{{Column: "a", Desc: true}}}}, "ALTER TABLE t ADD UNIQUE INDEX u (a DESC)"},
	} {
		got := ast.Format(tc.n)
		if got != tc.want {
			t.Errorf("Format = %q\nwant     %q", got, tc.want)
			continue
		}
		stmt, err := parser.Parse(got)
		if err != nil {
			t.Errorf("%q: %v", got, err)
			continue
		}
		want := tc.n
		if s, ok := want.(*ast.Select); ok {
			want = &ast.SelectStmt{Select: s}
		}
		if !equalIgnoringPos(want, stmt) {
			t.Errorf("%q re-parses to a different tree: %s", got, ast.Format(stmt))
		}
	}
}

func TestFormatNilIsSafe(t *testing.T) {
	if got := ast.Format(nil); got != "" {
		t.Errorf("Format(nil) = %q", got)
	}
	_ = ast.FormatExpr(nil)
	_ = ast.Format(&ast.Select{SetOp: "UNION"})
	_ = ast.Format(&ast.Insert{Table: "t"})
	_ = ast.Format(&ast.Explain{})
	_ = ast.FormatExpr(&ast.InExpr{})
	_ = ast.Format(&ast.Join{})
}

// TestFormatRandomExpressions builds random expression trees (in the
// canonical shapes the parser produces), formats them and checks that the
// text re-parses to the same tree: a property test for the parenthesisation
// rules against the parser's precedence.
func TestFormatRandomExpressions(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 5000; i++ {
		e := randExpr(rng, 4)
		text := ast.FormatExpr(e)
		if again := reparseExpr(t, text); !equalIgnoringPos(e, again) {
			t.Fatalf("%q re-parses to a different tree: %q", text, ast.FormatExpr(again))
		}
	}
}

var binOps = []string{"OR", "AND", "=", "!=", "<", ">=", "+", "-", "||", "*", "/", "%"}

func randExpr(rng *rand.Rand, depth int) ast.Expr {
	if depth == 0 || rng.Intn(5) == 0 {
		switch rng.Intn(6) {
		case 0:
			return intLit(rng.Int63n(200) - 100)
		case 1:
			return &ast.Literal{Value: types.NewFloat(float64(rng.Intn(100)-50) / 4)}
		case 2:
			return &ast.Literal{Value: types.NewString(fmt.Sprintf("s'%d\\", rng.Intn(9)))}
		case 3:
			return &ast.Param{Name: "p"}
		default:
			return col(string(rune('a' + rng.Intn(3))))
		}
	}
	sub := func() ast.Expr { return randExpr(rng, depth-1) }
	switch rng.Intn(11) {
	case 0:
		x := sub()
		if _, isLit := x.(*ast.Literal); isLit {
			x = col("z") // a minus on a literal folds into it
		}
		return un("-", x)
	case 1:
		return un("NOT", sub())
	case 2:
		return &ast.LikeExpr{X: sub(), Pattern: sub(), Not: rng.Intn(2) == 0, CaseInsensitive: rng.Intn(2) == 0}
	case 3:
		return &ast.BetweenExpr{X: sub(), Lo: sub(), Hi: sub(), Not: rng.Intn(2) == 0}
	case 4:
		return &ast.IsNullExpr{X: sub(), Not: rng.Intn(2) == 0}
	case 5:
		return &ast.InExpr{X: sub(), List: []ast.Expr{sub(), sub()}, Not: rng.Intn(2) == 0}
	case 6:
		return &ast.FuncCall{Name: "f", Args: []ast.Expr{sub()}}
	case 7:
		return &ast.CaseExpr{Operand: sub(), Whens: []ast.When{{Cond: sub(), Result: sub()}}, Else: sub()}
	default:
		return bin(binOps[rng.Intn(len(binOps))], sub(), sub())
	}
}

var posType = reflect.TypeOf(ast.Pos{})

// equalIgnoringPos compares syntax trees ignoring positions; floats by bits.
func equalIgnoringPos(a, b any) bool { return deepEqual(reflect.ValueOf(a), reflect.ValueOf(b)) }

func deepEqual(a, b reflect.Value) bool {
	if a.IsValid() != b.IsValid() || a.IsValid() && a.Type() != b.Type() {
		return false
	}
	if !a.IsValid() {
		return true
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return deepEqual(a.Elem(), b.Elem())
	case reflect.Struct:
		if a.Type() == posType {
			return true
		}
		for i := 0; i < a.NumField(); i++ {
			if !deepEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !deepEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return a.Uint() == b.Uint()
	}
	panic("equalIgnoringPos: unhandled kind " + a.Kind().String())
}
