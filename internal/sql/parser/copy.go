package parser

import (
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// parseCopy parses COPY t [(cols)] FROM STDIN [options] and COPY {t
// [(cols)] | (query)} TO STDOUT [options]. Options are the list form
// [WITH] (FORMAT csv, HEADER, DELIMITER ',', NULL 'x', QUOTE '"', ESCAPE
// '"') or the old bare form [WITH] [BINARY] [DELIMITER [AS] 'c'] [NULL
// [AS] 's'] [CSV [HEADER] [QUOTE [AS] 'c'] [ESCAPE [AS] 'c']]. Files and
// programs on the server are refused (CADB0407).
func (p *parser) parseCopy() (ast.Statement, error) {
	start := p.next()
	c := &ast.Copy{At: start.at()}
	var err error
	if p.peek().kind == tkLParen {
		p.next()
		if c.Query, err = p.parseQuery(); err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
	} else {
		if c.Table, err = p.ident("table name"); err != nil {
			return nil, err
		}
		if c.Table == "public" && p.accept(tkDot) {
			if c.Table, err = p.ident("table name"); err != nil {
				return nil, err
			}
		}
		if p.accept(tkLParen) {
			c.Columns = []string{}
			for {
				col, err := p.ident("column name")
				if err != nil {
					return nil, err
				}
				c.Columns = append(c.Columns, col)
				if !p.accept(tkComma) {
					break
				}
			}
			if _, err := p.expect(tkRParen, "')'"); err != nil {
				return nil, err
			}
		}
	}
	switch t := p.peek(); {
	case t.isKw(kwFrom):
		c.From = true
	case t.isWord("to"):
	default:
		return nil, p.errExpected("FROM or TO")
	}
	p.next()
	target := p.peek()
	switch {
	case c.From && target.isWord("stdin"), !c.From && target.isWord("stdout"):
		p.next()
	case target.kind == tkString, target.isWord("program"):
		return nil, p.errCode(target, errcode.Unsupported, "COPY with a file or program on the server is not supported; send the rows through the client (COPY ... FROM STDIN / TO STDOUT, psql's \\copy)")
	default:
		if c.From {
			return nil, p.errExpected("STDIN")
		}
		return nil, p.errExpected("STDOUT")
	}
	if c.Query != nil && c.From {
		return nil, p.errCode(start, errcode.InvalidInput, "COPY (query) is only allowed with TO")
	}
	if err := p.parseCopyOptions(&c.Options); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tkEOF && t.kind != tkSemicolon {
		return nil, p.errExpected("end of statement")
	}
	return c, nil
}

func (p *parser) parseCopyOptions(o *ast.CopyOptions) error {
	p.acceptKw(kwWith)
	if p.accept(tkLParen) {
		for {
			name := p.next()
			if name.kind != tkIdent {
				return p.errAt(name, "expected a COPY option")
			}
			if err := p.copyOption(o, strings.ToLower(name.str), name, true); err != nil {
				return err
			}
			if !p.accept(tkComma) {
				break
			}
		}
		_, err := p.expect(tkRParen, "')'")
		return err
	}
	for {
		t := p.peek()
		if t.kind != tkIdent {
			return nil
		}
		p.next()
		if err := p.copyOption(o, strings.ToLower(t.str), t, false); err != nil {
			return err
		}
	}
}

// copyOption parses the value of option name (already consumed).
func (p *parser) copyOption(o *ast.CopyOptions, name string, at *token, list bool) error {
	str := func() (string, error) {
		p.acceptKw(kwAs)
		t, err := p.expect(tkString, "a string")
		if err != nil {
			return "", err
		}
		return t.str, nil
	}
	char := func(what string) (string, error) {
		s, err := str()
		if err == nil && len(s) != 1 {
			return "", p.errCode(at, errcode.InvalidInput, "COPY %s must be a single one-byte character", what)
		}
		return s, err
	}
	var err error
	switch name {
	case "format":
		f := p.next()
		if f.kind != tkIdent && f.kind != tkString {
			return p.errAt(f, "expected a format")
		}
		switch v := strings.ToLower(f.str); v {
		case "text", "csv", "binary":
			o.Format = v
		default:
			return p.errCode(f, errcode.InvalidInput, "COPY format %q not recognized", f.str)
		}
	case "csv", "binary":
		if list {
			return p.errCode(at, errcode.InvalidInput, "COPY option %q not recognized", name)
		}
		o.Format = name
	case "header":
		o.Header = true
		if list {
			if t := p.peek(); t.kind == tkIdent || t.kind == tkString || t.kind == tkInt {
				p.next()
				switch strings.ToLower(t.str) {
				case "true", "on", "1":
				case "false", "off", "0":
					o.Header = false
				case "match":
					return p.errCode(t, errcode.Unsupported, "COPY HEADER MATCH is not supported")
				default:
					return p.errCode(t, errcode.InvalidInput, "HEADER requires a Boolean value")
				}
			}
		}
	case "delimiter":
		o.Delimiter, err = char("delimiter")
	case "null":
		var s string
		if s, err = str(); err == nil {
			o.Null = &s
		}
	case "quote":
		o.Quote, err = char("quote")
	case "escape":
		o.Escape, err = char("escape")
	case "encoding":
		var s string
		if s, err = str(); err == nil {
			switch strings.ToLower(strings.ReplaceAll(s, "-", "")) {
			case "utf8", "unicode", "sql_ascii":
			default:
				err = p.errCode(at, errcode.Unsupported, "COPY encoding %q is not supported (text is UTF-8)", s)
			}
		}
	case "freeze":
		if list {
			if t := p.peek(); t.kind == tkIdent {
				p.next()
			}
		}
	case "force_quote", "force_not_null", "force_null", "on_error", "default", "oids":
		return p.errCode(at, errcode.Unsupported, "COPY option %s is not supported", strings.ToUpper(name))
	default:
		return p.errCode(at, errcode.InvalidInput, "COPY option %q not recognized", name)
	}
	return err
}
