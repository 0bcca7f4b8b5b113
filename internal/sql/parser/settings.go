package parser

import (
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
)

// This file holds the PostgreSQL session statements (SET, RESET, SHOW
// name) and the recognised-but-unsupported statements. Their words are
// matched by text rather than as keywords, so the keyword table (and the
// set of names usable bare) does not change.

// settingName parses a setting name: words (any, keywords included)
// separated by dots.
func (p *parser) settingName() (string, error) {
	var parts []string
	for {
		t := p.peek()
		if t.kind != tkIdent {
			return "", p.errExpected("a setting name")
		}
		if strings.Contains(t.str, ".") {
			return "", p.errAt(t, "a part of a setting name cannot contain '.'")
		}
		p.pos++
		parts = append(parts, t.str)
		if !p.accept(tkDot) {
			return strings.Join(parts, "."), nil
		}
	}
}

// parseSetVar parses SET [SESSION | LOCAL] ... (the SET keyword is next).
func (p *parser) parseSetVar() (ast.Statement, error) {
	start := p.next()
	stmt := &ast.SetVar{At: start.at()}
	if p.acceptWord("local") {
		stmt.Local = true
	} else if p.acceptWord("session") {
		if p.acceptWord("characteristics") {
			if _, err := p.expectKw(kwAs); err != nil {
				return nil, err
			}
			return p.setTransaction(stmt, "default_transaction_isolation")
		}
	}
	switch t := p.peek(); {
	case t.isWord("time") && p.peekN(1).isWord("zone"):
		p.pos += 2
		stmt.Name = "timezone"
		if p.acceptWord("local") || p.acceptKw(kwDefault) {
			stmt.Default = true
			return stmt, nil
		}
		return p.setValues(stmt, false)
	case t.isWord("names"):
		p.next()
		stmt.Name = "client_encoding"
		if p.acceptKw(kwDefault) {
			stmt.Default = true
			return stmt, nil
		}
		return p.setValues(stmt, false)
	case t.isWord("schema"):
		p.next()
		stmt.Name = "search_path"
		return p.setValues(stmt, false)
	case t.isKw(kwTransaction):
		p.next()
		return p.setTransaction(stmt, "transaction_isolation")
	case t.isWord("role") || t.isWord("session_authorization") || t.isWord("constraints"):
		return p.unsupportedRest(start, "SET "+upper(t.str))
	}
	name, err := p.settingName()
	if err != nil {
		return nil, err
	}
	if stmt.Name == "" {
		stmt.Name = name
	}
	if !p.accept(tkEq) && !p.acceptKw(kwTo) {
		return nil, p.errExpected("= or TO")
	}
	if p.acceptKw(kwDefault) {
		stmt.Default = true
		return stmt, nil
	}
	return p.setValues(stmt, true)
}

// setTransaction parses the transaction modes of SET TRANSACTION and SET
// SESSION CHARACTERISTICS AS TRANSACTION: every transaction is
// serializable (which satisfies any requested level) and READ ONLY is
// CADB0407, as for BEGIN.
func (p *parser) setTransaction(stmt *ast.SetVar, name string) (ast.Statement, error) {
	if name == "default_transaction_isolation" {
		if _, err := p.expectKw(kwTransaction); err != nil {
			return nil, err
		}
	}
	if p.peek().kind == tkEOF || p.peek().kind == tkSemicolon {
		return nil, p.errExpected("ISOLATION LEVEL or READ WRITE")
	}
	if err := p.parseTxnModes(); err != nil {
		return nil, err
	}
	stmt.Name, stmt.Values = name, []string{"serializable"}
	return stmt, nil
}

// setValues parses value[, ...]: words, strings and signed numbers.
func (p *parser) setValues(stmt *ast.SetVar, list bool) (ast.Statement, error) {
	for {
		t := p.peek()
		neg := ""
		if t.kind == tkMinus || t.kind == tkPlus {
			if k := p.peekN(1).kind; k == tkInt || k == tkFloat {
				if t.kind == tkMinus {
					neg = "-"
				}
				p.next()
				t = p.peek()
			}
		}
		switch t.kind {
		case tkIdent, tkString:
			if neg != "" {
				return nil, p.errExpected("a number")
			}
			stmt.Values = append(stmt.Values, t.str)
		case tkInt, tkFloat:
			stmt.Values = append(stmt.Values, neg+t.str)
		default:
			return nil, p.errExpected("a setting value")
		}
		p.next()
		if !list || !p.accept(tkComma) {
			return stmt, nil
		}
	}
}

// parseResetVar parses RESET name | RESET ALL (the word RESET is next).
func (p *parser) parseResetVar() (ast.Statement, error) {
	start := p.next()
	stmt := &ast.ResetVar{At: start.at()}
	switch t := p.peek(); {
	case t.isKw(kwAll):
		p.next()
		stmt.All = true
		return stmt, nil
	case t.isWord("time") && p.peekN(1).isWord("zone"):
		p.pos += 2
		stmt.Name = "timezone"
		return stmt, nil
	}
	name, err := p.settingName()
	if err != nil {
		return nil, err
	}
	stmt.Name = name
	return stmt, nil
}

// parseShowVar parses the rest of SHOW name | SHOW ALL once the SHOW forms
// of our dialect (SHOW TABLES, ...) did not match.
func (p *parser) parseShowVar(start *token) (ast.Statement, error) {
	stmt := &ast.ShowVar{At: start.at()}
	switch t := p.peek(); {
	case t.isKw(kwAll):
		p.next()
		stmt.All = true
		return stmt, nil
	case t.isWord("time") && p.peekN(1).isWord("zone"):
		p.pos += 2
		stmt.Name = "timezone"
		return stmt, nil
	case t.isKw(kwTransaction) && p.peekN(1).isKw(kwIsolation) && p.peekN(2).isKw(kwLevel):
		p.pos += 3
		stmt.Name = "transaction_isolation"
		return stmt, nil
	case t.kind != tkIdent:
		return nil, p.errExpected("TABLES, DATABASES, DATABASE, COLUMNS, INDEXES, CREATE TABLE, ALL or a setting name")
	}
	name, err := p.settingName()
	if err != nil {
		return nil, err
	}
	stmt.Name = name
	return stmt, nil
}

// unsupportedStatements are statements PostgreSQL has and we do not, by
// their first word: they answer CADB0407 (0A000) naming the feature
// instead of a syntax error.
var unsupportedStatements = map[string]bool{
	"listen": true, "unlisten": true, "notify": true,
	"declare": true, "fetch": true, "move": true, "close": true, "lock": true,
	"cluster": true, "reindex": true, "checkpoint": true, "refresh": true,
	"call": true, "do": true, "load": true, "savepoint": true, "release": true, "reassign": true,
	"security": true, "import": true,
}

// unsupportedCreate are the CREATE <object> forms we do not have.
var unsupportedCreate = map[string]bool{
	"view": true, "sequence": true, "schema": true, "function": true, "procedure": true,
	"trigger": true, "extension": true, "type": true, "domain": true, "materialized": true,
	"temporary": true, "temp": true, "rule": true, "policy": true, "publication": true,
	"subscription": true, "aggregate": true, "collation": true, "operator": true, "or": true,
}

// unsupportedRest consumes the rest of the statement and returns it as
// ast.Unsupported naming feature.
func (p *parser) unsupportedRest(start *token, feature string) (ast.Statement, error) {
	for {
		switch t := p.peek(); t.kind {
		case tkEOF, tkSemicolon:
			return &ast.Unsupported{At: start.at(), Feature: feature}, nil
		case tkError:
			return nil, p.lexErr
		}
		p.pos++
	}
}

// parseUnsupportedCreate reports CREATE VIEW and friends (CREATE is
// consumed; start is its token); ok is false for other words.
func (p *parser) parseUnsupportedCreate(start *token) (ast.Statement, bool, error) {
	t := p.peek()
	if t.kind != tkIdent || t.quoted || !unsupportedCreate[t.str] {
		return nil, false, nil
	}
	if start.isWord("create") && (t.str == "view" || t.str == "or" && p.peekN(1).isWord("replace") && p.peekN(2).isWord("view")) {
		stmt, err := p.parseCreateView(start)
		return stmt, true, err
	}
	if t.str == "sequence" && start.isWord("create") {
		stmt, err := p.parseCreateSequence(start) // sequence.go
		return stmt, true, err
	}
	if t.str == "sequence" && start.isWord("drop") {
		stmt, err := p.parseDropSequence(start)
		return stmt, true, err
	}
	if start.isWord("drop") && t.str == "view" {
		p.next()
		stmt := &ast.DropView{At: start.at(), IfExists: p.acceptIfExists()}
		var err error
		stmt.Names, stmt.Behavior, err = p.tableListAndBehavior()
		return stmt, true, err
	}
	if t.str == "schema" {
		// CREATE SCHEMA [IF NOT EXISTS] name, with no elements: answered
		// (only public exists); anything more is refused below.
		save := p.pos
		p.next()
		stmt := &ast.CreateSchema{At: start.at(), IfNotExists: p.acceptIfNotExists()}
		if n := p.peek(); n.isIdent() {
			p.next()
			stmt.Name = n.str
			if e := p.peek(); e.kind == tkEOF || e.kind == tkSemicolon {
				return stmt, true, nil
			}
		}
		p.pos = save
	}
	feature := "CREATE " + upper(t.str)
	if t.str == "or" && p.peekN(1).isWord("replace") {
		feature = "CREATE OR REPLACE"
		if w := p.peekN(2); w.kind == tkIdent {
			feature += " " + upper(w.str)
		}
	}
	stmt, err := p.unsupportedRest(start, feature)
	return stmt, true, err
}

// parsePostgresStatement dispatches the statements of this file by their
// first word; ok is false for every other statement.
func (p *parser) parsePostgresStatement(t *token) (ast.Statement, bool, error) {
	switch {
	case t.isKw(kwSet):
		stmt, err := p.parseSetVar()
		return stmt, true, err
	case t.quoted || t.kw != kwNone:
		return nil, false, nil
	case t.str == "reset":
		stmt, err := p.parseResetVar()
		return stmt, true, err
	case t.str == "truncate":
		stmt, err := p.parseTruncate()
		return stmt, true, err
	case t.str == "copy":
		stmt, err := p.parseCopy()
		return stmt, true, err
	case t.str == "prepare":
		stmt, err := p.parsePrepare()
		return stmt, true, err
	case t.str == "execute":
		stmt, err := p.parseExecute()
		return stmt, true, err
	case t.str == "deallocate":
		stmt, err := p.parseDeallocate()
		return stmt, true, err
	case t.str == "discard":
		stmt, err := p.parseDiscard()
		return stmt, true, err
	case t.str == "comment":
		stmt, err := p.parseComment()
		return stmt, true, err
	case t.str == "vacuum":
		// VACUUM's options and table list are read and have no effect:
		// there is nothing to vacuum (see ast.Vacuum).
		p.next()
		if _, err := p.unsupportedRest(t, "VACUUM"); err != nil {
			return nil, true, err
		}
		return &ast.Vacuum{At: t.at()}, true, nil
	case unsupportedStatements[t.str]:
		p.next()
		stmt, err := p.unsupportedRest(t, upper(t.str))
		return stmt, true, err
	}
	return nil, false, nil
}

// parseCasts parses PostgreSQL's postfix casts after x: x::type[::type...]
// (binding tighter than any operator, as in PostgreSQL). Each is a CAST.
func (p *parser) parseCasts(x ast.Expr) (ast.Expr, error) {
	for {
		if y, ok, err := p.pgPostfix(x); err != nil {
			return nil, err
		} else if ok {
			x = y
			continue
		}
		if p.peek().kind != tkDoubleColon {
			return x, nil
		}
		t := p.next()
		typ, _, err := p.parseType()
		if err != nil {
			return nil, err
		}
		x = &ast.CastExpr{At: t.at(), X: x, Type: typ}
	}
}

// postgresTypeName maps PostgreSQL's type spellings that types.ParseKind
// does not know to one it does, and consumes a second word ("double
// precision", "character varying"). ok is false for other names.
func (p *parser) postgresTypeName(t *token) (name, text string, ok bool) {
	switch t.str {
	case "double":
		if p.acceptWord("precision") {
			return "float64", "DOUBLE PRECISION", true
		}
	case "character":
		if p.acceptWord("varying") {
			return "varchar", "VARCHAR", true
		}
		return "char", "CHAR", true
	case "bpchar":
		return "char", "BPCHAR", true
	case "timestamp", "timestamptz":
		// [(p)] [WITH | WITHOUT TIME ZONE]; the precision is accepted and
		// ignored (values keep microseconds).
		if p.peek().kind == tkLParen && p.peekN(1).kind == tkInt && p.peekN(2).kind == tkRParen {
			p.pos += 3
		}
		name := t.str
		if t.str == "timestamp" && p.peek().isWord("with") && p.peekN(1).isWord("time") && p.peekN(2).isWord("zone") {
			p.pos += 3
			name = "timestamptz"
		} else if t.str == "timestamp" && p.peek().isWord("without") && p.peekN(1).isWord("time") && p.peekN(2).isWord("zone") {
			p.pos += 3
		}
		return name, upper(name), true
	case "interval":
		if p.peek().kind == tkLParen && p.peekN(1).kind == tkInt && p.peekN(2).kind == tkRParen {
			p.pos += 3
		}
		return "interval", "INTERVAL", true
	}
	return "", "", false
}

// tableListAndBehavior parses t[, ...] [CASCADE | RESTRICT].
func (p *parser) tableListAndBehavior() ([]string, string, error) {
	var names []string
	for {
		name, err := p.ident("table name")
		if err != nil {
			return nil, "", err
		}
		names = append(names, name)
		if !p.accept(tkComma) {
			break
		}
	}
	switch {
	case p.acceptWord("cascade"):
		return names, "CASCADE", nil
	case p.acceptWord("restrict"):
		return names, "RESTRICT", nil
	}
	return names, "", nil
}

// parseTruncate parses TRUNCATE [TABLE] [ONLY] t[, ...]
// [RESTART IDENTITY | CONTINUE IDENTITY] [CASCADE | RESTRICT]. RESTART
// IDENTITY restarts the sequences the tables' columns own.
func (p *parser) parseTruncate() (ast.Statement, error) {
	start := p.next()
	p.acceptKw(kwTable)
	p.acceptWord("only")
	stmt := &ast.Truncate{At: start.at()}
	var names []string
	for {
		name, err := p.ident("table name")
		if err != nil {
			return nil, err
		}
		names = append(names, name)
		if !p.accept(tkComma) {
			break
		}
	}
	stmt.Tables = names
	if (p.peek().isWord("restart") || p.peek().isWord("continue")) && p.peekN(1).isWord("identity") {
		stmt.RestartIdentity = p.peek().isWord("restart")
		p.pos += 2
	}
	switch {
	case p.acceptWord("cascade"):
		stmt.Behavior = "CASCADE"
	case p.acceptWord("restrict"):
		stmt.Behavior = "RESTRICT"
	}
	return stmt, nil
}
