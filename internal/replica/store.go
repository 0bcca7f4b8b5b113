package replica

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/raftlog"
	"github.com/camusdb/camusdb-go/internal/replica/lease"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// Errors returned by the Store besides the kvpb errors of Propose.
var (
	ErrUnknownPartition = errors.New("replica: unknown partition")
	ErrNotStarted       = errors.New("replica: store not started")
	ErrStopped          = errors.New("replica: store stopped")
	ErrInboxFull        = errors.New("replica: raft inbox full, message dropped")
)

// nodeIDKey records which node id bootstrapped this engine; a restart with
// another id is refused (it would reuse another node's votes).
var nodeIDKey = storage.LocalKey("replica/node-id")

// Status is one partition's Raft status as seen by this node.
type Status struct {
	Leader       bool
	LeaderID     uint64
	Term         uint64
	AppliedIndex uint64
	CommitIndex  uint64
	FirstIndex   uint64
	LastIndex    uint64
	// Ready: this node leads the partition and has applied an entry of its
	// current term, so every earlier committed entry is applied here.
	Ready bool
	// Lease is the applied lease record (zero in single-voter groups, which
	// have none). Whether this node may serve is Admit's to say.
	Lease lease.Lease
}

// Metrics are cumulative counters of one Store.
type Metrics struct {
	LoopIterations   uint64 // driver iterations that did work
	Syncs            uint64 // batches committed with fsync
	EntriesAppended  uint64 // log entries persisted
	EntriesApplied   uint64 // entries applied to the state machine
	Proposals        uint64 // proposals handed to raft
	SnapshotsSent    uint64 // snapshots built for followers
	SnapshotsApplied uint64 // snapshots received and applied
	Truncations      uint64 // log truncations
}

type metrics struct {
	loopIterations, syncs, entriesAppended, entriesApplied, proposals,
	snapshotsSent, snapshotsApplied, truncations atomic.Uint64
}

// Store runs every partition (Raft group) of one node. See doc.go.
type Store struct {
	cfg        Config
	engine     *storage.Engine
	logger     *slog.Logger
	partitions map[uint64]*partition
	ids        []uint64
	nextSeq    atomic.Uint64
	metrics    metrics
	// snapshots are the outgoing snapshots not yet released (snapstream.go).
	snapshots snapshotRegistry

	wake  chan struct{} // capacity 1: "there is work"
	stopC chan struct{}
	done  chan struct{}
	// syncer waits for the fsyncs of appended Raft state off the driver
	// (appendsync.go).
	syncer *appendSyncer

	mu struct {
		sync.Mutex
		started, stopped bool
		// failed is the fatal error that stopped the driver, if any.
		failed error
		// inbox holds incoming messages and reports until the driver takes them.
		inbox []inboxItem
		// statusC is closed (and replaced) whenever a status changes.
		statusC chan struct{}
	}
	stopOnce sync.Once
	// singleVoter: every partition has one voter (a standalone node).
	singleVoter bool
	// incarnation identifies this process's Store (random, non-zero): a
	// lease bound to another incarnation of this node is not ours to use.
	incarnation uint64
	// debug is the driver's state at its last tick (debug.go).
	debug atomic.Pointer[StoreDebugState]
}

type inboxItem struct {
	partitionID uint64
	msg         *raftpb.Message
	unreachable uint64 // node id reported unreachable, when msg is nil
	// barrier, when set, is closed once everything enqueued before it was
	// processed and the driver has no more ready work (see Barrier).
	barrier chan struct{}
	// response: msg is a response of a local storage write (appendsync.go),
	// due now that the write is durable: stepped when it is addressed to
	// this node, sent otherwise.
	response bool
}

// NewStore opens the Raft state of every partition in cfg.Engine, first
// bootstrapping it when the engine holds none. It starts no goroutines.
func NewStore(cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{
		cfg:        cfg,
		engine:     cfg.Engine,
		logger:     cfg.Logger.With("node", cfg.NodeID),
		partitions: map[uint64]*partition{},
		wake:       make(chan struct{}, 1),
		stopC:      make(chan struct{}),
		done:       make(chan struct{}),
	}
	s.syncer = newAppendSyncer(s)
	s.mu.statusC = make(chan struct{})
	// Proposal sequence numbers start at a random point so that entries of
	// an earlier incarnation, re-applied after a restart, cannot be taken
	// for a new proposal (which is also matched by log index).
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	s.nextSeq.Store(binary.LittleEndian.Uint64(seed[:]) >> 1)
	_, _ = rand.Read(seed[:])
	s.incarnation = binary.LittleEndian.Uint64(seed[:]) | 1

	ids, err := s.bootstrapOrLoad()
	if err != nil {
		return nil, err
	}
	s.singleVoter = true
	for _, id := range ids {
		p, err := newPartition(s, id)
		if err != nil {
			return nil, err
		}
		s.partitions[id] = p
		s.ids = append(s.ids, id)
		s.singleVoter = s.singleVoter && p.singleVoter
	}
	for _, p := range s.partitions {
		p.publishStatus()
	}
	return s, nil
}

// bootstrapOrLoad returns the partition ids on disk, bootstrapping them
// from the config if the engine has no Raft state at all.
func (s *Store) bootstrapOrLoad() ([]uint64, error) {
	ids, err := raftlog.ListPartitions(s.engine)
	if err != nil {
		return nil, err
	}
	stored, found, err := s.engine.Get(nodeIDKey)
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		if !found || len(stored) != 8 || binary.BigEndian.Uint64(stored) != s.cfg.NodeID {
			return nil, fmt.Errorf("replica: engine belongs to node %x, not node %d", stored, s.cfg.NodeID)
		}
		return ids, nil
	}
	if s.cfg.Partitions < 1 {
		return nil, fmt.Errorf("replica: bootstrap needs at least one partition (got %d)", s.cfg.Partitions)
	}
	b := s.engine.NewBatch()
	defer b.Close()
	voters := s.cfg.voters()
	for id := uint64(1); id <= uint64(s.cfg.Partitions); id++ {
		if err := raftlog.Bootstrap(s.engine, b, id, voters); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := b.Set(nodeIDKey, binary.BigEndian.AppendUint64(nil, s.cfg.NodeID)); err != nil {
		return nil, err
	}
	if err := b.Commit(true); err != nil {
		return nil, err
	}
	s.logger.Info("replica: bootstrapped", "partitions", len(ids), "voters", voters)
	return ids, nil
}

// PartitionIDs returns the ids of the partitions of this store, ascending.
func (s *Store) PartitionIDs() []uint64 { return slices.Clone(s.ids) }

// Metrics returns a snapshot of the store's counters.
func (s *Store) Metrics() Metrics {
	m := &s.metrics
	return Metrics{
		LoopIterations:   m.loopIterations.Load(),
		Syncs:            m.syncs.Load(),
		EntriesAppended:  m.entriesAppended.Load(),
		EntriesApplied:   m.entriesApplied.Load(),
		Proposals:        m.proposals.Load(),
		SnapshotsSent:    m.snapshotsSent.Load(),
		SnapshotsApplied: m.snapshotsApplied.Load(),
		Truncations:      m.truncations.Load(),
	}
}

// Start starts the driver goroutine. Single-voter partitions campaign at
// once, so a standalone node is ready within milliseconds.
func (s *Store) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.stopped {
		return ErrStopped
	}
	if s.mu.started {
		return errors.New("replica: store already started")
	}
	s.mu.started = true
	for _, p := range s.partitions {
		if cs := p.log.ConfState(); len(cs.GetVoters()) == 1 && cs.GetVoters()[0] == s.cfg.NodeID {
			if err := p.rn.Campaign(); err != nil {
				return err
			}
		}
	}
	go s.syncer.run()
	go s.run()
	s.signal()
	return nil
}

// Stop stops the driver and waits for it. Queued proposals fail with a
// *kvpb.RetryError, proposals already handed to raft with a
// *kvpb.AmbiguousError. It does not close the engine.
func (s *Store) Stop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		started := s.mu.started
		s.mu.stopped = true
		s.mu.Unlock()
		close(s.stopC)
		if started {
			<-s.done
		} else {
			s.shutdown(ErrStopped)
		}
		s.snapshots.closeAll()
	})
}

func (s *Store) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Store) partition(partitionID uint64) (*partition, error) {
	p := s.partitions[partitionID]
	if p == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnknownPartition, partitionID)
	}
	return p, nil
}

// Propose replicates cmd through the partition's Raft log and returns once
// it is applied on this node (its writes are then visible in the engine).
//
// Errors: *kvpb.RetryError when this node is not the leader, the proposal
// was dropped, or leadership changed so that the entry was not committed
// (nothing was committed); *kvpb.AmbiguousError when ctx ends (or the store
// stops) after the entry was handed to raft; ctx.Err() when ctx ends
// before; ErrKeyOutsidePartition and ErrUnknownPartition for bad input.
func (s *Store) Propose(ctx context.Context, partitionID uint64, cmd Command) error {
	prop, err := s.handOver(ctx, partitionID, &cmd)
	if err != nil {
		if cmd.OnSettled != nil {
			cmd.OnSettled() // never proposed
		}
		return err
	}
	select {
	case err := <-prop.done:
		return err
	case <-ctx.Done():
		if prop.state.CompareAndSwap(propQueued, propAbandoned) {
			if cmd.OnSettled != nil {
				cmd.OnSettled() // the driver will skip it
			}
			return ctx.Err()
		}
		select {
		case err := <-prop.done:
			return err
		default:
			// In flight: it may still commit. The driver settles it
			// (Command.OnSettled) once its fate is known.
			return &kvpb.AmbiguousError{Cause: ctx.Err()}
		}
	}
}

// handOver checks cmd and queues it for the partition's driver.
func (s *Store) handOver(ctx context.Context, partitionID uint64, cmd *Command) (*proposal, error) {
	p, err := s.partition(partitionID)
	if err != nil {
		return nil, err
	}
	if err := checkSpan(cmd, p.dataStart, p.dataEnd); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if size := CommandBytes(cmd.Writes); size > s.cfg.MaxCommandBytes {
		return nil, &kvpb.CommandTooLargeError{Size: int64(size), Limit: int64(s.cfg.MaxCommandBytes)}
	}
	seq := s.nextSeq.Add(1)
	prop := &proposal{
		seq:      seq,
		evalTerm: cmd.EvalTerm,
		lazy:     cmd.Lazy,
		data:     encodeCommand(commandHeader{nodeID: s.cfg.NodeID, seq: seq}, cmd),
		done:     make(chan error, 1),
		settled:  cmd.OnSettled,
	}
	if err := p.enqueue(prop); err != nil {
		return nil, err
	}
	s.signal()
	return prop, nil
}

// Status returns the partition's status, or the store's fatal error.
func (s *Store) Status(partitionID uint64) (Status, error) {
	p, err := s.partition(partitionID)
	if err != nil {
		return Status{}, err
	}
	s.mu.Lock()
	failed := s.mu.failed
	s.mu.Unlock()
	if failed != nil {
		return Status{}, failed
	}
	return *p.status.Load(), nil
}

// WaitReady waits until this node is the ready leader of the partition
// (see Status.Ready). In a cluster, only the node that wins the election
// returns; the others wait until ctx ends.
func (s *Store) WaitReady(ctx context.Context, partitionID uint64) error {
	return s.waitStatus(ctx, partitionID, func(st Status) bool { return st.Ready })
}

// waitStatus waits until cond holds for the partition's status.
func (s *Store) waitStatus(ctx context.Context, partitionID uint64, cond func(Status) bool) error {
	p, err := s.partition(partitionID)
	if err != nil {
		return err
	}
	for {
		s.mu.Lock()
		ch, failed, stopped := s.mu.statusC, s.mu.failed, s.mu.stopped
		s.mu.Unlock()
		if failed != nil {
			return failed
		}
		if stopped {
			return ErrStopped
		}
		if cond(*p.status.Load()) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Store) statusChanged() {
	s.mu.Lock()
	close(s.mu.statusC)
	s.mu.statusC = make(chan struct{})
	s.mu.Unlock()
}

// Step hands an incoming Raft message for a partition to the driver. It
// never blocks; it fails for unknown partitions, misaddressed or malformed
// messages, and when the inbox is full.
func (s *Store) Step(partitionID uint64, m *raftpb.Message) error {
	if _, err := s.partition(partitionID); err != nil {
		return err
	}
	if m == nil || m.GetTo() != s.cfg.NodeID {
		return fmt.Errorf("replica: message for node %d delivered to node %d", m.GetTo(), s.cfg.NodeID)
	}
	if raft.IsLocalMsg(m.GetType()) {
		return fmt.Errorf("replica: local raft message %s from the network", m.GetType())
	}
	if m.GetType() == raftpb.MsgSnap {
		// Validate now: once raft accepts a snapshot, applying it must not fail.
		if err := forEachSnapshotKV(m.GetSnapshot().GetData(), nil); err != nil {
			return err
		}
	}
	return s.enqueueInbox(inboxItem{partitionID: partitionID, msg: m})
}

// ReportUnreachable tells the partition's leader that a node could not be
// reached, so it stops optimistic replication to it until it answers.
func (s *Store) ReportUnreachable(partitionID, nodeID uint64) {
	if _, err := s.partition(partitionID); err == nil {
		_ = s.enqueueInbox(inboxItem{partitionID: partitionID, unreachable: nodeID})
	}
}

func (s *Store) enqueueInbox(item inboxItem) error {
	s.mu.Lock()
	if s.mu.stopped {
		s.mu.Unlock()
		return ErrStopped
	}
	if len(s.mu.inbox) >= s.cfg.MaxInboxMessages {
		s.mu.Unlock()
		return ErrInboxFull
	}
	s.mu.inbox = append(s.mu.inbox, item)
	s.mu.Unlock()
	s.signal()
	return nil
}

// run is the driver goroutine.
func (s *Store) run() {
	defer close(s.done)
	// The syncer stops after the driver, once it has waited for the
	// fsyncs in flight (the engine is closed only after Stop returns).
	defer s.syncer.stop()
	defer func() {
		if r := recover(); r != nil {
			s.fail(fmt.Errorf("replica: driver panic: %v", r))
		}
	}()
	ticks := s.cfg.Ticks
	var tickerC <-chan time.Time
	if ticks == nil {
		ticker := time.NewTicker(s.cfg.TickInterval)
		defer ticker.Stop()
		tickerC = ticker.C
	}
	var inbox []inboxItem
	var barriers []chan struct{}
	for {
		tick := false
		select {
		case <-s.stopC:
			s.shutdown(ErrStopped)
			return
		case <-tickerC:
			tick = true
		case <-ticks:
			tick = true
		case <-s.wake:
		}
		s.mu.Lock()
		inbox, s.mu.inbox = s.mu.inbox, inbox[:0]
		s.mu.Unlock()
		for _, item := range inbox {
			if item.barrier != nil {
				barriers = append(barriers, item.barrier)
			}
		}
		more, err := s.iterate(tick, inbox)
		clear(inbox)
		if err != nil {
			s.fail(err)
			return
		}
		if err := s.syncer.err(); err != nil {
			s.fail(err)
			return
		}
		if more {
			s.signal()
		} else if len(barriers) > 0 && s.idle() {
			for _, b := range barriers {
				close(b)
			}
			barriers = barriers[:0]
		}
	}
}

// TransferLease asks this node, when it holds the partition's lease and
// leads it, to hand the lease and then leadership to target at its next
// ticks (the same protocol leadership balancing uses: the holder stops
// admitting requests, drains them, hands over above everything it served).
// It overrides the preferred node until called with target 0.
func (s *Store) TransferLease(partitionID, target uint64) error {
	p, err := s.partition(partitionID)
	if err != nil {
		return err
	}
	p.transferTo.Store(target)
	return nil
}

// ForceCampaign makes this node start an election for the partition at
// once, as the target of a leadership transfer does: no pre-vote, and
// voters grant their vote even while they believe a leader is alive.
// Deterministic tests use it to choose which node wins an election.
func (s *Store) ForceCampaign(partitionID uint64) error {
	id := s.cfg.NodeID
	return s.Step(partitionID, &raftpb.Message{Type: raftpb.MsgTimeoutNow.Enum(), To: &id, From: &id})
}

// Barrier returns once the driver has processed everything handed to the
// store before the call (messages, ticks received, proposals) and has no
// ready work left: a quiescence point for deterministic tests. It fails
// if ctx ends or the store stops first.
func (s *Store) Barrier(ctx context.Context) error {
	b := make(chan struct{})
	if err := s.enqueueInbox(inboxItem{barrier: b}); err != nil {
		return err
	}
	select {
	case <-b:
		return nil
	case <-s.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fail records a fatal error and fails every pending proposal.
func (s *Store) fail(err error) {
	s.logger.Error("replica: store failed", "err", err)
	s.mu.Lock()
	if s.mu.failed == nil {
		s.mu.failed = err
	}
	s.mu.Unlock()
	s.shutdown(err)
	s.statusChanged()
}

// shutdown closes every partition's queue and fails its proposals.
func (s *Store) shutdown(cause error) {
	for _, p := range s.partitions {
		p.close(cause)
	}
}

// readyGroup is one partition's Ready in the current iteration.
type readyGroup struct {
	p  *partition
	rd raft.Ready
	// appendMsg and applyMsg are the Ready's local storage messages (raft
	// runs with AsyncStorageWrites): the append of rd.Entries, rd.HardState
	// and rd.Snapshot, and the application of rd.CommittedEntries. Their
	// Responses are delivered once the write is done (durable, for an
	// append that needs it).
	appendMsg, applyMsg *raftpb.Message
	// out are the Ready's messages for other nodes, sendable at once.
	out []*raftpb.Message
}

// split sorts the Ready's messages into the local storage messages and
// the ones for other nodes.
func (g *readyGroup) split() {
	for _, m := range g.rd.Messages {
		switch m.GetTo() {
		case raft.LocalAppendThread:
			g.appendMsg = m
		case raft.LocalApplyThread:
			g.applyMsg = m
		default:
			g.out = append(g.out, m)
		}
	}
}

// applyGroups applies the committed entries of every group in one unsynced
// batch (the log is the WAL, and raft hands out only entries that are
// durable here), with the applied states and any log truncations, then
// steps the apply responses and returns the proposals to complete.
func (s *Store) applyGroups(groups []readyGroup) ([]completion, error) {
	batch := s.engine.NewBatch()
	defer batch.Close()
	var completions []completion
	for i := range groups {
		g := &groups[i]
		if g.applyMsg == nil {
			continue
		}
		done, err := g.p.applyEntries(batch, g.applyMsg.GetEntries())
		if err != nil {
			return nil, err
		}
		completions = append(completions, done...)
		if err := g.p.maybeTruncate(batch); err != nil {
			return nil, err
		}
	}
	if !batch.Empty() {
		if err := batch.Commit(false); err != nil {
			return nil, fmt.Errorf("replica: applying entries: %w", err)
		}
	}
	for i := range groups {
		g := &groups[i]
		if g.applyMsg == nil {
			continue
		}
		for _, r := range g.applyMsg.GetResponses() {
			if err := g.p.rn.Step(r); err != nil {
				s.logger.Debug("replica: step apply response", "partition", g.p.id, "err", err)
			}
		}
	}
	return completions, nil
}

// iterate is one pass of the driver. It returns more=true when some group
// already has another Ready.
func (s *Store) iterate(tick bool, inbox []inboxItem) (more bool, err error) {
	var responses []inboxItem
	for _, item := range inbox {
		if item.barrier != nil {
			continue
		}
		if item.response {
			responses = append(responses, item)
			continue
		}
		p := s.partitions[item.partitionID]
		if item.msg == nil {
			p.rn.ReportUnreachable(item.unreachable)
			continue
		}
		if err := p.rn.Step(item.msg); err != nil {
			s.logger.Debug("replica: step", "partition", p.id, "type", item.msg.GetType(), "err", err)
		}
	}
	s.deliver(responses)
	if tick {
		for _, p := range s.partitions {
			p.rn.Tick()
			if !s.cfg.DisableLeaderBalancing || p.transferTo.Load() != 0 {
				p.maybeTransferLeadership()
			}
			p.tickLease()
		}
		s.recordDebugState()
	}
	// Proposals are handed to raft only while no append waits for its
	// fsync: those that come meanwhile gather in the queue and share the
	// next append and fsync (group commit), while the driver applies and
	// answers what is already durable. Without this gate every proposal
	// would get an append and a commit of its own. A leader of several
	// voters also holds them while a proposal of its own waits for its
	// quorum (awaitingCommit): every batch costs an fsync on every
	// replica, and a batch cut as soon as the leader's own fsync ended
	// went out before the followers' acknowledgements of the previous
	// one, so each batch was smaller and each commit cost more fsyncs.
	if s.syncer.empty() {
		if s.singleVoter {
			// Fast lane: lazy proposals are appended without an fsync and
			// applied by the next processReady, so they need not wait for
			// the fsync of the durable ones (see Command.Lazy).
			for _, p := range s.partitions {
				p.proposeLazy()
			}
			if _, err := s.processReady(); err != nil {
				return false, err
			}
		}
		for _, p := range s.partitions {
			if p.awaitingCommit() {
				continue
			}
			p.proposeQueued()
		}
	}
	return s.processReady()
}

// processReady handles the Ready of every group that has one. Raft runs
// with AsyncStorageWrites: the driver applies committed entries, writes
// the appends of every group in one batch and hands its fsync to the
// syncer, sends what may be sent before the fsync (a leader's appends to
// followers), and goes on with the next proposals while the fsync runs;
// the append responses (a follower's acknowledgement, the leader's own
// vote for its entries) come back through the inbox once it is durable.
func (s *Store) processReady() (more bool, err error) {
	var groups []readyGroup
	for _, id := range s.ids {
		p := s.partitions[id]
		if p.rn.HasReady() {
			g := readyGroup{p: p, rd: p.rn.Ready()}
			g.split()
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return false, nil
	}
	s.metrics.loopIterations.Add(1)

	// 1. Apply what is committed (and durable: raft hands out nothing
	//    else), waking its proposers before this iteration's append.
	completions, err := s.applyGroups(groups)
	if err != nil {
		return false, err
	}

	// 2. Append: snapshots, entries and hard states of every group in one
	//    batch, fsynced once if any group needs it, without waiting here.
	var pending pendingAppend
	batch := s.engine.NewBatch()
	for i := range groups {
		g := &groups[i]
		if g.appendMsg == nil {
			continue
		}
		if !raft.IsEmptySnap(g.rd.Snapshot) {
			if err := g.p.stageSnapshot(batch, g.rd.Snapshot); err != nil {
				batch.Close()
				return false, err
			}
			pending.sync = true
		}
		if g.rd.MustSync && !g.p.lazyReady(&g.rd) {
			pending.sync = true
		}
		if err := g.p.log.Append(batch, g.rd.Entries); err != nil {
			batch.Close()
			return false, err
		}
		g.p.noteAppended(g.rd.Entries)
		if !raft.IsEmptyHardState(g.rd.HardState) {
			if err := g.p.log.SetHardState(batch, g.rd.HardState); err != nil {
				batch.Close()
				return false, err
			}
		}
		s.metrics.entriesAppended.Add(uint64(len(g.rd.Entries)))
		for _, r := range g.appendMsg.GetResponses() {
			pending.responses = append(pending.responses, inboxItem{partitionID: g.p.id, msg: r, response: true})
		}
	}
	if batch.Empty() {
		batch.Close()
	} else {
		if pending.sync {
			err = batch.CommitNoSyncWait()
			pending.batch = batch
		} else {
			err = batch.Commit(false)
			batch.Close()
		}
		if err != nil {
			return false, fmt.Errorf("replica: persisting raft state: %w", err)
		}
	}
	for i := range groups {
		if !raft.IsEmptySnap(groups[i].rd.Snapshot) {
			if err := groups[i].p.snapshotApplied(); err != nil {
				return false, err
			}
		}
	}
	if pending.batch != nil || len(pending.responses) > 0 {
		switch {
		case pending.batch == nil && s.syncer.empty():
			// Nothing to wait for: deliver at once (the lazy fast lane).
			s.deliver(pending.responses)
		case s.singleVoter && s.syncer.empty():
			// A standalone node has nothing to do while its fsync runs
			// (no follower answers to count; new proposals wait for the
			// next append anyway): wait here, sparing the hand-offs.
			if err := s.syncer.wait(&pending); err != nil {
				return false, err
			}
			s.deliver(pending.responses)
		default:
			s.syncer.enqueue(&pending)
		}
	}

	// 3. Send the messages that need not wait for the append.
	var out []Message
	var snapTargets []readyGroup
	for i := range groups {
		g := &groups[i]
		for _, m := range g.out {
			msg := Message{PartitionID: g.p.id, Msg: m}
			if m.GetType() == raftpb.MsgSnap {
				if msg.Snap = s.snapshots.claim(m.GetSnapshot().GetData()); msg.Snap == nil {
					continue // released meanwhile: raft sends another
				}
				snapTargets = append(snapTargets, readyGroup{p: g.p, rd: raft.Ready{Messages: []*raftpb.Message{m}}})
			}
			out = append(out, msg)
		}
	}
	s.send(out)

	// 4. Report snapshots as sent: if one is lost, the follower rejects
	//    the next append and raft sends a new one.
	for _, t := range snapTargets {
		t.p.rn.ReportSnapshot(t.rd.Messages[0].GetTo(), raft.SnapshotFinish)
	}
	changed := false
	for _, p := range s.partitions {
		changed = p.publishStatus() || changed
		more = more || p.rn.HasReady()
	}
	if changed {
		s.statusChanged()
	}
	// Wake proposers last, so that Status already reflects their entry.
	for _, c := range completions {
		c.prop.finish(c.err)
	}
	return more, nil
}

// send hands messages to the transport (or drops them without one,
// releasing any snapshot they carry).
func (s *Store) send(out []Message) {
	if len(out) == 0 {
		return
	}
	if s.cfg.Transport != nil {
		s.cfg.Transport.Send(out)
		return
	}
	for _, m := range out {
		if m.Snap != nil {
			m.Snap.Close()
		}
	}
}

// deliver steps the responses addressed to this node and sends the others
// (driver only).
func (s *Store) deliver(responses []inboxItem) {
	var out []Message
	for _, r := range responses {
		if r.msg.GetTo() != s.cfg.NodeID {
			out = append(out, Message{PartitionID: r.partitionID, Msg: r.msg})
			continue
		}
		if err := s.partitions[r.partitionID].rn.Step(r.msg); err != nil {
			s.logger.Debug("replica: step append response", "partition", r.partitionID, "err", err)
		}
	}
	s.send(out)
}

// idle reports that no append waits for its fsync and nothing waits in
// the inbox: with no Ready left, the driver is quiescent (Barrier).
func (s *Store) idle() bool {
	if !s.syncer.empty() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, item := range s.mu.inbox {
		if item.barrier == nil {
			return false
		}
	}
	return true
}
