package parser

import (
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// PostgreSQL syntax that clients' catalog queries use (psql's \d family,
// drivers' introspection): OPERATOR(schema.op), x op ANY/ALL (...),
// ARRAY(SELECT ...) and ARRAY[...], subscripts, COLLATE, casts to the reg*
// types and to array types, schema-qualified tables and set-returning
// functions in FROM.

// parseOperatorName parses OPERATOR([schema.]op) and returns op.
func (p *parser) parseOperatorName() (string, error) {
	p.next() // OPERATOR
	p.next() // (
	if t := p.peek(); t.kind == tkIdent && p.peekN(1).kind == tkDot {
		p.pos += 2
	}
	t := p.next()
	var op string
	switch t.kind {
	case tkRegex:
		op = t.str
	case tkEq, tkNe, tkLt, tkGt, tkLe, tkGe, tkConcat, tkPlus, tkMinus, tkStar, tkSlash, tkPercent:
		op = binaryOps[t.kind]
	default:
		return "", p.errAt(t, "expected an operator")
	}
	if _, err := p.expect(tkRParen, "')'"); err != nil {
		return "", err
	}
	return op, nil
}

// quantifierAhead reports whether ANY (, SOME ( or ALL ( follows.
func (p *parser) quantifierAhead() bool {
	t := p.peek()
	return (t.isWord("any") || t.isWord("some") || t.isKw(kwAll)) && p.peekN(1).kind == tkLParen
}

// parseQuantified parses the ANY/ALL (...) right side of left op.
func (p *parser) parseQuantified(left ast.Expr, op string) (ast.Expr, error) {
	q := p.next()
	all := q.isKw(kwAll)
	p.next() // (
	var out ast.Expr
	if p.startsQuery(0) {
		sub, err := p.parseQuery()
		if err != nil {
			return nil, err
		}
		switch {
		case op == "=" && !all:
			out = &ast.InExpr{At: left.Position(), X: left, Subquery: sub}
		case op == "!=" && all:
			out = &ast.InExpr{At: left.Position(), X: left, Subquery: sub, Not: true}
		default:
			return nil, p.errCode(q, errcode.Unsupported, "%s %s (subquery) is not supported; only = ANY and <> ALL", op, upper(q.str))
		}
	} else {
		arr, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		out = &ast.AnyExpr{At: left.Position(), X: left, Op: op, Array: arr, All: all}
	}
	if _, err := p.expect(tkRParen, "')'"); err != nil {
		return nil, err
	}
	return out, nil
}

// parseArrayExpr parses ARRAY(SELECT ...) or ARRAY[e, ...]; the word ARRAY
// is the current token.
func (p *parser) parseArrayExpr() (ast.Expr, error) {
	t := p.next()
	if p.accept(tkLBracket) {
		a := &ast.ArrayExpr{At: t.at(), Elems: []ast.Expr{}}
		if !p.accept(tkRBracket) {
			elems, err := p.parseExprList()
			if err != nil {
				return nil, err
			}
			a.Elems = elems
			if _, err := p.expect(tkRBracket, "']'"); err != nil {
				return nil, err
			}
		}
		return a, nil
	}
	p.next() // (
	q, err := p.parseQuery()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tkRParen, "')'"); err != nil {
		return nil, err
	}
	return &ast.ArrayExpr{At: t.at(), Subquery: q}, nil
}

// arrayAhead reports whether the current word starts ARRAY(SELECT ...) or
// ARRAY[.
func (p *parser) arrayAhead() bool {
	if !p.peek().isWord("array") {
		return false
	}
	n := p.peekN(1)
	return n.kind == tkLBracket || n.kind == tkLParen && p.startsQuery(1)
}

// regTypes are the object-identifier types a cast turns into a lookup by
// the function of the same name (pg_catalog's regclass etc.).
var regTypes = map[string]bool{"regclass": true, "regtype": true, "regnamespace": true, "regproc": true, "regrole": true, "regprocedure": true}

// pgPostfix parses one PostgreSQL postfix form after x, if any: a
// subscript x[i] (the function array_subscript), COLLATE name, or a cast
// that parseType does not handle (schema-qualified, to a reg* type or to
// an array type). ok=false when none follows.
func (p *parser) pgPostfix(x ast.Expr) (out ast.Expr, ok bool, err error) {
	t := p.peek()
	switch {
	case t.kind == tkLBracket:
		p.next()
		i, err := p.parseExpr()
		if err != nil {
			return nil, false, err
		}
		if _, err := p.expect(tkRBracket, "']'"); err != nil {
			return nil, false, err
		}
		return &ast.FuncCall{At: t.at(), Name: "array_subscript", Args: []ast.Expr{x, i}}, true, nil
	case t.isWord("collate"):
		p.next()
		name := p.next()
		if name.kind == tkIdent && p.peek().kind == tkDot {
			p.next()
			name = p.next()
		}
		if name.kind != tkIdent && name.kind != tkString {
			return nil, false, p.errAt(name, "expected a collation name")
		}
		switch strings.ToLower(name.str) {
		case "default", "c", "posix", "ucs_basic":
			// Strings compare by their bytes: the C collation.
			return x, true, nil
		}
		return nil, false, p.errCode(name, errcode.Unsupported, "collation %q is not supported (strings compare by bytes, as COLLATE \"C\")", name.str)
	case t.kind != tkDoubleColon:
		return nil, false, nil
	}
	n := 1
	if q := p.peekN(1); q.isWord("pg_catalog") && p.peekN(2).kind == tkDot {
		n = 3
	}
	name := p.peekN(n)
	if name.kind != tkIdent {
		return nil, false, nil
	}
	arrayType := p.peekN(n+1).kind == tkLBracket && p.peekN(n+2).kind == tkRBracket
	if n == 1 && !regTypes[name.str] && !arrayType {
		return nil, false, nil // an ordinary cast
	}
	switch {
	case regTypes[name.str] && !arrayType:
		p.pos += n + 1
		return &ast.FuncCall{At: t.at(), Name: name.str, Args: []ast.Expr{x}}, true, nil
	case arrayType:
		// Arrays are their text form: a cast to an array type keeps the value.
		p.pos += n + 3
		return x, true, nil
	}
	if name.str == "oid" {
		// pg_catalog.oid is PostgreSQL's object identifier, an integer
		// (the catalogs' oids); a bare OID is this dialect's object id.
		p.pos += n + 1
		return &ast.CastExpr{At: t.at(), X: x, Type: types.T{Kind: types.Int64}}, true, nil
	}
	// pg_catalog.type: an ordinary cast once the schema is skipped.
	p.pos += n
	kind, _, err := p.parseType()
	if err != nil {
		return nil, false, err
	}
	return &ast.CastExpr{At: t.at(), X: x, Type: kind}, true, nil
}

// pgTableSource continues a FROM source after its first name: schema.table
// (public.t is t; other schemas keep the qualified name, which the planner
// resolves to a virtual table) or a set-returning function name(args).
// fn is set for a function; otherwise name is the table name.
func (p *parser) pgTableSource(start *token, first string) (name string, fn ast.TableExpr, err error) {
	name = first
	if p.accept(tkDot) {
		second, err := p.ident("table name")
		if err != nil {
			return "", nil, err
		}
		if first == "public" {
			name = second
		} else {
			name = first + "." + second
		}
	}
	if p.peek().kind != tkLParen {
		return name, nil, nil
	}
	name = strings.TrimPrefix(name, "pg_catalog.")
	p.next() // (
	ft := &ast.FuncTable{At: start.at(), Name: name, Args: []ast.Expr{}}
	if p.peek().kind != tkRParen {
		if ft.Args, err = p.parseExprList(); err != nil {
			return "", nil, err
		}
	}
	if _, err := p.expect(tkRParen, "')'"); err != nil {
		return "", nil, err
	}
	if ft.Alias, err = p.parseTableAlias(); err != nil {
		return "", nil, err
	}
	if ft.Alias != "" && p.accept(tkLParen) {
		if ft.Column, err = p.ident("column alias"); err != nil {
			return "", nil, err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return "", nil, err
		}
	}
	return "", ft, nil
}

// parseStorageParameters reads CREATE TABLE's WITH (name = value, ...).
// fillfactor is accepted (pgbench sends it; rows are not stored in pages
// here, so there is nothing to fill); any other parameter is CADB0407.
func (p *parser) parseStorageParameters() error {
	if !p.isKw(kwWith) || p.peekN(1).kind != tkLParen {
		return nil
	}
	p.pos += 2
	for {
		name := p.next()
		if name.kind != tkIdent {
			return p.errAt(name, "expected a storage parameter")
		}
		if !name.isWord("fillfactor") {
			return p.errCode(name, errcode.Unsupported, "storage parameter %q is not supported", name.str)
		}
		if p.accept(tkEq) {
			v := p.next()
			if v.kind != tkInt {
				return p.errAt(v, "expected an integer")
			}
			if n, ok := parseInt(v.str, false); !ok || n < 10 || n > 100 {
				return p.errCode(v, errcode.InvalidInput, "fillfactor must be between 10 and 100")
			}
		}
		if !p.accept(tkComma) {
			break
		}
	}
	_, err := p.expect(tkRParen, "')'")
	return err
}

// parseCreateTableAs parses the rest of CREATE TABLE t [(col, ...)] AS
// query [WITH [NO] DATA] after the name; ok=false (nothing consumed) for
// an ordinary CREATE TABLE.
func (p *parser) parseCreateTableAs(stmt *ast.CreateTable) (ok bool, err error) {
	save := p.pos
	var cols []string
	if p.accept(tkLParen) {
		for {
			t := p.peek()
			if !t.isIdent() {
				p.pos = save
				return false, nil
			}
			p.next()
			cols = append(cols, t.str)
			if !p.accept(tkComma) {
				break
			}
		}
		if !p.accept(tkRParen) {
			p.pos = save
			return false, nil
		}
	}
	if !p.acceptKw(kwAs) {
		p.pos = save
		return false, nil
	}
	stmt.AsColumns = cols
	if stmt.AsQuery, err = p.parseQuery(); err != nil {
		return true, err
	}
	if p.isKw(kwWith) {
		p.next()
		if p.acceptWord("no") {
			stmt.NoData = true
		}
		if !p.acceptWord("data") {
			return true, p.errExpected("DATA")
		}
	}
	return true, nil
}

// parseCreateView parses CREATE [OR REPLACE] VIEW name [(cols)] AS query
// (CREATE is consumed; the current word is OR or VIEW).
func (p *parser) parseCreateView(start *token) (ast.Statement, error) {
	v := &ast.CreateView{At: start.at()}
	if p.acceptWord("or") {
		p.next() // REPLACE
		v.OrReplace = true
	}
	p.next() // VIEW
	var err error
	if v.Name, err = p.ident("view name"); err != nil {
		return nil, err
	}
	if p.accept(tkLParen) {
		for {
			col, err := p.ident("column name")
			if err != nil {
				return nil, err
			}
			v.Columns = append(v.Columns, col)
			if !p.accept(tkComma) {
				break
			}
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
	}
	if _, err := p.expectKw(kwAs); err != nil {
		return nil, err
	}
	if v.Query, err = p.parseQuery(); err != nil {
		return nil, err
	}
	return v, nil
}
