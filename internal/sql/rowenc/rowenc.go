// Package rowenc encodes SQL values into order-preserving key bytes and row
// payloads (SPEC §5). See doc.go and docs/storage.md for the byte layout.
package rowenc

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// ErrCorrupt is wrapped by every decoding error: the bytes are not an
// encoding this package produces. Callers map it to CADB0014.
var ErrCorrupt = errors.New("rowenc: corrupt encoding")

// ErrInvalidValue is returned by CheckValue for a value the encoders cannot
// represent.
var ErrInvalidValue = errors.New("rowenc: invalid value")

// corruptf returns an error wrapping ErrCorrupt.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// CheckValue reports whether v can be encoded: its Kind is a known kind and
// an OID holds exactly types.OIDLen bytes. Encoders panic on values that
// fail this check.
func CheckValue(v types.Value) error {
	switch v.Kind {
	case types.Null, types.Int64, types.Float64, types.Bool, types.String, types.Bytes,
		types.Date, types.Timestamp, types.TimestampTZ:
		return nil
	case types.Numeric, types.JSONB:
		if !validText(v.Kind, v.Str) {
			return fmt.Errorf("%w: %s %q is not valid", ErrInvalidValue, v.Kind, v.Str)
		}
		return nil
	case types.Interval:
		if len(v.Str) != 8 {
			return fmt.Errorf("%w: INTERVAL without its months and days", ErrInvalidValue)
		}
		return nil
	case types.UUID:
		if len(v.Str) != types.UUIDLen {
			return fmt.Errorf("%w: UUID of %d bytes, want %d", ErrInvalidValue, len(v.Str), types.UUIDLen)
		}
		return nil
	case types.OID:
		if len(v.Str) != types.OIDLen {
			return fmt.Errorf("%w: OID of %d bytes, want %d", ErrInvalidValue, len(v.Str), types.OIDLen)
		}
		return nil
	}
	return fmt.Errorf("%w: unknown kind %d", ErrInvalidValue, uint8(v.Kind))
}

// validText is the cheap check decoders make of a stored NUMERIC or JSONB
// text: a canonical NUMERIC, or well-formed JSON (a full parse into the
// canonical form would cost far more than the rest of a row).
func validText(k types.Kind, s string) bool {
	if k == types.Numeric {
		return types.NumericCanonical(s)
	}
	return utf8.ValidString(s) && json.Valid([]byte(s))
}

// mustBeValid panics on a value the encoders cannot represent: such a value
// was built without the types constructors, which is a programming error.
func mustBeValid(fn string, v types.Value) {
	if err := CheckValue(v); err != nil {
		panic(fmt.Sprintf("rowenc.%s: broken invariant: %v", fn, err))
	}
}

// AppendKey appends the order-preserving encoding of v. desc inverts the
// bytes so the column sorts descending. NULL sorts first ascending (last
// descending). The encoding is self-delimiting: concatenated column
// encodings compare column by column.
//
// v must satisfy CheckValue; otherwise AppendKey panics.
func AppendKey(b []byte, v types.Value, desc bool) []byte {
	return appendKey(b, v, desc)
}

// DecodeKey decodes one column encoded by AppendKey, returning the rest.
// Invalid bytes return an error, never a panic. The encoding is tagged, so
// the kind is recovered from the bytes.
func DecodeKey(b []byte, desc bool) (v types.Value, rest []byte, err error) {
	return decodeKey(b, desc)
}

// EncodeRow encodes a row payload: schema version + the column values in
// schema order (len(values) columns).
//
// Every value must satisfy CheckValue; otherwise EncodeRow panics.
func EncodeRow(b []byte, schemaVersion uint32, values []types.Value) []byte {
	return encodeRow(b, schemaVersion, values)
}

// DecodeRow decodes a payload written by EncodeRow.
func DecodeRow(b []byte) (schemaVersion uint32, values []types.Value, err error) {
	schemaVersion, values, err = DecodeRowAppend(nil, b)
	if err != nil {
		return 0, nil, err
	}
	return schemaVersion, values, nil
}
