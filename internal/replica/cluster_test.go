package replica

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// memNetwork connects in-process stores. Messages are cloned (as if
// serialized) and delivered by calling Step; links can be cut.
type memNetwork struct {
	mu     sync.Mutex
	stores map[uint64]*Store
	cut    map[[2]uint64]bool // {from, to}
	// drop, when set, drops the messages it returns true for.
	drop func(from uint64, m Message) bool
}

func newMemNetwork() *memNetwork {
	return &memNetwork{stores: map[uint64]*Store{}, cut: map[[2]uint64]bool{}}
}

type memTransport struct {
	net  *memNetwork
	from uint64
}

func (t *memTransport) Send(msgs []Message) {
	for _, m := range msgs {
		to := m.Msg.GetTo()
		t.net.mu.Lock()
		dst, cut := t.net.stores[to], t.net.cut[[2]uint64{t.from, to}]
		if drop := t.net.drop; drop != nil && drop(t.from, m) {
			cut = true
		}
		t.net.mu.Unlock()
		if dst == nil || cut {
			if m.Snap != nil {
				m.Snap.Close()
			}
			continue
		}
		msg, err := m.Materialize()
		if err != nil {
			continue
		}
		_ = dst.Step(m.PartitionID, msg)
	}
}

func (n *memNetwork) set(id uint64, s *Store) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s == nil {
		delete(n.stores, id)
	} else {
		n.stores[id] = s
	}
}

// isolate cuts (or restores) every link to and from id.
func (n *memNetwork) isolate(id uint64, ids []uint64, cut bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, other := range ids {
		n.cut[[2]uint64{id, other}] = cut
		n.cut[[2]uint64{other, id}] = cut
	}
}

type testCluster struct {
	t       *testing.T
	net     *memNetwork
	ids     []uint64
	engines map[uint64]*storage.Engine
	stores  map[uint64]*Store
	cfg     Config
	// configure, when set, adjusts node id's configuration at each start.
	configure func(id uint64, cfg *Config)
}

func newTestCluster(t *testing.T, n int, cfg Config) *testCluster {
	return newTestClusterWith(t, n, cfg, nil)
}

func newTestClusterWith(t *testing.T, n int, cfg Config, configure func(id uint64, cfg *Config)) *testCluster {
	c := &testCluster{t: t, net: newMemNetwork(), engines: map[uint64]*storage.Engine{}, stores: map[uint64]*Store{}, cfg: cfg, configure: configure}
	for i := 1; i <= n; i++ {
		c.ids = append(c.ids, uint64(i))
		c.cfg.Peers = append(c.cfg.Peers, Peer{ID: uint64(i), Addr: fmt.Sprintf("n%d", i)})
	}
	for _, id := range c.ids {
		c.engines[id] = openTestEngine(t, storage.Options{InMemory: true})
		c.start(id)
	}
	t.Cleanup(func() {
		for _, id := range c.ids {
			c.stop(id)
			_ = c.engines[id].Close()
		}
	})
	return c
}

func (c *testCluster) start(id uint64) {
	cfg := c.cfg
	cfg.NodeID = id
	cfg.Engine = c.engines[id]
	cfg.Transport = &memTransport{net: c.net, from: id}
	cfg.Logger = quietLogger()
	if c.configure != nil {
		c.configure(id, &cfg)
	}
	s, err := NewStore(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.net.set(id, s)
	if err := s.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.stores[id] = s
}

func (c *testCluster) stop(id uint64) {
	if s := c.stores[id]; s != nil {
		c.net.set(id, nil)
		s.Stop()
		delete(c.stores, id)
	}
}

// leader waits until exactly one running store is the ready leader of the
// partition and returns its id.
func (c *testCluster) leader(partitionID uint64) uint64 {
	var leader uint64
	succeedsSoon(c.t, 20*time.Second, func() error {
		leader = 0
		for id, s := range c.stores {
			st, err := s.Status(partitionID)
			if err != nil {
				return err
			}
			if st.Ready {
				if leader != 0 {
					return fmt.Errorf("two ready leaders: %d and %d", leader, id)
				}
				leader = id
			}
		}
		if leader == 0 {
			return errors.New("no ready leader")
		}
		return nil
	})
	return leader
}

// propose retries retryable errors on whichever node leads.
func (c *testCluster) propose(partitionID uint64, cmd Command) {
	succeedsSoon(c.t, 20*time.Second, func() error {
		s := c.stores[c.leader(partitionID)]
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return s.Propose(ctx, partitionID, cmd)
	})
}

// converged waits until every running store has applied the same data.
func (c *testCluster) converged(partitionID uint64) map[string]string {
	var want map[string]string
	succeedsSoon(c.t, 20*time.Second, func() error {
		leader := c.leader(partitionID)
		lst, _ := c.stores[leader].Status(partitionID)
		want = dumpSpan(c.t, c.engines[leader], partitionID)
		for id, s := range c.stores {
			st, err := s.Status(partitionID)
			if err != nil {
				return err
			}
			if st.AppliedIndex < lst.AppliedIndex {
				return fmt.Errorf("node %d applied %d < leader's %d", id, st.AppliedIndex, lst.AppliedIndex)
			}
			if err := sameMaps(want, dumpSpan(c.t, c.engines[id], partitionID)); err != nil {
				return fmt.Errorf("node %d: %w", id, err)
			}
		}
		return nil
	})
	return want
}

func clusterConfig() Config {
	// 20 ms ticks: elections in ~200-400 ms, heartbeats every 20 ms.
	// Leases of 400 ms (100 ms clock offset): a new leader waits at most
	// that long for its predecessor's lease to run out.
	return Config{Partitions: 2, TickInterval: 20 * time.Millisecond,
		LeaseDuration: 400 * time.Millisecond, MaxClockOffset: 100 * time.Millisecond}
}

func TestClusterReplicatesAndFailsOver(t *testing.T) {
	c := newTestCluster(t, 3, clusterConfig())
	for _, partitionID := range []uint64{1, 2} {
		for i := range 20 {
			c.propose(partitionID, put(partitionID, fmt.Sprintf("k%d", i), "v1"))
		}
		if data := c.converged(partitionID); len(data) != 20 {
			t.Fatalf("partition %d: %d keys", partitionID, len(data))
		}
	}

	// A follower refuses proposals with a retryable error.
	leader := c.leader(1)
	for _, id := range c.ids {
		if id != leader {
			err := c.stores[id].Propose(context.Background(), 1, put(1, "x", "y"))
			var retry *kvpb.RetryError
			if !errors.As(err, &retry) {
				t.Fatalf("follower %d propose: %v", id, err)
			}
			break
		}
	}

	// Kill the leader: another node takes over and writes continue.
	oldTerm, _ := c.stores[leader].Status(1)
	c.stop(leader)
	newLeader := c.leader(1)
	if newLeader == leader {
		t.Fatal("stopped node still leads")
	}
	if st, _ := c.stores[newLeader].Status(1); st.Term <= oldTerm.Term {
		t.Fatalf("new leader term %d, old %d", st.Term, oldTerm.Term)
	}
	c.propose(1, put(1, "after-failover", "v2"))

	// The old leader comes back and catches up.
	c.start(leader)
	data := c.converged(1)
	if data[string(dataKey(1, "after-failover"))] != "v2" || len(data) != 21 {
		t.Fatalf("after restart: %d keys", len(data))
	}
}

func TestClusterMinorityRefusesWrites(t *testing.T) {
	c := newTestCluster(t, 3, clusterConfig())
	leader := c.leader(1)
	c.propose(1, put(1, "before", "v"))
	// Cut the leader off: it cannot commit; the majority elects a new leader.
	c.net.isolate(leader, c.ids, true)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	err := c.stores[leader].Propose(ctx, 1, put(1, "minority", "v"))
	cancel()
	// Three outcomes are right: refused (retry), proposed but not
	// committed (ambiguous), or still queued when the caller gave up —
	// the leader holds its queue while a proposal of its term (often a
	// lease extension sent just before the cut) waits for a quorum, until
	// CheckQuorum makes it step down; on a loaded machine that can take
	// longer than the deadline. An abandoned queued proposal is never
	// handed to raft, which the check after healing confirms.
	var amb *kvpb.AmbiguousError
	var retry *kvpb.RetryError
	if !errors.As(err, &amb) && !errors.As(err, &retry) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("minority write: %v", err)
	}
	succeedsSoon(t, 20*time.Second, func() error {
		for _, id := range c.ids {
			st, _ := c.stores[id].Status(1)
			if id != leader && st.Ready {
				return nil
			}
		}
		return errors.New("majority has no leader yet")
	})
	// With CheckQuorum the isolated leader steps down.
	succeedsSoon(t, 20*time.Second, func() error {
		if st, _ := c.stores[leader].Status(1); st.Leader {
			return errors.New("isolated node still thinks it leads")
		}
		return nil
	})
	c.propose(1, put(1, "majority", "v"))
	c.net.isolate(leader, c.ids, false)
	data := c.converged(1)
	if _, ok := data[string(dataKey(1, "minority"))]; ok {
		t.Fatal("a write proposed on the minority side was applied")
	}
	if len(data) != 2 {
		t.Fatalf("%d keys after healing", len(data))
	}
}

func TestClusterLaggingFollowerGetsSnapshot(t *testing.T) {
	cfg := clusterConfig()
	cfg.Partitions = 1
	cfg.TruncateEntries = 50
	c := newTestCluster(t, 3, cfg)
	leader := c.leader(1)
	var lagging uint64
	for _, id := range c.ids {
		if id != leader {
			lagging = id
		}
	}
	c.propose(1, put(1, "early", "v"))
	c.converged(1)
	c.stop(lagging)
	for i := range 300 {
		c.propose(1, put(1, fmt.Sprintf("k%03d", i), fmt.Sprintf("v%d", i)))
	}
	c.propose(1, Command{Writes: []Write{{Key: dataKey(1, "early"), Delete: true}}})
	// The leader's log no longer reaches back to what the follower has.
	lst, _ := c.stores[c.leader(1)].Status(1)
	if lst.FirstIndex < 100 {
		t.Fatalf("leader log not truncated: %+v", lst)
	}
	c.start(lagging)
	data := c.converged(1)
	if len(data) != 300 {
		t.Fatalf("%d keys", len(data))
	}
	if n := c.stores[lagging].Metrics().SnapshotsApplied; n == 0 {
		t.Fatal("lagging follower caught up without a snapshot")
	}
	// It also restarts from the snapshot state.
	c.stop(lagging)
	c.start(lagging)
	c.propose(1, put(1, "last", "v"))
	if data := c.converged(1); len(data) != 301 {
		t.Fatalf("%d keys after follower restart", len(data))
	}
}

func TestClusterSpreadsLeaders(t *testing.T) {
	cfg := clusterConfig()
	cfg.Partitions = 3
	c := newTestCluster(t, 3, cfg)
	// Partition p settles on node p (voters dealt round-robin).
	succeedsSoon(t, 20*time.Second, func() error {
		for partitionID := uint64(1); partitionID <= 3; partitionID++ {
			st, err := c.stores[partitionID].Status(partitionID)
			if err != nil {
				return err
			}
			if !st.Ready {
				return fmt.Errorf("node %d does not lead partition %d: %+v", partitionID, partitionID, st)
			}
		}
		return nil
	})
	// The lease moved with leadership: the preferred node holds it.
	for partitionID := uint64(1); partitionID <= 3; partitionID++ {
		if holder := c.leaseholder(partitionID); holder != partitionID {
			t.Fatalf("partition %d: leaseholder %d", partitionID, holder)
		}
	}
	// Writes keep working after the transfers.
	for partitionID := uint64(1); partitionID <= 3; partitionID++ {
		c.propose(partitionID, put(partitionID, "k", "v"))
		c.converged(partitionID)
	}
}

// TestOnSettledWaitsForAnInFlightCommand: a proposal whose caller gives up
// while it is in flight returns an ambiguous error at once, but its
// OnSettled runs only once its fate is known (here: overwritten after the
// isolated leader rejoins), exactly once; for a proposal that settles
// normally it runs before Propose returns.
func TestOnSettledWaitsForAnInFlightCommand(t *testing.T) {
	c := newTestCluster(t, 3, clusterConfig())
	leader := c.leader(1)

	var settledNow atomic.Int32
	cmd := put(1, "before", "v")
	cmd.OnSettled = func() { settledNow.Add(1) }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := c.stores[leader].Propose(ctx, 1, cmd); err != nil {
		t.Fatal(err)
	}
	cancel()
	if n := settledNow.Load(); n != 1 {
		t.Fatalf("OnSettled ran %d times for an applied command before Propose returned", n)
	}

	var settled chan struct{}
	for attempt := 1; ; attempt++ {
		c.net.isolate(leader, c.ids, true)
		settled = make(chan struct{}, 2)
		cmd = put(1, "minority", "v")
		cmd.OnSettled = func() { settled <- struct{}{} }
		ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.stores[leader].Propose(ctx, 1, cmd)
		cancel()
		var amb *kvpb.AmbiguousError
		if errors.As(err, &amb) {
			break
		}
		// The leader holds its queue while a proposal of its own term
		// waits for a quorum: a lease extension sent just before the cut
		// keeps this one queued, never handed to raft, until the context
		// ends. Then it is settled at once; heal and try again.
		if !errors.Is(err, context.DeadlineExceeded) || attempt == 5 {
			t.Fatalf("in-flight proposal whose context ended: %v, want an ambiguous error", err)
		}
		select {
		case <-settled:
		default:
			t.Fatal("a proposal abandoned in the queue was not settled")
		}
		c.net.isolate(leader, c.ids, false)
		leader = c.leader(1)
	}
	select {
	case <-settled:
		t.Fatal("OnSettled ran while the command was still in flight")
	default:
	}
	// The majority moves on; once the old leader hears of it, its entry is
	// overwritten and the command settles.
	succeedsSoon(t, 20*time.Second, func() error {
		for _, id := range c.ids {
			if st, _ := c.stores[id].Status(1); id != leader && st.Ready {
				return nil
			}
		}
		return errors.New("majority has no leader yet")
	})
	c.propose(1, put(1, "majority", "v"))
	c.net.isolate(leader, c.ids, false)
	c.converged(1)
	select {
	case <-settled:
	case <-time.After(20 * time.Second):
		t.Fatal("OnSettled never ran after the in-flight command was overwritten")
	}
	select {
	case <-settled:
		t.Fatal("OnSettled ran twice")
	default:
	}
}

// A leader of several voters holds new proposals while one of its own
// waits for its quorum, so that they share the next append (and its fsync
// on every replica) instead of going out one append each. With the
// followers' acknowledgements dropped, the first proposal is appended and
// stays uncommitted; five more wait in the queue through driver
// iterations; once the acknowledgements flow, all six commit.
func TestLeaderHoldsProposalsWhileOneAwaitsItsQuorum(t *testing.T) {
	c := newTestCluster(t, 3, clusterConfig())
	leader := c.leader(1)
	s := c.stores[leader]
	var dropAcks atomic.Bool
	dropAcks.Store(true)
	c.net.mu.Lock()
	c.net.drop = func(from uint64, m Message) bool {
		return dropAcks.Load() && from != leader && m.Msg.GetType() == raftpb.MsgAppResp
	}
	c.net.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errs := make(chan error, 6)
	propose := func(k string) {
		go func() { errs <- s.Propose(ctx, 1, put(1, k, "v")) }()
	}
	st0, _ := s.Status(1)
	propose("first")
	succeedsSoon(t, 10*time.Second, func() error {
		if st, _ := s.Status(1); st.LastIndex <= st0.LastIndex {
			return errors.New("the first proposal is not appended yet")
		}
		return nil
	})
	handed := s.Metrics().Proposals
	p := s.partitions[1]
	queued := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.mu.queue)
	}
	for i := range 5 {
		propose(fmt.Sprintf("next-%d", i))
	}
	succeedsSoon(t, 10*time.Second, func() error {
		if n := queued(); n < 5 {
			return fmt.Errorf("%d proposals queued", n)
		}
		return nil
	})
	for range 3 { // driver iterations after the five were queued
		if err := s.Barrier(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Metrics().Proposals; got != handed {
		t.Fatalf("the leader handed raft %d more proposals while its first awaited its quorum", got-handed)
	}
	if st, _ := s.Status(1); st.CommitIndex > st0.LastIndex {
		t.Fatalf("committed %d without acknowledgements (last index before: %d)", st.CommitIndex, st0.LastIndex)
	}
	dropAcks.Store(false)
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatalf("proposal once the acknowledgements flow: %v", err)
		}
	}
	got := dumpSpan(t, c.engines[leader], 1)
	for _, k := range []string{"first", "next-0", "next-4"} {
		if got[string(dataKey(1, k))] != "v" {
			t.Fatalf("key %s not applied: %v", k, got)
		}
	}
}

// TestLeaderDoesNotWaitForProposalsOfAnOldTerm: a leader holds its queue
// while a proposal of its own awaits its quorum, but a proposal appended
// in an earlier term may have been overwritten since, and then it never
// commits. Here the leader appends three proposals that reach no one, is
// deposed (the new leader's empty entry replaces the first), and is
// elected again (its own empty entry replaces the second): the third sits
// above the commit index in no log. Waiting for it held every later
// proposal, lease commands included, for good — the fault runs' storm of
// leader pauses ended that way (a leader whose lease expired and was
// never renewed, every replica at one applied index). The stale ones must
// also settle with nothing else proposed (settleOverwritten): the leader
// proposes no lease command while its last one is in flight.
func TestLeaderDoesNotWaitForProposalsOfAnOldTerm(t *testing.T) {
	cfg := clusterConfig()
	cfg.Partitions = 1
	cfg.DisableLeaderBalancing = true
	// Long leases: no lease command lands in the logs while the test
	// runs (extensions come after half of it; the next leader would wait
	// for it to expire), so the entry indexes below are the test's own.
	cfg.LeaseDuration = time.Minute
	c := newTestCluster(t, 3, cfg)
	old := c.leader(1)
	s := c.stores[old]
	succeedsSoon(t, 10*time.Second, func() error {
		if st, _ := s.Status(1); st.Lease.Holder != old || st.Lease.Incarnation == 0 || st.AppliedIndex != st.LastIndex {
			return fmt.Errorf("lease not settled: %+v", st)
		}
		return nil
	})
	var other uint64
	for _, id := range c.ids {
		if id != old && other == 0 {
			other = id
		}
	}
	ready := func(id uint64) {
		t.Helper()
		succeedsSoon(t, 10*time.Second, func() error {
			if st, _ := c.stores[id].Status(1); !st.Ready {
				return fmt.Errorf("node %d is not the ready leader: %+v", id, st)
			}
			return nil
		})
	}
	c.net.mu.Lock()
	c.net.drop = func(from uint64, m Message) bool { return from == old && m.Msg.GetType() == raftpb.MsgApp }
	c.net.mu.Unlock()

	// Three proposals queued at once go into one append.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st0, _ := s.Status(1)
	p := s.partitions[1]
	var stale []*proposal
	for i := range 3 {
		cmd := put(1, fmt.Sprintf("stale-%d", i), "v")
		seq := s.nextSeq.Add(1)
		stale = append(stale, &proposal{seq: seq, data: encodeCommand(commandHeader{nodeID: old, seq: seq}, &cmd), done: make(chan error, 1)})
	}
	p.mu.Lock()
	p.mu.queue = append(p.mu.queue, stale...)
	p.mu.Unlock()
	s.signal()
	succeedsSoon(t, 10*time.Second, func() error {
		if st, _ := s.Status(1); st.LastIndex < st0.LastIndex+3 {
			return fmt.Errorf("last index %d, want %d", st.LastIndex, st0.LastIndex+3)
		}
		return nil
	})

	// Depose it: another node wins with the third one's vote.
	c.net.isolate(old, c.ids, true)
	if err := c.stores[other].ForceCampaign(1); err != nil {
		t.Fatal(err)
	}
	ready(other)
	c.net.mu.Lock()
	c.net.drop = nil
	c.net.mu.Unlock()
	c.net.isolate(old, c.ids, false)
	lst, _ := c.stores[other].Status(1)
	succeedsSoon(t, 10*time.Second, func() error {
		if st, _ := s.Status(1); st.Leader || st.Term != lst.Term || st.AppliedIndex < lst.AppliedIndex {
			return fmt.Errorf("deposed leader: %+v, new leader's: %+v", st, lst)
		}
		return nil
	})
	// Elected again, it appends an empty entry of its new term.
	if err := s.ForceCampaign(1); err != nil {
		t.Fatal(err)
	}
	ready(old)
	st, _ := s.Status(1)
	if st.CommitIndex >= st0.LastIndex+3 {
		t.Fatalf("commit %d, last index before the stale proposals %d: the set-up did not leave one above the commit index", st.CommitIndex, st0.LastIndex)
	}
	// The stale proposals fail (retryable) with nothing else proposed:
	// one of them could be the lease command the leader waits for. (The
	// next entry would otherwise be the lease extension, half a minute
	// after the lease began.)
	settleCtx, settleCancel := context.WithTimeout(ctx, 10*time.Second)
	defer settleCancel()
	for i, prop := range stale {
		select {
		case err := <-prop.done:
			var retry *kvpb.RetryError
			if !errors.As(err, &retry) {
				t.Fatalf("stale proposal %d: %v, want a retry error", i, err)
			}
		case <-settleCtx.Done():
			t.Fatalf("stale proposal %d did not settle", i)
		}
	}
	// And a new proposal commits.
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	if err := s.Propose(pctx, 1, put(1, "fresh", "v")); err != nil {
		t.Fatalf("a proposal after the leader's re-election: %v (it waited for a proposal of an old term)", err)
	}
}

// A leader that Config.KeepLeadership tells to keep a partition does not
// hand it back to the partition's preferred node; a TransferLease target
// still moves it, and without keep balancing resumes. This is how a lease
// that followed the workload (kvremote.Follower) stays where it went.
func TestKeepLeadershipHoldsOffBalancing(t *testing.T) {
	cfg := clusterConfig()
	cfg.Partitions = 1
	keep := map[uint64]*atomic.Bool{1: {}, 2: {}, 3: {}}
	c := newTestClusterWith(t, 3, cfg, func(id uint64, cfg *Config) {
		cfg.KeepLeadership = func(uint64) bool { return keep[id].Load() }
	})
	// Partition 1's preferred node is node 1.
	succeedsSoon(t, 20*time.Second, func() error {
		if l := c.leader(1); l != 1 {
			return fmt.Errorf("leader %d", l)
		}
		return nil
	})
	keep[2].Store(true)
	if err := c.stores[1].TransferLease(1, 2); err != nil {
		t.Fatal(err)
	}
	succeedsSoon(t, 20*time.Second, func() error {
		if l := c.leader(1); l != 2 {
			return fmt.Errorf("leader %d", l)
		}
		return nil
	})
	if holder := c.leaseholder(1); holder != 2 {
		t.Fatalf("leaseholder %d", holder)
	}
	if err := c.stores[1].TransferLease(1, 0); err != nil { // withdraw the request
		t.Fatal(err)
	}
	// Node 2 keeps leading through many ticks: every proposal through it
	// succeeds (balancing would move leadership to node 1 within a tick
	// or two, failing the next proposal with a retry error).
	start := time.Now()
	for i := 0; time.Since(start) < 15*cfg.TickInterval; i++ {
		if err := c.stores[2].Propose(context.Background(), 1, put(1, fmt.Sprintf("k%d", i), "v")); err != nil {
			t.Fatalf("proposal %d through node 2 after %v: %v", i, time.Since(start), err)
		}
	}
	keep[2].Store(false)
	succeedsSoon(t, 20*time.Second, func() error {
		if l := c.leader(1); l != 1 {
			return fmt.Errorf("leader %d, want the preferred node back", l)
		}
		return nil
	})
}
