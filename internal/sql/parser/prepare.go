package parser

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// parsePrepare parses PREPARE name [(type, ...)] AS statement.
func (p *parser) parsePrepare() (ast.Statement, error) {
	start := p.next()
	name, err := p.ident("statement name")
	if err != nil {
		return nil, err
	}
	stmt := &ast.Prepare{At: start.at(), Name: name}
	if p.accept(tkLParen) {
		for {
			_, text, err := p.parseType()
			if err != nil {
				return nil, err
			}
			stmt.Types = append(stmt.Types, text)
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
	inner := p.peek()
	switch {
	case inner.isWord("prepare"), inner.isWord("execute"), inner.isWord("deallocate"), inner.isWord("discard"):
		return nil, p.errCode(inner, errcode.InvalidInput, "PREPARE cannot hold %s", upper(inner.str))
	}
	if stmt.Stmt, err = p.parseStatement(); err != nil {
		return nil, err
	}
	return stmt, nil
}

// parseExecute parses EXECUTE name [(expr, ...)].
func (p *parser) parseExecute() (ast.Statement, error) {
	start := p.next()
	name, err := p.ident("statement name")
	if err != nil {
		return nil, err
	}
	stmt := &ast.Execute{At: start.at(), Name: name}
	if p.accept(tkLParen) {
		if stmt.Args, err = p.parseExprList(); err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
	}
	return stmt, nil
}

// parseDeallocate parses DEALLOCATE [PREPARE] {name | ALL}.
func (p *parser) parseDeallocate() (ast.Statement, error) {
	start := p.next()
	p.acceptWord("prepare")
	if p.acceptKw(kwAll) {
		return &ast.Deallocate{At: start.at(), All: true}, nil
	}
	name, err := p.ident("statement name")
	if err != nil {
		return nil, err
	}
	return &ast.Deallocate{At: start.at(), Name: name}, nil
}

// parseDiscard parses DISCARD {ALL | PLANS | SEQUENCES | TEMP | TEMPORARY}.
func (p *parser) parseDiscard() (ast.Statement, error) {
	start := p.next()
	t := p.next()
	switch {
	case t.isKw(kwAll):
		return &ast.Discard{At: start.at(), What: "ALL"}, nil
	case t.isWord("plans"), t.isWord("sequences"), t.isWord("temp"):
		return &ast.Discard{At: start.at(), What: upper(t.str)}, nil
	case t.isWord("temporary"):
		return &ast.Discard{At: start.at(), What: "TEMP"}, nil
	}
	return nil, p.errAt(t, "expected ALL, PLANS, SEQUENCES or TEMP")
}

// parseComment parses COMMENT ON {TABLE t | COLUMN t.c} IS {'text' |
// NULL}; other objects are CADB0407.
func (p *parser) parseComment() (ast.Statement, error) {
	start := p.next()
	if !p.acceptKw(kwOn) {
		return nil, p.errExpected("ON")
	}
	stmt := &ast.Comment{At: start.at()}
	obj := p.next()
	if !obj.isKw(kwTable) && !obj.isKw(kwColumn) {
		if obj.kind != tkIdent {
			return nil, p.errExpected("TABLE or COLUMN")
		}
		return p.unsupportedRest(start, "COMMENT ON "+upper(obj.str))
	}
	var parts []string
	for {
		name, err := p.ident("name")
		if err != nil {
			return nil, err
		}
		parts = append(parts, name)
		if len(parts) == 3 || !p.accept(tkDot) {
			break
		}
	}
	if len(parts) > 1 && parts[0] == "public" && (obj.isKw(kwTable) || len(parts) == 3) {
		parts = parts[1:]
	}
	switch {
	case obj.isKw(kwTable) && len(parts) == 1:
		stmt.Table = parts[0]
	case obj.isKw(kwColumn) && len(parts) == 2:
		stmt.Table, stmt.Column = parts[0], parts[1]
	default:
		return nil, p.errCode(obj, errcode.Unsupported, "schema %q is not supported (only public)", parts[0])
	}
	if !p.acceptWord("is") && !p.acceptKw(kwIs) {
		return nil, p.errExpected("IS")
	}
	switch t := p.next(); {
	case t.isKw(kwNull):
	case t.kind == tkString:
		text := t.str
		stmt.Text = &text
	default:
		return nil, p.errAt(t, "expected a string or NULL")
	}
	return stmt, nil
}
