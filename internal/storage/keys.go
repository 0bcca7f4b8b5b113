package storage

import "encoding/binary"

// Key space prefixes. Every key in the engine starts with one of these.
const (
	// PrefixLocal holds node-local metadata (node id, cluster id, incarnation).
	PrefixLocal byte = 0x01
	// PrefixRaft holds per-partition Raft state: PrefixRaft | partitionID | suffix.
	PrefixRaft byte = 0x02
	// PrefixData holds per-partition replicated state (MVCC data, intents,
	// transaction records): PrefixData | partitionID | partition-local key.
	PrefixData byte = 0x03
)

// PartitionPrefix returns prefix | partitionID (8 bytes big-endian).
func PartitionPrefix(prefix byte, partitionID uint64) []byte {
	b := make([]byte, 9, 32)
	b[0] = prefix
	binary.BigEndian.PutUint64(b[1:], partitionID)
	return b
}

// DataSpan returns the [start, end) span of a partition's replicated data.
func DataSpan(partitionID uint64) (start, end []byte) {
	return PartitionPrefix(PrefixData, partitionID), PartitionPrefix(PrefixData, partitionID+1)
}

// LocalKey returns a node-local metadata key.
func LocalKey(name string) []byte { return append([]byte{PrefixLocal}, name...) }

// PrefixEnd returns the smallest key greater than every key with prefix p
// (nil when p is all 0xff).
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
