package raftlog

import (
	"encoding/binary"
	"fmt"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// Key suffixes after storage.PrefixRaft | partitionID.
const (
	suffixApplied   byte = 'a'
	suffixConfState byte = 'c'
	suffixHardState byte = 'h'
	suffixLog       byte = 'l'
	suffixTruncated byte = 't'
)

// partitionKeyLen is the length of PrefixRaft | partitionID.
const partitionKeyLen = 9

func stateKey(partitionID uint64, suffix byte) []byte {
	return append(storage.PartitionPrefix(storage.PrefixRaft, partitionID), suffix)
}

// AppliedStateKey is the key of a partition's applied state.
func AppliedStateKey(partitionID uint64) []byte { return stateKey(partitionID, suffixApplied) }

// ConfStateKey is the key of a partition's conf state. Its presence is what
// marks a partition as bootstrapped on this node.
func ConfStateKey(partitionID uint64) []byte { return stateKey(partitionID, suffixConfState) }

// HardStateKey is the key of a partition's Raft hard state.
func HardStateKey(partitionID uint64) []byte { return stateKey(partitionID, suffixHardState) }

// TruncatedStateKey is the key of a partition's truncated state.
func TruncatedStateKey(partitionID uint64) []byte { return stateKey(partitionID, suffixTruncated) }

// EntryKey is the key of the log entry at index; keys sort by index.
func EntryKey(partitionID, index uint64) []byte {
	k := stateKey(partitionID, suffixLog)
	return binary.BigEndian.AppendUint64(k, index)
}

// logSpan returns the [start, end) span holding every entry of a partition.
func logSpan(partitionID uint64) (start, end []byte) {
	return stateKey(partitionID, suffixLog), stateKey(partitionID, suffixLog+1)
}

// RaftSpan returns the [start, end) span of all Raft state of a partition.
func RaftSpan(partitionID uint64) (start, end []byte) {
	return storage.PartitionPrefix(storage.PrefixRaft, partitionID),
		storage.PartitionPrefix(storage.PrefixRaft, partitionID+1)
}

// decodeEntryIndex returns the index encoded in an entry key.
func decodeEntryIndex(key []byte) (uint64, error) {
	if len(key) != partitionKeyLen+1+8 || key[partitionKeyLen] != suffixLog {
		return 0, &kvpb.CorruptionError{What: fmt.Sprintf("raft log key %x", key)}
	}
	return binary.BigEndian.Uint64(key[partitionKeyLen+1:]), nil
}

// ListPartitions returns the ids of every partition that has a conf state
// (was bootstrapped) in r, in increasing order.
func ListPartitions(r storage.Reader) ([]uint64, error) {
	it, err := r.NewIter([]byte{storage.PrefixRaft}, []byte{storage.PrefixRaft + 1})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var ids []uint64
	for ok := it.First(); ok; {
		key := it.Key()
		if len(key) < partitionKeyLen {
			return nil, &kvpb.CorruptionError{What: fmt.Sprintf("raft key %x", key)}
		}
		id := binary.BigEndian.Uint64(key[1:partitionKeyLen])
		_, found, err := r.Get(ConfStateKey(id))
		if err != nil {
			return nil, err
		}
		if found {
			ids = append(ids, id)
		}
		if id == ^uint64(0) {
			break
		}
		ok = it.SeekGE(storage.PartitionPrefix(storage.PrefixRaft, id+1))
	}
	return ids, it.Error()
}
