// Package kvpb defines the user key layout the kv layer routes on, and the
// typed errors the kv layer returns.
//
// User keys (the keys the SQL layer reads and writes) have a structural
// prefix from which the routing bucket is decoded without scanning the
// encoded column bytes:
//
//	system catalog : 's' | rest...                        bucket = "s"
//	table rows     : 't' | dbID u32 | tableID u32 | 'r' | pk...
//	index entries  : 't' | dbID u32 | tableID u32 | 'i' | indexID u32 | key...
//
// (u32 = 4 bytes big-endian.) A bucket is the prefix up to and including the
// row marker or index id; all keys of a bucket live in one partition.
package kvpb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
)

const (
	SystemTag byte = 's'
	TableTag  byte = 't'
	RowsTag   byte = 'r'
	IndexTag  byte = 'i'
)

// ErrBadKey is returned for keys that do not have a valid structural prefix.
var ErrBadKey = errors.New("kvpb: key has no valid bucket prefix")

// SystemPrefix is the prefix of all catalog keys.
var SystemPrefix = []byte{SystemTag}

// TablePrefix returns 't' | dbID | tableID.
func TablePrefix(dbID, tableID uint32) []byte {
	b := make([]byte, 0, 32)
	b = append(b, TableTag)
	b = binary.BigEndian.AppendUint32(b, dbID)
	return binary.BigEndian.AppendUint32(b, tableID)
}

// RowPrefix returns the bucket prefix of a table's rows.
func RowPrefix(dbID, tableID uint32) []byte {
	return append(TablePrefix(dbID, tableID), RowsTag)
}

// IndexPrefix returns the bucket prefix of one index of a table.
func IndexPrefix(dbID, tableID, indexID uint32) []byte {
	b := append(TablePrefix(dbID, tableID), IndexTag)
	return binary.BigEndian.AppendUint32(b, indexID)
}

// BucketOf returns the bucket prefix of key (a sub-slice of key).
func BucketOf(key []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, ErrBadKey
	}
	switch key[0] {
	case SystemTag:
		return key[:1], nil
	case TableTag:
		if len(key) < 10 {
			return nil, ErrBadKey
		}
		switch key[9] {
		case RowsTag:
			return key[:10], nil
		case IndexTag:
			if len(key) < 14 {
				return nil, ErrBadKey
			}
			return key[:14], nil
		}
	}
	return nil, ErrBadKey
}

// PartitionOf maps a key to a partition id in 1..numPartitions by hashing
// its bucket.
func PartitionOf(key []byte, numPartitions int) (uint64, error) {
	bucket, err := BucketOf(key)
	if err != nil {
		return 0, fmt.Errorf("%w: %x", err, key)
	}
	return PartitionOfBucket(bucket, numPartitions), nil
}

// PartitionOfBucket maps a bucket prefix to a partition id in 1..n.
func PartitionOfBucket(bucket []byte, numPartitions int) uint64 {
	if numPartitions <= 1 {
		return 1
	}
	h := fnv.New64a()
	_, _ = h.Write(bucket)
	return h.Sum64()%uint64(numPartitions) + 1
}

// PrefixEnd returns the first key after every key that starts with p.
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
