package parser

import "strings"

// SplitStatements splits a script into statements on ';' outside string
// literals, backtick identifiers and comments, with the same quoting rules
// as the lexer. Each statement's text is kept as written (comments
// included) minus surrounding white space and the ';'. Pieces holding only
// white space and comments are dropped. An unterminated quote or comment
// runs to the end of the script (parsing that statement reports it).
func SplitStatements(script string) []string {
	var out []string
	start, i := 0, 0
	hasContent := false
	for i < len(script) {
		c := script[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			hasContent = true
			i = skipQuoted(script, i)
		case c == '-' && i+1 < len(script) && script[i+1] == '-':
			for i < len(script) && script[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(script) && script[i+1] == '*':
			if end := strings.Index(script[i+2:], "*/"); end >= 0 {
				i += 2 + end + 2
			} else {
				i = len(script)
			}
		case c == ';':
			if hasContent {
				out = append(out, trimSpace(script[start:i]))
			}
			i++
			start, hasContent = i, false
		default:
			if !isSpace(c) {
				hasContent = true
			}
			i++
		}
	}
	if hasContent {
		out = append(out, trimSpace(script[start:]))
	}
	return out
}

// skipQuoted returns the offset just past the quoted text starting at i.
// In strings a backslash escapes the next byte; a doubled quote needs no
// special case (it closes and reopens). Backtick identifiers have no
// backslash escapes.
func skipQuoted(s string, i int) int {
	q := s[i]
	for i++; i < len(s); i++ {
		switch s[i] {
		case q:
			return i + 1
		case '\\':
			if q != '`' {
				i++
			}
		}
	}
	return len(s)
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
