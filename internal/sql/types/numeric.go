package types

import (
	"math"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
	"github.com/cockroachdb/apd/v3"
)

// NUMERIC values are exact decimals (github.com/cockroachdb/apd/v3). A
// value's Str is its canonical text: plain digits, the scale it was
// written or computed with kept ("1.50"), no exponent, no "-0". At most
// MaxNumericDigits digits before and MaxNumericScale after the point;
// NaN and infinities are not supported.

// Limits of NUMERIC values and of NUMERIC(p,s) modifiers.
const (
	MaxNumericDigits    = 1000 // digits before the decimal point
	MaxNumericScale     = 1000 // digits after it
	MaxNumericPrecision = 1000 // p of NUMERIC(p,s)
)

// numericCtx is the context of rounding and division: enough precision
// for any value within the limits.
var numericCtx = func() *apd.Context {
	c := apd.BaseContext.WithPrecision(MaxNumericDigits + MaxNumericScale + 10)
	c.Rounding = apd.RoundHalfUp // PostgreSQL rounds half away from zero
	return c
}()

// NumericContext is the context arithmetic on NUMERIC values uses.
func NumericContext() *apd.Context { return numericCtx }

// NewNumeric builds a NUMERIC value from d (a finite decimal): the
// exponent is brought to <= 0 and the limits are checked (CADB0410).
func NewNumeric(d *apd.Decimal) (Value, error) {
	if d.Form != apd.Finite {
		return Value{}, errcode.New(errcode.InvalidTextRepresentation, "NUMERIC does not support %s", d.String())
	}
	var c apd.Decimal
	c.Set(d)
	if c.Exponent > 0 {
		if _, err := numericCtx.Quantize(&c, &c, 0); err != nil {
			return Value{}, numericOverflow(d.String())
		}
	}
	if -c.Exponent > MaxNumericScale || c.NumDigits()+int64(c.Exponent) > MaxNumericDigits {
		return Value{}, numericOverflow(d.String())
	}
	if c.IsZero() {
		c.Negative = false
	}
	return Value{Kind: Numeric, Str: c.Text('f')}, nil
}

func numericOverflow(s string) error {
	return errcode.New(errcode.NumericOutOfRange, "value overflows numeric format: %q", clip(s))
}

// ParseNumeric reads a NUMERIC: [+-]digits[.digits][e[+-]digits], blanks
// around allowed. Bad text is CADB0414 (22P02) naming it.
func ParseNumeric(s string) (Value, error) {
	t := strings.TrimSpace(s)
	if !numericSyntax(t) {
		return Value{}, errcode.New(errcode.InvalidTextRepresentation, "invalid input syntax for type numeric: %q", clip(s))
	}
	d, _, err := apd.NewFromString(t)
	if err != nil {
		return Value{}, errcode.New(errcode.InvalidTextRepresentation, "invalid input syntax for type numeric: %q", clip(s))
	}
	return NewNumeric(d)
}

// numericSyntax accepts only plain decimal syntax (apd also reads NaN,
// Infinity and hex-free forms we do not want).
func numericSyntax(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && exp < 6 {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// Decimal returns the decimal of a NUMERIC value (a fresh copy).
func (v Value) Decimal() *apd.Decimal {
	d, _, err := apd.NewFromString(v.Str)
	if err != nil {
		return apd.New(0, 0)
	}
	return d
}

// NumericScale returns the digits after the point of a NUMERIC's text.
func NumericScale(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// NumericFromInt and NumericFromFloat convert to NUMERIC. A float
// converts through its shortest exact text (0.1 is 0.1); NaN and
// infinities are CADB0414.
func NumericFromInt(i int64) Value { return Value{Kind: Numeric, Str: strconv.FormatInt(i, 10)} }

func NumericFromFloat(f float64) (Value, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}, errcode.New(errcode.InvalidTextRepresentation, "cannot convert %s to numeric", FormatFloat(f))
	}
	return ParseNumeric(strconv.FormatFloat(f, 'g', -1, 64))
}

// compareNumeric orders by value, then by scale (1.5 < 1.50), so only
// identical texts are equal and the key encoding can keep the scale.
func compareNumeric(a, b string) int {
	if a == b {
		return 0
	}
	x, y := Value{Str: a}.Decimal(), Value{Str: b}.Decimal()
	if c := x.Cmp(y); c != 0 {
		return c
	}
	return compareInt(int64(NumericScale(a)), int64(NumericScale(b)))
}

// conformNumeric rounds v to the scale of NUMERIC(p,s) and checks that it
// has at most p-s integer digits (CADB0410 otherwise).
func (t T) conformNumeric(v Value) (Value, error) {
	d := v.Decimal()
	if _, err := numericCtx.Quantize(d, d, -int32(t.Scale)); err != nil {
		return v, numericOverflow(v.Str)
	}
	if intDigits := d.NumDigits() + int64(d.Exponent); !d.IsZero() && intDigits > int64(t.Precision)-int64(t.Scale) {
		return v, errcode.New(errcode.NumericOutOfRange,
			"numeric field overflow: %s does not fit NUMERIC(%d,%d) (absolute value must be below 10^%d)",
			v.Str, t.Precision, t.Scale, int64(t.Precision)-int64(t.Scale))
	}
	return NewNumeric(d)
}

// compareNumericMixed compares a NUMERIC with an INT64 (exactly) or a
// FLOAT64 (as floats); ok=false for other kinds.
func compareNumericMixed(a, b Value) (int, bool) {
	swap := 1
	if a.Kind != Numeric {
		a, b, swap = b, a, -1
	}
	switch b.Kind {
	case Int64:
		return swap * a.Decimal().Cmp(apd.New(b.Int, 0)), true
	case Float64:
		f, err := a.Decimal().Float64()
		if err != nil {
			f = math.Inf(a.Decimal().Sign())
		}
		return swap * compareFloat(f, b.Float), true
	}
	return 0, false
}

// NumericEqual reports whether two NUMERIC values are the same number
// whatever their scales (1.5 = 1.50), SQL's =.
func NumericEqual(a, b Value) bool { return a.Decimal().Cmp(b.Decimal()) == 0 }

// CompareNumericValues orders two NUMERIC values by number only.
func CompareNumericValues(a, b Value) int { return a.Decimal().Cmp(b.Decimal()) }

// NumericCanonical reports, without parsing into a decimal, whether s is
// a canonical NUMERIC text as NewNumeric writes it: [-]digits[.digits],
// no leading zero before another integer digit, no "-0", within the
// digit limits. Decoders use it to check stored values cheaply.
func NumericCanonical(s string) bool {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if intPart == "" || len(intPart) > MaxNumericDigits || len(frac) > MaxNumericScale || (hasPoint && frac == "") {
		return false
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return false
	}
	zero := true
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return false
			}
			if c != '0' {
				zero = false
			}
		}
	}
	return !(neg && zero)
}
