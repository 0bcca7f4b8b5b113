package plan

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// scope resolves column references against the columns of a row.
type scope struct{ cols []Column }

func (s *scope) Resolve(table, column string) (int, types.Kind, error) {
	found := -1
	for i, c := range s.cols {
		if c.Name != column || (table != "" && c.Table != table) || (table == "" && c.UsingDup) {
			continue
		}
		if found >= 0 {
			return 0, types.Null, errcode.New(errcode.InvalidInput, "column reference %q is ambiguous", qualified(table, column))
		}
		found = i
	}
	if found < 0 {
		return 0, types.Null, errcode.New(errcode.UnknownColumn, "column %q does not exist", qualified(table, column))
	}
	return found, s.cols[found].Kind, nil
}

func qualified(table, column string) string {
	if table == "" {
		return column
	}
	return table + "." + column
}

// noColumns is the scope of expressions that may not read columns
// (VALUES rows, DEFAULT expressions, LIMIT).
type noColumns struct{ what string }

func (s noColumns) Resolve(table, column string) (int, types.Kind, error) {
	return 0, types.Null, errcode.New(errcode.InvalidInput, "column %q cannot be used in %s", qualified(table, column), s.what)
}

// walkExpr calls f for e and every sub-expression, depth first, stopping
// at subqueries (their bodies are another scope). f returns false to skip
// the children of a node.
func walkExpr(e ast.Expr, f func(ast.Expr) bool) {
	if e == nil || !f(e) {
		return
	}
	switch n := e.(type) {
	case *ast.UnaryExpr:
		walkExpr(n.X, f)
	case *ast.BinaryExpr:
		walkExpr(n.L, f)
		walkExpr(n.R, f)
	case *ast.LikeExpr:
		walkExpr(n.X, f)
		walkExpr(n.Pattern, f)
	case *ast.BetweenExpr:
		walkExpr(n.X, f)
		walkExpr(n.Lo, f)
		walkExpr(n.Hi, f)
	case *ast.IsNullExpr:
		walkExpr(n.X, f)
	case *ast.InExpr:
		walkExpr(n.X, f)
		for _, x := range n.List {
			walkExpr(x, f)
		}
	case *ast.FuncCall:
		for _, x := range n.Args {
			walkExpr(x, f)
		}
	case *ast.CaseExpr:
		walkExpr(n.Operand, f)
		for _, w := range n.Whens {
			walkExpr(w.Cond, f)
			walkExpr(w.Result, f)
		}
		walkExpr(n.Else, f)
	case *ast.CastExpr:
		walkExpr(n.X, f)
	}
}

// isAggregateCall reports whether e is a call of an aggregate function.
func isAggregateCall(e ast.Expr) (*ast.FuncCall, bool) {
	fc, ok := e.(*ast.FuncCall)
	if !ok || !eval.IsAggregate(fc.Name) {
		return nil, false
	}
	return fc, true
}

// containsAggregate reports whether e calls an aggregate function.
func containsAggregate(e ast.Expr) bool {
	found := false
	walkExpr(e, func(x ast.Expr) bool {
		if _, ok := isAggregateCall(x); ok {
			found = true
		}
		return !found
	})
	return found
}

// conjuncts splits e on AND.
func conjuncts(e ast.Expr, out []ast.Expr) []ast.Expr {
	if b, ok := e.(*ast.BinaryExpr); ok && b.Op == "AND" {
		return conjuncts(b.R, conjuncts(b.L, out))
	}
	if e != nil {
		out = append(out, e)
	}
	return out
}

// andAll joins conjuncts back with AND (nil for none).
func andAll(es []ast.Expr) ast.Expr {
	var out ast.Expr
	for _, e := range es {
		if out == nil {
			out = e
		} else {
			out = &ast.BinaryExpr{At: e.Position(), Op: "AND", L: out, R: e}
		}
	}
	return out
}
