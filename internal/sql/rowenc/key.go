package rowenc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// Key tags, the first byte of every ascending column encoding. NULL is the
// smallest byte so it sorts first; the other tags are 0x10 + the Kind
// number. Descending encodings carry the inverted tag.
const (
	keyTagNull    byte = 0x00
	keyTagOID     byte = 0x11
	keyTagInt     byte = 0x12
	keyTagString  byte = 0x13
	keyTagBool    byte = 0x14
	keyTagFloat   byte = 0x15
	keyTagBytes   byte = 0x16
	keyTagDate    byte = 0x17
	keyTagTS      byte = 0x18
	keyTagTSTZ    byte = 0x19
	keyTagIntv    byte = 0x1A
	keyTagNumeric byte = 0x1B
	keyTagUUID    byte = 0x1C
	keyTagJSONB   byte = 0x1D
)

// intervalKeyLen is the length of an INTERVAL key column: the tag, the
// span's days and remainder (8 bytes each) and the months and days fields
// (4 bytes each), every field sign-flipped big-endian.
const intervalKeyLen = 1 + 8 + 8 + 4 + 4

// String escaping (ascending form): a 0x00 byte in the value is written as
// 0x00 0xFF and the value ends with 0x00 0x01. The terminator is smaller
// than every escaped or plain continuation, so a prefix sorts first.
const (
	strEscape     byte = 0x00
	strEscapedNul byte = 0xFF
	strTerminator byte = 0x01
)

const (
	signBit = uint64(1) << 63
	// floatNaNKey is the transformed bits of every NaN: below the transform
	// of -Inf (0x000FFFFFFFFFFFFF), so NaN sorts first among floats.
	floatNaNKey = uint64(0)
	// floatNegZeroKey is what -0 would transform to; -0 is encoded as +0,
	// so these bits never appear in a valid key.
	floatNegZeroKey = ^signBit
)

// byteMask is XORed into every byte of a column's encoding: 0x00 for
// ascending, 0xFF for descending.
func byteMask(desc bool) byte {
	if desc {
		return 0xFF
	}
	return 0
}

func wordMask(desc bool) uint64 {
	if desc {
		return math.MaxUint64
	}
	return 0
}

func appendKey(b []byte, v types.Value, desc bool) []byte {
	switch v.Kind {
	case types.Null:
		return AppendKeyNull(b, desc)
	case types.Int64:
		return AppendKeyInt64(b, v.Int, desc)
	case types.Float64:
		return AppendKeyFloat64(b, v.Float, desc)
	case types.Bool:
		return AppendKeyBool(b, v.Bool, desc)
	case types.String:
		return AppendKeyString(b, v.Str, desc)
	case types.Bytes:
		return appendKeyEscaped(b, keyTagBytes, v.Str, desc)
	case types.JSONB:
		return appendKeyEscaped(b, keyTagJSONB, v.Str, desc)
	case types.Date, types.Timestamp, types.TimestampTZ:
		b = append(b, (byte(v.Kind)+0x10)^byteMask(desc))
		return binary.BigEndian.AppendUint64(b, (uint64(v.Int)^signBit)^wordMask(desc))
	case types.Interval:
		if len(v.Str) == 8 {
			return appendKeyInterval(b, v.Interval(), desc)
		}
	case types.Numeric:
		return appendKeyNumeric(b, v.Str, desc)
	}
	mustBeValid("AppendKey", v)
	// v is a well-formed OID or UUID: its raw bytes.
	m := byteMask(desc)
	b = append(b, (byte(v.Kind)+0x10)^m)
	if !desc {
		return append(b, v.Str...)
	}
	for i := 0; i < len(v.Str); i++ {
		b = append(b, ^v.Str[i])
	}
	return b
}

func appendKeyInterval(b []byte, iv types.IntervalParts, desc bool) []byte {
	m, w := byteMask(desc), wordMask(desc)
	days, rem := iv.Span()
	b = append(b, keyTagIntv^m)
	b = binary.BigEndian.AppendUint64(b, (uint64(days)^signBit)^w)
	b = binary.BigEndian.AppendUint64(b, (uint64(rem)^signBit)^w)
	b = binary.BigEndian.AppendUint32(b, (uint32(iv.Months)^(1<<31))^uint32(w))
	return binary.BigEndian.AppendUint32(b, (uint32(iv.Days)^(1<<31))^uint32(w))
}

// decodeKeyInterval decodes the body of an INTERVAL key column, rejecting
// a span that does not match the fields (AppendKey never writes one).
func decodeKeyInterval(b []byte, desc bool) (types.Value, error) {
	w := wordMask(desc)
	days := int64((binary.BigEndian.Uint64(b[0:8]) ^ w) ^ signBit)
	rem := int64((binary.BigEndian.Uint64(b[8:16]) ^ w) ^ signBit)
	months := int32((binary.BigEndian.Uint32(b[16:20]) ^ uint32(w)) ^ (1 << 31))
	ds := int32((binary.BigEndian.Uint32(b[20:24]) ^ uint32(w)) ^ (1 << 31))
	if rem < 0 || rem >= types.MicrosPerDay {
		return types.Value{}, corruptf("INTERVAL key remainder %d out of range", rem)
	}
	// micros = (days - months*30 - ds) * MicrosPerDay + rem in wrapping
	// arithmetic: when the true value fits in 64 bits this is it, and when
	// it does not the span check below fails.
	micros := (days-int64(months)*30-int64(ds))*types.MicrosPerDay + rem
	iv := types.IntervalParts{Months: months, Days: ds, Micros: micros}
	if d, r := iv.Span(); d != days || r != rem {
		return types.Value{}, corruptf("INTERVAL key span does not match its fields")
	}
	return types.NewInterval(iv), nil
}

// AppendKeyNull appends the key encoding of NULL (one byte).
func AppendKeyNull(b []byte, desc bool) []byte {
	return append(b, keyTagNull^byteMask(desc))
}

// AppendKeyInt64 appends the key encoding of an INT64: the tag and 8
// big-endian bytes with the sign bit flipped. Same bytes as
// AppendKey(b, types.NewInt(i), desc), without building a Value.
func AppendKeyInt64(b []byte, i int64, desc bool) []byte {
	b = append(b, keyTagInt^byteMask(desc))
	return binary.BigEndian.AppendUint64(b, (uint64(i)^signBit)^wordMask(desc))
}

// AppendKeyFloat64 appends the key encoding of a FLOAT64 (see doc.go for
// how -0 and NaN are canonicalised).
func AppendKeyFloat64(b []byte, f float64, desc bool) []byte {
	b = append(b, keyTagFloat^byteMask(desc))
	return binary.BigEndian.AppendUint64(b, floatKeyBits(f)^wordMask(desc))
}

// floatKeyBits maps a float to a uint64 whose unsigned order is the SQL
// order of floats: positives get the sign bit set, negatives are inverted
// (so larger magnitudes sort lower), -0 maps to +0 and NaN to 0.
func floatKeyBits(f float64) uint64 {
	if f != f {
		return floatNaNKey
	}
	if f == 0 { // +0 and -0
		return signBit
	}
	u := math.Float64bits(f)
	if u&signBit == 0 {
		return u | signBit
	}
	return ^u
}

// floatFromKeyBits inverts floatKeyBits, rejecting bit patterns that
// floatKeyBits never produces (non-canonical NaNs and -0).
func floatFromKeyBits(k uint64) (float64, error) {
	switch k {
	case floatNaNKey:
		return math.NaN(), nil
	case floatNegZeroKey:
		return 0, corruptf("float key %016x encodes -0, which is stored as +0", k)
	}
	var u uint64
	if k&signBit != 0 {
		u = k &^ signBit
	} else {
		u = ^k
	}
	f := math.Float64frombits(u)
	if f != f {
		return 0, corruptf("float key %016x is a non-canonical NaN", k)
	}
	return f, nil
}

// AppendKeyBool appends the key encoding of a BOOL: the tag and 0x00 or
// 0x01.
func AppendKeyBool(b []byte, v bool, desc bool) []byte {
	m := byteMask(desc)
	var c byte
	if v {
		c = 1
	}
	return append(b, keyTagBool^m, c^m)
}

// AppendKeyString appends the key encoding of a STRING: the tag, the bytes
// with 0x00 escaped as 0x00 0xFF, and the terminator 0x00 0x01.
func AppendKeyString(b []byte, s string, desc bool) []byte {
	return appendKeyEscaped(b, keyTagString, s, desc)
}

// appendKeyEscaped appends tag and the escaped, terminated bytes of s (the
// STRING and BYTEA encodings).
func appendKeyEscaped(b []byte, tag byte, s string, desc bool) []byte {
	b = slices.Grow(b, len(s)+3)
	if !desc {
		b = append(b, tag)
		for {
			i := strings.IndexByte(s, strEscape)
			if i < 0 {
				b = append(b, s...)
				break
			}
			b = append(b, s[:i+1]...)
			b = append(b, strEscapedNul)
			s = s[i+1:]
		}
		return append(b, strEscape, strTerminator)
	}
	b = append(b, ^tag)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == strEscape {
			b = append(b, ^strEscape, ^strEscapedNul)
		} else {
			b = append(b, ^c)
		}
	}
	return append(b, ^strEscape, ^strTerminator)
}

func decodeKey(b []byte, desc bool) (types.Value, []byte, error) {
	if len(b) == 0 {
		return types.Value{}, nil, corruptf("empty key column")
	}
	m := byteMask(desc)
	switch tag := b[0] ^ m; tag {
	case keyTagNull:
		return types.NullValue, b[1:], nil
	case keyTagInt:
		if len(b) < 9 {
			return types.Value{}, nil, corruptf("INT64 key column has %d bytes, want 9", len(b))
		}
		u := binary.BigEndian.Uint64(b[1:9]) ^ wordMask(desc)
		return types.NewInt(int64(u ^ signBit)), b[9:], nil
	case keyTagFloat:
		if len(b) < 9 {
			return types.Value{}, nil, corruptf("FLOAT64 key column has %d bytes, want 9", len(b))
		}
		f, err := floatFromKeyBits(binary.BigEndian.Uint64(b[1:9]) ^ wordMask(desc))
		if err != nil {
			return types.Value{}, nil, err
		}
		return types.NewFloat(f), b[9:], nil
	case keyTagDate, keyTagTS, keyTagTSTZ:
		if len(b) < 9 {
			return types.Value{}, nil, corruptf("%s key column has %d bytes, want 9", types.Kind(tag-0x10), len(b))
		}
		u := binary.BigEndian.Uint64(b[1:9]) ^ wordMask(desc)
		return types.Value{Kind: types.Kind(tag - 0x10), Int: int64(u ^ signBit)}, b[9:], nil
	case keyTagIntv:
		if len(b) < intervalKeyLen {
			return types.Value{}, nil, corruptf("INTERVAL key column has %d bytes, want %d", len(b), intervalKeyLen)
		}
		v, err := decodeKeyInterval(b[1:intervalKeyLen], desc)
		if err != nil {
			return types.Value{}, nil, err
		}
		return v, b[intervalKeyLen:], nil
	case keyTagNumeric:
		return decodeKeyNumeric(b, desc)
	case keyTagBool:
		if len(b) < 2 {
			return types.Value{}, nil, corruptf("BOOL key column has %d bytes, want 2", len(b))
		}
		switch b[1] ^ m {
		case 0:
			return types.NewBool(false), b[2:], nil
		case 1:
			return types.NewBool(true), b[2:], nil
		}
		return types.Value{}, nil, corruptf("BOOL key byte %#02x", b[1]^m)
	case keyTagString, keyTagBytes, keyTagJSONB:
		s, rest, err := decodeKeyString(b[1:], m)
		if err != nil {
			return types.Value{}, nil, err
		}
		v := types.Value{Kind: types.Kind(tag - 0x10), Str: s}
		if tag == keyTagJSONB && !validText(types.JSONB, s) {
			return types.Value{}, nil, corruptf("invalid JSONB key column")
		}
		return v, rest, nil
	case keyTagOID, keyTagUUID:
		kind, n := types.OID, 1+types.OIDLen
		if tag == keyTagUUID {
			kind, n = types.UUID, 1+types.UUIDLen
		}
		if len(b) < n {
			return types.Value{}, nil, corruptf("%s key column has %d bytes, want %d", kind, len(b), n)
		}
		if !desc {
			return types.Value{Kind: kind, Str: string(b[1:n])}, b[n:], nil
		}
		raw := make([]byte, n-1)
		for i := range raw {
			raw[i] = ^b[1+i]
		}
		return types.Value{Kind: kind, Str: string(raw)}, b[n:], nil
	default:
		return types.Value{}, nil, corruptf("unknown key tag %#02x", tag)
	}
}

// decodeKeyString decodes the body of a string column (after the tag),
// with every byte XORed by m.
func decodeKeyString(b []byte, m byte) (string, []byte, error) {
	esc := strEscape ^ m
	i := bytes.IndexByte(b, esc)
	if i < 0 || i+1 >= len(b) {
		return "", nil, corruptf("unterminated STRING key column")
	}
	if m == 0 && b[i+1] == strTerminator {
		// Fast path: ascending, no escaped NUL bytes.
		return string(b[:i]), b[i+2:], nil
	}
	// strings.Builder hands its buffer to the string without a copy. The
	// first separator found is usually the terminator, so i is usually the
	// exact length.
	var buf strings.Builder
	buf.Grow(i)
	for {
		i := bytes.IndexByte(b, esc)
		if i < 0 || i+1 >= len(b) {
			return "", nil, corruptf("unterminated STRING key column")
		}
		if m == 0 {
			buf.Write(b[:i])
		} else {
			for _, c := range b[:i] {
				buf.WriteByte(^c)
			}
		}
		switch b[i+1] ^ m {
		case strTerminator:
			return buf.String(), b[i+2:], nil
		case strEscapedNul:
			buf.WriteByte(0)
			b = b[i+2:]
		default:
			return "", nil, corruptf("invalid escape %#02x in STRING key column", b[i+1]^m)
		}
	}
}

// DecodeKeyInt64 decodes one INT64 column encoded by AppendKeyInt64 (or
// AppendKey), returning the rest. Any other tag is an error.
func DecodeKeyInt64(b []byte, desc bool) (int64, []byte, error) {
	if len(b) < 9 || b[0]^byteMask(desc) != keyTagInt {
		return 0, nil, corruptf("not an INT64 key column")
	}
	u := binary.BigEndian.Uint64(b[1:9]) ^ wordMask(desc)
	return int64(u ^ signBit), b[9:], nil
}

// SkipKey returns the bytes after one column encoding without decoding the
// value (no allocation). It validates the same structure as DecodeKey,
// except that it does not check the value bytes of a BOOL or FLOAT64.
func SkipKey(b []byte, desc bool) ([]byte, error) {
	if len(b) == 0 {
		return nil, corruptf("empty key column")
	}
	m := byteMask(desc)
	var n int
	switch tag := b[0] ^ m; tag {
	case keyTagNull:
		n = 1
	case keyTagInt, keyTagFloat, keyTagDate, keyTagTS, keyTagTSTZ:
		n = 9
	case keyTagIntv:
		n = intervalKeyLen
	case keyTagNumeric:
		if n = numericKeyLen(b, m); n < 0 {
			return nil, corruptf("truncated or malformed NUMERIC key column")
		}
	case keyTagBool:
		n = 2
	case keyTagOID:
		n = 1 + types.OIDLen
	case keyTagUUID:
		n = 1 + types.UUIDLen
	case keyTagString, keyTagBytes, keyTagJSONB:
		esc := strEscape ^ m
		for i := 1; ; {
			j := bytes.IndexByte(b[i:], esc)
			if j < 0 || i+j+1 >= len(b) {
				return nil, corruptf("unterminated STRING key column")
			}
			switch b[i+j+1] ^ m {
			case strTerminator:
				return b[i+j+2:], nil
			case strEscapedNul:
				i += j + 2
			default:
				return nil, corruptf("invalid escape %#02x in STRING key column", b[i+j+1]^m)
			}
		}
	default:
		return nil, corruptf("unknown key tag %#02x", tag)
	}
	if len(b) < n {
		return nil, corruptf("key column has %d bytes, want %d", len(b), n)
	}
	return b[n:], nil
}

// EncodeKeyValues appends the key encodings of vals in order. desc[i] gives
// the direction of vals[i]; a nil or short desc means ascending for the
// columns it does not cover. Every value must satisfy CheckValue.
func EncodeKeyValues(b []byte, vals []types.Value, desc []bool) []byte {
	for i, v := range vals {
		b = appendKey(b, v, i < len(desc) && desc[i])
	}
	return b
}

// DecodeKeyValues decodes n consecutive column encodings (directions as in
// EncodeKeyValues) and returns the values and the rest of b.
func DecodeKeyValues(b []byte, n int, desc []bool) ([]types.Value, []byte, error) {
	if n < 0 {
		return nil, nil, fmt.Errorf("rowenc: DecodeKeyValues: negative column count %d", n)
	}
	// Every column takes at least one byte: refuse before allocating.
	if n > len(b) {
		return nil, nil, corruptf("key of %d bytes cannot hold %d columns", len(b), n)
	}
	vals := make([]types.Value, n)
	for i := range vals {
		var err error
		vals[i], b, err = decodeKey(b, i < len(desc) && desc[i])
		if err != nil {
			return nil, nil, fmt.Errorf("key column %d: %w", i, err)
		}
	}
	return vals, b, nil
}
