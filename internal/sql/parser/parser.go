package parser

import (
	"fmt"
	"sync"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// maxDepth bounds the nesting of expressions and queries so hostile input
// cannot exhaust the stack or take quadratic time.
const maxDepth = 500

// parser is a recursive-descent parser over a pre-lexed token slice.
// Statements are parsed top-down; expressions by precedence climbing.
//
// Tokens are lexed on demand into toks (kept, so the parser can look ahead
// and backtrack), so input is only lexed as far as parsing gets: an error
// early in a huge statement costs little.
type parser struct {
	src    string
	lx     lexer
	toks   []token
	done   bool  // toks ends with tkEOF or tkError
	lexErr error // the error of a trailing tkError token
	pos    int
	depth  int
}

var parserPool = sync.Pool{New: func() any { return &parser{toks: make([]token, 0, 64)} }}

// Parse parses exactly one statement; a trailing ';' is allowed.
// Errors are *errcode.Error: CADB0406 for syntax errors (with line, column
// and the offending token), CADB0400 for out-of-range numbers and CADB0401
// for unknown type names.
func Parse(sql string) (stmt ast.Statement, err error) {
	return parse(sql, Options{})
}

func parse(sql string, opts Options) (stmt ast.Statement, err error) {
	p := newParser(sql, opts)
	defer p.release()
	defer recoverInternal(&err)
	if p.peek().kind == tkEOF || p.peek().kind == tkSemicolon {
		return nil, p.errExpected("a statement")
	}
	stmt, err = p.parseStatement()
	if err != nil {
		return nil, err
	}
	p.accept(tkSemicolon)
	if p.peek().kind != tkEOF {
		return nil, p.errExpected("end of statement")
	}
	return stmt, nil
}

// ParseMulti parses a script of ';'-separated statements. Empty statements
// (";;") are skipped; an empty script gives an empty slice.
func ParseMulti(sql string) (stmts []ast.Statement, err error) {
	return parseMulti(sql, Options{})
}

func parseMulti(sql string, opts Options) (stmts []ast.Statement, err error) {
	p := newParser(sql, opts)
	defer p.release()
	defer recoverInternal(&err)
	for {
		for p.accept(tkSemicolon) {
		}
		if p.peek().kind == tkEOF {
			return stmts, nil
		}
		stmt, err := p.parseStatement()
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, stmt)
		if !p.accept(tkSemicolon) && p.peek().kind != tkEOF {
			return nil, p.errExpected("';' or end of input")
		}
	}
}

func newParser(sql string, opts Options) *parser {
	p := parserPool.Get().(*parser)
	p.src, p.lx = sql, lexer{src: sql, line: 1, standard: opts.StandardStrings}
	p.toks, p.done, p.lexErr, p.pos, p.depth = p.toks[:0], false, nil, 0, 0
	// The parser keeps every token of the text (it backtracks): size the
	// slice for the text at once rather than growing it through a dozen
	// copies (most of a 1000-row INSERT's parse was that growth). A
	// token takes ~5 bytes of a bulk VALUES list (a longer list grows
	// once). Capped: a long string literal is one token, and a text of
	// megabytes must not reserve fourteen times its size up front.
	if want := min(len(sql)/5+16, maxPooledTokens); cap(p.toks) < want {
		p.toks = make([]token, 0, want)
	}
	return p
}

// maxPooledTokens bounds the token slice a pooled parser keeps (72 bytes a
// token: ~1.2 MiB, a 1000-row bulk INSERT's; the pool lets go of idle
// parsers at garbage collections).
const maxPooledTokens = 16 << 10

func (p *parser) release() {
	clear(p.toks) // drop references into the statement text
	if cap(p.toks) > maxPooledTokens {
		p.toks = nil // do not pin huge buffers in the pool
	}
	p.toks = p.toks[:0]
	p.src, p.lx, p.lexErr = "", lexer{}, nil
	parserPool.Put(p)
}

// recoverInternal is the last line of defence: a panic is a bug in the
// parser, reported as CADB0099 rather than taking the server down.
func recoverInternal(err *error) {
	if r := recover(); r != nil {
		*err = errcode.New(errcode.Internal, "internal parser error: %v", r)
	}
}

// ---------------------------------------------------------------- tokens

// lexOne appends the next token (or a final tkEOF / tkError) to p.toks.
func (p *parser) lexOne() {
	l := &p.lx
	if err := l.skipSpaceAndComments(); err != nil {
		p.lexFailed(err)
		return
	}
	t := token{off: l.i, line: l.line, col: l.col(l.i)}
	if l.i >= len(l.src) {
		t.end = l.i
		p.toks = append(p.toks, t) // tkEOF
		p.done = true
		return
	}
	if err := l.next(&t); err != nil {
		p.lexFailed(err)
		return
	}
	t.end = l.i
	p.toks = append(p.toks, t)
}

func (p *parser) lexFailed(err error) {
	p.toks = append(p.toks, token{kind: tkError, off: p.lx.i, end: p.lx.i, line: p.lx.line, col: p.lx.col(p.lx.i)})
	p.lexErr = err
	p.done = true
}

// tokAt returns token i, lexing up to it; past the end it returns the
// final tkEOF or tkError token.
func (p *parser) tokAt(i int) *token {
	for i >= len(p.toks) {
		if p.done {
			return &p.toks[len(p.toks)-1]
		}
		p.lexOne()
	}
	return &p.toks[i]
}

func (p *parser) peek() *token {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return p.tokAt(p.pos)
}

func (p *parser) peekN(n int) *token { return p.tokAt(p.pos + n) }

func (p *parser) next() *token {
	t := p.peek()
	if t.kind != tkEOF && t.kind != tkError {
		p.pos++
	}
	return t
}

func (p *parser) accept(k tokKind) bool {
	if p.peek().kind == k {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(k tokKind, what string) (*token, error) {
	t := p.peek()
	if t.kind != k {
		return nil, p.errExpected(what)
	}
	p.pos++
	return t, nil
}

// isKw reports whether t is the unquoted keyword kw.
func (t *token) isKw(kw keyword) bool { return t.kind == tkIdent && t.kw == kw }

func (p *parser) isKw(kw keyword) bool { return p.peek().isKw(kw) }

// isWord reports whether t is the unquoted word w (lower case), for words
// of a statement that are not keywords.
func (t *token) isWord(w string) bool { return t.kind == tkIdent && !t.quoted && t.str == w }

func (p *parser) acceptKw(kw keyword) bool {
	if p.isKw(kw) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expectKw(kw keyword) (*token, error) {
	t := p.peek()
	if !t.isKw(kw) {
		return nil, p.errExpected(upper(keywordNames[kw]))
	}
	p.pos++
	return t, nil
}

func (t *token) at() ast.Pos { return ast.Pos{Line: t.line, Col: t.col} }

// isIdent reports whether t can be used as an identifier: any word except a
// reserved keyword, or anything in backticks.
func (t *token) isIdent() bool { return t.kind == tkIdent && !reserved[t.kw] }

// ident consumes an identifier; what names it in the error message.
func (p *parser) ident(what string) (string, error) {
	t := p.peek()
	if !t.isIdent() {
		return "", p.errExpected(what)
	}
	p.pos++
	return t.str, nil
}

// ---------------------------------------------------------------- errors

func (p *parser) errExpected(what string) error {
	return p.errAt(p.peek(), "expected "+what)
}

func (p *parser) errAt(t *token, msg string) error {
	if t.kind == tkError {
		return p.lexErr
	}
	near := ""
	if t.kind != tkEOF {
		near = nearText(p.src[t.off:t.end])
	}
	return syntaxErrAt(t.line, t.col, near, msg)
}

func (p *parser) errCode(t *token, code errcode.Code, format string, args ...any) error {
	return errcode.New(code, "%s at line %d, column %d", fmt.Sprintf(format, args...), t.line, t.col)
}

// enter guards recursion depth; every recursive production calls it and
// defers p.leave().
func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errCode(p.peek(), errcode.InvalidInput, "statement nested too deeply (more than %d levels)", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}
