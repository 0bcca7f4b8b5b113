package kvremote

import (
	"sync"
	"sync/atomic"
)

// Following the workload: a partition's leader (which holds its lease and
// serves every request for it) moves to the node its requests come from.
// An application connected to one node of a cluster otherwise has two
// thirds of its partitions served elsewhere, each request paying a
// node-to-node round trip; once they follow it, its reads are local and
// its writes are proposed where they are evaluated.
//
// Load counts, per partition, the requests each node sends: this node's
// Sender counts the requests it originates (whoever serves them), the
// service counts those it serves for other nodes. On the leader of a
// partition the counts therefore tell where all of its requests come
// from. A Follower rolls the counts over fixed windows and decides.

// Load counts kv requests per partition and per originating node. The
// zero value is not usable; a nil *Load counts nothing.
type Load struct {
	self  uint64
	slots map[uint64]int // node id -> index in partitionLoad.counts; read-only
	ids   []uint64       // slot -> node id
	parts sync.Map       // partition id -> *partitionLoad
}

type partitionLoad struct{ counts []atomic.Int64 }

// NewLoad returns a Load for a node of the given cluster members (self
// included).
func NewLoad(self uint64, nodes []uint64) *Load {
	l := &Load{self: self, slots: make(map[uint64]int, len(nodes))}
	for _, id := range nodes {
		if _, dup := l.slots[id]; !dup {
			l.slots[id] = len(l.ids)
			l.ids = append(l.ids, id)
		}
	}
	return l
}

// add counts one request of partitionID from node.
func (l *Load) add(partitionID, node uint64) {
	if l == nil {
		return
	}
	slot, ok := l.slots[node]
	if !ok {
		return
	}
	v, ok := l.parts.Load(partitionID)
	if !ok {
		v, _ = l.parts.LoadOrStore(partitionID, &partitionLoad{counts: make([]atomic.Int64, len(l.ids))})
	}
	v.(*partitionLoad).counts[slot].Add(1)
}

// Take returns the counts of one partition since the previous Take (node
// id -> requests; nil when there were none) and starts the next window.
func (l *Load) Take(partitionID uint64) map[uint64]int64 {
	v, ok := l.parts.Load(partitionID)
	if !ok {
		return nil
	}
	counts := v.(*partitionLoad).counts
	var out map[uint64]int64
	for slot := range counts {
		if n := counts[slot].Swap(0); n > 0 {
			if out == nil {
				out = make(map[uint64]int64, len(l.ids))
			}
			out[l.ids[slot]] = n
		}
	}
	return out
}

// FollowConfig tunes a Follower; zero fields take the defaults.
type FollowConfig struct {
	// MinRequests is how many requests a window must count before it
	// says anything about a partition (default DefaultFollowMinRequests):
	// a lightly used partition stays where leadership balancing put it.
	MinRequests int64
	// Windows is how many consecutive windows must agree before the lease
	// moves (default DefaultFollowWindows).
	Windows int
	// StaleWindows is how many windows a lease move this node asked for
	// may stay pending (the target lagging or down) before the request is
	// withdrawn (default DefaultFollowStaleWindows).
	StaleWindows int
}

// Defaults of FollowConfig; the server rolls a window every second.
const (
	DefaultFollowMinRequests  = 200
	DefaultFollowWindows      = 2
	DefaultFollowStaleWindows = 5
)

// Follower decides, window by window, where each partition's lease should
// be. Decide is called by one goroutine; Keep may be called concurrently.
//
// The rules, for a window that counted at least MinRequests requests:
//
//   - move: this node leads the partition, and one other node sent at
//     least twice as many requests as this node originated and at least
//     60% of all of them, in Windows consecutive windows: the lease (and
//     leadership after it) moves to that node.
//   - keep: this node originated at least half of the partition's
//     requests. A node that keeps a partition does not hand its leadership
//     back to the partition's preferred node (leadership balancing), so a
//     lease that followed the workload stays with it.
//
// The thresholds leave a margin both ways: after a move the former leader
// sends at most half of what the new one originates, far from the 2x it
// would need to take the lease back, and a workload split evenly between
// nodes moves nothing. A window under MinRequests changes nothing: the
// keep decision of the last busy window stands.
type Follower struct {
	self  uint64
	cfg   FollowConfig
	parts sync.Map // partition id -> *followState
}

type followState struct {
	keep atomic.Bool
	// Owned by Decide's goroutine.
	candidate uint64 // node the recent windows pointed to
	streak    int    // consecutive windows that pointed to candidate
	asked     uint64 // the target this node last asked the lease to move to
	askedAge  int    // windows since then
}

// NewFollower returns a Follower for node self.
func NewFollower(self uint64, cfg FollowConfig) *Follower {
	if cfg.MinRequests <= 0 {
		cfg.MinRequests = DefaultFollowMinRequests
	}
	if cfg.Windows <= 0 {
		cfg.Windows = DefaultFollowWindows
	}
	if cfg.StaleWindows <= 0 {
		cfg.StaleWindows = DefaultFollowStaleWindows
	}
	return &Follower{self: self, cfg: cfg}
}

func (f *Follower) state(partitionID uint64) *followState {
	v, ok := f.parts.Load(partitionID)
	if !ok {
		v, _ = f.parts.LoadOrStore(partitionID, &followState{})
	}
	return v.(*followState)
}

// Keep reports whether this node should keep leading the partition rather
// than hand it to its preferred node (see Follower).
func (f *Follower) Keep(partitionID uint64) bool {
	if f == nil {
		return false
	}
	v, ok := f.parts.Load(partitionID)
	return ok && v.(*followState).keep.Load()
}

// Role is what this node is to a partition, for Decide.
type Role struct {
	// Leads: this node is the partition's ready Raft leader and holds
	// its lease (it serves the partition's requests).
	Leads bool
	// RaftLeader: this node is the partition's Raft leader. A lease
	// being moved leaves first; leadership follows it a moment later.
	RaftLeader bool
}

// FollowAction is what Decide asks of the replica layer.
type FollowAction struct {
	// MoveTo, when non-zero, is the node the lease should move to
	// (replica.Store.TransferLease).
	MoveTo uint64
	// Withdraw asks to take back an earlier MoveTo (TransferLease with
	// target 0): leadership moved, or the move stayed pending too long.
	// Not before leadership moved: the request also moves leadership
	// after the lease, and a lease without leadership is of no use.
	Withdraw bool
}

// Decide closes one window of a partition: counts are its requests by
// originating node (Load.Take), role what this node is to it.
func (f *Follower) Decide(partitionID uint64, counts map[uint64]int64, role Role) FollowAction {
	st := f.state(partitionID)
	var act FollowAction
	if st.asked != 0 {
		st.askedAge++
		if !role.RaftLeader || st.askedAge > f.cfg.StaleWindows {
			act.Withdraw = true
			st.asked, st.askedAge = 0, 0
		}
	}
	var total, topCount int64
	var top uint64 // the other node that sent the most (the lowest id on a tie)
	for node, n := range counts {
		total += n
		if node != f.self && (n > topCount || n == topCount && node < top) {
			top, topCount = node, n
		}
	}
	if total < f.cfg.MinRequests {
		st.candidate, st.streak = 0, 0
		return act
	}
	local := counts[f.self]
	st.keep.Store(2*local >= total)
	if !role.Leads || topCount < 2*local || 5*topCount < 3*total {
		st.candidate, st.streak = 0, 0
		return act
	}
	if st.candidate != top {
		st.candidate, st.streak = top, 0
	}
	st.streak++
	if st.streak < f.cfg.Windows || st.asked == top {
		return act
	}
	st.candidate, st.streak = 0, 0
	st.asked, st.askedAge = top, 0
	act.MoveTo, act.Withdraw = top, false
	return act
}
