package parser

// The scanner here is the lexer's quoting rules without the tokens: it
// tells literals, quoted identifiers and comments from code so that text
// can be cut into statements (SplitStatements, Splitter) or searched
// (ScanCode) exactly as the lexer would read it. One scanner serves the
// server, pgwire and camus-cli, so a script means the same everywhere.

// scanMode is where the scanner is.
type scanMode uint8

const (
	inCode         scanMode = iota
	inString                // '...' or "..." (scanState.quote)
	inIdent                 // `...`
	inLineComment           // -- to the end of the line
	inBlockComment          // /* ... */ (not nested)
	inDollar                // $tag$ ... $tag$ (scanState.tag)
)

type scanState struct {
	mode  scanMode
	quote byte // the quote of the string being scanned
	// backslash: a backslash escapes the next byte in this string (E'...',
	// and '...' / "..." without Options.StandardStrings).
	backslash bool
	tag       string // the $tag$ that ends a dollar-quoted string
}

// scanStep advances over the unit of text at i (a byte, an escape pair, a
// doubled quote, a comment opener or closer) and returns the offset after
// it. It returns i unchanged when it cannot decide without the next byte
// and final is false (an incremental caller feeds more text first).
// semicolon reports a statement-ending ';' at i; content a byte at i that
// is neither white space nor part of a comment.
func scanStep[T ~string | ~[]byte](text T, i int, st *scanState, standard, final bool) (next int, semicolon, content bool) {
	c := text[i]
	more := i+1 < len(text)
	switch st.mode {
	case inCode:
		switch c {
		case ';':
			return i + 1, true, false
		case '\'':
			st.mode, st.quote = inString, c
			switch {
			case i >= 1 && text[i-1]|0x20 == 'e' && (i < 2 || !isWordByte(text[i-2])):
				st.backslash = true // E'...'
			case i >= 2 && text[i-1] == '&' && text[i-2]|0x20 == 'u' && (i < 3 || !isWordByte(text[i-3])):
				st.backslash = false // U&'...': its escapes never hide a quote
			default:
				st.backslash = !standard
			}
			return i + 1, false, true
		case '"':
			st.mode, st.quote, st.backslash = inString, c, !standard
			return i + 1, false, true
		case '`':
			st.mode = inIdent
			return i + 1, false, true
		case '$':
			switch tagEnd := dollarTagEnd(text, i); {
			case tagEnd < 0 && !final:
				return i, false, true
			case tagEnd > 0:
				st.mode, st.tag = inDollar, string(text[i:tagEnd])
				return tagEnd, false, true
			}
			return i + 1, false, true
		case '-', '/':
			if !more {
				if !final {
					return i, false, false
				}
				return i + 1, false, true
			}
			if c == '-' && text[i+1] == '-' {
				st.mode = inLineComment
				return i + 2, false, false
			}
			if c == '/' && text[i+1] == '*' {
				st.mode = inBlockComment
				return i + 2, false, false
			}
			return i + 1, false, true
		}
		return i + 1, false, !isSpace(c)
	case inString:
		switch {
		case c == st.quote:
			if !more {
				if !final {
					return i, false, true
				}
				st.mode = inCode
				return i + 1, false, true
			}
			if text[i+1] == st.quote {
				return i + 2, false, true // a doubled quote stays inside
			}
			st.mode = inCode
			return i + 1, false, true
		case c == '\\' && st.backslash:
			if !more {
				if !final {
					return i, false, true
				}
				return i + 1, false, true
			}
			return i + 2, false, true
		}
		return i + 1, false, true
	case inIdent:
		if c == '`' {
			st.mode = inCode
		}
		return i + 1, false, true
	case inDollar:
		if c != '$' {
			return i + 1, false, true
		}
		if i+len(st.tag) > len(text) {
			if !final {
				return i, false, true
			}
			return i + 1, false, true
		}
		if string(text[i:i+len(st.tag)]) == st.tag {
			st.mode = inCode
			return i + len(st.tag), false, true
		}
		return i + 1, false, true
	case inLineComment:
		if c == '\n' {
			st.mode = inCode
		}
		return i + 1, false, false
	default: // inBlockComment
		if c == '*' {
			if !more {
				if !final {
					return i, false, false
				}
				return i + 1, false, false
			}
			if text[i+1] == '/' {
				st.mode = inCode
				return i + 2, false, false
			}
		}
		return i + 1, false, false
	}
}

// isWordByte reports whether b can be part of a word, for deciding whether
// an E or U& before a quote is a literal's prefix or a word's end.
func isWordByte(b byte) bool { return isIdentByte(b) || b >= 0x80 }

// SplitStatements splits a script into statements on ';' outside string
// literals, quoted identifiers and comments, with the quoting rules of the
// default dialect (see SplitStatementsWith).
func SplitStatements(script string) []string {
	return SplitStatementsWith(script, Options{})
}

// SplitStatementsWith splits a script into statements on ';' outside
// string literals, backtick identifiers and comments, with the same
// quoting rules as the lexer in the dialect opts selects. Each statement's
// text is kept as written (comments included) minus surrounding white
// space and the ';'. Pieces holding only white space and comments are
// dropped. An unterminated quote or comment runs to the end of the script
// (parsing that statement reports it).
func SplitStatementsWith(script string, opts Options) []string {
	var out []string
	var st scanState
	start, hasContent := 0, false
	for i := 0; i < len(script); {
		next, semicolon, content := scanStep(script, i, &st, opts.StandardStrings, true)
		if semicolon {
			if hasContent {
				out = append(out, trimSpace(script[start:i]))
			}
			start, hasContent = next, false
		}
		hasContent = hasContent || content
		i = next
	}
	if hasContent {
		out = append(out, trimSpace(script[start:]))
	}
	return out
}

// ScanCode calls visit with the [start, end) runs of sql that are code:
// outside string literals, quoted identifiers and comments, read with the
// lexer's quoting rules in the dialect opts selects.
func ScanCode(sql string, opts Options, visit func(start, end int)) {
	var st scanState
	runStart := -1
	for i := 0; i < len(sql); {
		wasCode := st.mode == inCode
		next, _, _ := scanStep(sql, i, &st, opts.StandardStrings, true)
		if wasCode && st.mode == inCode {
			if runStart < 0 {
				runStart = i
			}
		} else if runStart >= 0 {
			visit(runStart, i)
			runStart = -1
		}
		i = next
	}
	if runStart >= 0 {
		visit(runStart, len(sql))
	}
}

// Splitter is SplitStatementsWith for text that arrives in pieces (a shell
// reading lines): Feed returns the statements each piece completes, Flush
// the unfinished rest at the end of input. Feeding a script in any pieces
// gives the statements SplitStatementsWith gives for the whole.
type Splitter struct {
	opts       Options
	buf        []byte // text since the end of the last statement
	scanned    int    // buf[:scanned] has been scanned
	st         scanState
	hasContent bool // buf holds something other than white space and comments
}

// NewSplitter returns a Splitter for the dialect opts selects.
func NewSplitter(opts Options) *Splitter { return &Splitter{opts: opts} }

// Feed appends text and returns the statements it completed.
func (s *Splitter) Feed(text string) []string {
	s.buf = append(s.buf, text...)
	return s.scan(false)
}

func (s *Splitter) scan(final bool) []string {
	var done []string
	start, i := 0, s.scanned
	for i < len(s.buf) {
		next, semicolon, content := scanStep(s.buf, i, &s.st, s.opts.StandardStrings, final)
		if next == i {
			break // needs the next byte
		}
		if semicolon {
			if s.hasContent {
				done = append(done, trimSpace(string(s.buf[start:i])))
			}
			start, s.hasContent = next, false
		}
		s.hasContent = s.hasContent || content
		i = next
	}
	// Keep only the unfinished statement; the byte before it (a ';') is
	// not a word byte, so dropping it changes no later decision.
	s.buf = append(s.buf[:0], s.buf[start:]...)
	s.scanned = i - start
	return done
}

// Flush returns what is left at the end of input as a final statement (a
// script's last statement may lack its ';') and resets the Splitter. An
// unterminated literal or block comment is passed on as is: parsing it
// reports the error.
func (s *Splitter) Flush() (string, bool) {
	if done := s.scan(true); len(done) > 0 {
		panic("parser: Splitter.Flush completed a statement Feed missed") // a broken invariant
	}
	stmt, ok := trimSpace(string(s.buf)), s.hasContent
	s.Reset()
	return stmt, ok
}

// Reset discards the pending statement.
func (s *Splitter) Reset() {
	s.buf, s.scanned, s.st, s.hasContent = s.buf[:0], 0, scanState{}, false
}

// Idle reports whether no statement is in progress: nothing but white
// space and finished comments since the last ';'. A line comment ends at
// the line end, so it does not keep the Splitter busy.
func (s *Splitter) Idle() bool {
	return !s.hasContent && s.scanned == len(s.buf) && (s.st.mode == inCode || s.st.mode == inLineComment)
}

// isSpace is the lexer's notion of white space (ASCII only).
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
