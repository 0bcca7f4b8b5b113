package eval

import (
	"math"

	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// arithOp is an arithmetic operator resolved once at compile time.
type arithOp uint8

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv
	opMod
)

var arithSymbols = [...]string{opAdd: "+", opSub: "-", opMul: "*", opDiv: "/", opMod: "%"}

func parseArithOp(op string) (arithOp, bool) {
	switch op {
	case "+":
		return opAdd, true
	case "-":
		return opSub, true
	case "*":
		return opMul, true
	case "/":
		return opDiv, true
	case "%":
		return opMod, true
	}
	return 0, false
}

// cmpOp is a comparison operator resolved once at compile time.
type cmpOp uint8

const (
	opEQ cmpOp = iota
	opNE
	opLT
	opLE
	opGT
	opGE
)

func parseCmpOp(op string) (cmpOp, bool) {
	switch op {
	case "=", "==":
		return opEQ, true
	case "!=", "<>":
		return opNE, true
	case "<":
		return opLT, true
	case "<=":
		return opLE, true
	case ">":
		return opGT, true
	case ">=":
		return opGE, true
	}
	return 0, false
}

func (op cmpOp) holds(cmp int) bool {
	switch op {
	case opEQ:
		return cmp == 0
	case opNE:
		return cmp != 0
	case opLT:
		return cmp < 0
	case opLE:
		return cmp <= 0
	case opGT:
		return cmp > 0
	}
	return cmp >= 0
}

func invalid(format string, args ...any) error {
	return errcode.New(errcode.InvalidInput, format, args...)
}

func isNumeric(k types.Kind) bool {
	return k == types.Int64 || k == types.Float64 || k == types.Numeric
}

// Arith applies + - * / % to two values. NULL in → NULL out. INT64 with
// INT64 stays INT64 (overflow is an error; / and % truncate toward zero);
// any FLOAT64 operand makes the result FLOAT64. Division by zero and
// non-numeric operands are CADB0400.
func Arith(op string, a, b types.Value) (types.Value, error) {
	o, ok := parseArithOp(op)
	if !ok {
		return types.Value{}, invalid("unknown arithmetic operator %q", op)
	}
	return arith(o, a, b)
}

func arith(op arithOp, a, b types.Value) (types.Value, error) {
	if a.Kind == types.Null || b.Kind == types.Null {
		return types.NullValue, nil
	}
	if a.Kind == types.Int64 && b.Kind == types.Int64 {
		return arithInt(op, a.Int, b.Int)
	}
	if temporalOperands(a.Kind, b.Kind) {
		return arithTemporal(op, a, b)
	}
	if a.Kind == types.Numeric || b.Kind == types.Numeric {
		if !numericOperands(a.Kind, b.Kind) {
			return types.Value{}, invalid("operator %s cannot be applied to %s and %s", arithSymbols[op], a.Kind, b.Kind)
		}
		return arithNumeric(op, a, b)
	}
	if !isNumeric(a.Kind) || !isNumeric(b.Kind) {
		return types.Value{}, invalid("operator %s cannot be applied to %s and %s", arithSymbols[op], a.Kind, b.Kind)
	}
	return arithFloat(op, toFloat(a), toFloat(b))
}

func arithInt(op arithOp, x, y int64) (types.Value, error) {
	var r int64
	switch op {
	case opAdd:
		r = x + y
		if (x^r)&(y^r) < 0 {
			return types.Value{}, overflow()
		}
	case opSub:
		r = x - y
		if (x^y)&(x^r) < 0 {
			return types.Value{}, overflow()
		}
	case opMul:
		if x == 0 || y == 0 {
			return types.NewInt(0), nil
		}
		r = x * y
		if (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) || r/y != x {
			return types.Value{}, overflow()
		}
	case opDiv:
		if y == 0 {
			return types.Value{}, divByZero()
		}
		if y == -1 {
			if x == math.MinInt64 {
				return types.Value{}, overflow()
			}
			return types.NewInt(-x), nil
		}
		r = x / y
	case opMod:
		if y == 0 {
			return types.Value{}, divByZero()
		}
		if y == -1 {
			return types.NewInt(0), nil
		}
		r = x % y
	}
	return types.NewInt(r), nil
}

func arithFloat(op arithOp, x, y float64) (types.Value, error) {
	var r float64
	switch op {
	case opAdd:
		r = x + y
	case opSub:
		r = x - y
	case opMul:
		r = x * y
	case opDiv:
		if y == 0 {
			return types.Value{}, divByZero()
		}
		r = x / y
	case opMod:
		if y == 0 {
			return types.Value{}, divByZero()
		}
		r = math.Mod(x, y)
	}
	if math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
		return types.Value{}, invalid("FLOAT64 overflow")
	}
	return types.NewFloat(r), nil
}

func overflow() error  { return invalid("INT64 overflow") }
func divByZero() error { return invalid("division by zero") }

func toFloat(v types.Value) float64 {
	if v.Kind == types.Int64 {
		return float64(v.Int)
	}
	return v.Float
}

func negate(v types.Value) (types.Value, error) {
	switch v.Kind {
	case types.Null:
		return v, nil
	case types.Int64:
		if v.Int == math.MinInt64 {
			return types.Value{}, overflow()
		}
		return types.NewInt(-v.Int), nil
	case types.Float64:
		return types.NewFloat(-v.Float), nil
	case types.Interval:
		return negateInterval(v)
	case types.Numeric:
		return negateNumeric(v)
	}
	return types.Value{}, invalid("unary - cannot be applied to %s", v.Kind)
}

// comparableKinds reports whether values of kinds a and b may be compared.
// Null (unknown) is comparable with everything. A STRING is compared with
// an OID by reading the string as an object id.
func comparableKinds(a, b types.Kind) bool {
	if a == types.Null || b == types.Null || a == b {
		return true
	}
	if isNumeric(a) && isNumeric(b) || types.IsDatetime(a) && types.IsDatetime(b) {
		return true
	}
	return (a == types.String && (b == types.OID || types.TextInput(b))) ||
		(b == types.String && (a == types.OID || types.TextInput(a)))
}

// compareValues orders two non-NULL values, or fails with CADB0400 when
// their kinds cannot be compared.
func compareValues(a, b types.Value) (int, error) {
	if a.Kind == types.Numeric && b.Kind == types.Numeric {
		return types.CompareNumericValues(a, b), nil // 1.5 = 1.50
	}
	if cmp, ok := types.Compare(a, b); ok {
		return cmp, nil
	}
	if a.Kind == types.OID && b.Kind == types.String {
		id, err := builtins.Cast(b, types.OID)
		if err != nil {
			return 0, err
		}
		cmp, _ := types.Compare(a, id)
		return cmp, nil
	}
	if a.Kind == types.String && b.Kind == types.OID {
		id, err := builtins.Cast(a, types.OID)
		if err != nil {
			return 0, err
		}
		cmp, _ := types.Compare(id, b)
		return cmp, nil
	}
	// A STRING compared with a kind that has text input (BYTEA...) is read
	// as that kind, as PostgreSQL types an untyped literal by context.
	if a.Kind == types.String && types.TextInput(b.Kind) {
		x, err := types.ParseText(b.Kind, a.Str)
		if err != nil {
			return 0, err
		}
		return compareValues(x, b)
	}
	if b.Kind == types.String && types.TextInput(a.Kind) {
		y, err := types.ParseText(a.Kind, b.Str)
		if err != nil {
			return 0, err
		}
		return compareValues(a, y)
	}
	return 0, invalid("cannot compare %s with %s", a.Kind, b.Kind)
}

// CompareOp applies a comparison operator (= != <> < <= > >=). NULL on
// either side gives NULL; incompatible kinds (STRING vs INT64) are
// CADB0400; INT64 and FLOAT64 compare numerically.
func CompareOp(op string, a, b types.Value) (types.Value, error) {
	o, ok := parseCmpOp(op)
	if !ok {
		return types.Value{}, invalid("unknown comparison operator %q", op)
	}
	return compare(o, a, b)
}

func compare(op cmpOp, a, b types.Value) (types.Value, error) {
	if a.Kind == types.Null || b.Kind == types.Null {
		return types.NullValue, nil
	}
	cmp, err := compareValues(a, b)
	if err != nil {
		return types.Value{}, err
	}
	return types.NewBool(op.holds(cmp)), nil
}

// Cast converts v to kind to (SQL CAST). See builtins.Cast for the rules.
func Cast(v types.Value, to types.Kind) (types.Value, error) { return builtins.Cast(v, to) }

// concatValues is ||: NULL on either side gives NULL; other kinds are
// converted to their text form.
func concatValues(a, b types.Value) types.Value {
	if a.Kind == types.Null || b.Kind == types.Null {
		return types.NullValue
	}
	return types.NewString(textOf(a) + textOf(b))
}

func textOf(v types.Value) string {
	if v.Kind == types.String {
		return v.Str
	}
	return v.String()
}

// Truth is the WHERE rule: only TRUE passes; NULL, FALSE and non-BOOL
// values do not.
func Truth(v types.Value) bool { return v.Kind == types.Bool && v.Bool }
