package pgwire

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// PostgreSQL's binary numeric: int16 ndigits, int16 weight (of the first
// base-10000 digit), uint16 sign, uint16 dscale (digits after the point),
// then ndigits base-10000 digits, most significant first.
const (
	numericPos uint16 = 0x0000
	numericNeg uint16 = 0x4000
)

// appendNumericBinary appends the binary form of a NUMERIC's canonical
// text.
func appendNumericBinary(buf []byte, s string) []byte {
	sign := numericPos
	if strings.HasPrefix(s, "-") {
		sign, s = numericNeg, s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	dscale := len(frac)
	intPart = strings.TrimLeft(intPart, "0")
	if pad := (4 - len(intPart)%4) % 4; pad > 0 {
		intPart = strings.Repeat("0", pad) + intPart
	}
	if pad := (4 - len(frac)%4) % 4; pad > 0 {
		frac += strings.Repeat("0", pad)
	}
	all := intPart + frac
	groups := make([]uint16, 0, len(all)/4)
	for i := 0; i < len(all); i += 4 {
		n, _ := strconv.Atoi(all[i : i+4])
		groups = append(groups, uint16(n))
	}
	weight := len(intPart)/4 - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups, weight = groups[1:], weight-1
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	if len(groups) == 0 {
		weight, sign = 0, numericPos
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(groups)))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(dscale))
	for _, g := range groups {
		buf = binary.BigEndian.AppendUint16(buf, g)
	}
	return buf
}

// decodeNumericBinary reads PostgreSQL's binary numeric. NaN and
// infinities are not supported (CADB0414).
func decodeNumericBinary(b []byte) (types.Value, error) {
	bad := func(why string) (types.Value, error) {
		return types.Value{}, errcode.New(errcode.InvalidBinaryValue, "invalid binary numeric: %s", why)
	}
	if len(b) < 8 {
		return bad("shorter than its header")
	}
	n := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*n {
		return bad("length does not match its digit count")
	}
	if sign != numericPos && sign != numericNeg {
		return types.Value{}, errcode.New(errcode.InvalidTextRepresentation, "NUMERIC does not support NaN or infinity")
	}
	if dscale > types.MaxNumericScale || weight > types.MaxNumericDigits/4+1 || weight < -types.MaxNumericScale/4-2 || n > 1000 {
		return types.Value{}, errcode.New(errcode.NumericOutOfRange, "value overflows numeric format")
	}
	var digits strings.Builder
	for i := 0; i < n; i++ {
		g := binary.BigEndian.Uint16(b[8+2*i:])
		if g > 9999 {
			return bad("digit above 9999")
		}
		s := strconv.Itoa(int(g))
		digits.WriteString(strings.Repeat("0", 4-len(s)) + s)
	}
	// The digits are 0.dddd… × 10000^(weight+1).
	d := digits.String()
	point := 4 * (weight + 1)
	var intPart, frac string
	switch {
	case point <= 0:
		intPart, frac = "0", strings.Repeat("0", -point)+d
	case point >= len(d):
		intPart = d + strings.Repeat("0", point-len(d))
	default:
		intPart, frac = d[:point], d[point:]
	}
	if len(frac) > dscale {
		if strings.Trim(frac[dscale:], "0") != "" {
			return bad("digits beyond its scale")
		}
		frac = frac[:dscale]
	}
	frac += strings.Repeat("0", dscale-len(frac))
	text := intPart
	if dscale > 0 {
		text += "." + frac
	}
	if sign == numericNeg {
		text = "-" + text
	}
	return types.ParseNumeric(text)
}
