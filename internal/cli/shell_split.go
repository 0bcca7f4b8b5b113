package cli

import "strings"

// shellSplitter cuts SQL text into statements at ';' outside string
// literals ('...' and "..."), back-quoted identifiers and comments (-- to end
// of line, /* ... */ not nested). Inside literals a backslash escapes the
// next character and a doubled quote is an escaped quote (it simply closes
// and reopens the literal). It is incremental: the shell feeds it one line at
// a time and learns whether a statement is complete.
//
// Statements are returned without their ';' and trimmed of surrounding
// whitespace; text with nothing but whitespace and comments is not a
// statement and is dropped.
type shellSplitter struct {
	buf        strings.Builder
	state      shellSplitState
	escaped    bool // previous byte was a backslash inside a literal
	hasContent bool // buf holds something other than whitespace and comments
}

type shellSplitState uint8

const (
	shellSplitNormal shellSplitState = iota
	shellSplitSingle
	shellSplitDouble
	shellSplitBacktick
	shellSplitLineComment
	shellSplitBlockComment
)

// feed appends text and returns the statements it completed.
func (sp *shellSplitter) feed(text string) []string {
	var done []string
	start := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch sp.state {
		case shellSplitNormal:
			switch {
			case c == ';':
				sp.buf.WriteString(text[start:i])
				start = i + 1
				if stmt, ok := sp.take(); ok {
					done = append(done, stmt)
				}
				continue
			case c == '\'':
				sp.state = shellSplitSingle
			case c == '"':
				sp.state = shellSplitDouble
			case c == '`':
				sp.state = shellSplitBacktick
			case c == '-' && i+1 < len(text) && text[i+1] == '-':
				sp.state = shellSplitLineComment
				i++
				continue
			case c == '/' && i+1 < len(text) && text[i+1] == '*':
				sp.state = shellSplitBlockComment
				i++
				continue
			}
			if !shellIsSpace(c) {
				sp.hasContent = true
			}
		case shellSplitSingle, shellSplitDouble:
			switch {
			case sp.escaped:
				sp.escaped = false
			case c == '\\':
				sp.escaped = true
			case (c == '\'' && sp.state == shellSplitSingle) || (c == '"' && sp.state == shellSplitDouble):
				sp.state = shellSplitNormal
			}
		case shellSplitBacktick:
			if c == '`' {
				sp.state = shellSplitNormal
			}
		case shellSplitLineComment:
			if c == '\n' {
				sp.state = shellSplitNormal
			}
		case shellSplitBlockComment:
			if c == '*' && i+1 < len(text) && text[i+1] == '/' {
				sp.state = shellSplitNormal
				i++
			}
		}
	}
	sp.buf.WriteString(text[start:])
	return done
}

// take returns the buffered statement and resets the buffer.
func (sp *shellSplitter) take() (string, bool) {
	stmt := strings.Trim(sp.buf.String(), shellSpaces)
	ok := sp.hasContent
	sp.buf.Reset()
	sp.hasContent = false
	return stmt, ok
}

// flush returns what is left at end of input as a final statement (a
// script's last statement may lack its ';'). An unterminated literal or block
// comment is passed on as is: the server reports the syntax error.
func (sp *shellSplitter) flush() (string, bool) {
	stmt, ok := sp.take()
	sp.state, sp.escaped = shellSplitNormal, false
	return stmt, ok
}

// reset discards the pending statement.
func (sp *shellSplitter) reset() {
	sp.buf.Reset()
	sp.hasContent, sp.state, sp.escaped = false, shellSplitNormal, false
}

// idle reports whether no statement is in progress: nothing but whitespace
// and finished comments since the last ';'. A line comment ends at the line
// end, so it does not keep the splitter busy.
func (sp *shellSplitter) idle() bool {
	return !sp.hasContent && (sp.state == shellSplitNormal || sp.state == shellSplitLineComment)
}

// shellSpaces is the SQL lexer's white space (ASCII only).
const shellSpaces = " \t\n\r\f\v"

func shellIsSpace(c byte) bool { return strings.IndexByte(shellSpaces, c) >= 0 }

// shellSplitStatements splits a whole script.
func shellSplitStatements(script string) []string {
	var sp shellSplitter
	stmts := sp.feed(script)
	if last, ok := sp.flush(); ok {
		stmts = append(stmts, last)
	}
	return stmts
}

// shellLeadingKeywords returns the first two words of stmt in upper case,
// skipping comments, e.g. "START", "TRANSACTION".
func shellLeadingKeywords(stmt string) (first, second string) {
	words := make([]string, 0, 2)
	for i := 0; i < len(stmt) && len(words) < 2; {
		c := stmt[i]
		switch {
		case c == '-' && i+1 < len(stmt) && stmt[i+1] == '-':
			if j := strings.IndexByte(stmt[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(stmt)
			}
		case c == '/' && i+1 < len(stmt) && stmt[i+1] == '*':
			if j := strings.Index(stmt[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i = len(stmt)
			}
		case shellIsWordByte(c):
			j := i
			for j < len(stmt) && shellIsWordByte(stmt[j]) {
				j++
			}
			words = append(words, strings.ToUpper(stmt[i:j]))
			i = j
		case c <= ' ':
			i++
		default:
			return shellWordAt(words, 0), shellWordAt(words, 1)
		}
	}
	return shellWordAt(words, 0), shellWordAt(words, 1)
}

func shellWordAt(words []string, i int) string {
	if i < len(words) {
		return words[i]
	}
	return ""
}

func shellIsWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
