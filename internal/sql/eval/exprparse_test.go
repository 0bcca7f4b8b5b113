package eval

// A small expression parser used only by this package's tests, so they do
// not depend on internal/sql/parser. It accepts the expression grammar of
// SPEC §2.5 (no subqueries) and builds the same ast nodes.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tInt
	tFloat
	tString
	tParam
	tOp
)

type token struct {
	kind tokKind
	text string
}

func lexExpr(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			q := c
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) {
					switch s[i+1] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					case 'r':
						b.WriteByte('\r')
					case '0':
						b.WriteByte(0)
					default:
						b.WriteByte(s[i+1])
					}
					i += 2
					continue
				}
				if s[i] == q {
					if i+1 < len(s) && s[i+1] == q {
						b.WriteByte(q)
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string")
			}
			out = append(out, token{tString, b.String()})
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'):
			j := i
			isFloat := false
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				if s[j] == '.' {
					isFloat = true
				}
				j++
			}
			if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
				isFloat = true
				j++
				if j < len(s) && (s[j] == '+' || s[j] == '-') {
					j++
				}
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
			}
			if isFloat {
				out = append(out, token{tFloat, s[i:j]})
			} else {
				out = append(out, token{tInt, s[i:j]})
			}
			i = j
		case c == '@':
			j := i + 1
			for j < len(s) && (s[j] == '_' || unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j]))) {
				j++
			}
			out = append(out, token{tParam, s[i+1 : j]})
			i = j
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(s) && (s[j] == '_' || unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j]))) {
				j++
			}
			out = append(out, token{tIdent, strings.ToLower(s[i:j])})
			i = j
		default:
			two := ""
			if i+1 < len(s) {
				two = s[i : i+2]
			}
			switch two {
			case "<=", ">=", "!=", "<>", "||", "==":
				out = append(out, token{tOp, two})
				i += 2
				continue
			}
			if strings.IndexByte("+-*/%=<>(),.", c) < 0 {
				return nil, fmt.Errorf("unexpected character %q", c)
			}
			out = append(out, token{tOp, string(c)})
			i++
		}
	}
	return append(out, token{kind: tEOF}), nil
}

type exprParser struct {
	toks []token
	pos  int
}

// parseExpr parses one expression; the whole input must be consumed.
func parseExpr(s string) (ast.Expr, error) {
	toks, err := lexExpr(s)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks}
	e, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tEOF {
		return nil, fmt.Errorf("unexpected %q", p.peek().text)
	}
	return e, nil
}

func (p *exprParser) peek() token { return p.toks[p.pos] }
func (p *exprParser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}
func (p *exprParser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && t.text == kw
}
func (p *exprParser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == op
}
func (p *exprParser) expect(op string) error {
	if !p.isOp(op) && !p.isKw(op) {
		return fmt.Errorf("expected %q, got %q", op, p.peek().text)
	}
	p.next()
	return nil
}

const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp
	precConcat
	precAdd
	precMul
	precUnary
)

func (p *exprParser) expr(minPrec int) (ast.Expr, error) {
	var left ast.Expr
	var err error
	if p.isKw("not") {
		p.next()
		x, err := p.expr(precNot)
		if err != nil {
			return nil, err
		}
		left = &ast.UnaryExpr{Op: "NOT", X: x}
	} else if left, err = p.unary(); err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tIdent && t.text == "or" && minPrec < precOr:
			p.next()
			r, err := p.expr(precOr)
			if err != nil {
				return nil, err
			}
			left = &ast.BinaryExpr{Op: "OR", L: left, R: r}
		case t.kind == tIdent && t.text == "and" && minPrec < precAnd:
			p.next()
			r, err := p.expr(precAnd)
			if err != nil {
				return nil, err
			}
			left = &ast.BinaryExpr{Op: "AND", L: left, R: r}
		case minPrec < precCmp && (t.kind == tOp && strings.Contains(" = == != <> < <= > >= ", " "+t.text+" ")):
			p.next()
			r, err := p.expr(precCmp)
			if err != nil {
				return nil, err
			}
			op := t.text
			if op == "<>" {
				op = "!="
			}
			if op == "==" {
				op = "="
			}
			left = &ast.BinaryExpr{Op: op, L: left, R: r}
		case minPrec < precCmp && t.kind == tIdent && t.text == "is":
			p.next()
			not := false
			if p.isKw("not") {
				p.next()
				not = true
			}
			if err := p.expect("null"); err != nil {
				return nil, err
			}
			left = &ast.IsNullExpr{X: left, Not: not}
		case minPrec < precCmp && t.kind == tIdent && (t.text == "not" || t.text == "like" || t.text == "ilike" || t.text == "between" || t.text == "in"):
			not := false
			if t.text == "not" {
				p.next()
				not = true
			}
			kw := p.next()
			switch kw.text {
			case "like", "ilike":
				pat, err := p.expr(precCmp)
				if err != nil {
					return nil, err
				}
				left = &ast.LikeExpr{X: left, Pattern: pat, Not: not, CaseInsensitive: kw.text == "ilike"}
			case "between":
				lo, err := p.expr(precCmp)
				if err != nil {
					return nil, err
				}
				if err := p.expect("and"); err != nil {
					return nil, err
				}
				hi, err := p.expr(precCmp)
				if err != nil {
					return nil, err
				}
				left = &ast.BetweenExpr{X: left, Lo: lo, Hi: hi, Not: not}
			case "in":
				if err := p.expect("("); err != nil {
					return nil, err
				}
				list, err := p.list(")")
				if err != nil {
					return nil, err
				}
				left = &ast.InExpr{X: left, List: list, Not: not}
			default:
				return nil, fmt.Errorf("unexpected %q after NOT", kw.text)
			}
		case minPrec < precConcat && t.kind == tOp && t.text == "||":
			p.next()
			r, err := p.expr(precConcat)
			if err != nil {
				return nil, err
			}
			left = &ast.BinaryExpr{Op: "||", L: left, R: r}
		case minPrec < precAdd && t.kind == tOp && (t.text == "+" || t.text == "-"):
			p.next()
			r, err := p.expr(precAdd)
			if err != nil {
				return nil, err
			}
			left = &ast.BinaryExpr{Op: t.text, L: left, R: r}
		case minPrec < precMul && t.kind == tOp && (t.text == "*" || t.text == "/" || t.text == "%"):
			p.next()
			r, err := p.expr(precMul)
			if err != nil {
				return nil, err
			}
			left = &ast.BinaryExpr{Op: t.text, L: left, R: r}
		default:
			return left, nil
		}
	}
}

func (p *exprParser) list(closer string) ([]ast.Expr, error) {
	var out []ast.Expr
	if p.isOp(closer) {
		p.next()
		return out, nil
	}
	for {
		e, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if p.isOp(",") {
			p.next()
			continue
		}
		return out, p.expect(closer)
	}
}

func (p *exprParser) unary() (ast.Expr, error) {
	if p.isOp("-") || p.isOp("+") {
		op := p.next().text
		// -9223372036854775808 is one literal, as in the real parser.
		if op == "-" && p.peek().kind == tInt && p.peek().text == "9223372036854775808" {
			p.next()
			return &ast.Literal{Value: types.NewInt(-1 << 63)}, nil
		}
		x, err := p.expr(precUnary)
		if err != nil {
			return nil, err
		}
		return &ast.UnaryExpr{Op: op, X: x}, nil
	}
	return p.primary()
}

func (p *exprParser) primary() (ast.Expr, error) {
	t := p.next()
	switch t.kind {
	case tInt:
		i, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("integer out of range: %s", t.text)
		}
		return &ast.Literal{Value: types.NewInt(i)}, nil
	case tFloat:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, err
		}
		return &ast.Literal{Value: types.NewFloat(f)}, nil
	case tString:
		return &ast.Literal{Value: types.NewString(t.text)}, nil
	case tParam:
		return &ast.Param{Name: t.text}, nil
	case tOp:
		if t.text == "(" {
			e, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			return e, p.expect(")")
		}
	case tIdent:
		switch t.text {
		case "null":
			return &ast.Literal{Value: types.NullValue}, nil
		case "true":
			return &ast.Literal{Value: types.NewBool(true)}, nil
		case "false":
			return &ast.Literal{Value: types.NewBool(false)}, nil
		case "case":
			return p.caseExpr()
		case "cast":
			if err := p.expect("("); err != nil {
				return nil, err
			}
			x, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect("as"); err != nil {
				return nil, err
			}
			typ := p.next()
			kind, ok := types.ParseKind(typ.text)
			if !ok {
				return nil, fmt.Errorf("unknown type %q", typ.text)
			}
			return &ast.CastExpr{X: x, Type: kind}, p.expect(")")
		}
		if p.isOp("(") {
			p.next()
			call := &ast.FuncCall{Name: t.text}
			if p.isOp("*") {
				p.next()
				call.Star = true
				return call, p.expect(")")
			}
			if p.isKw("distinct") {
				p.next()
				call.Distinct = true
			}
			args, err := p.list(")")
			if err != nil {
				return nil, err
			}
			call.Args = args
			return call, nil
		}
		if p.isOp(".") {
			p.next()
			col := p.next()
			if col.kind != tIdent {
				return nil, fmt.Errorf("expected column after %s.", t.text)
			}
			return &ast.ColumnRef{Table: t.text, Column: col.text}, nil
		}
		return &ast.ColumnRef{Column: t.text}, nil
	}
	return nil, fmt.Errorf("unexpected %q", t.text)
}

func (p *exprParser) caseExpr() (ast.Expr, error) {
	c := &ast.CaseExpr{}
	if !p.isKw("when") {
		op, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		c.Operand = op
	}
	for p.isKw("when") {
		p.next()
		cond, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		if err := p.expect("then"); err != nil {
			return nil, err
		}
		res, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, ast.When{Cond: cond, Result: res})
	}
	if p.isKw("else") {
		p.next()
		e, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		c.Else = e
	}
	return c, p.expect("end")
}
