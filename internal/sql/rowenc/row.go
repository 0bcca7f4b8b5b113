package rowenc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// Row column tags. They equal the types.Kind numbers.
const (
	rowTagNull   = byte(types.Null)
	rowTagOID    = byte(types.OID)
	rowTagInt    = byte(types.Int64)
	rowTagString = byte(types.String)
	rowTagBool   = byte(types.Bool)
	rowTagFloat  = byte(types.Float64)
	rowTagBytes  = byte(types.Bytes)
	rowTagDate   = byte(types.Date)
	rowTagTS     = byte(types.Timestamp)
	rowTagTSTZ   = byte(types.TimestampTZ)
	rowTagIntv   = byte(types.Interval)
	rowTagNum    = byte(types.Numeric)
	rowTagUUID   = byte(types.UUID)
	rowTagJSONB  = byte(types.JSONB)
)

func encodeRow(b []byte, schemaVersion uint32, values []types.Value) []byte {
	b = binary.AppendUvarint(b, uint64(schemaVersion))
	b = binary.AppendUvarint(b, uint64(len(values)))
	for _, v := range values {
		switch v.Kind {
		case types.Null:
			b = append(b, rowTagNull)
		case types.Int64, types.Date, types.Timestamp, types.TimestampTZ:
			b = append(b, byte(v.Kind))
			b = binary.AppendVarint(b, v.Int)
		case types.Interval:
			iv := v.Interval()
			b = append(b, rowTagIntv)
			b = binary.AppendVarint(b, int64(iv.Months))
			b = binary.AppendVarint(b, int64(iv.Days))
			b = binary.AppendVarint(b, iv.Micros)
		case types.Float64:
			b = append(b, rowTagFloat)
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(v.Float))
		case types.Bool:
			var c byte
			if v.Bool {
				c = 1
			}
			b = append(b, rowTagBool, c)
		case types.String, types.Bytes, types.Numeric, types.JSONB:
			b = append(b, byte(v.Kind))
			b = binary.AppendUvarint(b, uint64(len(v.Str)))
			b = append(b, v.Str...)
		case types.UUID:
			mustBeValid("EncodeRow", v)
			b = append(b, rowTagUUID)
			b = append(b, v.Str...)
		default:
			mustBeValid("EncodeRow", v)
			// v is a well-formed OID.
			b = append(b, rowTagOID)
			b = append(b, v.Str...)
		}
	}
	return b
}

// Reasons for a bad row column; DecodeRowAppend wraps them in ErrCorrupt.
var (
	errTruncated = errors.New("truncated")
	errBadBool   = errors.New("BOOL byte is neither 0 nor 1")
)

// readUvarint reads a minimally encoded uvarint (the only form
// binary.AppendUvarint writes), so decoding stays the exact inverse of
// encoding.
func readUvarint(b []byte, what string) (uint64, int, error) {
	if len(b) > 0 && b[0] < 0x80 { // one byte, minimal by construction
		return uint64(b[0]), 1, nil
	}
	u, n := binary.Uvarint(b)
	switch {
	case n == 0:
		return 0, 0, fmt.Errorf("truncated %s", what)
	case n < 0:
		return 0, 0, fmt.Errorf("%s overflows 64 bits", what)
	case n > 1 && b[n-1] == 0:
		return 0, 0, fmt.Errorf("%s is not minimally encoded", what)
	}
	return u, n, nil
}

// readVarint reads a minimally encoded zig-zag varint.
func readVarint(b []byte, what string) (int64, int, error) {
	u, n, err := readUvarint(b, what)
	if err != nil {
		return 0, 0, err
	}
	i := int64(u >> 1)
	if u&1 != 0 {
		i = ^i
	}
	return i, n, nil
}

func readRowHeader(b []byte) (schemaVersion uint32, count uint64, rest []byte, err error) {
	ver, n, err := readUvarint(b, "row schema version")
	if err != nil {
		return 0, 0, nil, corruptf("%v", err)
	}
	if ver > math.MaxUint32 {
		return 0, 0, nil, corruptf("row schema version %d exceeds 32 bits", ver)
	}
	b = b[n:]
	count, n, err = readUvarint(b, "row column count")
	if err != nil {
		return 0, 0, nil, corruptf("%v", err)
	}
	b = b[n:]
	// Every column takes at least one byte: refuse before allocating.
	if count > uint64(len(b)) {
		return 0, 0, nil, corruptf("row claims %d columns in %d bytes", count, len(b))
	}
	return uint32(ver), count, b, nil
}

// RowSchemaVersion returns the schema version of a row payload without
// decoding its columns.
func RowSchemaVersion(b []byte) (uint32, error) {
	ver, _, _, err := readRowHeader(b)
	return ver, err
}

// DecodeRowAppend decodes a payload written by EncodeRow and appends its
// values to dst, so a scan can reuse one slice across rows. On error it
// returns dst unchanged in length.
//
// All STRING and OID values of one row share one copy of the payload, so
// decoding a row costs two allocations at most (values and strings), and
// no value aliases b.
func DecodeRowAppend(dst []types.Value, b []byte) (schemaVersion uint32, values []types.Value, err error) {
	ver, count, rest, err := readRowHeader(b)
	if err != nil {
		return 0, dst, err
	}
	start := len(dst)
	dst = slices.Grow(dst, int(count))
	var backing string // lazily a copy of b that strings point into
	dst, rest, col, err := decodeColumns(dst, rest, int(count), b, &backing)
	if err != nil {
		clear(dst[start:])
		return 0, dst[:start], corruptf("row column %d: %v", col, err)
	}
	if len(rest) != 0 {
		clear(dst[start:])
		return 0, dst[:start], corruptf("%d trailing bytes after the last row column", len(rest))
	}
	return ver, dst, nil
}

// decodeColumns decodes count columns from rest, a suffix of the row
// payload b, and appends them to dst; it returns what follows them. STRING
// and OID values point into *backing, made a copy of b when first needed.
// On error, col is the failing column (counted from rest).
func decodeColumns(dst []types.Value, rest []byte, count int, b []byte, backing *string) (_ []types.Value, _ []byte, col int, err error) {
	fail := func(col int, err error) ([]types.Value, []byte, int, error) {
		return dst, rest, col, err
	}
	for col := 0; col < count; col++ {
		if len(rest) == 0 {
			return fail(col, errTruncated)
		}
		tag := rest[0]
		rest = rest[1:]
		switch tag {
		case rowTagNull:
			dst = append(dst, types.NullValue)
		case rowTagInt, rowTagDate, rowTagTS, rowTagTSTZ:
			i, n, err := readVarint(rest, "INT64")
			if err != nil {
				return fail(col, err)
			}
			rest = rest[n:]
			dst = append(dst, types.Value{Kind: types.Kind(tag), Int: i})
		case rowTagIntv:
			var f [3]int64
			for j := range f {
				i, n, err := readVarint(rest, "INTERVAL")
				if err != nil {
					return fail(col, err)
				}
				f[j], rest = i, rest[n:]
			}
			if int64(int32(f[0])) != f[0] || int64(int32(f[1])) != f[1] {
				return fail(col, errors.New("INTERVAL months or days exceed 32 bits"))
			}
			dst = append(dst, types.NewInterval(types.IntervalParts{Months: int32(f[0]), Days: int32(f[1]), Micros: f[2]}))
		case rowTagFloat:
			if len(rest) < 8 {
				return fail(col, errTruncated)
			}
			dst = append(dst, types.NewFloat(math.Float64frombits(binary.BigEndian.Uint64(rest))))
			rest = rest[8:]
		case rowTagBool:
			if len(rest) < 1 {
				return fail(col, errTruncated)
			}
			if rest[0] > 1 {
				return fail(col, errBadBool)
			}
			dst = append(dst, types.NewBool(rest[0] == 1))
			rest = rest[1:]
		case rowTagNum, rowTagJSONB:
			kind := types.Kind(tag)
			l, n, err := readUvarint(rest, "text length")
			if err != nil {
				return fail(col, err)
			}
			rest = rest[n:]
			if l > uint64(len(rest)) {
				return fail(col, fmt.Errorf("%s of %d bytes but only %d left", kind, l, len(rest)))
			}
			text := string(rest[:l])
			if !validText(kind, text) {
				return fail(col, fmt.Errorf("invalid %s %q", kind, text))
			}
			dst = append(dst, types.Value{Kind: kind, Str: text})
			rest = rest[l:]
		case rowTagString, rowTagOID, rowTagBytes, rowTagUUID:
			l := uint64(types.OIDLen)
			if tag == rowTagUUID {
				l = types.UUIDLen
			} else if tag != rowTagOID {
				what := "STRING length"
				if tag == rowTagBytes {
					what = "BYTEA length"
				}
				var n int
				l, n, err = readUvarint(rest, what)
				if err != nil {
					return fail(col, err)
				}
				rest = rest[n:]
			}
			if l > uint64(len(rest)) {
				return fail(col, fmt.Errorf("%v of %d bytes but only %d left", types.Kind(tag), l, len(rest)))
			}
			if *backing == "" {
				*backing = string(b)
			}
			off := len(b) - len(rest)
			dst = append(dst, types.Value{Kind: types.Kind(tag), Str: (*backing)[off : off+int(l)]})
			rest = rest[l:]
		default:
			return fail(col, fmt.Errorf("unknown tag %#02x", tag))
		}
	}
	return dst, rest, 0, nil
}

// ErrColumnCount is DecodeRowColumns' answer to a row whose column count
// is not len(dst): a row of another layout, decoded nothing.
var ErrColumnCount = errors.New("rowenc: row has another column count")

// DecodeRowColumns decodes the columns of a row payload that need marks
// into dst[col], leaving the others as they were (skipped, not checked),
// for a scan that reads a few columns of many rows into one reused slice.
// The row must have len(dst) columns: otherwise it returns the row's
// schema version and ErrColumnCount, having decoded nothing (the caller
// decodes such a row, written at another layout, in full). Strings are
// copied as DecodeRowAppend copies them; no value aliases b.
func DecodeRowColumns(dst []types.Value, b []byte, need []bool) (schemaVersion uint32, err error) {
	ver, count, rest, err := readRowHeader(b)
	if err != nil {
		return 0, err
	}
	if count != uint64(len(dst)) {
		return ver, ErrColumnCount
	}
	var backing string
	for col := range dst {
		if len(rest) == 0 {
			return 0, corruptf("row column %d: %v", col, errTruncated)
		}
		if need[col] {
			if tag := rest[0]; tag == rowTagInt || tag == rowTagDate || tag == rowTagTS || tag == rowTagTSTZ {
				// The common case, without the general decoder's call.
				i, n, err := readVarint(rest[1:], "INT64")
				if err != nil {
					return 0, corruptf("row column %d: %v", col, err)
				}
				dst[col], rest = types.Value{Kind: types.Kind(tag), Int: i}, rest[1+n:]
				continue
			}
			var one [1]types.Value
			vals, next, _, err := decodeColumns(one[:0], rest, 1, b, &backing)
			if err != nil {
				return 0, corruptf("row column %d: %v", col, err)
			}
			dst[col], rest = vals[0], next
			continue
		}
		if tag := rest[0]; tag == rowTagInt || tag == rowTagDate || tag == rowTagTS || tag == rowTagTSTZ {
			// Skipped integers: only their length, up to the byte that ends
			// the varint (at most 10).
			end := 1
			for end < len(rest) && end <= binary.MaxVarintLen64 && rest[end] >= 0x80 {
				end++
			}
			if end >= len(rest) || end > binary.MaxVarintLen64 {
				return 0, corruptf("row column %d: truncated or overlong INT64", col)
			}
			rest = rest[end+1:]
			continue
		}
		n, err := columnLen(rest)
		if err != nil {
			return 0, corruptf("row column %d: %v", col, err)
		}
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return 0, corruptf("%d trailing bytes after the last row column", len(rest))
	}
	return ver, nil
}

// columnLen returns the encoded length of the column at the start of b
// (its tag included).
func columnLen(b []byte) (int, error) {
	tag, rest := b[0], b[1:]
	switch tag {
	case rowTagNull:
		return 1, nil
	case rowTagInt, rowTagDate, rowTagTS, rowTagTSTZ:
		_, n, err := readVarint(rest, "INT64")
		return 1 + n, err
	case rowTagIntv:
		total := 1
		for j := 0; j < 3; j++ {
			_, n, err := readVarint(rest, "INTERVAL")
			if err != nil {
				return 0, err
			}
			total, rest = total+n, rest[n:]
		}
		return total, nil
	case rowTagFloat:
		if len(rest) < 8 {
			return 0, errTruncated
		}
		return 9, nil
	case rowTagBool:
		if len(rest) < 1 {
			return 0, errTruncated
		}
		return 2, nil
	case rowTagOID, rowTagUUID:
		l := types.OIDLen
		if tag == rowTagUUID {
			l = types.UUIDLen
		}
		if l > len(rest) {
			return 0, fmt.Errorf("%v of %d bytes but only %d left", types.Kind(tag), l, len(rest))
		}
		return 1 + l, nil
	case rowTagString, rowTagBytes, rowTagNum, rowTagJSONB:
		l, n, err := readUvarint(rest, "length")
		if err != nil {
			return 0, err
		}
		if l > uint64(len(rest)-n) {
			return 0, fmt.Errorf("%v of %d bytes but only %d left", types.Kind(tag), l, len(rest)-n)
		}
		return 1 + n + int(l), nil
	}
	return 0, fmt.Errorf("unknown tag %#02x", tag)
}
