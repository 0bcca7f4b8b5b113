package ast

// PostgreSQL expression and FROM forms that clients' catalog queries use:
// arrays (ARRAY(SELECT ...), ARRAY[...]), x op ANY/ALL (array) and
// set-returning functions in FROM.
//
// Arrays have no column type: an array value is the STRING of its
// PostgreSQL text form ('{a,b}'), which is also what a client reads for an
// array column in text format.

// ArrayExpr is ARRAY(SELECT ...) (Subquery set) or ARRAY[e, ...] (Elems).
type ArrayExpr struct {
	At       Pos
	Subquery *Select
	Elems    []Expr
}

// AnyExpr is x op ANY (array) or, with All, x op ALL (array). Op is a
// comparison operator as in BinaryExpr.
type AnyExpr struct {
	At    Pos
	X     Expr
	Op    string
	Array Expr
	All   bool
}

// FuncTable is a set-returning function in FROM: name(args) [AS] alias
// [(column)]. Its one output column is named Column, else Alias, else the
// function name.
type FuncTable struct {
	At     Pos
	Name   string
	Args   []Expr
	Alias  string
	Column string
}

func (n *ArrayExpr) Position() Pos { return n.At }
func (n *AnyExpr) Position() Pos   { return n.At }
func (n *FuncTable) Position() Pos { return n.At }
func (*ArrayExpr) expr()           {}
func (*AnyExpr) expr()             {}
func (*FuncTable) tableExpr()      {}

// pgExpr formats the expressions of this file; false for other nodes.
func (f *formatter) pgExpr(e Expr) bool {
	switch e := e.(type) {
	case *ArrayExpr:
		if e.Subquery != nil {
			f.WriteString("ARRAY(")
			f.query(e.Subquery)
			f.WriteByte(')')
			return true
		}
		f.WriteString("ARRAY[")
		f.exprList(e.Elems)
		f.WriteByte(']')
	case *AnyExpr:
		f.expr(e.X, precCmp)
		f.WriteByte(' ')
		f.WriteString(e.Op)
		if e.All {
			f.WriteString(" ALL (")
		} else {
			f.WriteString(" ANY (")
		}
		f.expr(e.Array, 0)
		f.WriteByte(')')
	default:
		return false
	}
	return true
}

// pgTableExpr formats FuncTable; false for other nodes.
func (f *formatter) pgTableExpr(te TableExpr) bool {
	ft, ok := te.(*FuncTable)
	if !ok {
		return false
	}
	f.funcName(ft.Name)
	f.WriteByte('(')
	f.exprList(ft.Args)
	f.WriteByte(')')
	if ft.Alias != "" {
		f.WriteString(" AS ")
		f.ident(ft.Alias)
		if ft.Column != "" {
			f.WriteByte('(')
			f.ident(ft.Column)
			f.WriteByte(')')
		}
	}
	return true
}
