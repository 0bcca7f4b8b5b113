package replica

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/raftlog"
	"github.com/camusdb/camusdb-go/internal/replica/lease"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// Proposal states; a proposal moves queued -> handed (to raft) or
// queued -> abandoned (its caller's context ended first), exactly once.
const (
	propQueued int32 = iota
	propHanded
	propAbandoned
)

// proposal is one Propose call in flight.
type proposal struct {
	seq      uint64
	evalTerm uint64
	lazy     bool // see Command.Lazy
	data     []byte
	state    atomic.Int32
	done     chan error // capacity 1; receives exactly one result
	settled  func()     // Command.OnSettled, or nil

	// Owned by the driver: the log position the entry was appended at.
	index, term uint64
}

func (p *proposal) finish(err error) {
	if p.settled != nil {
		p.settled()
	}
	select {
	case p.done <- err:
	default:
		panic("replica: proposal finished twice") // broken invariant
	}
}

type completion struct {
	prop *proposal
	err  error
}

func retryError(format string, args ...any) error {
	return &kvpb.RetryError{Reason: fmt.Sprintf(format, args...)}
}

// partition is one Raft group. Everything but mu and status is owned by the
// driver goroutine.
type partition struct {
	store              *Store
	id                 uint64
	dataStart, dataEnd []byte
	log                *raftlog.Log
	rn                 *raft.RawNode
	applied            raftlog.AppliedState
	logger             *slog.Logger
	// preferred is the node that should lead (see maybeTransferLeadership).
	preferred uint64
	// transferTo, when non-zero, overrides preferred (Store.TransferLease).
	transferTo atomic.Uint64
	// singleVoter: the group has one voter (standalone), so lazy entries
	// may skip the fsync (see Command.Lazy).
	singleVoter bool

	// inflight: proposals handed to raft, by sequence number.
	inflight map[uint64]*proposal
	// proposedNow: proposals handed to raft in the current iteration.
	proposedNow []*proposal

	// lease is the applied lease (leases.go); leaseProp the lease command
	// of this node in flight, of kind leasePropKind; transferTarget and
	// transferTicks describe a transfer waiting for admitted requests.
	lease          lease.Lease
	leaseProp      *proposal
	leasePropKind  lease.Kind
	transferTarget uint64
	transferTicks  int
	// reacquire: a transfer of this node's lease ended with an unknown
	// outcome; the lease may not be extended, only replaced (leases.go).
	reacquire bool

	mu struct {
		sync.Mutex
		closed bool
		cause  error
		queue  []*proposal
	}
	// lm is what Admit reads: the lease as of the last committed apply
	// batch, whether a transfer stopped admissions, and how many admitted
	// requests are still being evaluated.
	lm struct {
		sync.Mutex
		lease        lease.Lease
		transferring bool
		inflight     int
	}
	// status is the last published Status.
	status atomic.Pointer[Status]
}

func newPartition(s *Store, id uint64) (*partition, error) {
	log, err := raftlog.Open(s.engine, id, raftlog.Options{})
	if err != nil {
		return nil, err
	}
	applied, err := raftlog.ReadAppliedState(s.engine, id)
	if err != nil {
		return nil, err
	}
	if applied.Index < log.Truncated().Index || applied.Index > log.LastIndex() {
		return nil, &kvpb.CorruptionError{What: fmt.Sprintf(
			"partition %d: applied index %d outside the log [%d, %d]",
			id, applied.Index, log.Truncated().Index, log.LastIndex())}
	}
	if hs := log.HardState(); hs.GetCommit() < applied.Index {
		// Entries already durable in the log are applied before the fsync
		// of the batch carrying the hard state that reports them committed
		// (see OVERVIEW.md), so a crash can leave the commit index behind
		// the applied index. Everything applied was committed: say so
		// (raft refuses to start with applied > commit).
		hs.Commit = new(applied.Index)
		b := s.engine.NewBatch()
		err := log.SetHardState(b, hs)
		if err == nil {
			err = b.Commit(true)
		}
		_ = b.Close()
		if err != nil {
			return nil, err
		}
	}
	current, err := readLease(s.engine, id)
	if err != nil {
		return nil, err
	}
	p := &partition{
		store:    s,
		id:       id,
		log:      log,
		applied:  applied,
		logger:   s.logger.With("partition", id),
		inflight: map[uint64]*proposal{},
		lease:    current,
	}
	p.lm.lease = current
	p.preferred = preferredLeader(id, log.ConfState().GetVoters())
	p.singleVoter = len(log.ConfState().GetVoters()) == 1
	p.dataStart, p.dataEnd = storage.DataSpan(id)
	storageAdapter := &raftStorage{
		log: log, engine: s.engine, logger: raftLogger{p.logger},
		onSnapshot: func() { s.metrics.snapshotsSent.Add(1) },
		snapshots:  &s.snapshots,
	}
	p.rn, err = raft.NewRawNode(&raft.Config{
		ID:                        s.cfg.NodeID,
		ElectionTick:              s.cfg.ElectionTicks,
		HeartbeatTick:             s.cfg.HeartbeatTicks,
		Storage:                   storageAdapter,
		Applied:                   applied.Index,
		MaxSizePerMsg:             1 << 20,
		MaxCommittedSizePerReady:  64 << 20,
		MaxUncommittedEntriesSize: 256 << 20,
		MaxInflightMsgs:           256,
		CheckQuorum:               true,
		PreVote:                   true,
		DisableProposalForwarding: true,
		// The driver pipelines log writes (appendsync.go).
		AsyncStorageWrites: true,
		Logger:             raftLogger{p.logger},
	})
	if err != nil {
		return nil, err
	}
	p.status.Store(&Status{})
	return p, nil
}

// enqueue queues a proposal for the driver.
func (p *partition) enqueue(prop *proposal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed {
		return retryError("partition %d: %v", p.id, p.mu.cause)
	}
	p.mu.queue = append(p.mu.queue, prop)
	return nil
}

// close fails every queued and in-flight proposal; no more are accepted.
// Called by the driver on its way out (or by Stop when it never ran).
func (p *partition) close(cause error) {
	p.mu.Lock()
	queue := p.mu.queue
	p.mu.queue, p.mu.closed, p.mu.cause = nil, true, cause
	p.mu.Unlock()
	for _, prop := range queue {
		if prop.state.CompareAndSwap(propQueued, propHanded) {
			prop.finish(retryError("partition %d: %v", p.id, cause))
		}
	}
	for seq, prop := range p.inflight {
		prop.finish(&kvpb.AmbiguousError{Cause: cause})
		delete(p.inflight, seq)
	}
}

// proposeQueued hands queued proposals to raft, or rejects them with a
// retry error when this node cannot propose.
func (p *partition) proposeQueued() {
	p.mu.Lock()
	queue := p.mu.queue
	p.mu.queue = nil
	p.mu.Unlock()
	p.propose(queue)
}

// proposeLazy hands raft the queued lazy proposals only; the others stay
// queued, in order. Queued proposals were evaluated under latches that do
// not conflict (latches are held until a command is applied), so their
// order in the log does not matter.
func (p *partition) proposeLazy() {
	p.mu.Lock()
	queue := p.mu.queue
	var lazy []*proposal
	rest := queue[:0]
	for _, prop := range queue {
		if prop.lazy {
			lazy = append(lazy, prop)
		} else {
			rest = append(rest, prop)
		}
	}
	clear(queue[len(rest):])
	p.mu.queue = rest
	p.mu.Unlock()
	p.propose(lazy)
}

func (p *partition) propose(queue []*proposal) {
	if len(queue) == 0 {
		return
	}
	bs := p.rn.BasicStatus()
	term := bs.HardState.GetTerm()
	for _, prop := range queue {
		var reject error
		switch {
		case bs.RaftState != raft.StateLeader:
			reject = retryError("partition %d: node %d is not the leader (leader: %d)", p.id, p.store.cfg.NodeID, bs.Lead)
		case prop.evalTerm != 0 && prop.evalTerm != term:
			reject = retryError("partition %d: evaluated in term %d, now term %d", p.id, prop.evalTerm, term)
		}
		if !prop.state.CompareAndSwap(propQueued, propHanded) {
			continue // abandoned by its caller
		}
		if reject != nil {
			prop.finish(reject)
			continue
		}
		if err := p.rn.Propose(prop.data); err != nil {
			prop.finish(retryError("partition %d: proposal dropped: %v", p.id, err))
			continue
		}
		p.inflight[prop.seq] = prop
		p.proposedNow = append(p.proposedNow, prop)
		p.store.metrics.proposals.Add(1)
	}
}

// lazyReady reports whether rd may be persisted without an fsync: the
// group has a single voter, and rd carries nothing but lazy entries this
// node proposed (no snapshot, no change of term or vote). See
// Command.Lazy.
func (p *partition) lazyReady(rd *raft.Ready) bool {
	if !p.singleVoter || !raft.IsEmptySnap(rd.Snapshot) {
		return false
	}
	if hs := rd.HardState; !raft.IsEmptyHardState(hs) {
		cur := p.log.HardState()
		if hs.GetTerm() != cur.GetTerm() || hs.GetVote() != cur.GetVote() {
			return false
		}
	}
	for _, e := range rd.Entries {
		if e.GetType() != raftpb.EntryNormal || len(e.GetData()) == 0 {
			return false
		}
		h, _, err := decodeHeader(e.GetData())
		if err != nil || h.nodeID != p.store.cfg.NodeID {
			return false
		}
		if prop := p.inflight[h.seq]; prop == nil || !prop.lazy {
			return false
		}
	}
	return true
}

// noteAppended records the log position of this node's proposals among
// entries being persisted.
func (p *partition) noteAppended(ents []*raftpb.Entry) {
	if len(p.inflight) > 0 {
		for _, e := range ents {
			if e.GetType() != raftpb.EntryNormal || len(e.GetData()) == 0 {
				continue
			}
			h, _, err := decodeHeader(e.GetData())
			if err != nil || h.nodeID != p.store.cfg.NodeID {
				continue
			}
			if prop := p.inflight[h.seq]; prop != nil {
				prop.index, prop.term = e.GetIndex(), e.GetTerm()
			}
		}
	}
	// A leader appends what it proposed in the same Ready, so this cannot
	// happen; if it did, we could not tell the outcome.
	for _, prop := range p.proposedNow {
		if prop.index == 0 && p.inflight[prop.seq] == prop {
			delete(p.inflight, prop.seq)
			prop.finish(&kvpb.AmbiguousError{Cause: fmt.Errorf("partition %d: proposal not appended", p.id)})
		}
	}
	clear(p.proposedNow)
	p.proposedNow = p.proposedNow[:0]
}

// stageSnapshot stages a received snapshot (see snapshot.go).
func (p *partition) stageSnapshot(w storage.Writer, snap *raftpb.Snapshot) error {
	if err := stageSnapshot(w, p.log, snap); err != nil {
		return err
	}
	md := snap.GetMetadata()
	p.applied = raftlog.AppliedState{Index: md.GetIndex(), Term: md.GetTerm()}
	p.logger.Info("replica: applying snapshot", "index", md.GetIndex(), "term", md.GetTerm(), "bytes", len(snap.GetData()))
	return nil
}

// snapshotApplied runs once the snapshot is durable: proposals whose entry
// it covers have an unknown outcome (the snapshot carries state, not
// entries).
func (p *partition) snapshotApplied() error {
	p.store.metrics.snapshotsApplied.Add(1)
	current, err := readLease(p.store.engine, p.id)
	if err != nil {
		return err
	}
	p.lease = current
	for seq, prop := range p.inflight {
		if prop.index != 0 && prop.index <= p.applied.Index {
			delete(p.inflight, seq)
			prop.finish(&kvpb.AmbiguousError{Cause: fmt.Errorf("partition %d: entry %d replaced by a snapshot", p.id, prop.index)})
		}
	}
	return nil
}

// applyEntries stages committed entries into w, with the applied state,
// and returns the proposals to complete once w is committed. Application
// is deterministic: it depends only on the entries and the prior state.
func (p *partition) applyEntries(w storage.Writer, ents []*raftpb.Entry) ([]completion, error) {
	var done []completion
	nodeID := p.store.cfg.NodeID
	for _, e := range ents {
		index := e.GetIndex()
		if index <= p.applied.Index {
			continue // already applied (a snapshot got ahead of the log)
		}
		if index != p.applied.Index+1 {
			return nil, fmt.Errorf("replica: partition %d: applying entry %d after %d", p.id, index, p.applied.Index)
		}
		var (
			result error
			header commandHeader
		)
		switch {
		case e.GetType() != raftpb.EntryNormal:
			p.logger.Warn("replica: ignoring configuration change entry (membership is static)", "index", index)
		case len(e.GetData()) == 0:
			// The empty entry a new leader appends.
		default:
			var rest []byte
			header, rest, result = decodeHeader(e.GetData())
			switch {
			case result != nil:
				p.logger.Error("replica: undecodable entry applied as a no-op", "index", index, "err", result)
			case header.evalTerm != 0 && header.evalTerm != e.GetTerm():
				result = retryError("partition %d: command evaluated in term %d landed in term %d", p.id, header.evalTerm, e.GetTerm())
			case header.lease:
				var stageErr error
				if result, stageErr = p.applyLease(w, header.nodeID, rest); stageErr != nil {
					return nil, stageErr
				}
			default:
				var stageErr error
				result = forEachWrite(header, rest, p.dataStart, p.dataEnd, func(op byte, key, value []byte) error {
					switch op {
					case opDelete:
						stageErr = w.Delete(key)
					case opDeleteRange:
						stageErr = w.DeleteRange(key, value)
					default:
						stageErr = w.Set(key, value)
					}
					return stageErr
				})
				if stageErr != nil {
					return nil, stageErr
				}
				if result != nil {
					p.logger.Error("replica: invalid command applied as a no-op", "index", index, "err", result)
				}
			}
		}
		p.applied = raftlog.AppliedState{Index: index, Term: e.GetTerm()}
		p.store.metrics.entriesApplied.Add(1)
		if header.nodeID == nodeID {
			if prop := p.inflight[header.seq]; prop != nil && prop.index == index {
				delete(p.inflight, header.seq)
				done = append(done, completion{prop: prop, err: result})
			}
		}
	}
	if err := raftlog.WriteAppliedState(w, p.id, p.applied); err != nil {
		return nil, err
	}
	// A proposal whose index is now applied with another entry was
	// overwritten after a leadership change: it can never commit.
	for seq, prop := range p.inflight {
		if prop.index != 0 && prop.index <= p.applied.Index {
			delete(p.inflight, seq)
			done = append(done, completion{prop: prop, err: retryError(
				"partition %d: entry %d was replaced after a leadership change", p.id, prop.index)})
		}
	}
	return done, nil
}

// maybeTruncate stages a log truncation when too many applied entries (or
// bytes) have accumulated. It runs in the same batch as the applied state,
// and only truncates entries at or below it, so the state those entries
// produced is durable whenever the truncation is (see OVERVIEW.md). A
// leader keeps up to half the entry budget for recently active followers
// that lag, so they catch up from the log rather than a snapshot.
func (p *partition) maybeTruncate(w storage.Writer) error {
	cfg := &p.store.cfg
	truncated, applied := p.log.Truncated().Index, p.applied.Index
	if applied <= truncated {
		return nil
	}
	overBytes := p.log.Bytes() > cfg.TruncateBytes
	if applied-truncated <= cfg.TruncateEntries && !overBytes {
		return nil
	}
	target := applied
	if !overBytes && p.rn.BasicStatus().RaftState == raft.StateLeader {
		floor := applied - min(applied, cfg.TruncateEntries/2)
		p.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
			if id != cfg.NodeID && pr.RecentActive && pr.Match < target {
				target = min(target, max(pr.Match, floor))
			}
		})
	}
	if target <= truncated {
		return nil
	}
	p.store.metrics.truncations.Add(1)
	return p.log.TruncatePrefix(w, target)
}

// publishStatus publishes the partition's status; it reports a change.
func (p *partition) publishStatus() bool {
	bs := p.rn.BasicStatus()
	st := &Status{
		Leader:       bs.RaftState == raft.StateLeader,
		LeaderID:     bs.Lead,
		Term:         bs.HardState.GetTerm(),
		AppliedIndex: p.applied.Index,
		CommitIndex:  bs.HardState.GetCommit(),
		FirstIndex:   p.log.FirstIndex(),
		LastIndex:    p.log.LastIndex(),
		Lease:        p.lease,
	}
	st.Ready = st.Leader && p.applied.Term == st.Term
	p.publishLease()
	if *p.status.Load() == *st {
		return false
	}
	p.status.Store(st)
	return true
}

// preferredLeader is the node that should lead this partition when it is
// up: partitions are dealt round-robin over the sorted voters.
func preferredLeader(partitionID uint64, voters []uint64) uint64 {
	if len(voters) == 0 {
		return 0
	}
	sorted := slices.Clone(voters)
	slices.Sort(sorted)
	return sorted[(partitionID-1)%uint64(len(sorted))]
}

// transferLagEntries is how far behind the leader's log a node may be and
// still be handed the lease and leadership. Under a steady write load a
// follower is always an append or two behind at the instant of a tick, so
// demanding an exact match postponed transfers for as long as the load
// lasted; a few entries are caught up within one round trip (the new
// leaseholder serves only once it has applied everything before the
// transfer, and raft hands leadership over only to a caught-up node).
const transferLagEntries = 64

// maybeTransferLeadership hands leadership to the preferred node when this
// node leads instead of it, is ready, and the preferred node is active and
// caught up to within transferLagEntries (so the transfer is quick and
// loses nothing). The target of TransferLease replaces the preferred node;
// without one, Config.KeepLeadership may keep leadership here.
func (p *partition) maybeTransferLeadership() {
	bs := p.rn.BasicStatus()
	self := p.store.cfg.NodeID
	if bs.RaftState != raft.StateLeader || bs.LeadTransferee != 0 || p.applied.Term != bs.HardState.GetTerm() {
		return
	}
	preferred := p.preferred
	if to := p.transferTo.Load(); to != 0 {
		preferred = to
	} else if keep := p.store.cfg.KeepLeadership; preferred != self && keep != nil && keep(p.id) {
		return
	}
	if preferred == 0 || preferred == self {
		return
	}
	caughtUp := false
	last := p.log.LastIndex()
	p.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
		if id == preferred && pr.RecentActive && pr.Match+transferLagEntries >= last {
			caughtUp = true
		}
	})
	if !caughtUp {
		return
	}
	// The lease moves first (the holder stops serving, then hands it over
	// at a timestamp above everything it served), then leadership follows
	// it, so the new leader can serve at once.
	cur := p.lease
	switch {
	case p.singleVoter || cur.Holder == preferred:
		p.logger.Debug("replica: transferring leadership to the preferred node", "to", preferred)
		p.rn.TransferLeader(preferred)
	case cur.Holder == self && cur.Incarnation == p.store.incarnation && p.leaseProp == nil && !p.transferring():
		p.logger.Debug("replica: transferring the lease to the preferred node", "to", preferred)
		p.beginTransfer(preferred)
	}
}

// settleOverwritten fails this node's proposals that were appended in an
// earlier term and are no longer in its log, once it leads and has
// applied an entry of its current term. Its log then holds every entry it
// will ever commit below that term's first entry, all of them applied, so
// a proposal of an earlier term above the applied index was overwritten by
// another leader's entries: it can never commit. Left in flight, it would
// settle only once the applied index passed it, which may never happen
// when it is the lease command the leader waits for before proposing
// another (and without a lease nothing else is proposed).
func (p *partition) settleOverwritten() {
	if len(p.inflight) == 0 {
		return
	}
	bs := p.rn.BasicStatus()
	term := bs.HardState.GetTerm()
	if bs.RaftState != raft.StateLeader || p.applied.Term != term {
		return
	}
	for seq, prop := range p.inflight {
		if prop.index > p.applied.Index && prop.term != 0 && prop.term < term {
			delete(p.inflight, seq)
			prop.finish(retryError("partition %d: entry %d of term %d was replaced after a leadership change", p.id, prop.index, prop.term))
		}
	}
}

// awaitingCommit reports whether this node leads a group of several
// voters and a proposal of its own, appended in its current term, is not
// committed yet: then the queued proposals wait for it (see
// Store.iterate). Only the current term's: a leader keeps its own log for
// its whole term, so such a proposal commits or the term ends; one
// appended in an earlier term may have been overwritten by another
// leader's entries and then never commits — waiting for it held every
// later proposal, lease commands included, for good
// (TestLeaderDoesNotWaitForProposalsOfAnOldTerm). It settles once this
// leader has applied an entry of its term (settleOverwritten).
func (p *partition) awaitingCommit() bool {
	if p.singleVoter || len(p.inflight) == 0 {
		return false
	}
	bs := p.rn.BasicStatus()
	if bs.RaftState != raft.StateLeader {
		return false // let propose refuse the queue at once
	}
	commit, term := bs.HardState.GetCommit(), bs.HardState.GetTerm()
	for _, prop := range p.inflight {
		if prop.index > commit && prop.term == term {
			return true
		}
	}
	return false
}
