package parser

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// escapeString lexes E'...': a quote is escaped by doubling it or as \',
// and backslash sequences are C-style, as in PostgreSQL: \b \f \n \r \t,
// \o \oo \ooo (octal byte), \xh \xhh (hex byte), \uXXXX and \UXXXXXXXX
// (code points; a UTF-16 surrogate pair written as two escapes is one
// character); any other \c is c. The result must be valid UTF-8 without a
// zero byte, as PostgreSQL requires of text.
func (l *lexer) escapeString(t *token) error {
	src := l.src
	start := l.i
	l.i += 2 // E and the opening quote
	buf := make([]byte, 0, 16)
	for {
		if l.i >= len(src) {
			return l.errAt(start, "unterminated string literal")
		}
		b := src[l.i]
		switch {
		case b == '\'':
			if l.i+1 < len(src) && src[l.i+1] == '\'' {
				buf = append(buf, '\'')
				l.i += 2
				continue
			}
			l.i++
			if !utf8.Valid(buf) {
				return l.errSpan(start, l.i, "invalid byte sequence for encoding UTF8 in string literal")
			}
			if strings.IndexByte(string(buf), 0) >= 0 {
				return l.errSpan(start, l.i, "a string literal cannot contain a zero byte")
			}
			t.kind = tkString
			t.str = string(buf)
			return nil
		case b == '\\':
			if l.i+1 >= len(src) {
				return l.errAt(start, "unterminated string literal")
			}
			var err error
			if buf, err = l.backslashEscape(buf); err != nil {
				return err
			}
		default:
			buf = append(buf, b)
			l.advance()
		}
	}
}

// backslashEscape decodes the E'...' escape at l.i (a backslash with at
// least one byte after it) onto buf.
func (l *lexer) backslashEscape(buf []byte) ([]byte, error) {
	src := l.src
	escStart := l.i
	l.i++ // the backslash
	e := src[l.i]
	switch e {
	case 'b':
		buf = append(buf, '\b')
	case 'f':
		buf = append(buf, '\f')
	case 'n':
		buf = append(buf, '\n')
	case 'r':
		buf = append(buf, '\r')
	case 't':
		buf = append(buf, '\t')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := 0
		j := l.i
		for j < len(src) && j < l.i+3 && src[j] >= '0' && src[j] <= '7' {
			v = v<<3 | int(src[j]-'0')
			j++
		}
		l.i = j
		return append(buf, byte(v)), nil
	case 'x':
		v, n := hexValue(src[l.i+1:], 2)
		if n == 0 {
			buf = append(buf, 'x') // \x without digits is x, as in PostgreSQL
			break
		}
		l.i += 1 + n
		return append(buf, byte(v)), nil
	case 'u', 'U':
		digits := 4
		if e == 'U' {
			digits = 8
		}
		r, err := l.codePointEscape(escStart, digits)
		if err != nil {
			return buf, err
		}
		if isHighSurrogate(r) {
			// The low half must follow as another \u or \U escape.
			lowStart := l.i
			if l.i+1 < len(src) && src[l.i] == '\\' && (src[l.i+1] == 'u' || src[l.i+1] == 'U') {
				d := 4
				if src[l.i+1] == 'U' {
					d = 8
				}
				l.i++
				low, err := l.codePointEscape(lowStart, d)
				if err != nil {
					return buf, err
				}
				if isLowSurrogate(low) {
					return utf8.AppendRune(buf, combineSurrogates(r, low)), nil
				}
			}
			return buf, l.errSpan(escStart, l.i, "invalid Unicode surrogate pair")
		}
		if isLowSurrogate(r) {
			return buf, l.errSpan(escStart, l.i, "invalid Unicode surrogate pair")
		}
		return utf8.AppendRune(buf, r), nil
	default:
		// Any other \c is c; copy the whole (possibly multi-byte) character.
		_, size := utf8.DecodeRuneInString(src[l.i:])
		for k := 0; k < size; k++ {
			buf = append(buf, src[l.i])
			l.advance()
		}
		return buf, nil
	}
	l.i++
	return buf, nil
}

// codePointEscape reads exactly digits hex digits after the escape letter
// at l.i (u, U or +) and returns the code point; escStart is where the
// escape began, for the error.
func (l *lexer) codePointEscape(escStart, digits int) (rune, error) {
	v, n := hexValue(l.src[l.i+1:], digits)
	if n != digits {
		return 0, l.errSpan(escStart, min(l.i+1+n+1, len(l.src)), "invalid Unicode escape: expected "+strconv.Itoa(digits)+" hex digits")
	}
	l.i += 1 + n
	if v == 0 || v > utf8.MaxRune {
		return 0, l.errSpan(escStart, l.i, "invalid Unicode escape value")
	}
	return rune(v), nil
}

// hexValue reads up to max hex digits from the start of s.
func hexValue(s string, max int) (v uint64, n int) {
	for n < max && n < len(s) {
		d, ok := hexDigit(s[n])
		if !ok {
			break
		}
		v = v<<4 | uint64(d)
		n++
	}
	return v, n
}

func hexDigit(b byte) (byte, bool) {
	switch {
	case b >= '0' && b <= '9':
		return b - '0', true
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10, true
	case b >= 'A' && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}

func isHighSurrogate(r rune) bool { return r >= 0xD800 && r <= 0xDBFF }
func isLowSurrogate(r rune) bool  { return r >= 0xDC00 && r <= 0xDFFF }
func combineSurrogates(high, low rune) rune {
	return (high-0xD800)<<10 + (low - 0xDC00) + 0x10000
}

// unicodeString lexes U&'...' [UESCAPE 'c']: a quote is escaped only by
// doubling it; the escape character (default backslash) introduces \XXXX
// or \+XXXXXX (a code point; a surrogate pair as two escapes is one
// character) or, doubled, stands for itself.
func (l *lexer) unicodeString(t *token) error {
	src := l.src
	start := l.i
	l.i += 3 // U, & and the opening quote
	var body strings.Builder
	for {
		if l.i >= len(src) {
			return l.errAt(start, "unterminated string literal")
		}
		b := src[l.i]
		if b == '\'' {
			if l.i+1 < len(src) && src[l.i+1] == '\'' {
				body.WriteByte('\'')
				l.i += 2
				continue
			}
			l.i++
			break
		}
		body.WriteByte(b)
		l.advance()
	}
	end := l.i
	esc, err := l.uescape()
	if err != nil {
		return err
	}
	s, msg := decodeUnicodeEscapes(body.String(), esc)
	if msg != "" {
		return l.errSpan(start, end, msg)
	}
	t.kind = tkString
	t.str = s
	return nil
}

// uescape consumes an optional UESCAPE 'c' after a U& literal and returns
// the escape character (backslash without the clause).
func (l *lexer) uescape() (byte, error) {
	saved := *l
	if err := l.skipSpaceAndComments(); err != nil {
		*l = saved // the next token reports it
		return '\\', nil
	}
	const kw = "uescape"
	src := l.src
	if len(src)-l.i < len(kw) || !strings.EqualFold(src[l.i:l.i+len(kw)], kw) ||
		l.i+len(kw) < len(src) && (isIdentByte(src[l.i+len(kw)]) || src[l.i+len(kw)] >= 0x80) {
		*l = saved
		return '\\', nil
	}
	kwStart := l.i
	l.i += len(kw)
	if err := l.skipSpaceAndComments(); err != nil {
		return 0, err
	}
	if l.i+2 >= len(src) || src[l.i] != '\'' || src[l.i+2] != '\'' || (l.i+3 < len(src) && src[l.i+3] == '\'') {
		return 0, l.errSpan(kwStart, l.wordEnd(l.i), "UESCAPE must be followed by a one-character string literal")
	}
	c := src[l.i+1]
	if _, hex := hexDigit(c); hex || c == '+' || c == '\'' || c == '"' || isSpace(c) || c >= 0x80 {
		return 0, l.errSpan(kwStart, l.i+3, "invalid Unicode escape character")
	}
	l.i += 3
	return c, nil
}

// decodeUnicodeEscapes resolves the escapes of a U&'...' body; msg is
// non-empty when one is malformed.
func decodeUnicodeEscapes(body string, esc byte) (string, string) {
	if strings.IndexByte(body, esc) < 0 {
		return body, ""
	}
	buf := make([]byte, 0, len(body))
	var pendingHigh rune
	for i := 0; i < len(body); {
		c := body[i]
		if c != esc {
			if pendingHigh != 0 {
				return "", "invalid Unicode surrogate pair"
			}
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 < len(body) && body[i+1] == esc {
			if pendingHigh != 0 {
				return "", "invalid Unicode surrogate pair"
			}
			buf = append(buf, esc)
			i += 2
			continue
		}
		digits, skip := 4, 1
		if i+1 < len(body) && body[i+1] == '+' {
			digits, skip = 6, 2
		}
		v, n := hexValue(body[i+skip:], digits)
		if n != digits {
			return "", "invalid Unicode escape: expected " + strconv.Itoa(digits) + " hex digits"
		}
		i += skip + n
		r := rune(v)
		if v == 0 || v > utf8.MaxRune {
			return "", "invalid Unicode escape value"
		}
		switch {
		case pendingHigh != 0:
			if !isLowSurrogate(r) {
				return "", "invalid Unicode surrogate pair"
			}
			buf = utf8.AppendRune(buf, combineSurrogates(pendingHigh, r))
			pendingHigh = 0
		case isHighSurrogate(r):
			pendingHigh = r
		case isLowSurrogate(r):
			return "", "invalid Unicode surrogate pair"
		default:
			buf = utf8.AppendRune(buf, r)
		}
	}
	if pendingHigh != 0 {
		return "", "invalid Unicode surrogate pair"
	}
	if !utf8.Valid(buf) {
		return "", "invalid byte sequence for encoding UTF8 in string literal"
	}
	return string(buf), ""
}

// dollarTagEnd returns the offset just past the opening tag of a
// dollar-quoted string starting at i ($$ or $tag$, a tag being a word that
// does not start with a digit), or 0 when none starts there ($1 is a
// parameter). It returns -1 when text ends inside a possible tag (an
// incremental scanner must wait for more).
func dollarTagEnd[T ~string | ~[]byte](text T, i int) int {
	j := i + 1
	if j < len(text) && isDigit(text[j]) {
		return 0
	}
	for j < len(text) && (isIdentByte(text[j]) || text[j] >= 0x80) {
		j++
	}
	if j >= len(text) {
		return -1
	}
	if text[j] != '$' {
		return 0
	}
	return j + 1
}

// dollarString lexes $tag$...$tag$: the body is taken verbatim, in both
// dialects (no escapes of any kind), as in PostgreSQL.
func (l *lexer) dollarString(t *token, tagEnd int) error {
	src := l.src
	start := l.i
	tag := src[start:tagEnd]
	body := tagEnd
	end := strings.Index(src[body:], tag)
	if end < 0 {
		return l.errSpan(start, tagEnd, "unterminated dollar-quoted string")
	}
	for l.i < body+end+len(tag) {
		l.advance()
	}
	t.kind = tkString
	t.str = src[body : body+end]
	return nil
}
