package kvserver

import (
	"context"

	"github.com/camusdb/camusdb-go/internal/replica"
)

// Large writes and the Raft command size limit. One replicated command
// may hold at most raft_max_command_bytes (replica.Config.MaxCommandBytes;
// the replica layer refuses a larger one with *kvpb.CommandTooLargeError).
// Commands whose parts need not land together — intents of a prepare
// (they matter only with the commit record written after them),
// intent resolutions, record deletions, garbage collection — are split
// into several commands under the limit, proposed one after the other
// under the same latches. A durable command that must be atomic (a
// one-phase commit, a commit record) is proposed whole: the coordinator
// prepares a large transaction's writes as intents instead of committing
// them with the record (kv.Txn.commitWrites).

// SetMaxCommandBytes sets the command size limit the replica layer
// enforces (default replica.DefaultMaxCommandBytes); call it before
// serving requests.
func (s *Server) SetMaxCommandBytes(n int) {
	if n > 0 {
		s.maxCommandBytes = n
	}
}

// proposeChunked proposes writes as one lazy command, or as several when
// they are over the size limit. A single write over the limit is proposed
// alone and refused by the replica layer.
func (s *Server) proposeChunked(ctx context.Context, partitionID uint64, e *evaluation, writes []Write) error {
	limit := s.maxCommandBytes - replica.CommandHeaderBytes
	start, size := 0, 0
	for i := range writes {
		w := replica.WriteBytes(&writes[i])
		if i > start && size+w > limit {
			if err := s.propose(ctx, partitionID, e, Command{Writes: writes[start:i], Lazy: true}); err != nil {
				return err
			}
			start, size = i, 0
		}
		size += w
	}
	if start == len(writes) {
		return nil
	}
	return s.propose(ctx, partitionID, e, Command{Writes: writes[start:], Lazy: true})
}
