package parser

import (
	"strconv"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Sequences: CREATE SEQUENCE, ALTER SEQUENCE, DROP SEQUENCE, the options
// they and identity columns share, and the SERIAL pseudo-types.

// serialTypes are the SERIAL pseudo-types: an integer column with a
// sequence of its own (the width of the integer type).
var serialTypes = map[string]uint8{
	"serial": 32, "serial4": 32, "bigserial": 64, "serial8": 64, "smallserial": 16, "serial2": 16,
}

// sequenceWidths are the types AS accepts.
var sequenceWidths = map[string]uint8{
	"smallint": 16, "int2": 16, "integer": 32, "int4": 32, "int": 64, "bigint": 64, "int8": 64, "int64": 64,
}

// parseCreateSequence parses the rest of CREATE SEQUENCE (at SEQUENCE).
func (p *parser) parseCreateSequence(start *token) (ast.Statement, error) {
	p.next() // SEQUENCE
	stmt := &ast.CreateSequence{At: start.at(), IfNotExists: p.acceptIfNotExists()}
	var err error
	if stmt.Name, err = p.ident("sequence name"); err != nil {
		return nil, err
	}
	stmt.Options, err = p.parseSequenceOptions(false, false)
	return stmt, err
}

// parseAlterSequence parses the rest of ALTER SEQUENCE (at SEQUENCE).
func (p *parser) parseAlterSequence(start *token) (ast.Statement, error) {
	p.next() // SEQUENCE
	stmt := &ast.AlterSequence{At: start.at(), IfExists: p.acceptIfExists()}
	var err error
	if stmt.Name, err = p.ident("sequence name"); err != nil {
		return nil, err
	}
	if stmt.Options, err = p.parseSequenceOptions(true, false); err != nil {
		return nil, err
	}
	if t := p.peek(); len(stmt.Options) == 0 && (t.isWord("rename") || t.isWord("set") || t.isWord("owner")) {
		return p.unsupportedRest(start, "ALTER SEQUENCE "+ast.FormatIdent(stmt.Name)+" "+upper(t.str))
	}
	if len(stmt.Options) == 0 {
		return nil, p.errExpected("a sequence option (RESTART, INCREMENT, MINVALUE, MAXVALUE, START, CACHE, CYCLE, OWNED BY, AS)")
	}
	return stmt, nil
}

// parseDropSequence parses the rest of DROP SEQUENCE (at SEQUENCE).
func (p *parser) parseDropSequence(start *token) (ast.Statement, error) {
	p.next() // SEQUENCE
	stmt := &ast.DropSequence{At: start.at(), IfExists: p.acceptIfExists()}
	var err error
	stmt.Names, stmt.Behavior, err = p.tableListAndBehavior()
	return stmt, err
}

// parseSequenceOptions parses sequence options until none follows. RESTART
// is allowed in ALTER SEQUENCE, SEQUENCE NAME in an identity column's list;
// an option given twice is CADB0406.
func (p *parser) parseSequenceOptions(alter, identity bool) ([]ast.SequenceOption, error) {
	var opts []ast.SequenceOption
	seen := map[string]bool{}
	for {
		t := p.peek()
		var o ast.SequenceOption
		var err error
		switch {
		case t.isKw(kwAs):
			p.next()
			tt := p.peek()
			if tt.kind != tkIdent || tt.quoted {
				return nil, p.errExpected("SMALLINT, INTEGER or BIGINT")
			}
			width, ok := sequenceWidths[tt.str]
			if !ok {
				return nil, p.errCode(tt, errcode.InvalidSequence, "sequence type must be SMALLINT, INTEGER or BIGINT, not %s", upper(tt.str))
			}
			p.next()
			o = ast.SequenceOption{Kind: "AS", Width: width, TypeText: map[uint8]string{16: "SMALLINT", 32: "INTEGER", 64: "BIGINT"}[width]}
		case t.isWord("increment"):
			p.next()
			p.acceptKw(kwBy)
			o.Kind = "INCREMENT"
			o.Value, err = p.signedInt("increment")
		case t.isWord("minvalue") || t.isWord("maxvalue") || t.isWord("cache"):
			p.next()
			o.Kind = upper(t.str)
			o.Value, err = p.signedInt(t.str)
		case t.isWord("no") && (p.peekN(1).isWord("minvalue") || p.peekN(1).isWord("maxvalue") || p.peekN(1).isWord("cycle")):
			p.next()
			o.Kind = "NO " + upper(p.next().str)
		case t.isWord("cycle"):
			p.next()
			o.Kind = "CYCLE"
		case t.isKw(kwStart):
			p.next()
			p.acceptKw(kwWith)
			o.Kind = "START"
			o.Value, err = p.signedInt("start value")
		case alter && t.isWord("restart"):
			p.next()
			o.Kind = "RESTART"
			if p.acceptKw(kwWith) || p.peek().kind == tkInt || p.peek().kind == tkMinus || p.peek().kind == tkPlus {
				o.HasValue = true
				o.Value, err = p.signedInt("restart value")
			}
		case !identity && t.isWord("owned"):
			p.next()
			if _, err := p.expectKw(kwBy); err != nil {
				return nil, err
			}
			o.Kind = "OWNED BY"
			if !p.acceptWord("none") {
				if o.Table, err = p.ident("table name"); err == nil {
					if _, err = p.expect(tkDot, "'.' and a column name"); err == nil {
						o.Column, err = p.ident("column name")
					}
				}
			}
		case identity && t.isWord("sequence") && p.peekN(1).isWord("name"):
			p.pos += 2
			o.Kind = "SEQUENCE NAME"
			o.Name, err = p.ident("sequence name")
		default:
			return opts, nil
		}
		if err != nil {
			return nil, err
		}
		group := o.Kind
		switch group {
		case "NO MINVALUE":
			group = "MINVALUE"
		case "NO MAXVALUE":
			group = "MAXVALUE"
		case "NO CYCLE":
			group = "CYCLE"
		}
		if seen[group] {
			return nil, p.errAt(t, "conflicting or redundant options: "+group+" given twice")
		}
		seen[group] = true
		opts = append(opts, o)
	}
}

// signedInt parses an optionally signed integer literal.
func (p *parser) signedInt(what string) (int64, error) {
	neg := false
	if p.accept(tkMinus) {
		neg = true
	} else {
		p.accept(tkPlus)
	}
	t, err := p.expect(tkInt, what)
	if err != nil {
		return 0, err
	}
	text := t.str
	if neg {
		text = "-" + text
	}
	v, perr := strconv.ParseInt(text, 10, 64)
	if perr != nil {
		return 0, p.errCode(t, errcode.NumericOutOfRange, "%s %s is out of range for BIGINT", what, text)
	}
	return v, nil
}

// parseSerialType consumes a SERIAL pseudo-type if one is next and sets
// col's type; false when the next word is another type.
func (p *parser) parseSerialType(col *ast.ColumnDef) bool {
	t := p.peek()
	if t.kind != tkIdent || t.quoted {
		return false
	}
	width, ok := serialTypes[t.str]
	if !ok {
		return false
	}
	p.next()
	col.Serial = true
	col.Type = types.T{Kind: types.Int64}
	if width < 64 {
		col.Type.Mod.Width = width
	}
	col.TypeText = upper(t.str)
	return true
}

// parseIdentity parses the rest of GENERATED {ALWAYS | BY DEFAULT} AS
// IDENTITY [(options)] after GENERATED.
func (p *parser) parseIdentity(col *ast.ColumnDef, t *token) error {
	switch {
	case p.acceptWord("always"):
		col.Identity = "ALWAYS"
	case p.acceptKw(kwBy):
		if _, err := p.expectKw(kwDefault); err != nil {
			return err
		}
		col.Identity = "BY DEFAULT"
	default:
		return p.errExpected("ALWAYS or BY DEFAULT")
	}
	if _, err := p.expectKw(kwAs); err != nil {
		return err
	}
	if !p.acceptWord("identity") {
		if p.peek().kind == tkLParen {
			return p.errCode(t, errcode.Unsupported, "generated columns (GENERATED ALWAYS AS (expr) STORED) are not supported")
		}
		return p.errExpected("IDENTITY")
	}
	if p.accept(tkLParen) {
		opts, err := p.parseSequenceOptions(false, true)
		if err != nil {
			return err
		}
		if _, err := p.expect(tkRParen, "a sequence option or ')'"); err != nil {
			return err
		}
		col.IdentityOptions = opts
	}
	return nil
}
