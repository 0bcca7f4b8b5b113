package replica

import (
	"encoding/binary"
	"hash/fnv"

	"github.com/camusdb/camusdb-go/internal/raftlog"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// Checksum is a fingerprint of a partition's replicated state on this node.
type Checksum struct {
	// AppliedIndex is the index the state was read at: replicas that
	// report the same index must report the same Sum.
	AppliedIndex uint64
	// Sum is a 64-bit FNV-1a hash of every key and value of the
	// partition's data span, in order.
	Sum uint64
	// Keys is the number of engine keys hashed.
	Keys int
}

// Checksum fingerprints the partition's replicated state: its data span
// and applied index, read from one engine snapshot so they agree. Apply is
// deterministic, so two replicas at the same applied index must match; a
// difference is corruption or a bug in the replication (the fault suite
// compares every replica after each run).
func (s *Store) Checksum(partitionID uint64) (Checksum, error) {
	if _, err := s.partition(partitionID); err != nil {
		return Checksum{}, err
	}
	snap := s.engine.NewSnapshot()
	defer snap.Close()
	applied, err := raftlog.ReadAppliedState(snap, partitionID)
	if err != nil {
		return Checksum{}, err
	}
	start, end := storage.DataSpan(partitionID)
	it, err := snap.NewIter(start, end)
	if err != nil {
		return Checksum{}, err
	}
	defer it.Close()
	h := fnv.New64a()
	var n [binary.MaxVarintLen64]byte
	out := Checksum{AppliedIndex: applied.Index}
	for ok := it.First(); ok; ok = it.Next() {
		k, v := it.Key(), it.Value()
		_, _ = h.Write(n[:binary.PutUvarint(n[:], uint64(len(k)))])
		_, _ = h.Write(k)
		_, _ = h.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
		_, _ = h.Write(v)
		out.Keys++
	}
	if err := it.Error(); err != nil {
		return Checksum{}, err
	}
	out.Sum = h.Sum64()
	return out, nil
}
