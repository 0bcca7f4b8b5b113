package cli

import (
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/parser"
)

// shellSplitter cuts SQL text into statements at ';' outside string
// literals, back-quoted identifiers and comments with the server's lexer
// rules for the HTTP dialect (parser.Splitter: backslash escapes in '...'
// and "...", E'...' and U&'...' prefixes). It is incremental: the shell
// feeds it one line at a time and learns whether a statement is complete.
//
// Statements are returned without their ';' and trimmed of surrounding
// whitespace; text with nothing but whitespace and comments is not a
// statement and is dropped.
type shellSplitter struct {
	sp *parser.Splitter
}

func (sp *shellSplitter) splitter() *parser.Splitter {
	if sp.sp == nil {
		sp.sp = parser.NewSplitter(parser.Options{})
	}
	return sp.sp
}

// feed appends text and returns the statements it completed.
func (sp *shellSplitter) feed(text string) []string { return sp.splitter().Feed(text) }

// flush returns what is left at end of input as a final statement (a
// script's last statement may lack its ';'). An unterminated literal or block
// comment is passed on as is: the server reports the syntax error.
func (sp *shellSplitter) flush() (string, bool) { return sp.splitter().Flush() }

// reset discards the pending statement.
func (sp *shellSplitter) reset() { sp.splitter().Reset() }

// idle reports whether no statement is in progress: nothing but whitespace
// and finished comments since the last ';'. A line comment ends at the line
// end, so it does not keep the splitter busy.
func (sp *shellSplitter) idle() bool { return sp.splitter().Idle() }

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
