package replica

import (
	"math"

	"go.etcd.io/raft/v3"
)

// DebugState is what the driver knew of one partition at its last tick,
// for diagnosing a partition that stops making progress (the server's
// /debug/raft): raft's own status (term, commit, applied, and as leader
// each follower's progress: match, next, state, paused, inflights), and
// the driver's side of it.
type DebugState struct {
	Partition uint64      `json:"partition"`
	Raft      raft.Status `json:"raft"` // encoded by the reader, off the driver
	// Applied is this node's applied index and the term of that entry
	// (a leader serves once it applied an entry of its own term).
	Applied     uint64 `json:"applied"`
	AppliedTerm uint64 `json:"appliedTerm"`
	// Queued proposals wait for the driver; Inflight ones were handed to
	// raft (LowestInflight: the smallest log index among them, 0 when not
	// appended yet). AwaitingCommit: the queue is held for one of them.
	Queued         int    `json:"queued"`
	Inflight       int    `json:"inflight"`
	LowestInflight uint64 `json:"lowestInflight"`
	AwaitingCommit bool   `json:"awaitingCommit"`
	// LeaseCommand is the kind of this node's lease command in flight
	// ("" when none); Lease the applied lease; Reacquire and Transferring
	// the lease state machine's flags (leases.go).
	LeaseCommand string `json:"leaseCommand,omitempty"`
	Lease        string `json:"lease"`
	Reacquire    bool   `json:"reacquire,omitempty"`
	Transferring bool   `json:"transferring,omitempty"`
}

// StoreDebugState is the store's DebugState at its last tick, with the
// driver's queues: appends waiting for their fsync and inbox length.
type StoreDebugState struct {
	AppendsInFlight int          `json:"appendsInFlight"`
	Inbox           int          `json:"inbox"`
	Partitions      []DebugState `json:"partitions"`
}

// DebugState returns the state the driver recorded at its last tick (nil
// before the first).
func (s *Store) DebugState() *StoreDebugState { return s.debug.Load() }

// recordDebugState is called by the driver on each tick.
func (s *Store) recordDebugState() {
	s.syncer.mu.Lock()
	st := &StoreDebugState{AppendsInFlight: s.syncer.mu.inFlight}
	s.syncer.mu.Unlock()
	s.mu.Lock()
	st.Inbox = len(s.mu.inbox)
	s.mu.Unlock()
	for _, id := range s.ids {
		p := s.partitions[id]
		d := DebugState{Partition: id, Raft: p.rn.Status(), Applied: p.applied.Index, AppliedTerm: p.applied.Term,
			Inflight: len(p.inflight), AwaitingCommit: p.awaitingCommit(), Lease: p.lease.String(),
			Reacquire: p.reacquire, Transferring: p.transferring()}
		p.mu.Lock()
		d.Queued = len(p.mu.queue)
		p.mu.Unlock()
		lowest := uint64(math.MaxUint64)
		for _, prop := range p.inflight {
			if prop.index != 0 {
				lowest = min(lowest, prop.index)
			}
		}
		if lowest != math.MaxUint64 {
			d.LowestInflight = lowest
		}
		if p.leaseProp != nil {
			d.LeaseCommand = p.leasePropKind.String()
		}
		st.Partitions = append(st.Partitions, d)
	}
	s.debug.Store(st)
}
