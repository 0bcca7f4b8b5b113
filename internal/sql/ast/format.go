package ast

import (
	"math"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// Format renders n as SQL text that sql/parser parses back to an equal tree
// (positions aside). Keywords and function names are upper case,
// identifiers are quoted with backticks only when needed, and parentheses
// are added only where operator precedence requires them.
func Format(n Node) string {
	var f formatter
	f.node(n)
	return f.String()
}

// FormatExpr renders an expression; it is the "expression text" used as a
// result column name (e.g. "COUNT(*)", "a + 1").
func FormatExpr(e Expr) string {
	var f formatter
	f.expr(e, 0)
	return f.String()
}

// IsReserved reports whether word (lower case) is a reserved keyword: it
// cannot be used as a bare identifier and Format quotes it. This is the
// single list the parser uses as well.
func IsReserved(word string) bool {
	switch word {
	case "all", "and", "as", "asc", "between", "by", "case", "cast", "create",
		"cross", "default", "desc", "distinct", "else", "end", "except",
		"exists", "false", "from", "group", "having", "ilike", "in", "inner",
		"intersect", "is", "join", "left", "like", "limit", "not", "null",
		"offset", "on", "or", "order", "outer", "primary", "select", "set",
		"table", "then", "true", "union", "unique", "when", "where", "with":
		return true
	}
	return false
}

// Precedence ladder shared with the parser, weakest first.
const (
	precOr    = 1
	precAnd   = 2
	precNot   = 3
	precCmp   = 4
	precAdd   = 5
	precMul   = 6
	precUnary = 7
	precAtom  = 8
)

func binaryPrec(op string) int {
	switch op {
	case "OR":
		return precOr
	case "AND":
		return precAnd
	case "+", "-", "||", "->", "->>", "@>":
		return precAdd
	case "*", "/", "%":
		return precMul
	}
	return precCmp
}

func exprPrec(e Expr) int {
	switch e := e.(type) {
	case *BinaryExpr:
		return binaryPrec(e.Op)
	case *UnaryExpr:
		if e.Op == "NOT" {
			return precNot
		}
		return precUnary
	case *LikeExpr, *BetweenExpr, *IsNullExpr, *InExpr, *AnyExpr:
		return precCmp
	case *Literal:
		if isNegative(e.Value) {
			return precUnary
		}
	}
	return precAtom
}

func isNegative(v types.Value) bool {
	switch v.Kind {
	case types.Int64:
		return v.Int < 0
	case types.Float64:
		return math.Signbit(v.Float) && !math.IsNaN(v.Float)
	}
	return false
}

// startsWithMinus reports whether e renders with a leading '-' (so another
// '-' before it must be separated: "--" starts a comment).
func startsWithMinus(e Expr) bool {
	switch e := e.(type) {
	case *Literal:
		return isNegative(e.Value)
	case *UnaryExpr:
		return e.Op == "-"
	}
	return false
}

type formatter struct{ strings.Builder }

func (f *formatter) node(n Node) {
	switch n := n.(type) {
	case nil:
		return
	case Expr:
		f.expr(n, 0)
	case *Select:
		f.query(n)
	case TableExpr:
		f.tableExpr(n)
	case Statement:
		f.statement(n)
	default:
		f.WriteString("<unknown node>")
	}
}

// ---------------------------------------------------------------- expressions

// expr writes e, in parentheses when it binds more loosely than minPrec.
func (f *formatter) expr(e Expr, minPrec int) {
	if e == nil {
		f.WriteString("<nil>")
		return
	}
	if exprPrec(e) < minPrec {
		f.WriteByte('(')
		f.expr(e, 0)
		f.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *Literal:
		f.literal(e.Value)
	case *ColumnRef:
		if e.Table != "" {
			f.ident(e.Table)
			f.WriteByte('.')
		}
		f.ident(e.Column)
	case *Param:
		if isDigits(e.Name) {
			f.WriteByte('$')
		} else {
			f.WriteByte('@')
		}
		f.WriteString(e.Name)
	case *UnaryExpr:
		if e.Op == "NOT" {
			f.WriteString("NOT ")
			f.expr(e.X, precNot)
			return
		}
		f.WriteString(e.Op)
		if e.Op == "-" && startsWithMinus(e.X) {
			f.WriteByte(' ')
		}
		f.expr(e.X, precUnary)
	case *BinaryExpr:
		p := binaryPrec(e.Op)
		f.expr(e.L, p)
		f.WriteByte(' ')
		f.WriteString(e.Op)
		f.WriteByte(' ')
		f.expr(e.R, p+1)
	case *LikeExpr:
		f.expr(e.X, precCmp)
		if e.Not {
			f.WriteString(" NOT")
		}
		if e.CaseInsensitive {
			f.WriteString(" ILIKE ")
		} else {
			f.WriteString(" LIKE ")
		}
		f.expr(e.Pattern, precAdd)
	case *BetweenExpr:
		f.expr(e.X, precCmp)
		if e.Not {
			f.WriteString(" NOT")
		}
		f.WriteString(" BETWEEN ")
		f.expr(e.Lo, precAdd)
		f.WriteString(" AND ")
		f.expr(e.Hi, precAdd)
	case *IsNullExpr:
		f.expr(e.X, precCmp)
		if e.Not {
			f.WriteString(" IS NOT NULL")
		} else {
			f.WriteString(" IS NULL")
		}
	case *InExpr:
		f.expr(e.X, precCmp)
		if e.Not {
			f.WriteString(" NOT")
		}
		f.WriteString(" IN (")
		if e.Subquery != nil {
			f.query(e.Subquery)
		} else {
			f.exprList(e.List)
		}
		f.WriteByte(')')
	case *ExistsExpr:
		f.WriteString("EXISTS (")
		f.query(e.Subquery)
		f.WriteByte(')')
	case *SubqueryExpr:
		f.WriteByte('(')
		f.query(e.Subquery)
		f.WriteByte(')')
	case *FuncCall:
		f.funcName(e.Name)
		f.WriteByte('(')
		switch {
		case e.Star:
			f.WriteByte('*')
		default:
			if e.Distinct {
				f.WriteString("DISTINCT ")
			}
			f.exprList(e.Args)
		}
		f.WriteByte(')')
	case *CaseExpr:
		f.WriteString("CASE")
		if e.Operand != nil {
			f.WriteByte(' ')
			f.expr(e.Operand, 0)
		}
		for _, w := range e.Whens {
			f.WriteString(" WHEN ")
			f.expr(w.Cond, 0)
			f.WriteString(" THEN ")
			f.expr(w.Result, 0)
		}
		if e.Else != nil {
			f.WriteString(" ELSE ")
			f.expr(e.Else, 0)
		}
		f.WriteString(" END")
	case *CastExpr:
		f.WriteString("CAST(")
		f.expr(e.X, 0)
		f.WriteString(" AS ")
		f.WriteString(e.Type.String())
		f.WriteByte(')')
	case *DefaultExpr:
		f.WriteString("DEFAULT")
	default:
		if !f.pgExpr(e) {
			f.WriteString("<unknown expression>")
		}
	}
}

func (f *formatter) exprList(list []Expr) {
	for i, e := range list {
		if i > 0 {
			f.WriteString(", ")
		}
		f.expr(e, 0)
	}
}

func (f *formatter) literal(v types.Value) {
	switch v.Kind {
	case types.Null:
		f.WriteString("NULL")
	case types.Bool:
		if v.Bool {
			f.WriteString("TRUE")
		} else {
			f.WriteString("FALSE")
		}
	case types.Int64:
		var buf [24]byte
		f.Write(strconv.AppendInt(buf[:0], v.Int, 10))
	case types.Float64:
		f.float(v.Float)
	case types.String:
		f.quoteString(v.Str)
	case types.OID:
		f.WriteString("STR_ID('")
		f.WriteString(v.OIDHex())
		f.WriteString("')")
	default:
		f.WriteString("NULL")
	}
}

// float writes a FLOAT64 literal that re-parses to the same bits and as a
// float (never as an integer).
func (f *formatter) float(x float64) {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		// No literal syntax; the parser never produces these.
		f.WriteString("CAST('")
		f.WriteString(types.FormatFloat(x))
		f.WriteString("' AS FLOAT64)")
		return
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], x, 'g', -1, 64)
	f.Write(b)
	for _, c := range b {
		if c == '.' || c == 'e' {
			return
		}
	}
	f.WriteString(".0")
}

// quoteString writes s as a single-quoted literal: quote doubled,
// backslash and NUL escaped, everything else verbatim.
func (f *formatter) quoteString(s string) {
	f.WriteByte('\'')
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '\'':
			esc = "''"
		case '\\':
			esc = `\\`
		case 0:
			esc = `\0`
		default:
			continue
		}
		f.WriteString(s[start:i])
		f.WriteString(esc)
		start = i + 1
	}
	f.WriteString(s[start:])
	f.WriteByte('\'')
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isBareIdent reports whether s can be written without backticks.
func isBareIdent(s string) bool {
	if s == "" || IsReserved(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// ident writes an identifier, in backticks when needed.
func (f *formatter) ident(s string) {
	if isBareIdent(s) {
		f.WriteString(s)
		return
	}
	f.WriteByte('`')
	f.WriteString(strings.ReplaceAll(s, "`", "``"))
	f.WriteByte('`')
}

// funcName writes a function name in upper case (LEFT is allowed although
// reserved: it is only a keyword outside a call).
func (f *formatter) funcName(s string) {
	if !isBareIdent(s) && s != "left" {
		f.ident(s)
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		f.WriteByte(c)
	}
}

// alias writes an output alias: an identifier when that keeps it intact,
// else a string literal (AS 'Total' keeps its case).
func (f *formatter) alias(s string) {
	if s != strings.ToLower(s) {
		f.quoteString(s)
		return
	}
	f.ident(s)
}

// ---------------------------------------------------------------- queries

func setOpPrec(op string) int {
	if op == "INTERSECT" {
		return 2
	}
	return 1
}

func (f *formatter) query(s *Select) {
	if s == nil {
		f.WriteString("<nil>")
		return
	}
	if len(s.With) > 0 {
		f.WriteString("WITH ")
		for i, cte := range s.With {
			if i > 0 {
				f.WriteString(", ")
			}
			f.ident(cte.Name)
			f.WriteString(" AS (")
			f.query(cte.Query)
			f.WriteByte(')')
		}
		f.WriteByte(' ')
	}
	if s.SetOp != "" {
		p := setOpPrec(s.SetOp)
		f.setOperand(s.Left, p, false)
		f.WriteByte(' ')
		f.WriteString(s.SetOp)
		f.WriteByte(' ')
		f.setOperand(s.Right, p, true)
	} else {
		f.simpleSelect(s)
	}
	if len(s.OrderBy) > 0 {
		f.WriteString(" ORDER BY ")
		for i, o := range s.OrderBy {
			if i > 0 {
				f.WriteString(", ")
			}
			f.expr(o.Expr, 0)
			if o.Desc {
				f.WriteString(" DESC")
			}
			if o.Nulls != "" {
				f.WriteString(" NULLS ")
				f.WriteString(o.Nulls)
			}
		}
	}
	if s.Limit != nil {
		f.WriteString(" LIMIT ")
		f.expr(s.Limit, 0)
	}
	if s.Offset != nil {
		f.WriteString(" OFFSET ")
		f.expr(s.Offset, 0)
	}
}

// setOperand writes one side of a set operation, parenthesised when it
// carries its own WITH/ORDER BY/LIMIT/OFFSET or binds more loosely.
func (f *formatter) setOperand(q *Select, parentPrec int, right bool) {
	paren := q != nil && (len(q.With) > 0 || len(q.OrderBy) > 0 || q.Limit != nil || q.Offset != nil)
	if q != nil && q.SetOp != "" {
		p := setOpPrec(q.SetOp)
		if p < parentPrec || right && p == parentPrec {
			paren = true
		}
	}
	if paren {
		f.WriteByte('(')
		f.query(q)
		f.WriteByte(')')
		return
	}
	f.query(q)
}

func (f *formatter) simpleSelect(s *Select) {
	f.WriteString("SELECT ")
	if s.Distinct {
		f.WriteString("DISTINCT ")
	}
	f.selectItems(s.Items)
	if len(s.From) > 0 {
		f.WriteString(" FROM ")
		for i, te := range s.From {
			if i > 0 {
				f.WriteString(", ")
			}
			f.tableExpr(te)
		}
	}
	if s.Where != nil {
		f.WriteString(" WHERE ")
		f.expr(s.Where, 0)
	}
	if len(s.GroupBy) > 0 {
		f.WriteString(" GROUP BY ")
		f.exprList(s.GroupBy)
	}
	if s.Having != nil {
		f.WriteString(" HAVING ")
		f.expr(s.Having, 0)
	}
}

func (f *formatter) tableExpr(te TableExpr) {
	switch te := te.(type) {
	case *TableName:
		f.ident(te.Name)
		if te.Alias != "" {
			f.WriteString(" AS ")
			f.ident(te.Alias)
		}
		if te.ForceIndex != "" {
			f.WriteString(" @{FORCE_INDEX=")
			f.ident(te.ForceIndex)
			f.WriteByte('}')
		}
	case *DerivedTable:
		f.WriteByte('(')
		f.query(te.Subquery)
		f.WriteByte(')')
		if te.Alias != "" {
			f.WriteString(" AS ")
			f.ident(te.Alias)
		}
	case *Join:
		f.tableExpr(te.Left)
		switch {
		case te.Kind == "LEFT":
			f.WriteString(" LEFT JOIN ")
		case te.On == nil && len(te.Using) == 0:
			f.WriteString(" CROSS JOIN ")
		default:
			f.WriteString(" JOIN ")
		}
		if _, nested := te.Right.(*Join); nested {
			f.WriteByte('(')
			f.tableExpr(te.Right)
			f.WriteByte(')')
		} else {
			f.tableExpr(te.Right)
		}
		if len(te.Using) > 0 {
			f.WriteString(" USING (")
			for i, c := range te.Using {
				if i > 0 {
					f.WriteString(", ")
				}
				f.ident(c)
			}
			f.WriteByte(')')
		} else if te.On != nil {
			f.WriteString(" ON ")
			f.expr(te.On, 0)
		} else if te.Kind == "LEFT" {
			f.WriteString(" ON TRUE")
		}
	case nil:
		f.WriteString("<nil>")
	default:
		if !f.pgTableExpr(te) {
			f.WriteString("<unknown table expression>")
		}
	}
}

// ---------------------------------------------------------------- statements

func (f *formatter) statement(s Statement) {
	switch s := s.(type) {
	case *SelectStmt:
		f.query(s.Select)
		if l := s.Locking; l != nil {
			f.WriteString(" FOR " + l.Strength)
			for i, t := range l.Of {
				if i == 0 {
					f.WriteString(" OF ")
				} else {
					f.WriteString(", ")
				}
				f.ident(t)
			}
		}
	case *Insert:
		f.WriteString("INSERT INTO ")
		f.ident(s.Table)
		if s.Columns != nil {
			f.WriteString(" (")
			for i, c := range s.Columns {
				if i > 0 {
					f.WriteString(", ")
				}
				f.ident(c)
			}
			f.WriteByte(')')
		}
		if s.Overriding != "" {
			f.WriteString(" OVERRIDING " + s.Overriding + " VALUE")
		}
		if s.Select != nil {
			f.WriteByte(' ')
			f.query(s.Select)
		} else {
			f.WriteString(" VALUES ")
			for i, row := range s.Rows {
				if i > 0 {
					f.WriteString(", ")
				}
				f.WriteByte('(')
				f.exprList(row)
				f.WriteByte(')')
			}
		}
		f.insertTail(s)
	case *Update:
		f.WriteString("UPDATE ")
		f.ident(s.Table)
		if s.Alias != "" {
			f.WriteString(" AS ")
			f.ident(s.Alias)
		}
		f.WriteString(" SET ")
		for i, a := range s.Set {
			if i > 0 {
				f.WriteString(", ")
			}
			f.ident(a.Column)
			f.WriteString(" = ")
			f.expr(a.Value, 0)
		}
		if s.Where != nil {
			f.WriteString(" WHERE ")
			f.expr(s.Where, 0)
		}
		f.returning(s.Returning)
	case *Delete:
		f.WriteString("DELETE FROM ")
		f.ident(s.Table)
		if s.Alias != "" {
			f.WriteString(" AS ")
			f.ident(s.Alias)
		}
		if s.Where != nil {
			f.WriteString(" WHERE ")
			f.expr(s.Where, 0)
		}
		f.returning(s.Returning)
	case *CreateDatabase:
		f.WriteString("CREATE DATABASE ")
		if s.IfNotExists {
			f.WriteString("IF NOT EXISTS ")
		}
		f.ident(s.Name)
	case *DropDatabase:
		f.WriteString("DROP DATABASE ")
		if s.IfExists {
			f.WriteString("IF EXISTS ")
		}
		f.ident(s.Name)
	case *RenameDatabase:
		f.WriteString("RENAME DATABASE ")
		f.ident(s.Old)
		f.WriteString(" TO ")
		f.ident(s.New)
	case *CreateTable:
		f.WriteString("CREATE TABLE ")
		if s.IfNotExists {
			f.WriteString("IF NOT EXISTS ")
		}
		f.ident(s.Name)
		if s.AsQuery != nil {
			if len(s.AsColumns) > 0 {
				f.WriteString(" (")
				for i, c := range s.AsColumns {
					if i > 0 {
						f.WriteString(", ")
					}
					f.ident(c)
				}
				f.WriteByte(')')
			}
			f.WriteString(" AS ")
			f.query(s.AsQuery)
			if s.NoData {
				f.WriteString(" WITH NO DATA")
			}
			return
		}
		f.WriteString(" (")
		for i := range s.Columns {
			if i > 0 {
				f.WriteString(", ")
			}
			f.columnDef(&s.Columns[i])
		}
		for i := range s.Indexes {
			if i > 0 || len(s.Columns) > 0 {
				f.WriteString(", ")
			}
			f.indexDef(&s.Indexes[i])
		}
		for i := range s.Checks {
			if i > 0 || len(s.Columns)+len(s.Indexes) > 0 {
				f.WriteString(", ")
			}
			f.checkDef(&s.Checks[i])
		}
		f.WriteByte(')')
	case *DropTable:
		f.drop("TABLE", s.IfExists, s.Names, s.Behavior)
	case *AlterTable:
		f.WriteString("ALTER TABLE ")
		f.ident(s.Table)
		f.WriteByte(' ')
		f.alterAction(s)
	case *CreateIndex:
		f.WriteString("CREATE ")
		if s.Index.Unique {
			f.WriteString("UNIQUE ")
		}
		f.WriteString("INDEX ")
		if s.IfNotExists {
			f.WriteString("IF NOT EXISTS ")
		}
		f.ident(s.Index.Name)
		f.WriteString(" ON ")
		f.ident(s.Table)
		f.WriteByte(' ')
		f.indexColumns(s.Index.Columns)
	case *DropIndex:
		f.WriteString("DROP INDEX ")
		if s.IfExists {
			f.WriteString("IF EXISTS ")
		}
		f.ident(s.Name)
		f.WriteString(" ON ")
		f.ident(s.Table)
	case *Explain:
		f.WriteString("EXPLAIN ")
		if s.Option != "" {
			f.WriteByte('(')
			f.WriteString(s.Option)
			f.WriteString(") ")
		}
		f.query(s.Query)
	case *Begin:
		f.WriteString("BEGIN")
	case *Commit:
		f.WriteString("COMMIT")
	case *Rollback:
		f.WriteString("ROLLBACK")
	case *Use:
		f.WriteString("USE ")
		f.ident(s.Name)
	case *CancelQuery:
		f.WriteString("CANCEL QUERY ")
		f.expr(s.ID, 0)
	case *ShowJobs:
		if s.ID == nil {
			f.WriteString("SHOW JOBS")
		} else {
			f.WriteString("SHOW JOB ")
			f.expr(s.ID, 0)
		}
	case *ControlJob:
		f.WriteString(s.Action + " JOB ")
		f.expr(s.ID, 0)
	case *Show:
		f.WriteString("SHOW ")
		switch s.What {
		case "COLUMNS", "INDEXES", "CREATE TABLE":
			f.WriteString(s.What)
			if s.What == "CREATE TABLE" {
				f.WriteByte(' ')
			} else {
				f.WriteString(" FROM ")
			}
			f.ident(s.Table)
		default:
			f.WriteString(s.What)
		}
	default:
		if !f.otherStatement(s) && !f.authStatement(s) && !f.sessionStatement(s) && !f.viewStatement(s) && !f.sequenceStatement(s) {
			f.WriteString("<unknown statement>")
		}
	}
}

func (f *formatter) alterAction(s *AlterTable) {
	switch s.Action {
	case "ADD COLUMN":
		f.WriteString("ADD COLUMN ")
		if s.Column != nil {
			f.columnDef(s.Column)
		}
	case "DROP COLUMN":
		f.WriteString("DROP COLUMN ")
		f.ident(s.Name)
	case "RENAME TO":
		f.WriteString("RENAME TO ")
		f.ident(s.NewName)
	case "RENAME COLUMN":
		f.WriteString("RENAME COLUMN ")
		f.ident(s.Name)
		f.WriteString(" TO ")
		f.ident(s.NewName)
	case "ADD PRIMARY KEY":
		f.WriteString("ADD PRIMARY KEY ")
		if s.Index != nil {
			f.indexColumns(s.Index.Columns)
		}
	case "DROP PRIMARY KEY":
		f.WriteString("DROP PRIMARY KEY")
	case "ADD INDEX":
		f.WriteString("ADD ")
		if s.Index != nil {
			f.indexDef(s.Index)
		}
	case "DROP INDEX":
		f.WriteString("DROP INDEX ")
		f.ident(s.Name)
	case "ADD CHECK":
		f.WriteString("ADD ")
		if s.Check != nil {
			f.checkDef(s.Check)
		}
	case "DROP CONSTRAINT":
		f.WriteString("DROP CONSTRAINT ")
		f.ident(s.Name)
	case "SET DEFAULT", "DROP DEFAULT", "SET NOT NULL", "DROP NOT NULL":
		f.WriteString("ALTER COLUMN ")
		f.ident(s.Name)
		f.WriteString(" " + s.Action)
		if s.Action == "SET DEFAULT" && s.Default != nil {
			f.WriteByte(' ')
			f.expr(s.Default, precAdd)
		}
	case "ALTER TYPE":
		f.WriteString("ALTER COLUMN ")
		f.ident(s.Name)
		if s.Column != nil {
			f.WriteString(" TYPE " + s.Column.TypeText)
		}
	default:
		f.WriteString(s.Action)
	}
}

func (f *formatter) checkDef(c *CheckDef) {
	if c.Name != "" {
		f.WriteString("CONSTRAINT ")
		f.ident(c.Name)
		f.WriteByte(' ')
	}
	f.WriteString("CHECK (")
	f.expr(c.Expr, 0)
	f.WriteByte(')')
}

func (f *formatter) columnDef(c *ColumnDef) {
	f.ident(c.Name)
	f.WriteByte(' ')
	if c.TypeText != "" {
		f.WriteString(c.TypeText)
	} else {
		f.WriteString(c.Type.String())
	}
	if c.PrimaryKey {
		f.WriteString(" PRIMARY KEY")
	}
	if c.Unique {
		f.WriteString(" UNIQUE")
	}
	for i := range c.Checks {
		f.WriteByte(' ')
		f.checkDef(&c.Checks[i])
	}
	if c.NotNull {
		f.WriteString(" NOT NULL")
	}
	if c.Null {
		f.WriteString(" NULL")
	}
	if c.Default != nil {
		f.WriteString(" DEFAULT ")
		f.expr(c.Default, precAdd)
	}
	if c.Identity != "" {
		f.WriteString(" GENERATED " + c.Identity + " AS IDENTITY")
		if len(c.IdentityOptions) > 0 {
			f.WriteString(" (")
			f.WriteString(strings.TrimPrefix(FormatSequenceOptions(c.IdentityOptions), " "))
			f.WriteByte(')')
		}
	}
}

// indexDef writes PRIMARY KEY (...), UNIQUE INDEX [name] (...) or
// INDEX [name] (...).
func (f *formatter) indexDef(d *IndexDef) {
	switch {
	case d.Primary:
		f.WriteString("PRIMARY KEY ")
	case d.Unique:
		f.WriteString("UNIQUE INDEX ")
	default:
		f.WriteString("INDEX ")
	}
	if !d.Primary && d.Name != "" {
		f.ident(d.Name)
		f.WriteByte(' ')
	}
	f.indexColumns(d.Columns)
}

func (f *formatter) indexColumns(cols []IndexColumn) {
	f.WriteByte('(')
	for i, c := range cols {
		if i > 0 {
			f.WriteString(", ")
		}
		f.ident(c.Column)
		if c.Desc {
			f.WriteString(" DESC")
		}
	}
	f.WriteByte(')')
}

func (f *formatter) selectItems(items []SelectItem) {
	for i, it := range items {
		if i > 0 {
			f.WriteString(", ")
		}
		switch {
		case it.Star && it.StarTable != "":
			f.ident(it.StarTable)
			f.WriteString(".*")
		case it.Star:
			f.WriteByte('*')
		default:
			f.expr(it.Expr, 0)
			if it.Alias != "" {
				f.WriteString(" AS ")
				f.alias(it.Alias)
			}
		}
	}
}
