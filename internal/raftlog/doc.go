// Package raftlog persists the Raft state of one partition in the node's
// storage engine: log entries by index, the hard state (term, vote, commit),
// the conf state (voters), the truncated state (index and term of the last
// entry removed from the log) and the applied state (index and term of the
// last entry applied to the partition's data).
//
// Layout. Everything lives under storage.PrefixRaft | partitionID (see
// keys.go), so one partition's Raft state is one contiguous key range and
// never overlaps the partition's replicated data (storage.PrefixData):
//
//	'a'              applied state      uvarint index | uvarint term
//	'c'              conf state         protobuf raftpb.ConfState
//	'h'              hard state         uvarint term | uvarint vote | uvarint commit
//	'l' | index(8BE) log entry          uvarint term | type byte | data
//	't'              truncated state    uvarint index | uvarint term
//
// A Log is the in-memory view of one partition's log: first/last index, the
// truncated state, per-entry sizes and a cache of the most recent entries,
// so that raft's Term and Entries calls on the hot path do not touch the
// engine. Mutating methods (Append, SetHardState, TruncatePrefix,
// ResetToSnapshot) stage their writes in a caller-supplied storage.Writer
// (a batch) and update the in-memory view at once; the caller must commit
// that batch before anything else reads the engine through this Log, and
// must treat a failed commit as fatal for the Log (re-Open it from disk).
//
// What it guarantees: the on-disk layout above, the exact etcd/raft Storage
// contract for Entries/Term/FirstIndex/LastIndex (half-open ranges, freshly
// allocated result slices, ErrCompacted below the first index and
// ErrUnavailable past the last), and a consistency check at Open (no gaps
// in the log, truncated index below the first entry).
//
// What it does not do: it does not implement raft.Storage itself (package
// replica wraps a Log in a thin adapter that maps ErrCompacted and
// ErrUnavailable to raft's sentinels and adds Snapshot, which needs the
// partition's data) — this keeps go.etcd.io/raft/v3 imported only by
// replica, while raftlog uses only the raftpb message types. It does not
// decide when to truncate, and it is not safe for concurrent use: one
// goroutine (the replica driver) owns each Log.
package raftlog
