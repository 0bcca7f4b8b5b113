package parser

import (
	"math"
	"strconv"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Binding strength of operators, weakest first (PostgreSQL's order).
// ast.Format uses the same ladder to decide where parentheses are needed.
const (
	precOr    = 1
	precAnd   = 2
	precNot   = 3 // prefix NOT
	precCmp   = 4 // = != < > <= >= LIKE ILIKE BETWEEN IN IS
	precAdd   = 5 // + - ||
	precMul   = 6 // * / %
	precUnary = 7 // prefix + -
)

func (p *parser) parseExpr() (ast.Expr, error) { return p.parseBinary(precOr) }

// binaryPrec returns the precedence of the infix operator at t, or 0.
func (p *parser) binaryPrec(t *token) int {
	switch t.kind {
	case tkEq, tkNe, tkLt, tkGt, tkLe, tkGe, tkRegex:
		return precCmp
	case tkConcat, tkPlus, tkMinus, tkArrow, tkArrowText, tkContains:
		return precAdd
	case tkStar, tkSlash, tkPercent:
		return precMul
	case tkIdent:
		switch t.kw {
		case kwOr:
			return precOr
		case kwAnd:
			return precAnd
		case kwIs, kwLike, kwIlike, kwBetween, kwIn:
			return precCmp
		case kwNone:
			if t.isWord("operator") && p.peekN(1).kind == tkLParen {
				return precCmp
			}
		case kwNot:
			switch n := p.peekN(1); {
			case n.isKw(kwLike), n.isKw(kwIlike), n.isKw(kwBetween), n.isKw(kwIn):
				return precCmp
			}
		}
	}
	return 0
}

var binaryOps = [...]string{
	tkEq: "=", tkNe: "!=", tkLt: "<", tkGt: ">", tkLe: "<=", tkGe: ">=",
	tkConcat: "||", tkPlus: "+", tkMinus: "-", tkStar: "*", tkSlash: "/", tkPercent: "%",
	tkArrow: "->", tkArrowText: "->>", tkContains: "@>",
}

// parseBinary parses an expression whose infix operators all bind at least
// as tightly as minPrec (precedence climbing; operators are left
// associative).
func (p *parser) parseBinary(minPrec int) (ast.Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	left, err := p.parsePrefix()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		prec := p.binaryPrec(t)
		if prec == 0 || prec < minPrec {
			return left, nil
		}
		op := "AND"
		switch {
		case t.isWord("operator"):
			if op, err = p.parseOperatorName(); err != nil {
				return nil, err
			}
		case t.kind == tkIdent && t.kw != kwAnd && t.kw != kwOr:
			if left, err = p.parsePredicate(left); err != nil {
				return nil, err
			}
			continue
		case t.kind == tkIdent && t.kw == kwOr:
			p.next()
			op = "OR"
		case t.kind == tkRegex:
			p.next()
			op = t.str
		case t.kind != tkIdent:
			p.next()
			op = binaryOps[t.kind]
		default:
			p.next()
		}
		if prec == precCmp && p.quantifierAhead() {
			if left, err = p.parseQuantified(left, op); err != nil {
				return nil, err
			}
			continue
		}
		right, err := p.parseBinary(prec + 1)
		if err != nil {
			return nil, err
		}
		left = &ast.BinaryExpr{At: left.Position(), Op: op, L: left, R: right}
	}
}

// parsePredicate parses the keyword operators of the comparison level:
// IS [NOT] NULL, [NOT] LIKE/ILIKE, [NOT] BETWEEN, [NOT] IN.
func (p *parser) parsePredicate(left ast.Expr) (ast.Expr, error) {
	t := p.next()
	if t.kw == kwIs {
		not := p.acceptKw(kwNot)
		if _, err := p.expectKw(kwNull); err != nil {
			return nil, err
		}
		return &ast.IsNullExpr{At: left.Position(), X: left, Not: not}, nil
	}
	not := false
	if t.kw == kwNot {
		not = true
		t = p.next()
	}
	switch t.kw {
	case kwLike, kwIlike:
		pattern, err := p.parseBinary(precAdd)
		if err != nil {
			return nil, err
		}
		return &ast.LikeExpr{At: left.Position(), X: left, Pattern: pattern, Not: not, CaseInsensitive: t.kw == kwIlike}, nil
	case kwBetween:
		lo, err := p.parseBinary(precAdd)
		if err != nil {
			return nil, err
		}
		if _, err := p.expectKw(kwAnd); err != nil {
			return nil, err
		}
		hi, err := p.parseBinary(precAdd)
		if err != nil {
			return nil, err
		}
		return &ast.BetweenExpr{At: left.Position(), X: left, Lo: lo, Hi: hi, Not: not}, nil
	}
	// kwIn
	in := &ast.InExpr{At: left.Position(), X: left, Not: not}
	open, err := p.expect(tkLParen, "'('")
	if err != nil {
		return nil, err
	}
	if p.isKw(kwSelect) || p.isKw(kwWith) {
		if in.Subquery, err = p.parseQuery(); err != nil {
			return nil, err
		}
	} else {
		list, err := p.parseExprList()
		if err != nil {
			return nil, err
		}
		// "x IN ((SELECT ...))" and "x IN ((SELECT ...) UNION ...)" are
		// subqueries, as in PostgreSQL.
		if sq, ok := list[0].(*ast.SubqueryExpr); ok && len(list) == 1 {
			in.Subquery = sq.Subquery
			if p.queryContinues() {
				if in.Subquery, err = p.continueQuery(sq.Subquery, open); err != nil {
					return nil, err
				}
			}
		} else {
			in.List = list
		}
	}
	if _, err := p.expect(tkRParen, "')'"); err != nil {
		return nil, err
	}
	return in, nil
}

// queryContinues reports whether the current token continues a query
// (a set operator or ORDER BY / LIMIT / OFFSET).
func (p *parser) queryContinues() bool {
	return p.setOpPrec() > 0 || p.isKw(kwOrder) || p.isKw(kwLimit) || p.isKw(kwOffset)
}

func (p *parser) parseExprList() ([]ast.Expr, error) {
	var list []ast.Expr
	for {
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if !p.accept(tkComma) {
			return list, nil
		}
	}
}

// parsePrefix parses NOT x, -x, +x or a primary expression. A minus
// directly before an integer literal is part of the literal, so
// -9223372036854775808 parses; a minus before any other numeric literal is
// folded into it.
func (p *parser) parsePrefix() (ast.Expr, error) {
	t := p.peek()
	switch t.kind {
	case tkMinus:
		p.next()
		if n := p.peek(); n.kind == tkInt {
			p.next()
			v, ok := parseInt(n.str, true)
			if !ok {
				return nil, p.errCode(n, errcode.InvalidInput, "integer -%s out of range for INT64", n.str)
			}
			return p.parseCasts(&ast.Literal{At: t.at(), Value: types.NewInt(v)})
		}
		x, err := p.parseBinary(precUnary)
		if err != nil {
			return nil, err
		}
		return negate(t.at(), x), nil
	case tkPlus:
		p.next()
		x, err := p.parseBinary(precUnary)
		if err != nil {
			return nil, err
		}
		return &ast.UnaryExpr{At: t.at(), Op: "+", X: x}, nil
	case tkIdent:
		if t.kw == kwNot {
			p.next()
			x, err := p.parseBinary(precNot)
			if err != nil {
				return nil, err
			}
			return &ast.UnaryExpr{At: t.at(), Op: "NOT", X: x}, nil
		}
	}
	x, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	return p.parseCasts(x)
}

// negate folds a minus into a numeric literal when the result is exact.
func negate(at ast.Pos, x ast.Expr) ast.Expr {
	if lit, ok := x.(*ast.Literal); ok {
		switch v := lit.Value; v.Kind {
		case types.Int64:
			if v.Int != math.MinInt64 {
				return &ast.Literal{At: at, Value: types.NewInt(-v.Int)}
			}
		case types.Float64:
			return &ast.Literal{At: at, Value: types.NewFloat(-v.Float)}
		}
	}
	return &ast.UnaryExpr{At: at, Op: "-", X: x}
}

// parseInt converts decimal digits to an int64, negated when neg;
// ok=false when the value is outside INT64.
func parseInt(digits string, neg bool) (int64, bool) {
	var u uint64
	for i := 0; i < len(digits); i++ {
		d := uint64(digits[i] - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true // -(1<<63) wraps to MinInt64, as wanted
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

func (p *parser) parsePrimary() (ast.Expr, error) {
	t := p.peek()
	switch t.kind {
	case tkInt:
		p.next()
		v, ok := parseInt(t.str, false)
		if !ok {
			return nil, p.errCode(t, errcode.InvalidInput, "integer %s out of range for INT64", t.str)
		}
		return &ast.Literal{At: t.at(), Value: types.NewInt(v)}, nil
	case tkFloat:
		p.next()
		f, err := strconv.ParseFloat(t.str, 64)
		if err != nil { // only ErrRange: the lexer vouches for the syntax; underflow gives 0
			return nil, p.errCode(t, errcode.InvalidInput, "number %s out of range for FLOAT64", t.str)
		}
		return &ast.Literal{At: t.at(), Value: types.NewFloat(f)}, nil
	case tkString:
		p.next()
		return &ast.Literal{At: t.at(), Value: types.NewString(t.str)}, nil
	case tkParam:
		p.next()
		return &ast.Param{At: t.at(), Name: t.str}, nil
	case tkLParen:
		return p.parseParenExpr()
	case tkIdent:
		return p.parseWordExpr()
	}
	return nil, p.errExpected("an expression")
}

func (p *parser) parseParenExpr() (ast.Expr, error) {
	open := p.next()
	if p.isKw(kwSelect) || p.isKw(kwWith) {
		q, err := p.parseQuery()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
		return &ast.SubqueryExpr{At: open.at(), Subquery: q}, nil
	}
	e, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if sq, ok := e.(*ast.SubqueryExpr); ok && p.queryContinues() {
		// "((SELECT 1) UNION (SELECT 2))": the first operand was read as
		// a scalar subquery; carry on with the query.
		q, err := p.continueQuery(sq.Subquery, open)
		if err != nil {
			return nil, err
		}
		e = &ast.SubqueryExpr{At: open.at(), Subquery: q}
	}
	if _, err := p.expect(tkRParen, "')'"); err != nil {
		return nil, err
	}
	return e, nil
}

// parseWordExpr parses an expression starting with a word: a keyword
// literal, CASE, CAST, EXISTS, a function call or a column reference.
func (p *parser) parseWordExpr() (ast.Expr, error) {
	t := p.peek()
	switch t.kw {
	case kwNull:
		p.next()
		return &ast.Literal{At: t.at(), Value: types.NullValue}, nil
	case kwTrue, kwFalse:
		p.next()
		return &ast.Literal{At: t.at(), Value: types.NewBool(t.kw == kwTrue)}, nil
	case kwCase:
		return p.parseCase()
	case kwCast:
		return p.parseCast()
	case kwExists:
		p.next()
		if _, err := p.expect(tkLParen, "'('"); err != nil {
			return nil, err
		}
		q, err := p.parseQuery()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
		return &ast.ExistsExpr{At: t.at(), Subquery: q}, nil
	}
	if p.arrayAhead() {
		return p.parseArrayExpr()
	}
	// pg_catalog.f(...) is f(...): the built-in functions are PostgreSQL's
	// pg_catalog schema (drivers write pg_catalog.version()).
	if t.isWord("pg_catalog") && p.peekN(1).kind == tkDot && p.peekN(2).kind == tkIdent && p.peekN(3).kind == tkLParen {
		p.pos += 2
		t = p.peek()
	}
	// Typed literals: DATE '2024-01-02', TIMESTAMP '...', INTERVAL '1 day'
	// are casts of the string.
	if t.kind == tkIdent && !t.quoted && p.peekN(1).kind == tkString {
		switch t.str {
		case "date", "timestamp", "timestamptz", "interval", "bytea":
			typ, _ := types.ParseType(t.str)
			p.next()
			lit := p.next()
			return &ast.CastExpr{At: t.at(), X: &ast.Literal{At: lit.at(), Value: types.NewString(lit.str)}, Type: typ}, nil
		}
	}
	// EXTRACT(field FROM x) is date_part('field', x).
	if t.isWord("extract") && p.peekN(1).kind == tkLParen && p.peekN(3).isKw(kwFrom) &&
		(p.peekN(2).kind == tkIdent || p.peekN(2).kind == tkString) {
		p.pos += 2
		field := p.next()
		p.next() // FROM
		x, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
		return &ast.FuncCall{At: t.at(), Name: "date_part", Args: []ast.Expr{
			&ast.Literal{At: field.at(), Value: types.NewString(field.str)}, x}}, nil
	}
	// LEFT is reserved (LEFT JOIN) but is also a string function.
	if p.peekN(1).kind == tkLParen && (t.isIdent() || t.kw == kwLeft) {
		return p.parseFuncCall()
	}
	if !t.isIdent() {
		return nil, p.errExpected("an expression")
	}
	p.next()
	if dot := p.peek(); dot.kind == tkDot {
		p.next()
		// Directly after "t." any word is a column name, reserved or not
		// ("t.from"); after "t. " only a name that could stand alone.
		c := p.peek()
		if c.kind != tkIdent || !c.isIdent() && c.off != dot.end {
			return nil, p.errExpected("column name")
		}
		p.next()
		return &ast.ColumnRef{At: t.at(), Table: t.str, Column: c.str}, nil
	}
	return &ast.ColumnRef{At: t.at(), Column: t.str}, nil
}

func (p *parser) parseFuncCall() (ast.Expr, error) {
	t := p.next()
	p.next() // (
	fc := &ast.FuncCall{At: t.at(), Name: t.str}
	if p.accept(tkStar) {
		fc.Star = true
	} else if p.peek().kind != tkRParen {
		if p.acceptKw(kwDistinct) {
			fc.Distinct = true
		}
		args, err := p.parseExprList()
		if err != nil {
			return nil, err
		}
		fc.Args = args
	}
	if _, err := p.expect(tkRParen, "')'"); err != nil {
		return nil, err
	}
	return fc, nil
}

func (p *parser) parseCase() (ast.Expr, error) {
	t := p.next()
	c := &ast.CaseExpr{At: t.at()}
	var err error
	if !p.isKw(kwWhen) {
		if c.Operand, err = p.parseExpr(); err != nil {
			return nil, err
		}
	}
	for p.acceptKw(kwWhen) {
		var w ast.When
		if w.Cond, err = p.parseExpr(); err != nil {
			return nil, err
		}
		if _, err := p.expectKw(kwThen); err != nil {
			return nil, err
		}
		if w.Result, err = p.parseExpr(); err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		return nil, p.errExpected("WHEN")
	}
	if p.acceptKw(kwElse) {
		if c.Else, err = p.parseExpr(); err != nil {
			return nil, err
		}
	}
	if _, err := p.expectKw(kwEnd); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) parseCast() (ast.Expr, error) {
	t := p.next()
	if _, err := p.expect(tkLParen, "'('"); err != nil {
		return nil, err
	}
	x, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if _, err := p.expectKw(kwAs); err != nil {
		return nil, err
	}
	typ, _, err := p.parseType()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tkRParen, "')'"); err != nil {
		return nil, err
	}
	return &ast.CastExpr{At: t.at(), X: x, Type: typ}, nil
}
