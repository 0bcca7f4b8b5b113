package replica

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/raftlog"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// raftStorage implements raft.Storage over a partition's raftlog.Log, and
// builds snapshots from the partition's data span. Only the driver
// goroutine calls it.
type raftStorage struct {
	log    *raftlog.Log
	engine *storage.Engine
	logger raftLogger
	// onSnapshot counts snapshots built (metrics).
	onSnapshot func()
	// snapshots registers the Pebble snapshots of outgoing snapshots
	// (snapstream.go).
	snapshots *snapshotRegistry
}

var _ raft.Storage = (*raftStorage)(nil)

func mapLogErr(err error) error {
	switch {
	case errors.Is(err, raftlog.ErrCompacted):
		return raft.ErrCompacted
	case errors.Is(err, raftlog.ErrUnavailable):
		return raft.ErrUnavailable
	}
	return err
}

func (s *raftStorage) InitialState() (*raftpb.HardState, *raftpb.ConfState, error) {
	return s.log.HardState(), s.log.ConfState(), nil
}

func (s *raftStorage) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	ents, err := s.log.Entries(lo, hi, maxSize)
	return ents, mapLogErr(err)
}

func (s *raftStorage) Term(i uint64) (uint64, error) {
	t, err := s.log.Term(i)
	return t, mapLogErr(err)
}

func (s *raftStorage) LastIndex() (uint64, error)  { return s.log.LastIndex(), nil }
func (s *raftStorage) FirstIndex() (uint64, error) { return s.log.FirstIndex(), nil }

// Snapshot returns the partition's applied state as of one engine
// snapshot: the applied index/term read from it, and as data a reference
// to it, which the transport streams (snapstream.go), so data and index
// agree and nothing is read here. Raft calls it only when a follower
// needs entries that were truncated, which happens only behind the
// applied index, so the snapshot is never empty.
func (s *raftStorage) Snapshot() (*raftpb.Snapshot, error) {
	snap, err := s.snapshotRef()
	if err != nil {
		// Raft panics on any other error; let it retry later instead.
		s.logger.Errorf("partition %d: building snapshot: %v", s.log.PartitionID(), err)
		return nil, raft.ErrSnapshotTemporarilyUnavailable
	}
	if s.onSnapshot != nil {
		s.onSnapshot()
	}
	return snap, nil
}

func (s *raftStorage) snapshotRef() (*raftpb.Snapshot, error) {
	view := s.engine.NewSnapshot()
	applied, err := raftlog.ReadAppliedState(view, s.log.PartitionID())
	if err == nil && applied.Index == 0 {
		err = errors.New("nothing applied yet")
	}
	if err != nil {
		_ = view.Close()
		return nil, err
	}
	o, err := s.snapshots.add(s.log.PartitionID(), view)
	if err != nil {
		return nil, err
	}
	return &raftpb.Snapshot{
		Data: snapshotRef(o.id),
		Metadata: &raftpb.SnapshotMetadata{
			Index:     new(applied.Index),
			Term:      new(applied.Term),
			ConfState: s.log.ConfState(),
		},
	}, nil
}

// Snapshot data format (version 1): version byte, then for every key of
// the data span in order: uvarint suffix len | suffix | uvarint value len |
// value, where suffix is the key without its partition prefix.
const snapshotVersion byte = 1

// forEachSnapshotKV decodes snapshot data, calling fn with each suffix and
// value (aliasing data). fn may be nil to only validate.
func forEachSnapshotKV(data []byte, fn func(suffix, value []byte) error) error {
	if len(data) == 0 || data[0] != snapshotVersion {
		return &kvpb.CorruptionError{What: "snapshot header"}
	}
	rest := data[1:]
	for len(rest) > 0 {
		suffix, r, ok := readBytes(rest)
		if !ok {
			return &kvpb.CorruptionError{What: "snapshot key"}
		}
		value, r, ok := readBytes(r)
		if !ok {
			return &kvpb.CorruptionError{What: "snapshot value"}
		}
		rest = r
		if fn != nil {
			if err := fn(suffix, value); err != nil {
				return err
			}
		}
	}
	return nil
}

// stageSnapshot stages the replacement of the partition's data span by the
// snapshot's contents, the reset of its log, and the applied state.
func stageSnapshot(w storage.Writer, log *raftlog.Log, snap *raftpb.Snapshot) error {
	partitionID := log.PartitionID()
	start, end := storage.DataSpan(partitionID)
	if err := w.DeleteRange(start, end); err != nil {
		return err
	}
	key := make([]byte, 0, 64)
	err := forEachSnapshotKV(snap.GetData(), func(suffix, value []byte) error {
		key = append(append(key[:0], start...), suffix...)
		return w.Set(key, value)
	})
	if err != nil {
		return fmt.Errorf("partition %d: applying snapshot: %w", partitionID, err)
	}
	md := snap.GetMetadata()
	if err := log.ResetToSnapshot(w, md.GetIndex(), md.GetTerm(), md.GetConfState()); err != nil {
		return err
	}
	return raftlog.WriteAppliedState(w, partitionID, raftlog.AppliedState{Index: md.GetIndex(), Term: md.GetTerm()})
}
