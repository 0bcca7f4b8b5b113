package replica

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/replica/lease"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// Leases (see lease/lease.go and OVERVIEW.md "Leases"). In a group with
// several voters only the leaseholder evaluates requests, and only while
// its lease is valid by its clock; the lease changes only through the Raft
// log. A group with a single voter has no lease record: no other replica
// exists that could serve, so its ready leader always serves.

// leaseKey is where the lease record lives: a partition-local key in the
// data span (so snapshots carry it) that MVCC reserves for it.
func leaseKey(partitionID uint64) []byte { return mvcc.LeaseKey(partitionID) }

func readLease(engine *storage.Engine, partitionID uint64) (lease.Lease, error) {
	b, found, err := engine.Get(leaseKey(partitionID))
	if err != nil || !found {
		return lease.Lease{}, err
	}
	l, err := lease.Decode(b)
	if err != nil {
		return lease.Lease{}, &kvpb.CorruptionError{What: fmt.Sprintf("partition %d lease record", partitionID)}
	}
	return l, nil
}

// maxTransferWaitTicks bounds how long a holder that stopped admitting
// requests for a transfer waits for admitted ones to finish before it gives
// the transfer up and serves again.
const maxTransferWaitTicks = 20

// LeaseStatus is the lease a request was admitted under (see Admit).
type LeaseStatus struct {
	// Term is the Raft term to evaluate commands in (Command.EvalTerm).
	Term uint64
	// Seq identifies the lease: it changes whenever another lease (or
	// another incarnation's) takes over. In a single-voter group it is the
	// term.
	Seq uint64
	// Start is the lease's start: no request of an earlier leaseholder was
	// served at a later timestamp.
	Start hlc.Timestamp
}

// errNotLeaseholder is the retryable answer of Admit.
func errNotLeaseholder(partitionID, nodeID uint64, why string) error {
	return &kvpb.RetryError{Reason: fmt.Sprintf("partition %d: node %d does not hold a valid lease (%s)", partitionID, nodeID, why)}
}

// Admit admits one request to be evaluated by this node as the partition's
// leaseholder: it succeeds only if this node is the ready Raft leader and
// holds a lease valid at the clock's current reading (now + max offset <
// expiration), and no lease transfer is under way. The caller must call
// release once the request is evaluated (its reads recorded, its command
// proposed): a transfer starts only after every admitted request was
// released, at a timestamp above all of them. Errors are
// *kvpb.RetryError (try the leaseholder, or later) or the store's fatal
// error.
func (s *Store) Admit(partitionID uint64) (st LeaseStatus, release func(), err error) {
	p, err := s.partition(partitionID)
	if err != nil {
		return LeaseStatus{}, nil, err
	}
	status, err := s.Status(partitionID)
	if err != nil {
		return LeaseStatus{}, nil, err
	}
	if !status.Leader || !status.Ready {
		return LeaseStatus{}, nil, errNotLeaseholder(partitionID, s.cfg.NodeID, fmt.Sprintf("not the ready leader; leader %d", status.LeaderID))
	}
	if p.singleVoter {
		return LeaseStatus{Term: status.Term, Seq: status.Term}, func() {}, nil
	}
	now := s.cfg.Clock.Now()
	p.lm.Lock()
	l := p.lm.lease
	switch {
	case p.lm.transferring:
		p.lm.Unlock()
		return LeaseStatus{}, nil, errNotLeaseholder(partitionID, s.cfg.NodeID, "transferring the lease")
	case !l.Serves(s.cfg.NodeID, s.incarnation, now, s.cfg.MaxClockOffset):
		p.lm.Unlock()
		return LeaseStatus{}, nil, errNotLeaseholder(partitionID, s.cfg.NodeID, l.String())
	}
	p.lm.inflight++
	p.lm.Unlock()
	release = func() {
		p.lm.Lock()
		p.lm.inflight--
		p.lm.Unlock()
	}
	return LeaseStatus{Term: status.Term, Seq: l.Seq, Start: l.Start}, release, nil
}

func (p *partition) setTransferring(on bool) {
	p.lm.Lock()
	p.lm.transferring = on
	p.lm.Unlock()
	p.transferTicks = 0
}

func (p *partition) transferring() bool {
	p.lm.Lock()
	defer p.lm.Unlock()
	return p.lm.transferring
}

// proposeLease queues a lease command evaluated in the current term.
func (p *partition) proposeLease(kind lease.Kind, l lease.Lease) {
	term := p.rn.BasicStatus().HardState.GetTerm()
	seq := p.store.nextSeq.Add(1)
	prop := &proposal{
		seq:      seq,
		evalTerm: term,
		data:     encodeLeaseCommand(commandHeader{nodeID: p.store.cfg.NodeID, seq: seq, evalTerm: term}, lease.Request{Kind: kind, Lease: l}),
		done:     make(chan error, 1),
	}
	if err := p.enqueue(prop); err != nil {
		return
	}
	p.leaseProp, p.leasePropKind = prop, kind
	p.logger.Debug("replica: proposing lease", "kind", kind, "lease", l)
}

// tickLease runs on every tick: it collects the outcome of the lease
// command in flight and, on a ready leader, extends this node's lease when
// less than half of it is left, binds a lease transferred to it, acquires
// one once the current lease has expired, and carries a transfer on. A
// node that is not the ready leader never proposes a lease command.
func (p *partition) tickLease() {
	if p.singleVoter {
		return
	}
	p.settleOverwritten()
	s := p.store
	if p.leaseProp != nil {
		select {
		case err := <-p.leaseProp.done:
			p.leaseCommandDone(err)
			p.leaseProp = nil
		default:
			return
		}
	}
	now := s.cfg.Clock.Now()
	me, inc := s.cfg.NodeID, s.incarnation
	cur := p.lease
	if p.transferring() && (cur.Holder != me || cur.Incarnation != inc || !now.Less(cur.Expiration)) {
		// Handed over, or expired after a transfer whose outcome is
		// unknown. In the latter case the transfer (sequence + 1) might
		// still apply: never extend this lease again (an extension applied
		// before it would let the transfer start below reads served under
		// the extension); acquire a new one, which the transfer then loses
		// to, or which loses to it.
		p.reacquire = cur.Holder == me
		p.setTransferring(false)
	}
	bs := p.rn.BasicStatus()
	if bs.RaftState != raft.StateLeader || p.applied.Term != bs.HardState.GetTerm() {
		return
	}
	duration := s.cfg.LeaseDuration
	expiration := hlc.Timestamp{WallTime: now.WallTime + int64(duration)}
	switch {
	case cur.Holder == me && cur.Incarnation == inc && !p.reacquire:
		if p.transferring() {
			p.continueTransfer(now)
			return
		}
		if cur.Expiration.WallTime-now.WallTime < int64(duration/2) {
			next := cur
			next.Expiration = expiration
			p.proposeLease(lease.Extend, next)
		}
	case cur.Holder == me && cur.Incarnation == 0:
		next := cur
		next.Incarnation, next.Expiration = inc, expiration
		p.proposeLease(lease.Extend, next) // bind the lease handed to us
	case cur.Expiration.Less(now):
		p.proposeLease(lease.Acquire, lease.Lease{
			Holder: me, Incarnation: inc, Seq: cur.Seq + 1, Start: now, Expiration: expiration,
		})
	}
}

// leaseCommandDone handles the outcome of this node's lease command: a
// transfer that failed gives the lease back to this node's use, unless its
// outcome is unknown (it may still apply; tickLease stops the transfer once
// the lease record names another holder or the lease expires).
func (p *partition) leaseCommandDone(err error) {
	if p.leasePropKind != lease.Transfer || err == nil {
		return
	}
	var ambiguous *kvpb.AmbiguousError
	if errors.As(err, &ambiguous) {
		return
	}
	p.logger.Info("replica: lease transfer failed; serving again", "err", err)
	p.setTransferring(false)
}

// beginTransfer stops admitting requests so the lease can be handed to
// target once the admitted ones are done (continueTransfer).
func (p *partition) beginTransfer(target uint64) {
	p.transferTarget = target
	p.setTransferring(true)
}

func (p *partition) continueTransfer(now hlc.Timestamp) {
	p.lm.Lock()
	inflight := p.lm.inflight
	p.lm.Unlock()
	if inflight > 0 {
		p.transferTicks++
		if p.transferTicks > maxTransferWaitTicks {
			p.logger.Info("replica: lease transfer given up: requests still running", "inflight", inflight)
			p.setTransferring(false)
		}
		return
	}
	// Every request admitted under the lease is done, so every timestamp
	// it served or recorded is at or below the clock: now is above them.
	cur := p.lease
	p.proposeLease(lease.Transfer, lease.Lease{
		Holder: p.transferTarget, Seq: cur.Seq + 1, Start: now,
		Expiration: hlc.Timestamp{WallTime: now.WallTime + int64(p.store.cfg.LeaseDuration)},
	})
}

// applyLease applies a lease command staged into w. It returns the
// command's result for its proposer (a lease.ErrRejected refusal or nil).
func (p *partition) applyLease(w storage.Writer, proposer uint64, data []byte) (result, stageErr error) {
	req, err := lease.DecodeRequest(data)
	if err != nil {
		return errBadCommand, nil
	}
	next, err := lease.Apply(p.lease, proposer, req)
	if err != nil {
		return err, nil
	}
	if err := w.Set(leaseKey(p.id), next.Encode()); err != nil {
		return nil, err
	}
	if next.Holder != p.lease.Holder || next.Seq != p.lease.Seq {
		p.logger.Info("replica: new lease", "kind", req.Kind, "lease", next)
		p.reacquire = false
	}
	p.lease = next
	return nil, nil
}

// publishLease makes the applied lease the one Admit checks. Called with
// the applied state committed to the engine.
func (p *partition) publishLease() {
	p.lm.Lock()
	p.lm.lease = p.lease
	p.lm.Unlock()
}
