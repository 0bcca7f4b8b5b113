package builtins

import (
	"math"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Cast converts v to the kind to. NULL casts to NULL. Conversions that lose
// no meaning always succeed; the others (a non-numeric string to INT64, a
// float outside INT64, an invalid object id...) fail with CADB0400.
//
// Rules:
//   - to STRING: the value's text form (OID as 24 hex chars, floats so that
//     they parse back to the same bits, booleans true/false).
//   - to INT64: from FLOAT64 rounding half away from zero (must fit);
//     from STRING by decimal integer syntax (surrounding spaces allowed);
//     from BOOL 1/0.
//   - to FLOAT64: from INT64; from STRING by decimal float syntax
//     (including Inf/NaN spellings); from BOOL 1/0.
//   - to BOOL: from INT64 (non-zero is true); from STRING
//     true/false/t/f/yes/no/y/n/on/off/1/0, case-insensitive.
//   - to OID: from STRING holding exactly 24 lower-case hex characters.
//   - to BYTEA: from STRING in PostgreSQL's bytea input forms (\x hex or
//     escape); BYTEA to STRING is the \x hex form.
//   - to DATE, TIMESTAMP, TIMESTAMPTZ: from STRING (their text input) and
//     from each other (a DATE is midnight; to DATE drops the time; the
//     zone is always UTC). To INTERVAL: from STRING.
func Cast(v types.Value, to types.Kind) (types.Value, error) {
	if v.Kind == types.Null {
		if !validTarget(to) {
			return types.Value{}, errcode.New(errcode.InvalidInput, "cannot cast to %s", to)
		}
		return types.NullValue, nil
	}
	if v.Kind == to {
		return v, nil
	}
	switch to {
	case types.String:
		return types.NewString(v.String()), nil
	case types.Int64:
		switch v.Kind {
		case types.Float64:
			return floatToInt(v.Float)
		case types.Numeric:
			return numericToInt(v)
		case types.String:
			i, err := strconv.ParseInt(strings.TrimSpace(v.Str), 10, 64)
			if err != nil {
				return types.Value{}, castError(v, to)
			}
			return types.NewInt(i), nil
		case types.Bool:
			if v.Bool {
				return types.NewInt(1), nil
			}
			return types.NewInt(0), nil
		}
	case types.Float64:
		switch v.Kind {
		case types.Int64:
			return types.NewFloat(float64(v.Int)), nil
		case types.Numeric:
			f, err := v.Decimal().Float64()
			if err != nil {
				return types.Value{}, castError(v, to)
			}
			return types.NewFloat(f), nil
		case types.String:
			f, err := strconv.ParseFloat(strings.TrimSpace(v.Str), 64)
			if err != nil {
				return types.Value{}, castError(v, to)
			}
			return types.NewFloat(f), nil
		case types.Bool:
			if v.Bool {
				return types.NewFloat(1), nil
			}
			return types.NewFloat(0), nil
		}
	case types.Bool:
		switch v.Kind {
		case types.Int64:
			return types.NewBool(v.Int != 0), nil
		case types.String:
			switch strings.ToLower(strings.TrimSpace(v.Str)) {
			case "true", "t", "yes", "y", "on", "1":
				return types.NewBool(true), nil
			case "false", "f", "no", "n", "off", "0":
				return types.NewBool(false), nil
			}
			return types.Value{}, castError(v, to)
		}
	case types.OID:
		if v.Kind == types.String {
			id, err := types.ParseOID(v.Str)
			if err != nil {
				return types.Value{}, errcode.Wrap(errcode.InvalidInput, err)
			}
			return id, nil
		}
	case types.Bytes, types.Interval, types.UUID, types.JSONB:
		if v.Kind == types.String {
			return types.ParseText(to, v.Str)
		}
	case types.Numeric:
		switch v.Kind {
		case types.String:
			return types.ParseText(to, v.Str)
		case types.Int64:
			return types.NumericFromInt(v.Int), nil
		case types.Float64:
			return types.NumericFromFloat(v.Float)
		}
	case types.Date, types.Timestamp, types.TimestampTZ:
		switch {
		case v.Kind == types.String:
			return types.ParseText(to, v.Str)
		case types.IsDatetime(v.Kind):
			us := v.Micros()
			if to == types.Date {
				return types.NewDate(types.FloorDiv(us, types.MicrosPerDay)), nil
			}
			return types.Value{Kind: to, Int: us}, nil
		}
	default:
		return types.Value{}, errcode.New(errcode.InvalidInput, "cannot cast to %s", to)
	}
	return types.Value{}, castError(v, to)
}

// CastKind reports whether values of kind from may be cast to kind to at
// all (a particular value may still fail). Null (unknown) is castable to
// every valid target.
func CastKind(from, to types.Kind) bool {
	if !validTarget(to) {
		return false
	}
	if from == types.Null || from == to || to == types.String {
		return true
	}
	switch to {
	case types.Int64, types.Float64:
		return from == types.Int64 || from == types.Float64 || from == types.String || from == types.Bool || from == types.Numeric
	case types.Numeric:
		return from == types.Int64 || from == types.Float64 || from == types.String
	case types.Bool:
		return from == types.Int64 || from == types.String
	case types.OID, types.Bytes, types.Interval, types.UUID, types.JSONB:
		return from == types.String
	case types.Date, types.Timestamp, types.TimestampTZ:
		return from == types.String || types.IsDatetime(from)
	}
	return false
}

// CastTo is Cast to a column type: the value is converted to t.Kind, then
// made to fit t's modifiers as an explicit cast does (a SMALLINT out of
// range is CADB0410; a string longer than VARCHAR(n) is cut; CHAR(n) is
// blank-padded).
func CastTo(v types.Value, t types.T) (types.Value, error) {
	v, err := Cast(v, t.Kind)
	if err != nil {
		return v, err
	}
	return t.Conform(v, true)
}

func validTarget(k types.Kind) bool {
	switch k {
	case types.String, types.Int64, types.Float64, types.Bool, types.OID:
		return true
	}
	return types.TextInput(k)
}

// numericToInt rounds half away from zero; outside INT64 is CADB0410.
func numericToInt(v types.Value) (types.Value, error) {
	d := v.Decimal()
	if _, err := types.NumericContext().Quantize(d, d, 0); err == nil {
		if i, err := d.Int64(); err == nil {
			return types.NewInt(i), nil
		}
	}
	return types.Value{}, errcode.New(errcode.NumericOutOfRange, "%s is out of range for INT64", v.Str)
}

// floatToInt rounds half away from zero and checks the INT64 range.
func floatToInt(f float64) (types.Value, error) {
	r := math.Round(f)
	// float64(math.MaxInt64) rounds up to 2^63, which does not fit.
	if math.IsNaN(r) || r < -(1<<63) || r >= 1<<63 {
		return types.Value{}, errcode.New(errcode.InvalidInput, "%s is out of range for INT64", types.FormatFloat(f))
	}
	return types.NewInt(int64(r)), nil
}

func castError(v types.Value, to types.Kind) error {
	text := v.String()
	if len(text) > 64 {
		text = text[:64] + "..."
	}
	return errcode.New(errcode.InvalidInput, "cannot cast %s %q to %s", v.Kind, text, to)
}
