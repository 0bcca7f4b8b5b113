package spill

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// ErrCorrupt says a record of a run file does not decode.
var ErrCorrupt = errors.New("spill: corrupt run file record")

// maxColumns bounds the column count of a record (a table has far fewer).
const maxColumns = 1 << 16

// AppendRow appends the encoding of row to dst.
func AppendRow(dst []byte, row []types.Value) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(row)))
	for _, v := range row {
		dst = append(dst, byte(v.Kind))
		switch v.Kind {
		case types.Int64, types.Date, types.Timestamp, types.TimestampTZ:
			dst = binary.AppendVarint(dst, v.Int)
		case types.Interval:
			dst = binary.AppendVarint(dst, v.Int)
			dst = append(dst, v.Str...) // months and days: 8 bytes
		case types.Float64:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Float))
		case types.Bool:
			b := byte(0)
			if v.Bool {
				b = 1
			}
			dst = append(dst, b)
		case types.String, types.OID, types.Bytes, types.Numeric, types.UUID, types.JSONB:
			dst = binary.AppendUvarint(dst, uint64(len(v.Str)))
			dst = append(dst, v.Str...)
		}
	}
	return dst
}

// DecodeRow decodes one record (exactly all of buf) into a new row.
func DecodeRow(buf []byte) ([]types.Value, error) {
	n, k := binary.Uvarint(buf)
	if k <= 0 || n > maxColumns || n > uint64(len(buf)) {
		return nil, fmt.Errorf("%w: bad column count", ErrCorrupt)
	}
	buf = buf[k:]
	row := make([]types.Value, n)
	for i := range row {
		if len(buf) == 0 {
			return nil, fmt.Errorf("%w: truncated at column %d", ErrCorrupt, i)
		}
		kind := types.Kind(buf[0])
		buf = buf[1:]
		row[i].Kind = kind
		switch kind {
		case types.Null:
		case types.Int64, types.Date, types.Timestamp, types.TimestampTZ:
			v, k := binary.Varint(buf)
			if k <= 0 {
				return nil, fmt.Errorf("%w: bad INT64 in column %d", ErrCorrupt, i)
			}
			row[i].Int, buf = v, buf[k:]
		case types.Interval:
			v, k := binary.Varint(buf)
			if k <= 0 || len(buf)-k < 8 {
				return nil, fmt.Errorf("%w: bad INTERVAL in column %d", ErrCorrupt, i)
			}
			row[i].Int, row[i].Str, buf = v, string(buf[k:k+8]), buf[k+8:]
		case types.Float64:
			if len(buf) < 8 {
				return nil, fmt.Errorf("%w: truncated FLOAT64 in column %d", ErrCorrupt, i)
			}
			row[i].Float, buf = math.Float64frombits(binary.LittleEndian.Uint64(buf)), buf[8:]
		case types.Bool:
			if len(buf) < 1 || buf[0] > 1 {
				return nil, fmt.Errorf("%w: bad BOOL in column %d", ErrCorrupt, i)
			}
			row[i].Bool, buf = buf[0] == 1, buf[1:]
		case types.String, types.OID, types.Bytes, types.Numeric, types.UUID, types.JSONB:
			l, k := binary.Uvarint(buf)
			if k <= 0 || l > uint64(len(buf)-k) {
				return nil, fmt.Errorf("%w: bad string length in column %d", ErrCorrupt, i)
			}
			buf = buf[k:]
			row[i].Str, buf = string(buf[:l]), buf[l:]
		default:
			return nil, fmt.Errorf("%w: unknown kind %d in column %d", ErrCorrupt, kind, i)
		}
	}
	if len(buf) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(buf))
	}
	return row, nil
}
