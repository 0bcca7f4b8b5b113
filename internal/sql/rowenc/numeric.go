package rowenc

import (
	"bytes"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// NUMERIC key encoding (ascending; the whole column is inverted for DESC):
//
//	tag 1B | class | [exponent | digit pairs | 00] | scale
//
// class is 01 negative, 02 zero, 03 positive. For a value 0.d1d2… × 10^e
// (d1 ≠ 0, no trailing zero digits) the exponent is uint16(e + 0x8000)
// big-endian and each pair of digits is one byte 10·a + b + 1 (a final
// single digit has b = 0), ended by 00. A negative value writes the bytes
// of its magnitude inverted, so larger magnitudes sort lower. scale is the
// number of digits after the point (uint16 big-endian): equal values order
// by scale, as types.Compare does, and decode to their exact text.

const (
	numNeg  byte = 0x01
	numZero byte = 0x02
	numPos  byte = 0x03
)

func appendKeyNumeric(b []byte, s string, desc bool) []byte {
	start := len(b)
	b = append(b, keyTagNumeric)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	scale := len(frac)
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		b = append(b, numZero)
	} else {
		exp := len(intPart) - (len(intPart+frac) - len(digits))
		digits = strings.TrimRight(digits, "0")
		class := numPos
		if neg {
			class = numNeg
		}
		b = append(b, class)
		body := len(b)
		e := uint16(exp + 0x8000)
		b = append(b, byte(e>>8), byte(e))
		for i := 0; i < len(digits); i += 2 {
			d := 10 * (digits[i] - '0')
			if i+1 < len(digits) {
				d += digits[i+1] - '0'
			}
			b = append(b, d+1)
		}
		b = append(b, 0)
		if neg {
			for i := body; i < len(b); i++ {
				b[i] = ^b[i]
			}
		}
	}
	b = append(b, byte(scale>>8), byte(scale))
	if desc {
		for i := start; i < len(b); i++ {
			b[i] = ^b[i]
		}
	}
	return b
}

// numericKeyLen returns the length of the NUMERIC key column at the start
// of b (tag included), or -1 when it is truncated.
func numericKeyLen(b []byte, m byte) int {
	if len(b) < 2 {
		return -1
	}
	switch b[1] ^ m {
	case numZero:
		if len(b) < 4 {
			return -1
		}
		return 4
	case numPos, numNeg:
		term := m
		if b[1]^m == numNeg {
			term = ^m
		}
		if len(b) < 4 {
			return -1
		}
		i := bytes.IndexByte(b[4:], term)
		if i < 0 || 4+i+1+2 > len(b) {
			return -1
		}
		return 4 + i + 1 + 2
	}
	return -1
}

// decodeKeyNumeric decodes one NUMERIC key column (tag included) and
// checks that it re-encodes to the same bytes, so decoding is the exact
// inverse of encoding.
func decodeKeyNumeric(b []byte, desc bool) (types.Value, []byte, error) {
	m := byteMask(desc)
	n := numericKeyLen(b, m)
	if n < 0 {
		return types.Value{}, nil, corruptf("truncated or malformed NUMERIC key column")
	}
	col := b[:n]
	plain := make([]byte, n)
	for i := range col {
		plain[i] = col[i] ^ m
	}
	scale := int(plain[n-2])<<8 | int(plain[n-1])
	if scale > types.MaxNumericScale {
		return types.Value{}, nil, corruptf("NUMERIC key scale %d out of range", scale)
	}
	var text string
	if plain[1] == numZero {
		text = "0"
		if scale > 0 {
			text += "." + strings.Repeat("0", scale)
		}
	} else {
		body := plain[2 : n-2]
		if plain[1] == numNeg {
			for i := range body {
				body[i] = ^body[i]
			}
		}
		exp := int(uint16(body[0])<<8|uint16(body[1])) - 0x8000
		var digits strings.Builder
		for _, c := range body[2 : len(body)-1] {
			if c < 1 || c > 100 {
				return types.Value{}, nil, corruptf("NUMERIC key digit byte %#02x", c)
			}
			digits.WriteByte('0' + (c-1)/10)
			digits.WriteByte('0' + (c-1)%10)
		}
		d := strings.TrimRight(digits.String(), "0")
		if d == "" || d[0] == '0' || exp > types.MaxNumericDigits || exp < -types.MaxNumericScale || len(d)-exp > scale {
			return types.Value{}, nil, corruptf("non-canonical NUMERIC key column")
		}
		var sb strings.Builder
		if plain[1] == numNeg {
			sb.WriteByte('-')
		}
		if exp <= 0 {
			sb.WriteString("0")
		} else {
			sb.WriteString(d[:min(exp, len(d))])
			sb.WriteString(strings.Repeat("0", max(0, exp-len(d))))
		}
		if scale > 0 {
			sb.WriteByte('.')
			var frac string
			if exp < 0 {
				frac = strings.Repeat("0", -exp) + d
			} else if exp < len(d) {
				frac = d[exp:]
			}
			sb.WriteString(frac)
			sb.WriteString(strings.Repeat("0", scale-len(frac)))
		}
		text = sb.String()
	}
	if !bytes.Equal(appendKeyNumeric(nil, text, desc), col) {
		return types.Value{}, nil, corruptf("non-canonical NUMERIC key column")
	}
	return types.Value{Kind: types.Numeric, Str: text}, b[n:], nil
}
