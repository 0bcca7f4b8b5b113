package lease

import (
	"encoding/binary"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Keys, all in the system bucket (one partition, so a scan of them is one
// span):
//
//	's' '~' 'L' u16(len(d)) d nodeID(u64)  -> lease row: node holds a lease on descriptor key d
//	's' '~' 'M' d                          -> drain marker: a change of d is waiting for leases to end
//
// A lease row's value is a format byte, the expiration (wall nanoseconds of
// the hybrid-logical clock, u64) and the descriptor's version (u64; 0 for
// a database). A marker's value is a format byte and the wall time until
// which it holds (u64). Leases are per descriptor key (database name or
// database id + table name) because that is what statements resolve: a
// rename changes two keys and drains both.
var (
	leasePrefix  = []byte{kvpb.SystemTag, '~', 'L'}
	markerPrefix = []byte{kvpb.SystemTag, '~', 'M'}
)

const valueFormat byte = 1

// leaseSpan is the prefix of every lease row on descriptor key desc.
func leaseSpan(desc []byte) []byte {
	b := append([]byte(nil), leasePrefix...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(desc)))
	return append(b, desc...)
}

func leaseKey(desc []byte, nodeID uint64) []byte {
	return binary.BigEndian.AppendUint64(leaseSpan(desc), nodeID)
}

func markerKey(desc []byte) []byte {
	return append(append([]byte(nil), markerPrefix...), desc...)
}

// row is a decoded lease row.
type row struct {
	desc    []byte
	nodeID  uint64
	expires int64
	version uint64
}

func encodeLease(expires int64, version uint64) []byte {
	b := []byte{valueFormat}
	b = binary.BigEndian.AppendUint64(b, uint64(expires))
	return binary.BigEndian.AppendUint64(b, version)
}

// decodeLease decodes a lease row; CADB0014 for bytes that are not one.
func decodeLease(key, value []byte) (row, error) {
	rest, ok := cutPrefix(key, leasePrefix)
	if !ok || len(rest) < 2 {
		return row{}, corrupt("lease key %q", key)
	}
	n := int(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if len(rest) != n+8 {
		return row{}, corrupt("lease key %q", key)
	}
	if len(value) != 17 || value[0] != valueFormat {
		return row{}, corrupt("lease value of %q (%d bytes)", key, len(value))
	}
	return row{
		desc:    append([]byte(nil), rest[:n]...),
		nodeID:  binary.BigEndian.Uint64(rest[n:]),
		expires: int64(binary.BigEndian.Uint64(value[1:9])),
		version: binary.BigEndian.Uint64(value[9:]),
	}, nil
}

func encodeMarker(until int64) []byte {
	return binary.BigEndian.AppendUint64([]byte{valueFormat}, uint64(until))
}

// decodeMarker returns the descriptor key a marker names and its end.
func decodeMarker(key, value []byte) (desc []byte, until int64, err error) {
	rest, ok := cutPrefix(key, markerPrefix)
	if !ok {
		return nil, 0, corrupt("drain marker key %q", key)
	}
	if len(value) != 9 || value[0] != valueFormat {
		return nil, 0, corrupt("drain marker value of %q (%d bytes)", key, len(value))
	}
	return append([]byte(nil), rest...), int64(binary.BigEndian.Uint64(value[1:])), nil
}

func cutPrefix(b, prefix []byte) ([]byte, bool) {
	if len(b) < len(prefix) || string(b[:len(prefix)]) != string(prefix) {
		return nil, false
	}
	return b[len(prefix):], true
}

func corrupt(format string, args ...any) error {
	return errcode.New(errcode.Corruption, "schema lease: "+format, args...)
}
