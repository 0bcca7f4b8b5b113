// Package kvsim is an in-process cluster of the replica + kv stack whose
// time, network and node lifetimes belong to the test: every node's Raft
// ticks only when the test says so (replica.Config.Ticks), every node reads
// one manual wall clock (plus a per-node skew the test sets), and every
// Raft message and kv request crosses a simulated network whose links the
// test can cut, hold (queue until released, optionally reordered or
// duplicated) or heal. Nodes can be crashed (only synced data survives)
// and restarted.
//
// Nothing moves on its own: an election happens because the test ticked,
// a lease expires because the test advanced the clock. That makes hazards
// (a deposed leaseholder serving a read, a write placed below a read the
// previous leaseholder served, a skewed clock) reproducible step by step;
// the datadriven scripts in testdata drive it (see kvsim_test.go).
package kvsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// Options configures a Cluster.
type Options struct {
	Nodes      int           // default 3
	Partitions int           // default 1
	Tick       time.Duration // what one tick stands for (default 100 ms)
	// MaxOffset is the maximum clock offset (default 500 ms); leases last
	// 4 × MaxOffset, as in the product.
	MaxOffset time.Duration
	// TruncateEntries is replica.Config.TruncateEntries (0: its default);
	// small values make a lagging node catch up by snapshot.
	TruncateEntries uint64
}

// Cluster is the simulated cluster.
type Cluster struct {
	t    testing.TB
	opts Options
	wall *hlc.ManualClock
	net  *network
	ids  []uint64

	mu    sync.Mutex
	nodes map[uint64]*Node
	// abandon holds transactions whose coordinator gives up between
	// prepare and the commit record, as if it died there.
	abandon map[mvcc.TxnID]bool
}

// Node is one simulated node; its fields describe the current incarnation.
type Node struct {
	ID      uint64
	Skew    time.Duration // added to the shared wall clock for this node
	Clock   *hlc.Clock
	Engine  *storage.Engine
	Store   *replica.Store
	Server  *kvserver.Server
	DB      *kv.DB
	Epoch   uint64
	Running bool

	// engine opens the node's engine on its current file system; crash
	// replaces that with its crash image (only synced data).
	engine func() (*storage.Engine, error)
	crash  func()
	ticks  chan struct{}
	// disk injects disk faults into the current incarnation's engine;
	// stalled is set while its writes block (the driver cannot be waited
	// for then).
	disk    *storage.FaultFS
	stalled bool
}

// New starts a cluster and registers its shutdown with t.Cleanup. No node
// leads anything until the test ticks.
func New(t testing.TB, opts Options) *Cluster {
	if opts.Nodes <= 0 {
		opts.Nodes = 3
	}
	if opts.Partitions <= 0 {
		opts.Partitions = 1
	}
	if opts.Tick <= 0 {
		opts.Tick = 100 * time.Millisecond
	}
	if opts.MaxOffset <= 0 {
		opts.MaxOffset = 500 * time.Millisecond
	}
	c := &Cluster{
		t: t, opts: opts,
		wall:    hlc.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()),
		net:     newNetwork(),
		nodes:   map[uint64]*Node{},
		abandon: map[mvcc.TxnID]bool{},
	}
	for i := 1; i <= opts.Nodes; i++ {
		id := uint64(i)
		c.ids = append(c.ids, id)
		fs := storage.NewCrashableMemFS()
		n := &Node{ID: id}
		n.engine = func() (*storage.Engine, error) {
			n.disk = storage.NewFaultFS(fs)
			return storage.Open(storage.Options{FS: n.disk, Dir: "data", InMemory: true, CacheGroup: mvcc.CacheGroup, CacheWriteThrough: mvcc.CacheWriteThrough})
		}
		n.crash = func() { fs = storage.CrashClone(fs) }
		c.nodes[id] = n
	}
	for _, id := range c.ids {
		if err := c.start(c.nodes[id]); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, id := range c.ids {
			c.stop(c.nodes[id], false)
		}
	})
	return c
}

// IDs returns the node ids.
func (c *Cluster) IDs() []uint64 { return slices.Clone(c.ids) }

// Node returns node id.
func (c *Cluster) Node(id uint64) *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id]
}

func (c *Cluster) start(n *Node) error {
	engine, err := n.engine()
	if err != nil {
		return err
	}
	skew := &n.Skew
	n.Clock = hlc.NewClock(func() int64 { return c.wall.UnixNano() + int64(*skew) })
	peers := make([]replica.Peer, len(c.ids))
	for i, id := range c.ids {
		peers[i] = replica.Peer{ID: id, Addr: fmt.Sprintf("n%d", id)}
	}
	n.ticks = make(chan struct{})
	store, err := replica.NewStore(replica.Config{
		NodeID:                 n.ID,
		Peers:                  peers,
		Engine:                 engine,
		Partitions:             c.opts.Partitions,
		Transport:              &transport{net: c.net, from: n.ID},
		TickInterval:           c.opts.Tick,
		Ticks:                  n.ticks,
		DisableLeaderBalancing: true,
		TruncateEntries:        c.opts.TruncateEntries,
		Logger:                 quiet(),
		Clock:                  n.Clock,
		LeaseDuration:          4 * c.opts.MaxOffset,
		MaxClockOffset:         c.opts.MaxOffset,
	})
	if err == nil {
		err = store.Start()
	}
	if err != nil {
		_ = engine.Close()
		return fmt.Errorf("kvsim: start node %d: %w", n.ID, err)
	}
	n.Epoch++
	n.Engine, n.Store = engine, store
	n.Server = kvserver.New(engine, n.Clock, replicator{store})
	n.DB = kv.NewDB(kv.Config{
		Sender:            &router{c: c, from: n.ID},
		Clock:             n.Clock,
		NumPartitions:     c.opts.Partitions,
		NodeID:            n.ID,
		Epoch:             n.Epoch,
		UncertaintyWindow: c.opts.MaxOffset,
		Logger:            quiet(),
		Knobs: kv.TestingKnobs{BeforeCommitRecord: func(id mvcc.TxnID) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.abandon[id] {
				return errAbandoned
			}
			return nil
		}},
	})
	n.Running = true
	c.net.setStore(n.ID, store)
	return nil
}

// stop stops a node; with crash, only what its engine synced survives.
func (c *Cluster) stop(n *Node, crash bool) {
	if !n.Running {
		return
	}
	n.Running = false
	c.net.setStore(n.ID, nil)
	if crash {
		n.crash()
	}
	// A stalled or failing disk must not keep the node from stopping
	// (after a crash, nothing it writes counts any more).
	n.disk.Fail(nil)
	n.disk.Resume()
	n.stalled = false
	n.Store.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // background resolution is cut short, as in a crash
	n.DB.Close(ctx)
	_ = n.Engine.Close()
}

// errAbandoned is what an abandoned commit returns to its caller.
var errAbandoned = errors.New("kvsim: coordinator abandoned the commit after preparing")

// Abandon makes the commit of transaction id stop after its intents are
// laid and before its commit record, leaving them for others to clean up.
func (c *Cluster) Abandon(id mvcc.TxnID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.abandon[id] = true
}

// Crash kills node id: unsynced writes are lost.
func (c *Cluster) Crash(id uint64) { c.stop(c.Node(id), true) }

// Restart starts node id again (after Crash).
func (c *Cluster) Restart(id uint64) {
	n := c.Node(id)
	if n.Running {
		c.t.Fatalf("kvsim: node %d is running", id)
	}
	if err := c.start(n); err != nil {
		c.t.Fatal(err)
	}
}

// Tick ticks every running node in ids (all when empty) n times, moving
// the shared wall clock forward by one tick each time.
func (c *Cluster) Tick(n int, ids ...uint64) {
	if len(ids) == 0 {
		ids = c.ids
	}
	for i := 0; i < n; i++ {
		c.wall.Increment(c.opts.Tick)
		for _, id := range ids {
			if node := c.Node(id); node.Running && !node.stalled && node.alive() {
				select {
				case node.ticks <- struct{}{}:
				case <-time.After(30 * time.Second):
					c.t.Fatalf("kvsim: node %d's driver does not take ticks", id)
				}
			}
		}
		c.Settle()
	}
}

// alive reports whether the node's store still runs (a failed disk write
// stops it).
func (n *Node) alive() bool {
	_, err := n.Store.Status(1)
	return err == nil
}

// StallDisk makes node id's disk hang (writes and syncs block) until
// ResumeDisk. The node's Raft driver blocks on its next fsync, so the node
// is neither ticked nor waited for meanwhile.
func (c *Cluster) StallDisk(id uint64) {
	n := c.Node(id)
	n.stalled = true
	n.disk.Stall()
}

// ResumeDisk ends a stall.
func (c *Cluster) ResumeDisk(id uint64) {
	n := c.Node(id)
	n.disk.Resume()
	n.stalled = false
	c.Settle()
}

// FailDisk makes node id's writes and syncs fail with err (nil: succeed).
// A store whose log write fails stops (it cannot know what is durable).
func (c *Cluster) FailDisk(id uint64, err error) {
	c.Node(id).disk.Fail(err)
}

// Campaign makes node id start an election for the partition at once, as
// the target of a leadership transfer does (MsgTimeoutNow): no pre-vote,
// and voters grant even while they believe in a live leader. Which node
// wins an election is then the test's choice, not the random election
// timeouts'.
func (c *Cluster) Campaign(id, partitionID uint64) {
	n := c.Node(id)
	if !n.Running {
		c.t.Fatalf("kvsim: node %d is stopped", id)
	}
	_ = n.Store.ForceCampaign(partitionID)
	c.Settle()
}

// Advance moves the shared wall clock without ticking anyone.
func (c *Cluster) Advance(d time.Duration) { c.wall.Increment(d) }

// Leaseholder returns the running node that admits requests for the
// partition, 0 when none does, and fails the test when two do.
func (c *Cluster) Leaseholder(partitionID uint64) uint64 {
	var holder uint64
	for _, id := range c.ids {
		n := c.Node(id)
		if !n.Running {
			continue
		}
		_, release, err := n.Store.Admit(partitionID)
		if err != nil {
			continue
		}
		release()
		if holder != 0 {
			c.t.Fatalf("kvsim: nodes %d and %d both admit requests for partition %d", holder, id, partitionID)
		}
		holder = id
	}
	return holder
}

// network carries Raft messages between the stores. Each ordered link is
// up, cut (messages dropped) or held (messages queued until released).
type network struct {
	mu     sync.Mutex
	stores map[uint64]*replica.Store
	cut    map[[2]uint64]bool
	hold   map[[2]uint64]bool
	held   map[[2]uint64][]replica.Message
	sent   uint64 // messages handed to a store (guarded by mu)
}

func newNetwork() *network {
	return &network{stores: map[uint64]*replica.Store{}, cut: map[[2]uint64]bool{},
		hold: map[[2]uint64]bool{}, held: map[[2]uint64][]replica.Message{}}
}

func (n *network) setStore(id uint64, s *replica.Store) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s == nil {
		delete(n.stores, id)
	} else {
		n.stores[id] = s
	}
}

// reachable reports whether from can send to to now.
func (n *network) reachable(from, to uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return from == to || (!n.cut[[2]uint64{from, to}] && n.stores[to] != nil)
}

type transport struct {
	net  *network
	from uint64
}

func (t *transport) Send(msgs []replica.Message) {
	for _, m := range msgs {
		link := [2]uint64{t.from, m.Msg.GetTo()}
		// Materialize clones the message and, for a snapshot, reads its
		// data (closing the outgoing snapshot), as a real transport would
		// stream it.
		msg, err := m.Materialize()
		if err != nil {
			continue
		}
		clone := replica.Message{PartitionID: m.PartitionID, Msg: msg}
		t.net.mu.Lock()
		dst, cut, hold := t.net.stores[link[1]], t.net.cut[link], t.net.hold[link]
		if hold && !cut {
			t.net.held[link] = append(t.net.held[link], clone)
		}
		if dst != nil && !cut && !hold {
			t.net.sent++
		}
		t.net.mu.Unlock()
		if dst == nil || cut || hold {
			continue
		}
		_ = dst.Step(clone.PartitionID, clone.Msg)
	}
}

// Sent returns how many Raft messages have been delivered so far.
func (c *Cluster) Sent() uint64 {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	return c.net.sent
}

// SetCut cuts (or restores) the link from → to.
func (c *Cluster) SetCut(from, to uint64, cut bool) {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	c.net.cut[[2]uint64{from, to}] = cut
	if cut {
		delete(c.net.held, [2]uint64{from, to})
	}
}

// Isolate cuts (or restores) every link to and from id.
func (c *Cluster) Isolate(id uint64, cut bool) {
	for _, other := range c.ids {
		if other != id {
			c.SetCut(id, other, cut)
			c.SetCut(other, id, cut)
		}
	}
}

// Hold makes the link from → to queue its messages instead of delivering
// them, until Release.
func (c *Cluster) Hold(from, to uint64) {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	c.net.hold[[2]uint64{from, to}] = true
}

// Release delivers what the link from → to holds — in reverse order when
// reverse, each message twice when dup — and stops holding. It returns how
// many messages were delivered.
func (c *Cluster) Release(from, to uint64, reverse, dup bool) int {
	link := [2]uint64{from, to}
	c.net.mu.Lock()
	msgs := c.net.held[link]
	delete(c.net.held, link)
	delete(c.net.hold, link)
	dst := c.net.stores[to]
	c.net.mu.Unlock()
	if dst == nil {
		return 0
	}
	if reverse {
		slices.Reverse(msgs)
	}
	n := 0
	for _, m := range msgs {
		for range 1 + boolInt(dup) {
			_ = dst.Step(m.PartitionID, proto.CloneOf(m.Msg))
			n++
		}
	}
	c.net.mu.Lock()
	c.net.sent += uint64(n)
	c.net.mu.Unlock()
	return n
}

// Settle returns once every running node has processed what it was sent
// and no message is in flight (held messages stay held): the cluster is
// quiet until the test ticks, releases or sends a request.
func (c *Cluster) Settle() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for round := 0; round < 1000; round++ {
		c.net.mu.Lock()
		before := c.net.sent
		c.net.mu.Unlock()
		for _, id := range c.ids {
			if n := c.Node(id); n.Running && !n.stalled {
				if err := n.Store.Barrier(ctx); err != nil && ctx.Err() != nil {
					c.t.Fatalf("kvsim: node %d did not settle: %v", id, err)
				}
			}
		}
		c.net.mu.Lock()
		after := c.net.sent
		c.net.mu.Unlock()
		if after == before {
			return
		}
	}
	c.t.Fatal("kvsim: the cluster did not settle after 1000 rounds")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// replicator adapts *replica.Store to kvserver.Replicator.
type replicator struct{ store *replica.Store }

func (r replicator) Admit(partitionID uint64) (replica.LeaseStatus, func(), error) {
	return r.store.Admit(partitionID)
}

func (r replicator) Propose(ctx context.Context, partitionID uint64, cmd kvserver.Command) error {
	return r.store.Propose(ctx, partitionID, cmd)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
