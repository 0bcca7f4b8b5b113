package builtins

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

func mathFuncs() []*Func {
	numeric1 := func(name string, onInt func(int64) (types.Value, error), onFloat func(float64) float64) *Func {
		return &Func{Name: name, MinArgs: 1, MaxArgs: 1, Args: []ArgClass{NumericArg}, ResultFn: sameAsFirst,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				if a[0].Kind == types.Int64 {
					return onInt(a[0].Int)
				}
				return types.NewFloat(onFloat(a[0].Float)), nil
			}}
	}
	sameInt := func(i int64) (types.Value, error) { return types.NewInt(i), nil }
	return []*Func{
		numeric1("abs", func(i int64) (types.Value, error) {
			if i == math.MinInt64 {
				return types.Value{}, argError("abs", "INT64 overflow")
			}
			if i < 0 {
				i = -i
			}
			return types.NewInt(i), nil
		}, math.Abs),
		numeric1("ceil", sameInt, math.Ceil),
		numeric1("floor", sameInt, math.Floor),
		numeric1("sign", func(i int64) (types.Value, error) {
			switch {
			case i > 0:
				return types.NewInt(1), nil
			case i < 0:
				return types.NewInt(-1), nil
			}
			return types.NewInt(0), nil
		}, func(f float64) float64 {
			switch {
			case f > 0:
				return 1
			case f < 0:
				return -1
			}
			return f // 0, -0 and NaN
		}),
		{Name: "round", MinArgs: 1, MaxArgs: 2, Args: []ArgClass{NumericArg, IntArg},
			ResultFn: func(args []types.Kind) types.Kind {
				if len(args) == 2 {
					return types.Float64
				}
				return sameAsFirst(args)
			},
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				if len(a) == 1 {
					if a[0].Kind == types.Int64 {
						return a[0], nil
					}
					return types.NewFloat(math.Round(a[0].Float)), nil
				}
				x := a[0].Float
				if a[0].Kind == types.Int64 {
					x = float64(a[0].Int)
				}
				r := RoundScale(x, a[1].Int)
				if !finite(r) && finite(x) {
					return types.Value{}, argError("round", "FLOAT64 overflow")
				}
				return types.NewFloat(r), nil
			}},
		{Name: "sqrt", MinArgs: 1, MaxArgs: 1, Args: []ArgClass{NumericArg}, Result: types.Float64,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				x := toFloat(a[0])
				if x < 0 {
					return types.Value{}, argError("sqrt", "cannot take the square root of a negative number")
				}
				return types.NewFloat(math.Sqrt(x)), nil
			}},
		{Name: "pow", MinArgs: 2, MaxArgs: 2, Args: []ArgClass{NumericArg, NumericArg}, Result: types.Float64,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				x, y := toFloat(a[0]), toFloat(a[1])
				r := math.Pow(x, y)
				if finite(x) && finite(y) && !finite(r) {
					if x == 0 && y < 0 {
						return types.Value{}, argError("pow", "zero raised to a negative power")
					}
					if math.IsNaN(r) {
						return types.Value{}, argError("pow", "a negative number raised to a non-integer power")
					}
					return types.Value{}, argError("pow", "FLOAT64 overflow")
				}
				return types.NewFloat(r), nil
			}},
		{Name: "mod", MinArgs: 2, MaxArgs: 2, Args: []ArgClass{NumericArg, NumericArg},
			ResultFn: func(args []types.Kind) types.Kind {
				if args[0] == types.Int64 && args[1] == types.Int64 {
					return types.Int64
				}
				if args[0] == types.Float64 || args[1] == types.Float64 {
					return types.Float64
				}
				return types.Null
			},
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				return Mod(a[0], a[1])
			}},
		{Name: "random", MinArgs: 0, MaxArgs: 0, Volatile: true, Result: types.Float64,
			Impl: func(_ *Context, _ []types.Value) (types.Value, error) {
				return types.NewFloat(rand.Float64()), nil
			}},
	}
}

// Mod is the remainder of a / b truncated toward zero (the sign follows
// a): INT64 when both are INT64, FLOAT64 otherwise. A zero divisor is
// CADB0400. Both values must be non-NULL numbers.
func Mod(a, b types.Value) (types.Value, error) {
	if a.Kind == types.Int64 && b.Kind == types.Int64 {
		if b.Int == 0 {
			return types.Value{}, argError("mod", "division by zero")
		}
		if b.Int == -1 { // MinInt64 % -1 is 0; avoid relying on the hardware
			return types.NewInt(0), nil
		}
		return types.NewInt(a.Int % b.Int), nil
	}
	y := toFloat(b)
	if y == 0 {
		return types.Value{}, argError("mod", "division by zero")
	}
	return types.NewFloat(math.Mod(toFloat(a), y)), nil
}

func toFloat(v types.Value) float64 {
	if v.Kind == types.Int64 {
		return float64(v.Int)
	}
	return v.Float
}

func finite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }

// RoundScale rounds x to scale decimal places (negative scale rounds to
// tens, hundreds...), half away from zero. It rounds the shortest decimal
// text of x, so round(2.675, 2) is 2.68 as written, not 2.67 as the binary
// value 2.67499999... would give.
func RoundScale(x float64, scale int64) float64 {
	if !finite(x) || x == 0 {
		return x
	}
	if scale > 400 {
		return x
	}
	if scale < -400 {
		return math.Copysign(0, x)
	}
	text := strconv.FormatFloat(math.Abs(x), 'e', -1, 64) // d.dddde±XX
	mantissa, expText, _ := strings.Cut(text, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mantissa, ".", "", 1)
	// value = 0.digits × 10^(exp+1); keep the digits before the cut.
	keep := exp + 1 + int(scale)
	if keep >= len(digits) {
		return x
	}
	if keep < 0 {
		return math.Copysign(0, x)
	}
	kept := []byte(digits[:keep])
	if digits[keep] >= '5' {
		kept = incrementDecimal(kept)
	}
	if len(kept) == 0 {
		return math.Copysign(0, x)
	}
	r, err := strconv.ParseFloat(string(kept)+"e"+strconv.FormatInt(-scale, 10), 64)
	if err != nil && !math.IsInf(r, 0) {
		return x // cannot happen: kept is a plain digit string
	}
	return math.Copysign(r, x)
}

// incrementDecimal adds one to a decimal digit string ("" counts as 0).
func incrementDecimal(d []byte) []byte {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i] < '9' {
			d[i]++
			return d
		}
		d[i] = '0'
	}
	return append([]byte{'1'}, d...)
}
