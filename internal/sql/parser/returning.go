package parser

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// parseReturning parses an optional RETURNING item[, ...] (the items of a
// select list: expressions with aliases, * and t.*).
func (p *parser) parseReturning() ([]ast.SelectItem, error) {
	if !p.acceptWord("returning") {
		return nil, nil
	}
	return p.parseSelectItems()
}

// insertTail parses what may follow an INSERT's rows: ON CONFLICT and
// RETURNING.
func (p *parser) insertTail(stmt *ast.Insert) (ast.Statement, error) {
	var err error
	if p.isKw(kwOn) && p.peekN(1).isWord("conflict") {
		if stmt.OnConflict, err = p.parseOnConflict(); err != nil {
			return nil, err
		}
	}
	if stmt.Returning, err = p.parseReturning(); err != nil {
		return nil, err
	}
	return stmt, nil
}

// parseOnConflict parses ON CONFLICT [(col, ...) | ON CONSTRAINT name]
// DO NOTHING | DO UPDATE SET col = expr, ... [WHERE cond].
func (p *parser) parseOnConflict() (*ast.OnConflict, error) {
	p.pos += 2 // ON CONFLICT
	oc := &ast.OnConflict{}
	switch {
	case p.accept(tkLParen):
		for {
			name, err := p.ident("column name")
			if err != nil {
				return nil, err
			}
			oc.Columns = append(oc.Columns, name)
			if p.accept(tkComma) {
				continue
			}
			if _, err := p.expect(tkRParen, "',' or ')'"); err != nil {
				return nil, err
			}
			break
		}
	case p.isKw(kwOn) && p.peekN(1).isWord("constraint"):
		p.pos += 2
		name, err := p.ident("constraint name")
		if err != nil {
			return nil, err
		}
		oc.Constraint = name
	}
	if !p.acceptWord("do") {
		return nil, p.errExpected("DO")
	}
	if p.acceptWord("nothing") {
		oc.DoNothing = true
		return oc, nil
	}
	t := p.peek()
	if _, err := p.expectKw(kwUpdate); err != nil {
		return nil, p.errExpected("NOTHING or UPDATE")
	}
	if oc.Columns == nil && oc.Constraint == "" {
		return nil, syntaxErrAt(t.line, t.col, "UPDATE", "ON CONFLICT DO UPDATE requires a conflict target: (columns) or ON CONSTRAINT name")
	}
	var err error
	if oc.Set, err = p.parseSetList(); err != nil {
		return nil, err
	}
	if p.acceptKw(kwWhere) {
		if oc.Where, err = p.parseExpr(); err != nil {
			return nil, err
		}
	}
	return oc, nil
}

// lockingClauseAhead reports whether a row-locking clause (FOR UPDATE,
// FOR SHARE, FOR NO KEY UPDATE, FOR KEY SHARE) starts here.
func (p *parser) lockingClauseAhead() bool {
	if !p.peek().isWord("for") {
		return false
	}
	n := p.peekN(1)
	return n.isKw(kwUpdate) || n.isWord("share") || n.isWord("no") || n.isKw(kwKey)
}

// parseLocking parses FOR {UPDATE | NO KEY UPDATE | SHARE | KEY SHARE}
// [OF t, ...]. NOWAIT and SKIP LOCKED are CADB0407: rows are not locked
// before commit here (conflicts are found when the transaction commits),
// so there is never a lock to wait for or skip.
func (p *parser) parseLocking() (*ast.Locking, error) {
	p.next() // FOR
	l := &ast.Locking{}
	switch t := p.next(); {
	case t.isKw(kwUpdate):
		l.Strength = "UPDATE"
	case t.isWord("share"):
		l.Strength = "SHARE"
	case t.isWord("no"):
		if !p.acceptKw(kwKey) || !p.acceptKw(kwUpdate) {
			return nil, p.errExpected("KEY UPDATE")
		}
		l.Strength = "NO KEY UPDATE"
	case t.isKw(kwKey):
		if !p.acceptWord("share") {
			return nil, p.errExpected("SHARE")
		}
		l.Strength = "KEY SHARE"
	}
	if p.acceptWord("of") {
		for {
			name, err := p.ident("table name")
			if err != nil {
				return nil, err
			}
			l.Of = append(l.Of, name)
			if !p.accept(tkComma) {
				break
			}
		}
	}
	switch t := p.peek(); {
	case t.isWord("nowait"):
		return nil, p.errCode(t, errcode.Unsupported, "FOR %s NOWAIT is not supported: rows are not locked before commit (a conflicting writer makes one transaction fail with 40001 at commit), so there is no lock to refuse to wait for", l.Strength)
	case t.isWord("skip"):
		return nil, p.errCode(t, errcode.Unsupported, "FOR %s SKIP LOCKED is not supported: rows are not locked before commit, so none could be skipped", l.Strength)
	case p.lockingClauseAhead():
		return nil, p.errCode(t, errcode.Unsupported, "several locking clauses are not supported")
	}
	return l, nil
}
