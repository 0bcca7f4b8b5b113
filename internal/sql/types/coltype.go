package types

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Mod refines a column's Kind the way PostgreSQL type modifiers do. The
// zero Mod is the plain kind (INT64, STRING without a length...). It is
// embedded in column descriptors, so its JSON names are part of the stored
// catalog format and fields are omitted when zero.
type Mod struct {
	// Width is the bit width of an INT64 column declared SMALLINT (16) or
	// INTEGER (32); 0 is the full 64 bits. Values are range-checked on
	// store; they are INT64 values in every other respect.
	Width uint8 `json:"width,omitempty"`
	// Length is the maximum length in characters of a STRING column
	// declared VARCHAR(n) or CHAR(n); 0 is unlimited.
	Length uint32 `json:"length,omitempty"`
	// Fixed marks CHAR(n): values shorter than Length are padded with
	// blanks on store, as PostgreSQL's character(n) does.
	Fixed bool `json:"fixed,omitempty"`
	// Precision and Scale are the p and s of NUMERIC(p,s); Precision 0
	// is an unconstrained NUMERIC.
	Precision uint16 `json:"precision,omitempty"`
	Scale     uint16 `json:"scale,omitempty"`
}

// T is a column (or cast target) type: a Kind and its modifiers.
type T struct {
	Kind Kind
	Mod
}

// MaxLength is the largest n of VARCHAR(n) and CHAR(n) (PostgreSQL's
// limit).
const MaxLength = 10485760

// ParseType maps a type name or alias without arguments (case-insensitive)
// to a type. ok=false for unknown names. VARCHAR and CHAR without a length
// are unlimited STRING (CamusDB's reading of CHAR; PostgreSQL's bare CHAR
// is CHAR(1)); the parser applies a (n) with WithLength.
func ParseType(name string) (T, bool) {
	switch strings.ToLower(name) {
	case "string", "text", "varchar", "char", "character", "bpchar":
		return T{Kind: String}, true
	case "int64", "int", "bigint", "int8":
		return T{Kind: Int64}, true
	case "integer", "int4":
		return T{Kind: Int64, Mod: Mod{Width: 32}}, true
	case "smallint", "int2":
		return T{Kind: Int64, Mod: Mod{Width: 16}}, true
	case "float64", "double", "float", "real", "float8", "float4":
		return T{Kind: Float64}, true
	case "bool", "boolean":
		return T{Kind: Bool}, true
	case "oid", "id", "object_id":
		return T{Kind: OID}, true
	case "bytea", "bytes":
		return T{Kind: Bytes}, true
	case "date":
		return T{Kind: Date}, true
	case "timestamp":
		return T{Kind: Timestamp}, true
	case "timestamptz":
		return T{Kind: TimestampTZ}, true
	case "interval":
		return T{Kind: Interval}, true
	case "numeric", "decimal":
		return T{Kind: Numeric}, true
	case "uuid":
		return T{Kind: UUID}, true
	case "jsonb", "json":
		return T{Kind: JSONB}, true
	}
	return T{}, false
}

// WithLength applies the (n) of VARCHAR(n) or CHAR(n) (fixed). n must be
// 1..MaxLength.
func (t T) WithLength(n int64, fixed bool) (T, error) {
	if t.Kind != String {
		return t, errcode.New(errcode.InvalidInput, "type %s does not take a length", t.Kind)
	}
	if n < 1 || n > MaxLength {
		return t, errcode.New(errcode.InvalidInput, "length for type %s must be between 1 and %d, not %d", map[bool]string{true: "CHAR", false: "VARCHAR"}[fixed], MaxLength, n)
	}
	t.Length, t.Fixed = uint32(n), fixed
	return t, nil
}

// WithPrecision applies the (p[, s]) of NUMERIC(p,s): 1 <= p <=
// MaxNumericPrecision, 0 <= s <= p.
func (t T) WithPrecision(p, s int64) (T, error) {
	if t.Kind != Numeric {
		return t, errcode.New(errcode.InvalidInput, "type %s does not take a precision", t.Kind)
	}
	if p < 1 || p > MaxNumericPrecision {
		return t, errcode.New(errcode.InvalidInput, "NUMERIC precision %d must be between 1 and %d", p, MaxNumericPrecision)
	}
	if s < 0 || s > p {
		return t, errcode.New(errcode.InvalidInput, "NUMERIC scale %d must be between 0 and precision %d", s, p)
	}
	t.Precision, t.Scale = uint16(p), uint16(s)
	return t, nil
}

// String returns the SQL spelling that ParseType (and the parser, for
// lengths) reads back: the Kind name, or INTEGER, SMALLINT, VARCHAR(n),
// CHAR(n).
func (t T) String() string {
	switch {
	case t.Kind == Int64 && t.Width == 16:
		return "SMALLINT"
	case t.Kind == Int64 && t.Width == 32:
		return "INTEGER"
	case t.Kind == String && t.Length > 0 && t.Fixed:
		return "CHAR(" + strconv.FormatUint(uint64(t.Length), 10) + ")"
	case t.Kind == String && t.Length > 0:
		return "VARCHAR(" + strconv.FormatUint(uint64(t.Length), 10) + ")"
	case t.Kind == Numeric && t.Precision > 0:
		return "NUMERIC(" + strconv.Itoa(int(t.Precision)) + "," + strconv.Itoa(int(t.Scale)) + ")"
	}
	return t.Kind.String()
}

// Valid reports whether t is a column type this build can store.
func (t T) Valid() bool {
	switch t.Kind {
	case OID, Int64, String, Bool, Float64, Bytes, Date, Timestamp, TimestampTZ, Interval, Numeric, UUID, JSONB:
	default:
		return false
	}
	switch t.Width {
	case 0:
	case 16, 32:
		if t.Kind != Int64 {
			return false
		}
	default:
		return false
	}
	if t.Length > MaxLength || (t.Length > 0 && t.Kind != String) || (t.Fixed && t.Length == 0) {
		return false
	}
	if t.Precision > MaxNumericPrecision || t.Scale > t.Precision || (t.Precision > 0 && t.Kind != Numeric) {
		return false
	}
	return true
}

// Conform makes v, a value already of kind t.Kind (or NULL), fit t's
// modifiers: a narrow integer out of range is CADB0410 (SQLSTATE 22003); a
// string longer than a VARCHAR(n)/CHAR(n) is CADB0411 (22001) unless the
// excess is blanks, which are cut, as PostgreSQL does on assignment.
// explicit (a CAST) cuts any excess instead. CHAR(n) values are padded
// with blanks to n characters.
func (t T) Conform(v Value, explicit bool) (Value, error) {
	if v.Kind != t.Kind {
		return v, nil
	}
	switch {
	case t.Width != 0:
		lim := int64(1) << (t.Width - 1)
		if v.Int < -lim || v.Int >= lim {
			return v, errcode.New(errcode.NumericOutOfRange, "%s out of range: %d", strings.ToLower(t.String()), v.Int)
		}
	case t.Length != 0:
		return t.conformLength(v, explicit)
	case t.Precision != 0:
		return t.conformNumeric(v)
	}
	return v, nil
}

func (t T) conformLength(v Value, explicit bool) (Value, error) {
	n := int(t.Length)
	s := v.Str
	count := utf8.RuneCountInString(s)
	if count > n {
		// Byte offset of the first character past n.
		cut, i := len(s), 0
		for off := range s {
			if i == n {
				cut = off
				break
			}
			i++
		}
		if !explicit && strings.TrimRight(s[cut:], " ") != "" {
			text := s
			if len(text) > 64 {
				text = text[:64] + "..."
			}
			return v, errcode.New(errcode.StringTooLong, "value too long for type %s: %q has %d characters", pgLengthName(t), text, count)
		}
		s, count = s[:cut], n
	}
	if t.Fixed && count < n {
		s += strings.Repeat(" ", n-count)
	}
	if s == v.Str {
		return v, nil
	}
	return NewString(s), nil
}

func pgLengthName(t T) string {
	if t.Fixed {
		return "character(" + strconv.FormatUint(uint64(t.Length), 10) + ")"
	}
	return "character varying(" + strconv.FormatUint(uint64(t.Length), 10) + ")"
}

// TextInput reports whether a STRING converts implicitly to kind k by
// reading it as k's text input (ParseText): a quoted literal is stored in
// a BYTEA column, as PostgreSQL types an untyped literal by its context.
func TextInput(k Kind) bool {
	return k >= Bytes && k <= MaxKind
}

// ParseText reads s in the text input format of kind k (one of the kinds
// TextInput accepts). Bad text is an error carrying the PostgreSQL
// SQLSTATE of the failure (CADB0414 invalid_text_representation...).
func ParseText(k Kind, s string) (Value, error) {
	switch k {
	case Bytes:
		b, err := ParseBytea(s)
		if err != nil {
			return Value{}, err
		}
		return NewBytes(b), nil
	case Date:
		return ParseDate(s)
	case Timestamp:
		return ParseTimestamp(s)
	case TimestampTZ:
		return ParseTimestampTZ(s)
	case Interval:
		return ParseInterval(s)
	case Numeric:
		return ParseNumeric(s)
	case UUID:
		return ParseUUID(s)
	case JSONB:
		return ParseJSONB(s)
	}
	return Value{}, errcode.New(errcode.InvalidInput, "type %s has no text input", k)
}
