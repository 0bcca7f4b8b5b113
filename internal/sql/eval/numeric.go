package eval

import (
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
	"github.com/cockroachdb/apd/v3"
)

// NUMERIC arithmetic: NUMERIC with NUMERIC or INT64 is exact and NUMERIC;
// with FLOAT64 it is FLOAT64 (PostgreSQL's numeric + float8 is float8).
// + − × keep every digit; ÷ gives PostgreSQL's result scale (at least 16
// significant digits, at least the operands' scales); % has the larger
// operand scale.

func numericOperands(a, b types.Kind) bool {
	return (a == types.Numeric || b == types.Numeric) &&
		(a == types.Numeric || a == types.Int64 || a == types.Float64 || a == types.Null) &&
		(b == types.Numeric || b == types.Int64 || b == types.Float64 || b == types.Null)
}

func numericArithKind(a, b types.Kind) types.Kind {
	switch {
	case a == types.Float64 || b == types.Float64:
		return types.Float64
	case a == types.Null || b == types.Null:
		return types.Null
	}
	return types.Numeric
}

func toDecimal(v types.Value) *apd.Decimal {
	if v.Kind == types.Int64 {
		return apd.New(v.Int, 0)
	}
	return v.Decimal()
}

func numericToFloat(v types.Value) float64 {
	if v.Kind != types.Numeric {
		return toFloat(v)
	}
	f, err := v.Decimal().Float64()
	if err != nil {
		return 0
	}
	return f
}

func arithNumeric(op arithOp, a, b types.Value) (types.Value, error) {
	if a.Kind == types.Float64 || b.Kind == types.Float64 {
		return arithFloat(op, numericToFloat(a), numericToFloat(b))
	}
	x, y := toDecimal(a), toDecimal(b)
	var r apd.Decimal
	var err error
	exact := apd.BaseContext
	switch op {
	case opAdd:
		_, err = exact.Add(&r, x, y)
	case opSub:
		_, err = exact.Sub(&r, x, y)
	case opMul:
		_, err = exact.Mul(&r, x, y)
	case opDiv, opMod:
		if y.IsZero() {
			return types.Value{}, divByZero()
		}
		ctx := types.NumericContext()
		if op == opMod {
			_, err = ctx.Rem(&r, x, y)
			break
		}
		if _, err = ctx.Quo(&r, x, y); err == nil {
			_, err = ctx.Quantize(&r, &r, -divScale(x, y, &r))
		}
	}
	if err != nil {
		return types.Value{}, errcode.New(errcode.NumericOutOfRange, "numeric %s overflows: %v", arithSymbols[op], err)
	}
	return types.NewNumeric(&r)
}

// divScale is PostgreSQL's select_div_scale: 16 significant digits
// counted in base-10000 groups of the quotient, and at least the scales of
// the operands, at most types.MaxNumericScale.
func divScale(x, y, q *apd.Decimal) int32 {
	weight := int64(0) // base-10000 weight of the quotient
	if !q.IsZero() {
		adj := q.NumDigits() + int64(q.Exponent) - 1 // decimal exponent of the first digit
		weight = floorDiv4(adj)
	}
	scale := 16 - weight*4
	for _, d := range []*apd.Decimal{x, y} {
		if s := -int64(d.Exponent); s > scale {
			scale = s
		}
	}
	return int32(min(max(scale, 0), types.MaxNumericScale))
}

func floorDiv4(a int64) int64 {
	q := a / 4
	if a%4 != 0 && a < 0 {
		q--
	}
	return q
}

func negateNumeric(v types.Value) (types.Value, error) {
	d := v.Decimal()
	d.Neg(d)
	return types.NewNumeric(d)
}
