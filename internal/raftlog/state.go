package raftlog

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// IndexTerm identifies one log position.
type IndexTerm struct {
	Index uint64
	Term  uint64
}

// AppliedState is the last entry applied to a partition's data. It is
// written in the same batch as the mutations of that entry.
type AppliedState = IndexTerm

// TruncatedState is the last entry removed from the log; its term is kept
// for raft's log matching (Term(FirstIndex-1)).
type TruncatedState = IndexTerm

func encodeIndexTerm(s IndexTerm) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64)
	b = binary.AppendUvarint(b, s.Index)
	return binary.AppendUvarint(b, s.Term)
}

func decodeIndexTerm(what string, b []byte) (IndexTerm, error) {
	index, n := binary.Uvarint(b)
	if n <= 0 {
		return IndexTerm{}, &kvpb.CorruptionError{What: what}
	}
	term, m := binary.Uvarint(b[n:])
	if m <= 0 || n+m != len(b) {
		return IndexTerm{}, &kvpb.CorruptionError{What: what}
	}
	return IndexTerm{Index: index, Term: term}, nil
}

func readIndexTerm(r storage.Reader, key []byte, what string) (IndexTerm, error) {
	v, found, err := r.Get(key)
	if err != nil || !found {
		return IndexTerm{}, err
	}
	return decodeIndexTerm(what, v)
}

// ReadAppliedState returns the applied state of a partition (zero if none).
func ReadAppliedState(r storage.Reader, partitionID uint64) (AppliedState, error) {
	return readIndexTerm(r, AppliedStateKey(partitionID), "applied state")
}

// WriteAppliedState stages the applied state of a partition.
func WriteAppliedState(w storage.Writer, partitionID uint64, s AppliedState) error {
	return w.Set(AppliedStateKey(partitionID), encodeIndexTerm(s))
}

func encodeHardState(hs *raftpb.HardState) []byte {
	b := make([]byte, 0, 3*binary.MaxVarintLen64)
	b = binary.AppendUvarint(b, hs.GetTerm())
	b = binary.AppendUvarint(b, hs.GetVote())
	return binary.AppendUvarint(b, hs.GetCommit())
}

func decodeHardState(b []byte) (*raftpb.HardState, error) {
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, &kvpb.CorruptionError{What: "raft hard state"}
		}
		vals[i], b = v, b[n:]
	}
	if len(b) != 0 {
		return nil, &kvpb.CorruptionError{What: "raft hard state"}
	}
	return &raftpb.HardState{Term: new(vals[0]), Vote: new(vals[1]), Commit: new(vals[2])}, nil
}

// ErrAlreadyBootstrapped is returned by Bootstrap for a partition that has
// Raft state.
var ErrAlreadyBootstrapped = errors.New("raftlog: partition already bootstrapped")

// Bootstrap stages the initial Raft state of a partition: an empty log
// (first index 1), no hard state, and a conf state whose voters are voters.
// Every node of a cluster bootstraps identically, so their logs agree from
// the start without any bootstrap entries.
func Bootstrap(r storage.Reader, w storage.Writer, partitionID uint64, voters []uint64) error {
	if len(voters) == 0 {
		return errors.New("raftlog: bootstrap needs at least one voter")
	}
	if _, found, err := r.Get(ConfStateKey(partitionID)); err != nil {
		return err
	} else if found {
		return fmt.Errorf("partition %d: %w", partitionID, ErrAlreadyBootstrapped)
	}
	cs := &raftpb.ConfState{Voters: append([]uint64(nil), voters...)}
	data, err := proto.Marshal(cs)
	if err != nil {
		return err
	}
	if err := w.Set(ConfStateKey(partitionID), data); err != nil {
		return err
	}
	if err := w.Set(TruncatedStateKey(partitionID), encodeIndexTerm(TruncatedState{})); err != nil {
		return err
	}
	return WriteAppliedState(w, partitionID, AppliedState{})
}
