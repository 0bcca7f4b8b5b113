package parser

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// parseQuery parses [WITH ...] set-expression [ORDER BY ...] [LIMIT ...]
// [OFFSET ...]. ORDER BY, LIMIT and OFFSET apply to the whole set
// expression.
func (p *parser) parseQuery() (*ast.Select, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	start := p.peek()
	var with []ast.CTE
	if p.isKw(kwWith) {
		var err error
		if with, err = p.parseWith(); err != nil {
			return nil, err
		}
	}
	body, err := p.parseSetExpr(1)
	if err != nil {
		return nil, err
	}
	return p.finishQuery(body, with, start)
}

// continueQuery resumes a query whose first operand, a parenthesised
// query, was already parsed as a scalar subquery: "((SELECT 1) UNION ...)".
func (p *parser) continueQuery(first *ast.Select, start *token) (*ast.Select, error) {
	body, err := p.parseSetTail(first, 1)
	if err != nil {
		return nil, err
	}
	return p.finishQuery(body, nil, start)
}

func (p *parser) finishQuery(body *ast.Select, with []ast.CTE, start *token) (*ast.Select, error) {
	if with != nil {
		if body.With != nil {
			return nil, p.errCode(start, errcode.Unsupported, "multiple WITH clauses on one query")
		}
		body.With = with
		body.At = start.at()
	}
	clauseTok := p.peek()
	var orderBy []ast.OrderItem
	var limit, offset ast.Expr
	var err error
	if p.isKw(kwOrder) {
		p.next()
		if _, err := p.expectKw(kwBy); err != nil {
			return nil, err
		}
		if orderBy, err = p.parseOrderBy(); err != nil {
			return nil, err
		}
	}
	for {
		t := p.peek()
		if t.isKw(kwLimit) && limit == nil {
			p.next()
			if limit, err = p.parseExpr(); err != nil {
				return nil, err
			}
			continue
		}
		if t.isKw(kwOffset) && offset == nil {
			p.next()
			if offset, err = p.parseExpr(); err != nil {
				return nil, err
			}
			continue
		}
		break
	}
	if orderBy == nil && limit == nil && offset == nil {
		return body, nil
	}
	// Clauses after a parenthesised query that already has its own would
	// need a derived table to keep their meaning; refuse rather than merge.
	if body.OrderBy != nil || body.Limit != nil || body.Offset != nil {
		return nil, p.errCode(clauseTok, errcode.Unsupported,
			"ORDER BY/LIMIT/OFFSET on a parenthesised query that has its own; use a derived table")
	}
	body.OrderBy, body.Limit, body.Offset = orderBy, limit, offset
	return body, nil
}

func (p *parser) parseWith() ([]ast.CTE, error) {
	p.next() // WITH
	var ctes []ast.CTE
	for {
		name, err := p.ident("common table expression name")
		if err != nil {
			return nil, err
		}
		if _, err := p.expectKw(kwAs); err != nil {
			return nil, err
		}
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
		ctes = append(ctes, ast.CTE{Name: name, Query: q})
		if !p.accept(tkComma) {
			return ctes, nil
		}
	}
}

// setOpPrec returns the set operator at the current token and its
// precedence (INTERSECT binds tighter than UNION and EXCEPT), or 0.
func (p *parser) setOpPrec() int {
	t := p.peek()
	switch {
	case t.isKw(kwUnion), t.isKw(kwExcept):
		return 1
	case t.isKw(kwIntersect):
		return 2
	}
	return 0
}

func (p *parser) parseSetExpr(minPrec int) (*ast.Select, error) {
	left, err := p.parseSelectPrimary()
	if err != nil {
		return nil, err
	}
	return p.parseSetTail(left, minPrec)
}

func (p *parser) parseSetTail(left *ast.Select, minPrec int) (*ast.Select, error) {
	for {
		prec := p.setOpPrec()
		if prec == 0 || prec < minPrec {
			return left, nil
		}
		opTok := p.next()
		op := upper(opTok.str)
		switch {
		case p.isKw(kwAll):
			if !opTok.isKw(kwUnion) {
				return nil, p.errCode(p.peek(), errcode.Unsupported, "%s ALL is not supported", op)
			}
			p.next()
			op = "UNION ALL"
		case p.isKw(kwDistinct):
			p.next()
		}
		if err := p.enter(); err != nil {
			return nil, err
		}
		right, err := p.parseSetExpr(prec + 1)
		p.leave()
		if err != nil {
			return nil, err
		}
		left = &ast.Select{At: left.At, SetOp: op, Left: left, Right: right}
	}
}

// parseSelectPrimary parses SELECT ... or a parenthesised query.
func (p *parser) parseSelectPrimary() (*ast.Select, error) {
	t := p.peek()
	if t.kind == tkLParen {
		p.next()
		q, err := p.parseQuery()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
		return q, nil
	}
	if !t.isKw(kwSelect) {
		return nil, p.errExpected("SELECT")
	}
	return p.parseSimpleSelect()
}

func (p *parser) parseSimpleSelect() (*ast.Select, error) {
	start := p.next() // SELECT
	sel := &ast.Select{At: start.at()}
	if p.acceptKw(kwDistinct) {
		sel.Distinct = true
	} else {
		p.acceptKw(kwAll)
	}
	var err error
	if sel.Items, err = p.parseSelectItems(); err != nil {
		return nil, err
	}
	if p.acceptKw(kwFrom) {
		for {
			te, err := p.parseTableRef()
			if err != nil {
				return nil, err
			}
			sel.From = append(sel.From, te)
			if !p.accept(tkComma) {
				break
			}
		}
	}
	if p.acceptKw(kwWhere) {
		if sel.Where, err = p.parseExpr(); err != nil {
			return nil, err
		}
	}
	if p.isKw(kwGroup) {
		p.next()
		if _, err := p.expectKw(kwBy); err != nil {
			return nil, err
		}
		if sel.GroupBy, err = p.parseExprList(); err != nil {
			return nil, err
		}
	}
	if p.acceptKw(kwHaving) {
		if sel.Having, err = p.parseExpr(); err != nil {
			return nil, err
		}
	}
	return sel, nil
}

func (p *parser) parseSelectItems() ([]ast.SelectItem, error) {
	var items []ast.SelectItem
	for {
		t := p.peek()
		switch {
		case t.kind == tkStar:
			p.next()
			items = append(items, ast.SelectItem{Star: true})
		case t.isIdent() && p.peekN(1).kind == tkDot && p.peekN(2).kind == tkStar:
			p.pos += 3
			items = append(items, ast.SelectItem{Star: true, StarTable: t.str})
		default:
			e, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			item := ast.SelectItem{Expr: e}
			if p.acceptKw(kwAs) {
				// After AS any word is an alias, reserved or not; AS 'Label'
				// keeps the text as written, case included.
				s := p.peek()
				if s.kind != tkString && s.kind != tkIdent {
					return nil, p.errExpected("alias")
				}
				p.next()
				item.Alias = s.str
				if s.kind == tkIdent && s.raw != "" && p.src[s.off] == '"' {
					item.Alias = s.raw // AS "Label" keeps its case, as in PostgreSQL
				}
			} else if a := p.peek(); a.isIdent() && !a.isWord("returning") && !p.lockingClauseAhead() {
				p.next()
				item.Alias = a.str
			}
			items = append(items, item)
		}
		if !p.accept(tkComma) {
			return items, nil
		}
	}
}

func (p *parser) parseOrderBy() ([]ast.OrderItem, error) {
	var items []ast.OrderItem
	for {
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		item := ast.OrderItem{Expr: e}
		if p.acceptKw(kwDesc) {
			item.Desc = true
		} else {
			p.acceptKw(kwAsc)
		}
		if p.acceptKw(kwNulls) {
			switch {
			case p.acceptKw(kwFirst):
				item.Nulls = "FIRST"
			case p.acceptKw(kwLast):
				item.Nulls = "LAST"
			default:
				return nil, p.errExpected("FIRST or LAST")
			}
		}
		items = append(items, item)
		if !p.accept(tkComma) {
			return items, nil
		}
	}
}

// ---------------------------------------------------------------- FROM

// parseTableRef parses a source followed by any number of joins.
func (p *parser) parseTableRef() (ast.TableExpr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	left, err := p.parseTablePrimary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		kind := ""
		switch {
		case t.isKw(kwJoin):
			p.next()
			kind = "INNER"
		case t.isKw(kwInner):
			p.next()
			if _, err := p.expectKw(kwJoin); err != nil {
				return nil, err
			}
			kind = "INNER"
		case t.isKw(kwLeft):
			p.next()
			p.acceptKw(kwOuter)
			if _, err := p.expectKw(kwJoin); err != nil {
				return nil, err
			}
			kind = "LEFT"
		case t.isKw(kwCross):
			p.next()
			if _, err := p.expectKw(kwJoin); err != nil {
				return nil, err
			}
			kind = "CROSS"
		default:
			return left, nil
		}
		right, err := p.parseTablePrimary()
		if err != nil {
			return nil, err
		}
		join := &ast.Join{At: left.Position(), Kind: kind, Left: left, Right: right}
		if kind == "CROSS" {
			// CROSS JOIN is an inner join without a condition.
			join.Kind = "INNER"
		} else if p.acceptWord("using") {
			if _, err := p.expect(tkLParen, "'('"); err != nil {
				return nil, err
			}
			for {
				col, err := p.ident("column name")
				if err != nil {
					return nil, err
				}
				join.Using = append(join.Using, col)
				if !p.accept(tkComma) {
					break
				}
			}
			if _, err := p.expect(tkRParen, "')'"); err != nil {
				return nil, err
			}
		} else {
			if _, err := p.expectKw(kwOn); err != nil {
				return nil, err
			}
			if join.On, err = p.parseExpr(); err != nil {
				return nil, err
			}
		}
		left = join
	}
}

// parseTablePrimary parses a table name, a derived table or a
// parenthesised join.
func (p *parser) parseTablePrimary() (ast.TableExpr, error) {
	t := p.peek()
	if t.kind == tkLParen {
		if !p.startsQuery(0) {
			return p.parseParenTableRef()
		}
		save := p.pos
		dt, err := p.parseDerivedTable()
		if err == nil || p.tokAt(save+1).kind != tkLParen {
			return dt, err
		}
		// "((SELECT ...) AS x JOIN y ON ...)": a parenthesised join whose
		// first source is a derived table. Retry that way and report the
		// error that got further.
		failedAt := p.pos
		p.pos = save
		te, err2 := p.parseParenTableRef()
		if err2 == nil {
			return te, nil
		}
		if p.pos >= failedAt {
			return nil, err2
		}
		return nil, err
	}
	name, err := p.ident("table name")
	if err != nil {
		return nil, err
	}
	if k := p.peek().kind; k == tkDot || k == tkLParen {
		var fn ast.TableExpr
		if name, fn, err = p.pgTableSource(t, name); err != nil || fn != nil {
			return fn, err
		}
	}
	tn := &ast.TableName{At: t.at(), Name: name}
	if p.peek().kind == tkHint {
		if tn.ForceIndex, err = p.parseIndexHint(); err != nil {
			return nil, err
		}
	}
	if tn.Alias, err = p.parseTableAlias(); err != nil {
		return nil, err
	}
	if tn.ForceIndex == "" && p.peek().kind == tkHint {
		if tn.ForceIndex, err = p.parseIndexHint(); err != nil {
			return nil, err
		}
	}
	return tn, nil
}

func (p *parser) parseParenTableRef() (ast.TableExpr, error) {
	p.next() // (
	te, err := p.parseTableRef()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tkRParen, "')'"); err != nil {
		return nil, err
	}
	return te, nil
}

func (p *parser) parseDerivedTable() (ast.TableExpr, error) {
	t := p.peek()
	q, err := p.parseSelectPrimary()
	if err != nil {
		return nil, err
	}
	dt := &ast.DerivedTable{At: t.at(), Subquery: q}
	if dt.Alias, err = p.parseTableAlias(); err != nil {
		return nil, err
	}
	return dt, nil
}

// parseIndexHint parses @{FORCE_INDEX=name}.
func (p *parser) parseIndexHint() (string, error) {
	p.next() // @{
	if _, err := p.expectKw(kwForceIndex); err != nil {
		return "", err
	}
	if _, err := p.expect(tkEq, "'='"); err != nil {
		return "", err
	}
	name, err := p.ident("index name")
	if err != nil {
		return "", err
	}
	if _, err := p.expect(tkRBrace, "'}'"); err != nil {
		return "", err
	}
	return name, nil
}
