package parser

import "github.com/camusdb/camusdb-go/internal/sql/ast"

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
	if stmt.Returning, err = p.parseReturning(); err != nil {
		return nil, err
	}
	return stmt, nil
}
