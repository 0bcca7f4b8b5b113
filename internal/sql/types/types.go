// Package types defines SQL column types and the runtime Value.
//
// Kind numbers equal the HTTP API's column value type codes (SPEC §3.1), so
// the protocol front-ends convert without a table.
package types

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is the type of a value or column.
type Kind uint8

const (
	Null    Kind = 0 // only values, never a column type
	OID     Kind = 1
	Int64   Kind = 2
	String  Kind = 3
	Bool    Kind = 4
	Float64 Kind = 5
	// Kinds after the original five (coltype.go maps each to its
	// PostgreSQL type). Their HTTP type codes are these numbers too.
	Bytes       Kind = 6  // BYTEA: Str holds the raw bytes
	Date        Kind = 7  // DATE: Int is days since 1970-01-01
	Timestamp   Kind = 8  // TIMESTAMP: Int is microseconds since 1970-01-01 00:00:00
	TimestampTZ Kind = 9  // TIMESTAMPTZ: Int is microseconds since the Unix epoch
	Interval    Kind = 10 // INTERVAL: see IntervalParts
	Numeric     Kind = 11 // NUMERIC: Str is the canonical decimal text (numeric.go)
	UUID        Kind = 12 // UUID: Str holds the 16 bytes
	JSONB       Kind = 13 // JSONB: Str is the canonical JSON text (jsonb.go)
)

// MaxKind is the largest Kind this build knows.
const MaxKind = JSONB

// String returns the canonical SQL name (STRING, INT64, FLOAT64, BOOL, OID).
func (k Kind) String() string {
	switch k {
	case Null:
		return "NULL"
	case OID:
		return "OID"
	case Int64:
		return "INT64"
	case String:
		return "STRING"
	case Bool:
		return "BOOL"
	case Float64:
		return "FLOAT64"
	case Bytes:
		return "BYTEA"
	case Date:
		return "DATE"
	case Timestamp:
		return "TIMESTAMP"
	case TimestampTZ:
		return "TIMESTAMPTZ"
	case Interval:
		return "INTERVAL"
	case Numeric:
		return "NUMERIC"
	case UUID:
		return "UUID"
	case JSONB:
		return "JSONB"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind maps a SQL type name or alias (case-insensitive, without length
// suffix) to a Kind. ok=false for unknown names. ParseType also gives the
// modifiers a name implies (INTEGER is a 32-bit INT64).
func ParseKind(name string) (Kind, bool) {
	t, ok := ParseType(name)
	return t.Kind, ok
}

// OIDLen is the size of an object id in bytes.
const OIDLen = 12

// Value is one SQL value. Exactly the field of its Kind is meaningful:
// Int (Int64), Float (Float64), Str (String; for OID the 12 raw bytes),
// Bool (Bool). The zero Value is NULL.
type Value struct {
	Kind  Kind
	Bool  bool
	Int   int64
	Float float64
	Str   string
}

// NullValue is the SQL NULL.
var NullValue = Value{}

func NewInt(i int64) Value     { return Value{Kind: Int64, Int: i} }
func NewFloat(f float64) Value { return Value{Kind: Float64, Float: f} }
func NewString(s string) Value { return Value{Kind: String, Str: s} }
func NewBool(b bool) Value     { return Value{Kind: Bool, Bool: b} }
func NewBytes(b string) Value  { return Value{Kind: Bytes, Str: b} }

// NewOID builds an OID value from its 12 raw bytes.
func NewOID(raw [OIDLen]byte) Value { return Value{Kind: OID, Str: string(raw[:])} }

// ParseOID parses 24 lower-case hex characters.
func ParseOID(s string) (Value, error) {
	if len(s) != 2*OIDLen || strings.ToLower(s) != s {
		return Value{}, fmt.Errorf("invalid object id %q: want 24 lower-case hex characters", s)
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return Value{}, fmt.Errorf("invalid object id %q: want 24 lower-case hex characters", s)
	}
	return Value{Kind: OID, Str: string(raw)}, nil
}

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.Kind == Null }

// OIDHex returns the 24-char hex form of an OID value.
func (v Value) OIDHex() string { return hex.EncodeToString([]byte(v.Str)) }

// String renders v as SQL text output (not a literal): NULL, 42, 1.5,
// true, text, or the OID hex.
func (v Value) String() string {
	switch v.Kind {
	case Null:
		return "NULL"
	case Int64:
		return strconv.FormatInt(v.Int, 10)
	case Float64:
		return FormatFloat(v.Float)
	case Bool:
		if v.Bool {
			return "true"
		}
		return "false"
	case OID:
		return v.OIDHex()
	case Bytes:
		return FormatBytea(v.Str)
	case Date:
		return FormatDate(v.Int)
	case Timestamp:
		return FormatTimestamp(v.Int)
	case TimestampTZ:
		return FormatTimestampTZ(v.Int)
	case Interval:
		return v.Interval().String()
	case UUID:
		return FormatUUID(v.Str)
	}
	return v.Str
}

// FormatFloat renders a float64 so that parsing it back gives the same bits.
func FormatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	if math.IsInf(f, -1) {
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Compare orders two non-NULL values of comparable kinds: INT64 and FLOAT64
// compare numerically with each other; otherwise kinds must match.
// NULL sorts before everything (the ORDER BY rule); callers implementing SQL
// comparison operators handle NULL themselves. ok=false for incompatible
// kinds (e.g. STRING vs INT64).
func Compare(a, b Value) (cmp int, ok bool) {
	if a.Kind == Null || b.Kind == Null {
		switch {
		case a.Kind == b.Kind:
			return 0, true
		case a.Kind == Null:
			return -1, true
		default:
			return 1, true
		}
	}
	if a.Kind != b.Kind {
		if a.Kind == Numeric || b.Kind == Numeric {
			return compareNumericMixed(a, b)
		}
		if IsDatetime(a.Kind) && IsDatetime(b.Kind) {
			return compareInt(a.Micros(), b.Micros()), true
		}
		if a.Kind == Int64 && b.Kind == Float64 {
			return compareFloat(float64(a.Int), b.Float), true
		}
		if a.Kind == Float64 && b.Kind == Int64 {
			return compareFloat(a.Float, float64(b.Int)), true
		}
		return 0, false
	}
	switch a.Kind {
	case Int64, Date, Timestamp, TimestampTZ:
		return compareInt(a.Int, b.Int), true
	case Interval:
		return compareInterval(a.Interval(), b.Interval()), true
	case Numeric:
		return compareNumeric(a.Str, b.Str), true
	case Float64:
		return compareFloat(a.Float, b.Float), true
	case Bool:
		switch {
		case a.Bool == b.Bool:
			return 0, true
		case !a.Bool:
			return -1, true
		}
		return 1, true
	default: // String, OID, Bytes
		return strings.Compare(a.Str, b.Str), true
	}
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareFloat orders NaN below every number so sorting is total.
func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return -1
	}
	return 1
}
