package parser

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tkEOF         tokKind = iota
	tkIdent               // a word: identifier or keyword (kw != kwNone when an unquoted keyword)
	tkString              // '...' or "..."; str is the unescaped value
	tkInt                 // digits only; str is the digits
	tkFloat               // number with '.' or exponent; str is the text
	tkParam               // @name or $n; str is the name without the sigil
	tkHint                // "@{"
	tkRBrace              // "}"
	tkLParen              // (
	tkRParen              // )
	tkComma               // ,
	tkSemicolon           // ;
	tkDot                 // .
	tkStar                // *
	tkPlus                // +
	tkMinus               // -
	tkSlash               // /
	tkPercent             // %
	tkConcat              // ||
	tkEq                  // =
	tkNe                  // != or <>
	tkLt                  // <
	tkGt                  // >
	tkLe                  // <=
	tkGe                  // >=
	tkError               // a lexical error; the parser reports parser.lexErr when it reaches it
	tkDoubleColon         // :: (PostgreSQL cast)
	tkRegex               // ~ ~* !~ !~* (POSIX regular expression match); str is the operator
	tkLBracket            // [
	tkRBracket            // ]
	tkArrow               // -> (jsonb field)
	tkArrowText           // ->> (jsonb field as text)
	tkContains            // @> (jsonb containment)
)

// token is one lexical unit. str for identifiers is already folded to lower
// case; for strings it is the unescaped value. off/end delimit the raw text.
type token struct {
	kind   tokKind
	kw     keyword // kwNone unless an unquoted word that is a keyword
	quoted bool    // identifier written in backticks (or "..." in PostgreSQL's dialect)
	raw    string  // a quoted identifier as written, case kept
	str    string
	off    int
	end    int
	line   int
	col    int
}

// lexer turns SQL text into tokens. It tracks the line and the rune column
// of every token so syntax errors and AST positions are exact.
type lexer struct {
	src       string
	i         int
	line      int
	lineStart int // offset of the first byte of the current line
	lineCont  int // UTF-8 continuation bytes seen on the current line before i
	// standard: backslash is an ordinary character in '...' and "..."
	// (Options.StandardStrings).
	standard bool
}

// col returns the 1-based rune column of byte offset off on the current line.
// It is only valid for offsets not before the last continuation byte counted.
func (l *lexer) col(off int) int { return off - l.lineStart - l.lineCont + 1 }

// advance consumes src[l.i] keeping line/column accounting right.
func (l *lexer) advance() {
	b := l.src[l.i]
	if b == '\n' {
		l.line++
		l.lineStart = l.i + 1
		l.lineCont = 0
	} else if b&0xC0 == 0x80 {
		l.lineCont++
	}
	l.i++
}

func syntaxErrAt(line, col int, near string, msg string) *errcode.Error {
	if near == "" {
		return errcode.New(errcode.SyntaxError, "syntax error at line %d, column %d near end of input: %s", line, col, msg)
	}
	return errcode.New(errcode.SyntaxError, "syntax error at line %d, column %d near %q: %s", line, col, near, msg)
}

// nearText bounds the offending text quoted in an error message.
func nearText(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return s[:cut] + "..."
	}
	return s
}

func (l *lexer) errAt(off int, msg string) *errcode.Error {
	end := off + 1
	for end < len(l.src) && !utf8.RuneStart(l.src[end]) {
		end++
	}
	return l.errSpan(off, end, msg)
}

// errSpan reports a lexical error about src[off:end].
func (l *lexer) errSpan(off, end int, msg string) *errcode.Error {
	// Recompute line/column from scratch: errors are rare, clarity wins.
	line, col := lineCol(l.src, off)
	if end > len(l.src) {
		end = len(l.src)
	}
	return syntaxErrAt(line, col, nearText(l.src[off:end]), msg)
}

// wordEnd returns the end of the run of identifier bytes from i, so an
// error can quote a whole malformed token ("1abc", "$1a").
func (l *lexer) wordEnd(i int) int {
	for i < len(l.src) && (isIdentByte(l.src[i]) || l.src[i] == '.' || l.src[i] >= 0x80) {
		i++
	}
	return i
}

// lineCol computes the 1-based line and rune column of byte offset off.
func lineCol(src string, off int) (line, col int) {
	line, col = 1, 1
	for i := 0; i < off && i < len(src); i++ {
		switch b := src[i]; {
		case b == '\n':
			line++
			col = 1
		case b&0xC0 != 0x80:
			col++
		}
	}
	return line, col
}

func (l *lexer) skipSpaceAndComments() error {
	src := l.src
	for l.i < len(src) {
		b := src[l.i]
		switch {
		case isSpace(b):
			l.advance()
		case b == '-' && l.i+1 < len(src) && src[l.i+1] == '-':
			for l.i < len(src) && src[l.i] != '\n' {
				l.advance()
			}
		case b == '/' && l.i+1 < len(src) && src[l.i+1] == '*':
			start := l.i
			l.i += 2
			for {
				if l.i+1 >= len(src) {
					return l.errSpan(start, start+2, "unterminated /* comment")
				}
				if src[l.i] == '*' && src[l.i+1] == '/' {
					l.i += 2
					break
				}
				l.advance()
			}
		default:
			return nil
		}
	}
	return nil
}

func isIdentStart(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_'
}

func isIdentByte(b byte) bool {
	return isIdentStart(b) || b >= '0' && b <= '9'
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// identRuneAt reports whether a non-ASCII identifier character starts at i,
// and its size.
func identRuneAt(src string, i int, start bool) (bool, int) {
	r, size := utf8.DecodeRuneInString(src[i:])
	if r == utf8.RuneError {
		return false, size
	}
	if unicode.IsLetter(r) || !start && (unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)) {
		return true, size
	}
	return false, size
}

// next lexes one token starting at l.i (not whitespace, not EOF) into t.
func (l *lexer) next(t *token) error {
	src := l.src
	b := src[l.i]
	switch {
	case (b == 'e' || b == 'E') && l.i+1 < len(src) && src[l.i+1] == '\'':
		return l.escapeString(t)
	case (b == 'u' || b == 'U') && l.i+2 < len(src) && src[l.i+1] == '&' && src[l.i+2] == '\'':
		return l.unicodeString(t)
	case isIdentStart(b):
		l.word(t)
		return l.checkIdentLen(t)
	case b >= 0x80:
		if ok, _ := identRuneAt(src, l.i, true); ok {
			l.word(t)
			return l.checkIdentLen(t)
		}
		return l.errAt(l.i, "unexpected character")
	case isDigit(b) || b == '.' && l.i+1 < len(src) && isDigit(src[l.i+1]):
		return l.number(t)
	case b == '"' && l.standard:
		// PostgreSQL's dialect: "..." is an identifier. Names fold to
		// lower case like every identifier here; an output alias keeps
		// its case (token.raw).
		if err := l.quotedIdent(t, '"', true); err != nil {
			return err
		}
		return l.checkIdentLen(t)
	case b == '\'' || b == '"':
		return l.quotedString(t, b)
	case b == '`':
		if err := l.quotedIdent(t, '`', true); err != nil {
			return err
		}
		return l.checkIdentLen(t)
	case b == '@':
		if l.i+1 < len(src) && src[l.i+1] == '{' {
			t.kind = tkHint
			l.i += 2
			return nil
		}
		if l.i+1 < len(src) && src[l.i+1] == '>' {
			t.kind = tkContains
			l.i += 2
			return nil
		}
		return l.param(t, '@')
	case b == '$':
		if tagEnd := dollarTagEnd(src, l.i); tagEnd > 0 {
			return l.dollarString(t, tagEnd)
		}
		return l.param(t, '$')
	}
	two := func(k tokKind) error { t.kind = k; l.i += 2; return nil }
	one := func(k tokKind) error { t.kind = k; l.i++; return nil }
	var nb byte
	if l.i+1 < len(src) {
		nb = src[l.i+1]
	}
	switch b {
	case '(':
		return one(tkLParen)
	case ')':
		return one(tkRParen)
	case ',':
		return one(tkComma)
	case ';':
		return one(tkSemicolon)
	case '.':
		return one(tkDot)
	case '*':
		return one(tkStar)
	case '+':
		return one(tkPlus)
	case '-':
		if nb == '>' {
			if l.i+2 < len(src) && src[l.i+2] == '>' {
				t.kind = tkArrowText
				l.i += 3
				return nil
			}
			return two(tkArrow)
		}
		return one(tkMinus)
	case '/':
		return one(tkSlash)
	case '%':
		return one(tkPercent)
	case '}':
		return one(tkRBrace)
	case '=':
		return one(tkEq)
	case '|':
		if nb == '|' {
			return two(tkConcat)
		}
	case ':':
		if nb == ':' {
			return two(tkDoubleColon)
		}
	case '!':
		if nb == '=' {
			return two(tkNe)
		}
		if nb == '~' {
			return l.regexOp(t, 2)
		}
	case '~':
		return l.regexOp(t, 1)
	case '[':
		return one(tkLBracket)
	case ']':
		return one(tkRBracket)
	case '<':
		switch nb {
		case '=':
			return two(tkLe)
		case '>':
			return two(tkNe)
		}
		return one(tkLt)
	case '>':
		if nb == '=' {
			return two(tkGe)
		}
		return one(tkGt)
	}
	return l.errAt(l.i, "unexpected character")
}

// word lexes an identifier or keyword. Folding allocates only when the
// word is not already lower case ASCII.
func (l *lexer) word(t *token) {
	src := l.src
	start := l.i
	ascii, lower := true, true
	for l.i < len(src) {
		b := src[l.i]
		if isIdentByte(b) {
			if b >= 'A' && b <= 'Z' {
				lower = false
			}
			l.i++
			continue
		}
		if b >= 0x80 {
			if ok, size := identRuneAt(src, l.i, false); ok {
				ascii = false
				l.lineCont += size - 1
				l.i += size
				continue
			}
		}
		break
	}
	raw := src[start:l.i]
	t.kind = tkIdent
	if ascii {
		t.kw = lookupKeyword(raw)
		if t.kw != kwNone {
			t.str = keywordNames[t.kw]
			return
		}
	}
	switch {
	case ascii && lower:
		t.str = raw
	case ascii:
		t.str = asciiLower(raw)
	default:
		t.str = strings.ToLower(raw)
	}
}

func asciiLower(s string) string {
	buf := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		buf[i] = b
	}
	return string(buf)
}

// number lexes 42, 1.5, .5, 5., 1e300, 1.5E-3. A number directly followed
// by an identifier character (1abc) is an error rather than an implicit alias.
func (l *lexer) number(t *token) error {
	src := l.src
	start := l.i
	isFloat := false
	for l.i < len(src) && isDigit(src[l.i]) {
		l.i++
	}
	if l.i < len(src) && src[l.i] == '.' {
		isFloat = true
		l.i++
		for l.i < len(src) && isDigit(src[l.i]) {
			l.i++
		}
	}
	if l.i < len(src) && (src[l.i] == 'e' || src[l.i] == 'E') {
		j := l.i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			isFloat = true
			l.i = j
			for l.i < len(src) && isDigit(src[l.i]) {
				l.i++
			}
		}
	}
	if l.i < len(src) {
		b := src[l.i]
		bad := isIdentByte(b) || b == '.'
		if !bad && b >= 0x80 {
			bad, _ = identRuneAt(src, l.i, true)
		}
		if bad {
			return l.errSpan(start, l.wordEnd(l.i), "invalid number literal")
		}
	}
	t.str = src[start:l.i]
	if isFloat {
		t.kind = tkFloat
	} else {
		t.kind = tkInt
	}
	return nil
}

// quotedString lexes a string in single or double quotes. The quote is
// escaped by doubling it; unless l.standard also with a backslash, and then
// \\ \n \t \r \0 are escapes and any other \x is x. The common case (no
// escapes) does not allocate.
func (l *lexer) quotedString(t *token, q byte) error {
	src := l.src
	start := l.i
	l.i++ // opening quote
	bodyStart := l.i
	var sb *strings.Builder
	for {
		if l.i >= len(src) {
			return l.errAt(start, "unterminated string literal")
		}
		b := src[l.i]
		switch {
		case b == q:
			if l.i+1 < len(src) && src[l.i+1] == q {
				if sb == nil {
					sb = &strings.Builder{}
					sb.WriteString(src[bodyStart:l.i])
				}
				sb.WriteByte(q)
				l.i += 2
				continue
			}
			if sb == nil {
				t.str = src[bodyStart:l.i]
			} else {
				t.str = sb.String()
			}
			l.i++
			t.kind = tkString
			return nil
		case b == '\\' && !l.standard:
			if l.i+1 >= len(src) {
				return l.errAt(start, "unterminated string literal")
			}
			if sb == nil {
				sb = &strings.Builder{}
				sb.WriteString(src[bodyStart:l.i])
			}
			l.i++ // the backslash
			switch e := src[l.i]; e {
			case 'n':
				sb.WriteByte('\n')
			case 't':
				sb.WriteByte('\t')
			case 'r':
				sb.WriteByte('\r')
			case '0':
				sb.WriteByte(0)
			default:
				// Any other \x is x; copy the whole (possibly multi-byte) character.
				_, size := utf8.DecodeRuneInString(src[l.i:])
				for k := 0; k < size; k++ {
					sb.WriteByte(src[l.i])
					l.advance()
				}
				continue
			}
			l.i++
		default:
			if sb != nil {
				sb.WriteByte(b)
			}
			l.advance()
		}
	}
}

// quotedIdent lexes `name`; a backtick inside is written doubled. The name is
// folded to lower case like a bare identifier and is never a keyword.
func (l *lexer) quotedIdent(t *token, quote byte, fold bool) error {
	src := l.src
	start := l.i
	l.i++
	bodyStart := l.i
	var sb *strings.Builder
	for {
		if l.i >= len(src) {
			return l.errAt(start, "unterminated quoted identifier")
		}
		b := src[l.i]
		if b == quote {
			if l.i+1 < len(src) && src[l.i+1] == quote {
				if sb == nil {
					sb = &strings.Builder{}
					sb.WriteString(src[bodyStart:l.i])
				}
				sb.WriteByte(quote)
				l.i += 2
				continue
			}
			break
		}
		if sb != nil {
			sb.WriteByte(b)
		}
		l.advance()
	}
	var name string
	if sb == nil {
		name = src[bodyStart:l.i]
	} else {
		name = sb.String()
	}
	l.i++ // closing backtick
	if name == "" {
		return l.errAt(start, "empty quoted identifier")
	}
	t.kind = tkIdent
	t.quoted = true
	t.str, t.raw = name, name
	if fold {
		t.str = foldIdent(name)
	}
	return nil
}

// foldIdent lower-cases an identifier. Folding must be idempotent (Format
// writes folded names back): non-ASCII text always goes through
// strings.ToLower, which also replaces invalid UTF-8 with U+FFFD.
func foldIdent(s string) string {
	upperASCII := false
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= 0x80 {
			return strings.ToLower(s)
		}
		if b >= 'A' && b <= 'Z' {
			upperASCII = true
		}
	}
	if upperASCII {
		return asciiLower(s)
	}
	return s
}

// param lexes @name or $n.
func (l *lexer) param(t *token, sigil byte) error {
	src := l.src
	start := l.i
	l.i++
	nameStart := l.i
	if sigil == '$' {
		for l.i < len(src) && isDigit(src[l.i]) {
			l.i++
		}
	} else {
		for l.i < len(src) && isIdentByte(src[l.i]) {
			l.i++
		}
	}
	if l.i == nameStart {
		if sigil == '$' {
			return l.errAt(start, "expected parameter number after '$'")
		}
		return l.errAt(start, "expected parameter name after '@'")
	}
	if l.i < len(src) && (isIdentByte(src[l.i]) || src[l.i] >= 0x80) {
		return l.errSpan(start, l.wordEnd(l.i), "invalid parameter")
	}
	t.kind = tkParam
	t.str = src[nameStart:l.i]
	return nil
}

// MaxIdentifierLength is the longest identifier accepted, in bytes, as in
// PostgreSQL (which reports it as max_identifier_length).
const MaxIdentifierLength = 63

// checkIdentLen refuses identifiers longer than MaxIdentifierLength
// (CADB0400): catalog names are keys and travel in every row key, so a
// bound keeps them, and what clients display, sane. Keywords are short.
func (l *lexer) checkIdentLen(t *token) error {
	if t.kind != tkIdent || len(t.str) <= MaxIdentifierLength {
		return nil
	}
	return errcode.New(errcode.InvalidInput, "identifier %q is %d bytes long; the limit is %d bytes (max_identifier_length) at line %d, column %d",
		nearText(t.str), len(t.str), MaxIdentifierLength, t.line, t.col)
}

// regexOp lexes ~, ~*, !~ or !~* whose first n bytes ("~" or "!~") are at
// l.i.
func (l *lexer) regexOp(t *token, n int) error {
	if l.i+n < len(l.src) && l.src[l.i+n] == '*' {
		n++
	}
	t.kind = tkRegex
	t.str = l.src[l.i : l.i+n]
	l.i += n
	return nil
}
