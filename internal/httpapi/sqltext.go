package httpapi

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// maxIdentLen bounds identifiers taken from JSON fields.
const maxIdentLen = 128

// quoteIdent validates name (a database, table or column from a JSON field)
// and returns it back-quoted for SQL text. Back-quoting makes any name safe
// to splice, keywords included; names holding a backquote, a control
// character or invalid UTF-8 are refused (CADB0400) rather than escaped, so
// the text cannot be misread by a parser whatever its escaping rules.
func quoteIdent(what, name string) (string, error) {
	if name == "" {
		return "", errcode.New(errcode.InvalidInput, "%s is required", what)
	}
	if len(name) > maxIdentLen {
		return "", errcode.New(errcode.InvalidInput, "%s is longer than %d bytes", what, maxIdentLen)
	}
	if !utf8.ValidString(name) {
		return "", errcode.New(errcode.InvalidInput, "%s is not valid UTF-8", what)
	}
	for _, r := range name {
		if r == '`' || r < 0x20 || r == 0x7f {
			return "", errcode.New(errcode.InvalidInput, "%s %q contains a character not allowed in a name", what, name)
		}
	}
	return "`" + name + "`", nil
}

// sqlLiteral renders v as a SQL literal of the SPEC §2 dialect. It is used
// only where a parameter cannot stand (a column DEFAULT kept in the schema).
func sqlLiteral(v types.Value) (string, error) {
	switch v.Kind {
	case types.Null:
		return "NULL", nil
	case types.Int64:
		return types.NewInt(v.Int).String(), nil
	case types.Float64:
		if math.IsNaN(v.Float) || math.IsInf(v.Float, 0) {
			return "", errcode.New(errcode.InvalidInput, "a default value cannot be %s", types.FormatFloat(v.Float))
		}
		// Shortest round-trip digits; the exponent is written without '+'
		// and zero padding (1e300, 1e-7), the plainest form a lexer accepts.
		text := strconv.FormatFloat(v.Float, 'g', -1, 64)
		if mant, exp, ok := strings.Cut(text, "e"); ok {
			sign := ""
			if exp[0] == '-' || exp[0] == '+' {
				if exp[0] == '-' {
					sign = "-"
				}
				exp = exp[1:]
			}
			text = mant + "e" + sign + strings.TrimLeft(exp, "0")
		}
		if !strings.ContainsAny(text, ".e") {
			text += ".0" // keep it FLOAT64, not INT64
		}
		return text, nil
	case types.Bool:
		if v.Bool {
			return "true", nil
		}
		return "false", nil
	case types.String:
		return quoteString(v.Str), nil
	case types.OID:
		return "STR_ID(" + quoteString(v.OIDHex()) + ")", nil
	}
	if types.TextInput(v.Kind) {
		return "CAST(" + quoteString(v.String()) + " AS " + v.Kind.String() + ")", nil
	}
	return "", errcode.New(errcode.InvalidInput, "unsupported value type %d", v.Kind)
}

// quoteString single-quotes s, doubling quotes and backslashes (both are
// escapes in the dialect's string literals).
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// firstKeyword returns the upper-cased first word of a SQL text, skipping
// blanks, comments and opening parentheses; "" when there is none.
func firstKeyword(sql string) string {
	i := 0
	for i < len(sql) {
		switch c := sql[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == '\f' || c == '\v':
			i++
		case strings.HasPrefix(sql[i:], "--"):
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				return ""
			}
			i += end + 1
		case strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return ""
			}
			i += 2 + end + 2
		default:
			j := i
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			return strings.ToUpper(sql[i:j])
		}
	}
	return ""
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// Statement classes by first keyword, used to refuse a statement on an
// endpoint that does not fit it before anything runs.
func returnsRows(keyword string) bool {
	switch keyword {
	case "SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "VALUES":
		return true
	}
	return false
}

func isDML(keyword string) bool {
	switch keyword {
	case "INSERT", "UPDATE", "DELETE":
		return true
	}
	return false
}
