package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// wireValue is a column value in a request (SPEC §3.1), or a bare JSON
// scalar (see the package comment).
type wireValue struct {
	types.Value
}

// wireValueObject is the object form; pointers tell omitted from zero.
type wireValueObject struct {
	Type       *int            `json:"type"`
	StrValue   *string         `json:"strValue"`
	LongValue  *int64          `json:"longValue"`
	FloatValue json.RawMessage `json:"floatValue"`
	BoolValue  *bool           `json:"boolValue"`
}

// UnmarshalJSON decodes the object or scalar form. Errors are
// *errcode.Error with CADB0400.
func (w *wireValue) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return errcode.New(errcode.InvalidInput, "empty column value")
	}
	switch data[0] {
	case '{':
		return w.decodeObject(data)
	case '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return errcode.New(errcode.InvalidInput, "invalid string value: %v", err)
		}
		w.Value = types.NewString(s)
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(data, &b); err != nil {
			return errcode.New(errcode.InvalidInput, "invalid boolean value: %v", err)
		}
		w.Value = types.NewBool(b)
	case 'n':
		w.Value = types.NullValue
	case '[':
		return errcode.New(errcode.InvalidInput, "a column value cannot be an array")
	default:
		v, err := scalarNumber(string(data))
		if err != nil {
			return err
		}
		w.Value = v
	}
	return nil
}

// scalarNumber turns a JSON number into INT64 when it is an integer that
// fits, FLOAT64 otherwise (an integer beyond INT64 included).
func scalarNumber(text string) (types.Value, error) {
	if !strings.ContainsAny(text, ".eE") {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return types.NewInt(i), nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // ±Inf on overflow is an honest FLOAT64
		return types.Value{}, errcode.New(errcode.InvalidInput, "invalid column value %q", text)
	}
	return types.NewFloat(f), nil
}

func (w *wireValue) decodeObject(data []byte) error {
	var obj wireValueObject
	if err := json.Unmarshal(data, &obj); err != nil {
		return errcode.New(errcode.InvalidInput, "invalid column value: %s", describeJSONError(err))
	}
	return w.fromObject(&obj)
}

// fromObject checks a decoded value object and sets w from it.
func (w *wireValue) fromObject(obj *wireValueObject) error {
	if obj.Type == nil {
		return errcode.New(errcode.InvalidInput, `column value has no "type"`)
	}
	if *obj.Type < int(types.Null) || *obj.Type > int(types.MaxKind) {
		return errcode.New(errcode.InvalidInput, "unknown column value type %d (want 0..%d)", *obj.Type, types.MaxKind)
	}
	switch types.Kind(*obj.Type) {
	case types.Null:
		w.Value = types.NullValue
	case types.OID:
		if obj.StrValue == nil {
			return errcode.New(errcode.InvalidInput, `object id value needs "strValue"`)
		}
		v, err := types.ParseOID(*obj.StrValue)
		if err != nil {
			return errcode.Wrap(errcode.InvalidInput, err)
		}
		w.Value = v
	case types.Int64:
		if obj.LongValue == nil {
			return missingValue("INT64", "longValue")
		}
		w.Value = types.NewInt(*obj.LongValue)
	case types.String:
		if obj.StrValue == nil {
			return missingValue("STRING", "strValue")
		}
		w.Value = types.NewString(*obj.StrValue)
	case types.Bool:
		if obj.BoolValue == nil {
			return missingValue("BOOL", "boolValue")
		}
		w.Value = types.NewBool(*obj.BoolValue)
	case types.Float64:
		if raw := bytes.TrimSpace(obj.FloatValue); len(raw) == 0 || string(raw) == "null" {
			return missingValue("FLOAT64", "floatValue")
		}
		f, err := decodeFloatField(obj.FloatValue)
		if err != nil {
			return err
		}
		w.Value = types.NewFloat(f)
	default: // BYTEA and later kinds: strValue in the kind's text form
		k := types.Kind(*obj.Type)
		if obj.StrValue == nil {
			return missingValue(k.String(), "strValue")
		}
		v, err := types.ParseText(k, *obj.StrValue)
		if err != nil {
			return err
		}
		w.Value = v
	}
	return nil
}

// missingValue is the error for a value object without (or with a null)
// field its type needs: a missing value is never read as "" or 0.
func missingValue(kind, field string) error {
	return errcode.New(errcode.InvalidInput, "a %s value needs %q (a missing value is not \"\" or 0; use type 0 for NULL)", kind, field)
}

// decodeFloatField accepts a JSON number, null/absent (0) or one of the
// strings "NaN", "Infinity", "-Infinity" that responses use.
func decodeFloatField(raw json.RawMessage) (float64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, errcode.New(errcode.InvalidInput, "invalid floatValue: %v", err)
		}
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity", "+Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		return 0, errcode.New(errcode.InvalidInput, "invalid floatValue %q: want a number, NaN, Infinity or -Infinity", s)
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, errcode.New(errcode.InvalidInput, "invalid floatValue: %s", describeJSONError(err))
	}
	return f, nil
}

// paramsFromWire converts request parameters to session form: a leading '@'
// is dropped, and giving the same name with and without '@' is an error.
func paramsFromWire(in map[string]wireValue) (map[string]types.Value, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]types.Value, len(in))
	for name, v := range in {
		bare := strings.TrimPrefix(name, "@")
		if bare == "" {
			return nil, errcode.New(errcode.InvalidInput, "parameter with an empty name")
		}
		if _, dup := out[bare]; dup {
			return nil, errcode.New(errcode.InvalidInput, "parameter %q given twice (with and without '@')", bare)
		}
		out[bare] = v.Value
	}
	return out, nil
}
