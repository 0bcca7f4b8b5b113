package kvtest

import (
	"context"
	"fmt"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// Options configures a Node. The zero value is a 4-partition node on an
// in-memory crashable file system with the real clock.
type Options struct {
	// Partitions is the number of partitions (default 4).
	Partitions int
	// NodeID is the node id (default 1).
	NodeID uint64
	// Dir, when set, keeps the engine in that directory (use t.TempDir());
	// a crash then cannot drop unsynced writes and is a stop without
	// cleanup. Empty means a crashable in-memory file system.
	Dir string
	// Ephemeral, with Dir empty, keeps the engine in a plain in-memory file
	// system that dies with it: Crash and Restart fail the test. Benchmarks
	// use it, because the crashable file system copies file data on every
	// sync.
	Ephemeral bool
	// Wall is the physical clock of every incarnation (nil = real time).
	Wall hlc.WallClock
	// AbandonAfter is kv.Config.AbandonAfter.
	AbandonAfter time.Duration
	// Logger receives the stack's logs (default: discarded).
	Logger *slog.Logger
	// MaxCommandBytes is the Raft command size limit (replica, kvserver
	// and kv; 0: the default).
	MaxCommandBytes int
	// MaxWriteBytes is kv.Config.MaxWriteBytes (0: no bound).
	MaxWriteBytes int64
}

// Node is one standalone node. The exported fields describe the current
// incarnation and change at every Crash or Restart; a test must not keep
// them across those calls.
type Node struct {
	t    testing.TB
	opts Options

	Engine *storage.Engine
	Store  *replica.Store
	Server *kvserver.Server
	DB     *kv.DB
	Clock  *hlc.Clock
	// Epoch is the incarnation number, 1 for the first start.
	Epoch uint64

	gate *gate
	// engineOptions returns the options to open the engine with; crashFS
	// replaces the in-memory file system with its crash image (nil in Dir
	// mode).
	engineOptions func() storage.Options
	crashFS       func()

	beforeCommitRecord atomic.Pointer[func(mvcc.TxnID) error]
	fault              atomic.Pointer[FaultFunc]
	lostReply          atomic.Pointer[FaultFunc]
	stopped            bool

	current atomic.Pointer[kv.DB]
}

// CurrentDB returns the DB of the current incarnation. Unlike the DB field
// it may be called while another goroutine crashes or restarts the node;
// a DB of a dead incarnation answers every request with an error.
func (n *Node) CurrentDB() *kv.DB { return n.current.Load() }

// Start opens and starts a node, waits until it leads every partition, and
// registers its Stop with t.Cleanup.
func Start(t testing.TB, opts Options) *Node {
	t.Helper()
	if opts.Partitions <= 0 {
		opts.Partitions = 4
	}
	if opts.NodeID == 0 {
		opts.NodeID = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n := &Node{t: t, opts: opts}
	switch {
	case opts.Dir != "":
		n.engineOptions = func() storage.Options {
			return storage.Options{Dir: opts.Dir, CacheGroup: mvcc.CacheGroup, CacheWriteThrough: mvcc.CacheWriteThrough}
		}
	case opts.Ephemeral:
		n.engineOptions = func() storage.Options {
			return storage.Options{Dir: "data", InMemory: true, CacheGroup: mvcc.CacheGroup, CacheWriteThrough: mvcc.CacheWriteThrough}
		}
	default:
		fs := storage.NewCrashableMemFS()
		n.engineOptions = func() storage.Options {
			return storage.Options{FS: fs, Dir: "data", InMemory: true, CacheGroup: mvcc.CacheGroup, CacheWriteThrough: mvcc.CacheWriteThrough}
		}
		n.crashFS = func() { fs = storage.CrashClone(fs) }
	}
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

// SetBeforeCommitRecord installs (nil: removes) the kv.TestingKnobs hook
// BeforeCommitRecord for this and later incarnations.
func (n *Node) SetBeforeCommitRecord(fn func(mvcc.TxnID) error) {
	if fn == nil {
		n.beforeCommitRecord.Store(nil)
		return
	}
	n.beforeCommitRecord.Store(&fn)
}

// SetFault installs (nil: removes) a fault injected in front of the kv
// server, for this and later incarnations: for example, failing every
// "ResolveIntents" leaves a committed transaction's intents for readers.
func (n *Node) SetFault(fn FaultFunc) {
	if fn == nil {
		n.fault.Store(nil)
		return
	}
	n.fault.Store(&fn)
}

// SetLostReply installs (nil: removes) a hook that loses the answer of a
// request that writes (Commit1PC, Prepare, ResolveIntents, FinalizeTxn,
// DeleteTxnRecord) after it succeeded: a non-nil error turns the success
// into an *kvpb.AmbiguousError, as a lost network reply would.
func (n *Node) SetLostReply(fn FaultFunc) {
	if fn == nil {
		n.lostReply.Store(nil)
		return
	}
	n.lostReply.Store(&fn)
}

func (n *Node) start() error {
	engine, err := storage.Open(n.engineOptions())
	if err != nil {
		return err
	}
	store, err := replica.NewStore(replica.Config{
		NodeID:     n.opts.NodeID,
		Engine:     engine,
		Partitions: n.opts.Partitions,
		Logger:     n.opts.Logger,

		MaxCommandBytes: n.opts.MaxCommandBytes,
	})
	if err == nil {
		err = store.Start()
	}
	if err != nil {
		_ = engine.Close()
		return fmt.Errorf("kvtest: start store: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range store.PartitionIDs() {
		if err := store.WaitReady(ctx, id); err != nil {
			store.Stop()
			_ = engine.Close()
			return fmt.Errorf("kvtest: partition %d not ready: %w", id, err)
		}
	}
	n.Epoch++
	n.Engine, n.Store = engine, store
	n.Clock = hlc.NewClock(n.opts.Wall)
	n.Server = kvserver.New(engine, n.Clock, replicator{store})
	n.Server.SetMaxCommandBytes(n.opts.MaxCommandBytes)
	n.gate = &gate{inner: n.Server, fault: &n.fault, lostReply: &n.lostReply}
	n.DB = kv.NewDB(kv.Config{
		Sender:        n.gate,
		Clock:         n.Clock,
		NumPartitions: len(store.PartitionIDs()),
		NodeID:        n.opts.NodeID,
		Epoch:         n.Epoch,
		AbandonAfter:  n.opts.AbandonAfter,
		Logger:        n.opts.Logger,

		MaxCommandBytes: n.opts.MaxCommandBytes,
		MaxWriteBytes:   n.opts.MaxWriteBytes,
		Knobs: kv.TestingKnobs{BeforeCommitRecord: func(id mvcc.TxnID) error {
			if fn := n.beforeCommitRecord.Load(); fn != nil {
				return (*fn)(id)
			}
			return nil
		}},
	})
	n.current.Store(n.DB)
	n.stopped = false
	return nil
}

// shutdown stops the current incarnation. With crash, requests in flight
// fail, background intent resolution is cut short and (in memory) only the
// durable state survives.
func (n *Node) shutdown(crash bool) {
	if n.stopped {
		return
	}
	n.stopped = true
	n.gate.close()
	if crash && n.crashFS != nil {
		n.crashFS()
	}
	// Stop Raft first: a request waiting on a proposal fails now.
	n.Store.Stop()
	n.gate.wait()
	ctx, cancel := context.WithCancel(context.Background())
	if crash {
		cancel()
	} else {
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	}
	n.DB.Close(ctx)
	cancel()
	_ = n.Engine.Close()
}

// Crash kills the node — what it did not make durable is lost, nothing is
// cleaned up — and starts the next incarnation on what survived.
func (n *Node) Crash() {
	n.t.Helper()
	if n.opts.Ephemeral {
		n.t.Fatal("kvtest: an ephemeral node cannot crash")
	}
	n.shutdown(true)
	if err := n.start(); err != nil {
		n.t.Fatal(err)
	}
}

// Restart stops the node cleanly (background intent resolution may finish)
// and starts the next incarnation.
func (n *Node) Restart() {
	n.t.Helper()
	if n.opts.Ephemeral {
		n.t.Fatal("kvtest: an ephemeral node cannot restart")
	}
	n.shutdown(false)
	if err := n.start(); err != nil {
		n.t.Fatal(err)
	}
}

// SyncWAL makes everything written so far durable, as the next durable
// commit would: lazy commands (prepares, intent resolutions) reach disk
// only with a later fsync, so a test that wants them in a crash image
// calls this first.
func (n *Node) SyncWAL() {
	n.t.Helper()
	if err := n.Engine.SyncWAL(); err != nil {
		n.t.Fatal(err)
	}
}

// Stop stops the node for good; it is idempotent.
func (n *Node) Stop() { n.shutdown(false) }

// Dump returns every decoded entry of the partition's data span, or fails
// the test.
func (n *Node) Dump(partitionID uint64) []mvcc.Entry {
	n.t.Helper()
	var out []mvcc.Entry
	if err := mvcc.ForEachEntry(n.Engine, partitionID, func(e mvcc.Entry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		n.t.Fatal(err)
	}
	return out
}

// PartitionIDs returns the node's partition ids.
func (n *Node) PartitionIDs() []uint64 { return n.Store.PartitionIDs() }

// replicator adapts *replica.Store to kvserver.Replicator.
type replicator struct{ store *replica.Store }

func (r replicator) Admit(partitionID uint64) (replica.LeaseStatus, func(), error) {
	return r.store.Admit(partitionID)
}

func (r replicator) Propose(ctx context.Context, partitionID uint64, cmd kvserver.Command) error {
	return r.store.Propose(ctx, partitionID, cmd)
}

// WaitFor polls cond until it returns nil or timeout passes, then fails the
// test with cond's last error.
func WaitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	testutil.SucceedsSoon(t, timeout, cond)
}
