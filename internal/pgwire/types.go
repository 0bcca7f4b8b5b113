package pgwire

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// PostgreSQL type OIDs we read or write.
const (
	oidUnspecified uint32 = 0
	oidBool        uint32 = 16
	oidBytea       uint32 = 17
	oidName        uint32 = 19
	oidInt8        uint32 = 20
	oidInt2        uint32 = 21
	oidInt4        uint32 = 23
	oidText        uint32 = 25
	oidFloat4      uint32 = 700
	oidFloat8      uint32 = 701
	oidUnknown     uint32 = 705
	oidBPChar      uint32 = 1042
	oidVarchar     uint32 = 1043
	oidNumeric     uint32 = 1700
	oidDate        uint32 = 1082
	oidTimestamp   uint32 = 1114
	oidTimestampTZ uint32 = 1184
	oidInterval    uint32 = 1186
	oidUUID        uint32 = 2950
	oidJSON        uint32 = 114
	oidJSONB       uint32 = 3802
)

// PostgreSQL's binary date/time formats count from 2000-01-01.
const (
	pgEpochDays   = 10957
	pgEpochMicros = pgEpochDays * 86400 * 1000000
)

// Format codes.
const (
	formatText   int16 = 0
	formatBinary int16 = 1
)

// TypeOID is the PostgreSQL type OID of a column kind: the one mapping
// the wire protocol and the catalogs (pg_type, pg_attribute,
// information_schema.columns, through session.Config.PGTypeOID) share.
func TypeOID(k types.Kind) uint32 {
	oid, _ := typeOID(k)
	return oid
}

// typeOID maps a column kind to its PostgreSQL type OID and size (the
// shared mapping types.T.PG; STRING, OID (hex text) and unknown are text).
func typeOID(k types.Kind) (oid uint32, size int16) {
	pg := types.T{Kind: k}.PG()
	return pg.OID, pg.Len
}

// formatOf returns the format of column i from a Bind's format list:
// none = all text, one = all that one, else one per column.
func formatOf(formats []int16, i int) int16 {
	switch len(formats) {
	case 0:
		return formatText
	case 1:
		return formats[0]
	}
	if i < len(formats) {
		return formats[i]
	}
	return formatText
}

// appendValue appends non-NULL v of a column of kind col in format;
// floatDigits is the session's extra_float_digits (text floats).
func appendValue(buf []byte, col types.Kind, format int16, v types.Value, floatDigits int) ([]byte, error) {
	if format == formatText {
		return appendText(buf, v, floatDigits), nil
	}
	switch col {
	case types.Int64:
		switch v.Kind {
		case types.Int64:
			return binary.BigEndian.AppendUint64(buf, uint64(v.Int)), nil
		case types.Float64:
			if v.Float == math.Trunc(v.Float) && v.Float >= -(1<<63) && v.Float < 1<<63 {
				return binary.BigEndian.AppendUint64(buf, uint64(int64(v.Float))), nil
			}
		}
	case types.Float64:
		switch v.Kind {
		case types.Float64:
			return binary.BigEndian.AppendUint64(buf, math.Float64bits(v.Float)), nil
		case types.Int64:
			return binary.BigEndian.AppendUint64(buf, math.Float64bits(float64(v.Int))), nil
		}
	case types.Bool:
		if v.Kind == types.Bool {
			if v.Bool {
				return append(buf, 1), nil
			}
			return append(buf, 0), nil
		}
	case types.Bytes:
		if v.Kind == types.Bytes {
			return append(buf, v.Str...), nil
		}
	case types.Date:
		if v.Kind == types.Date {
			return binary.BigEndian.AppendUint32(buf, uint32(int32(v.Int-pgEpochDays))), nil
		}
	case types.Timestamp, types.TimestampTZ:
		if v.Kind == col {
			return binary.BigEndian.AppendUint64(buf, uint64(v.Int-pgEpochMicros)), nil
		}
	case types.Numeric:
		if v.Kind == types.Numeric {
			return appendNumericBinary(buf, v.Str), nil
		}
	case types.UUID:
		if v.Kind == types.UUID {
			return append(buf, v.Str...), nil
		}
	case types.JSONB:
		if v.Kind == types.JSONB { // version 1, then the text
			return append(append(buf, 1), v.Str...), nil
		}
	case types.Interval:
		if v.Kind == types.Interval {
			iv := v.Interval()
			buf = binary.BigEndian.AppendUint64(buf, uint64(iv.Micros))
			buf = binary.BigEndian.AppendUint32(buf, uint32(iv.Days))
			return binary.BigEndian.AppendUint32(buf, uint32(iv.Months)), nil
		}
	default: // text: the binary form of text is its bytes
		return appendText(buf, v, floatDigits), nil
	}
	return nil, errcode.New(errcode.Internal, "value %s of kind %s in a column of kind %s", v.String(), v.Kind, col)
}

// appendText appends the PostgreSQL text form of non-NULL v. Floats follow
// extra_float_digits (floatDigits) as PostgreSQL 12+ does: above 0 the
// shortest text that reads back exactly, else 15+floatDigits significant
// digits.
func appendText(buf []byte, v types.Value, floatDigits int) []byte {
	switch v.Kind {
	case types.Int64:
		return strconv.AppendInt(buf, v.Int, 10)
	case types.Float64:
		switch {
		case math.IsInf(v.Float, 1):
			return append(buf, "Infinity"...)
		case math.IsInf(v.Float, -1):
			return append(buf, "-Infinity"...)
		case math.IsNaN(v.Float):
			return append(buf, "NaN"...)
		}
		if floatDigits <= 0 {
			return strconv.AppendFloat(buf, v.Float, 'g', 15+floatDigits, 64)
		}
		return strconv.AppendFloat(buf, v.Float, 'g', -1, 64)
	case types.Bool:
		if v.Bool {
			return append(buf, 't')
		}
		return append(buf, 'f')
	case types.OID:
		return append(buf, v.OIDHex()...)
	case types.String:
		return append(buf, v.Str...)
	}
	return append(buf, v.String()...)
}

// paramSet is the decoded parameters of one Bind, keyed "1", "2", ...
// as session.Request.Params expects.
type paramSet struct {
	values map[string]types.Value
	// inferred lists parameters typed from their text as non-STRING.
	inferredText map[string]string
	inferred     bool
}

// asStrings returns the values with every inferred parameter as STRING.
func (p *paramSet) asStrings() map[string]types.Value {
	out := make(map[string]types.Value, len(p.values))
	for k, v := range p.values {
		if text, ok := p.inferredText[k]; ok {
			v = types.NewString(text)
		}
		out[k] = v
	}
	return out
}

// decodeParams decodes a Bind's parameter values for a statement whose
// parameter i has type OID oids[i] (0: unspecified).
func decodeParams(oids []uint32, formats []int16, raw [][]byte) (*paramSet, error) {
	return decodeParamsInto(nil, oids, formats, raw)
}

// decodeParamsInto is decodeParams reusing ps (nil: a new one), whose
// earlier values nothing uses any more: its maps are cleared and filled.
func decodeParamsInto(ps *paramSet, oids []uint32, formats []int16, raw [][]byte) (*paramSet, error) {
	if len(formats) > 1 && len(formats) != len(raw) {
		return nil, protocolError("bind message has %d parameter formats but %d parameters", len(formats), len(raw))
	}
	if len(raw) != len(oids) {
		return nil, protocolError("bind message supplies %d parameters, but prepared statement requires %d", len(raw), len(oids))
	}
	if ps == nil || ps.values == nil {
		ps = &paramSet{values: make(map[string]types.Value, len(raw))}
	} else {
		clear(ps.values)
		clear(ps.inferredText)
		ps.inferred = false
	}
	for i, b := range raw {
		name := strconv.Itoa(i + 1)
		if b == nil {
			ps.values[name] = types.NullValue
			continue
		}
		format := formatOf(formats, i)
		var (
			v   types.Value
			err error
		)
		switch {
		case format == formatBinary:
			v, err = decodeBinary(oids[i], b)
		case format != formatText:
			err = protocolError("unsupported format code %d", format)
		case oids[i] == oidUnspecified || oids[i] == oidUnknown:
			v = inferText(string(b))
			if v.Kind != types.String {
				if ps.inferredText == nil {
					ps.inferredText = map[string]string{}
				}
				ps.inferredText[name] = string(b)
				ps.inferred = true
			}
		default:
			v, err = decodeText(oids[i], string(b))
		}
		if err != nil {
			// Keep the code of a value error (22P02 for bad bytea text...).
			code := errcode.Of(err)
			if code == errcode.Internal {
				code = errcode.InvalidInput
			}
			return nil, errcode.New(code, "parameter $%d: %v", i+1, err)
		}
		if v.Kind == types.String && !utf8.ValidString(v.Str) {
			return nil, errcode.New(errcode.InvalidInput, "parameter $%d: invalid UTF-8", i+1)
		}
		ps.values[name] = v
	}
	return ps, nil
}

// protocolError is a malformed-message error (SQLSTATE 08P01).
func protocolError(format string, args ...any) error {
	return &wireError{state: "08P01", err: errcode.New(errcode.InvalidInput, format, args...)}
}

func decodeText(oid uint32, s string) (types.Value, error) {
	switch oid {
	case oidInt8, oidInt2, oidInt4:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return types.Value{}, errcode.New(errcode.InvalidInput, "invalid integer %q", s)
		}
		return types.NewInt(i), nil
	case oidNumeric:
		return types.ParseNumeric(s)
	case oidUUID:
		return types.ParseUUID(s)
	case oidJSON, oidJSONB:
		return types.ParseJSONB(s)
	case oidFloat8, oidFloat4:
		f, err := parseFloatText(strings.TrimSpace(s))
		if err != nil {
			return types.Value{}, err
		}
		return types.NewFloat(f), nil
	case oidBool:
		b, ok := parseBool(s)
		if !ok {
			return types.Value{}, errcode.New(errcode.InvalidInput, "invalid boolean %q", s)
		}
		return types.NewBool(b), nil
	case oidText, oidVarchar, oidBPChar, oidName:
		return types.NewString(s), nil
	case oidBytea:
		return types.ParseText(types.Bytes, s)
	case oidDate:
		return types.ParseText(types.Date, s)
	case oidTimestamp:
		return types.ParseText(types.Timestamp, s)
	case oidTimestampTZ:
		return types.ParseText(types.TimestampTZ, s)
	case oidInterval:
		return types.ParseText(types.Interval, s)
	}
	return types.Value{}, errcode.New(errcode.Unsupported, "parameter type OID %d is not supported", oid)
}

func parseFloatText(s string) (float64, error) {
	switch strings.ToLower(s) {
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), nil
	case "-infinity", "-inf":
		return math.Inf(-1), nil
	case "nan":
		return math.NaN(), nil
	}
	if !isDecimal(s) {
		return 0, errcode.New(errcode.InvalidInput, "invalid floating point number %q", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errcode.New(errcode.InvalidInput, "invalid floating point number %q", s)
	}
	return f, nil
}

// parseBool accepts PostgreSQL's boolean input forms.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, true
	case "f", "false", "n", "no", "off", "0":
		return false, true
	}
	return false, false
}

func decodeBinary(oid uint32, b []byte) (types.Value, error) {
	bad := func() (types.Value, error) {
		return types.Value{}, errcode.New(errcode.InvalidInput, "binary value of %d bytes for type OID %d", len(b), oid)
	}
	switch oid {
	case oidInt8:
		if len(b) != 8 {
			return bad()
		}
		return types.NewInt(int64(binary.BigEndian.Uint64(b))), nil
	case oidInt4:
		if len(b) != 4 {
			return bad()
		}
		return types.NewInt(int64(int32(binary.BigEndian.Uint32(b)))), nil
	case oidInt2:
		if len(b) != 2 {
			return bad()
		}
		return types.NewInt(int64(int16(binary.BigEndian.Uint16(b)))), nil
	case oidFloat8:
		if len(b) != 8 {
			return bad()
		}
		return types.NewFloat(math.Float64frombits(binary.BigEndian.Uint64(b))), nil
	case oidFloat4:
		if len(b) != 4 {
			return bad()
		}
		return types.NewFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(b)))), nil
	case oidBool:
		if len(b) != 1 {
			return bad()
		}
		return types.NewBool(b[0] != 0), nil
	case oidText, oidVarchar, oidBPChar, oidName:
		return types.NewString(string(b)), nil
	case oidBytea:
		return types.NewBytes(string(b)), nil
	case oidDate:
		if len(b) != 4 {
			return bad()
		}
		return checkDatetime(types.NewDate(int64(int32(binary.BigEndian.Uint32(b))) + pgEpochDays))
	case oidTimestamp, oidTimestampTZ:
		if len(b) != 8 {
			return bad()
		}
		us := int64(binary.BigEndian.Uint64(b))
		if us > math.MaxInt64-pgEpochMicros {
			return types.Value{}, errcode.New(errcode.DatetimeOverflow, "timestamp out of range")
		}
		kind := types.Timestamp
		if oid == oidTimestampTZ {
			kind = types.TimestampTZ
		}
		return checkDatetime(types.Value{Kind: kind, Int: us + pgEpochMicros})
	case oidNumeric:
		return decodeNumericBinary(b)
	case oidJSON:
		return types.ParseJSONB(string(b))
	case oidJSONB:
		if len(b) == 0 || b[0] != 1 {
			return types.Value{}, errcode.New(errcode.InvalidBinaryValue, "unsupported jsonb binary version")
		}
		return types.ParseJSONB(string(b[1:]))
	case oidUUID:
		if len(b) != types.UUIDLen {
			return bad()
		}
		return types.Value{Kind: types.UUID, Str: string(b)}, nil
	case oidInterval:
		if len(b) != 16 {
			return bad()
		}
		return types.NewInterval(types.IntervalParts{
			Micros: int64(binary.BigEndian.Uint64(b[:8])),
			Days:   int32(binary.BigEndian.Uint32(b[8:12])),
			Months: int32(binary.BigEndian.Uint32(b[12:])),
		}), nil
	case oidUnspecified, oidUnknown:
		return types.Value{}, errcode.New(errcode.InvalidInput, "a binary parameter needs a type OID in Parse")
	}
	return types.Value{}, errcode.New(errcode.Unsupported, "parameter type OID %d is not supported", oid)
}

// checkDatetime refuses a date/time outside the supported years
// (infinity included) with CADB0413.
func checkDatetime(v types.Value) (types.Value, error) {
	if !types.InRange(v) {
		return types.Value{}, errcode.New(errcode.DatetimeOverflow, "%s out of range (years 1..9999)", strings.ToLower(v.Kind.String()))
	}
	return v, nil
}

// inferText types a parameter that came without a type from its text.
func inferText(s string) types.Value {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil && isDecimal(s) {
		return types.NewInt(i)
	}
	if isDecimal(s) {
		// A plain decimal that FLOAT64 gives back as written stays
		// FLOAT64; one it would change ("1.50", 30 digits) is an exact
		// NUMERIC. Exponent forms stay FLOAT64.
		f, err := strconv.ParseFloat(s, 64)
		if err == nil && (strings.ContainsAny(s, "eE") || strconv.FormatFloat(f, 'f', -1, 64) == strings.TrimPrefix(s, "+")) {
			return types.NewFloat(f)
		}
		if n, err := types.ParseNumeric(s); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return types.NewFloat(f)
		}
	}
	switch s {
	case "t", "true":
		return types.NewBool(true)
	case "f", "false":
		return types.NewBool(false)
	}
	return types.NewString(s)
}

// isDecimal reports whether s is [+-]digits[.digits][e[+-]digits] with at
// least one digit before the exponent (no hex, no underscores, no inf).
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
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
		expDigits := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			expDigits++
		}
		if expDigits == 0 {
			return false
		}
	}
	return i == len(s)
}
