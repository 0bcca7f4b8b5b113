package types

import (
	"strings"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

const hexDigits = "0123456789abcdef"

// FormatBytea renders raw bytes in PostgreSQL's hex output format:
// \x followed by two lower-case hex digits per byte.
func FormatBytea(b string) string {
	var sb strings.Builder
	sb.Grow(2 + 2*len(b))
	sb.WriteString(`\x`)
	for i := 0; i < len(b); i++ {
		sb.WriteByte(hexDigits[b[i]>>4])
		sb.WriteByte(hexDigits[b[i]&0xf])
	}
	return sb.String()
}

// ParseBytea reads PostgreSQL's bytea input: the hex format (\x then pairs
// of hex digits, either case, blanks allowed between pairs) or the escape
// format (any text, with \\ for a backslash and \ooo for an octal byte).
// Malformed input is CADB0414 (SQLSTATE 22P02) naming the value.
func ParseBytea(s string) (string, error) {
	if strings.HasPrefix(s, `\x`) || strings.HasPrefix(s, `\X`) {
		return parseByteaHex(s)
	}
	if strings.IndexByte(s, '\\') < 0 {
		return s, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(s) && isOctal(s[i+1], '3') && isOctal(s[i+2], '7') && isOctal(s[i+3], '7'):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			return "", badBytea(s, "invalid escape sequence")
		}
	}
	return string(out), nil
}

func isOctal(c, max byte) bool { return c >= '0' && c <= max }

func parseByteaHex(s string) (string, error) {
	out := make([]byte, 0, (len(s)-2)/2)
	for i := 2; i < len(s); {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		hi, ok := unhex(c)
		if !ok {
			return "", badBytea(s, "invalid hexadecimal digit")
		}
		if i+1 >= len(s) {
			return "", badBytea(s, "odd number of hexadecimal digits")
		}
		lo, ok := unhex(s[i+1])
		if !ok {
			return "", badBytea(s, "invalid hexadecimal digit")
		}
		out = append(out, hi<<4|lo)
		i += 2
	}
	return string(out), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func badBytea(s, why string) error {
	return errcode.New(errcode.InvalidTextRepresentation, "invalid input syntax for type bytea: %s in %q", why, clip(s))
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
