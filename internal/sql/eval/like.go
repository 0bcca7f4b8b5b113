package eval

import (
	"strings"
	"unicode/utf8"
)

// Like reports whether s matches the SQL LIKE pattern: % matches any run
// of characters (also none), _ exactly one character, and a backslash
// makes the next character literal. caseInsensitive gives ILIKE (Unicode
// lower-casing of both sides). Compile precompiles constant patterns; this
// function compiles the pattern on every call.
func Like(s, pattern string, caseInsensitive bool) bool {
	return compileLike(pattern, caseInsensitive).match(s)
}

type likeShape uint8

const (
	likeGeneral  likeShape = iota
	likeExact              // abc
	likePrefix             // abc%
	likeSuffix             // %abc
	likeContains           // %abc%
	likeAny                // %
)

type likeTokenKind uint8

const (
	tokLiteral likeTokenKind = iota
	tokOne                   // _
	tokMany                  // %
)

type likeToken struct {
	kind likeTokenKind
	lit  string
}

// likeMatcher is a compiled pattern. Common shapes are answered with a
// single strings call; the rest by a backtracking matcher that never
// allocates.
type likeMatcher struct {
	shape           likeShape
	lit             string // the literal of the simple shapes
	tokens          []likeToken
	caseInsensitive bool
}

func compileLike(pattern string, caseInsensitive bool) *likeMatcher {
	if caseInsensitive {
		pattern = strings.ToLower(pattern)
	}
	var tokens []likeToken
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			tokens = append(tokens, likeToken{kind: tokLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); {
		r, size := utf8.DecodeRuneInString(pattern[i:])
		switch {
		case r == '\\' && i+size < len(pattern):
			next, nextSize := utf8.DecodeRuneInString(pattern[i+size:])
			lit.WriteRune(next)
			i += size + nextSize
			continue
		case r == '%':
			flush()
			if len(tokens) == 0 || tokens[len(tokens)-1].kind != tokMany {
				tokens = append(tokens, likeToken{kind: tokMany})
			}
		case r == '_':
			flush()
			tokens = append(tokens, likeToken{kind: tokOne})
		default:
			// Keep invalid bytes as they are rather than as U+FFFD.
			lit.WriteString(pattern[i : i+size])
		}
		i += size
	}
	flush()
	m := &likeMatcher{tokens: tokens, caseInsensitive: caseInsensitive}
	m.shape, m.lit = classify(tokens)
	return m
}

func classify(t []likeToken) (likeShape, string) {
	isLit := func(i int) bool { return t[i].kind == tokLiteral }
	isMany := func(i int) bool { return t[i].kind == tokMany }
	switch len(t) {
	case 0:
		return likeExact, ""
	case 1:
		if isMany(0) {
			return likeAny, ""
		}
		if isLit(0) {
			return likeExact, t[0].lit
		}
	case 2:
		if isLit(0) && isMany(1) {
			return likePrefix, t[0].lit
		}
		if isMany(0) && isLit(1) {
			return likeSuffix, t[1].lit
		}
	case 3:
		if isMany(0) && isLit(1) && isMany(2) {
			return likeContains, t[1].lit
		}
	}
	return likeGeneral, ""
}

func (m *likeMatcher) match(s string) bool {
	if m.caseInsensitive {
		s = strings.ToLower(s)
	}
	switch m.shape {
	case likeExact:
		return s == m.lit
	case likePrefix:
		return strings.HasPrefix(s, m.lit)
	case likeSuffix:
		return strings.HasSuffix(s, m.lit)
	case likeContains:
		return strings.Contains(s, m.lit)
	case likeAny:
		return true
	}
	return matchTokens(s, m.tokens)
}

// matchTokens is the classic wildcard matcher: on a mismatch it retries
// from the most recent %, which is enough because % is the only token of
// variable length. Worst case O(len(s) * len(tokens)).
func matchTokens(s string, tokens []likeToken) bool {
	si, ti := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(tokens) {
			t := tokens[ti]
			switch t.kind {
			case tokMany:
				starTi, starSi = ti, si
				ti++
				continue
			case tokOne:
				if si < len(s) {
					_, size := utf8.DecodeRuneInString(s[si:])
					si += size
					ti++
					continue
				}
			case tokLiteral:
				if strings.HasPrefix(s[si:], t.lit) {
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[starSi:])
		starSi += size
		si, ti = starSi, starTi+1
	}
}
