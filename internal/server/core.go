package server

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// replicator adapts *replica.Store to kvserver.Replicator. latency, when
// set, times each Propose (metrics.go).
type replicator struct {
	store   *replica.Store
	latency prometheus.Observer
}

func (r replicator) Admit(partitionID uint64) (replica.LeaseStatus, func(), error) {
	return r.store.Admit(partitionID)
}

func (r replicator) Propose(ctx context.Context, partitionID uint64, cmd kvserver.Command) error {
	defer observeSince(r.latency, time.Now())
	return r.store.Propose(ctx, partitionID, cmd)
}

// clockBoundKey holds the clock's persisted upper bound (8 bytes, wall
// nanoseconds): no timestamp this node handed out reached it.
var clockBoundKey = storage.LocalKey("hlc/upper-bound")

// clockBoundWindow is how far ahead the bound is persisted: one fsync per
// window of clock time, and at most this long to wait at a cluster
// node's restart.
const clockBoundWindow = time.Second

// keepClockBound starts the clock above everything it handed out before
// this start, whatever the machine's clock did meanwhile, and keeps a
// durable bound from now on (hlc/bound.go). A standalone node forwards its
// clock to the bound; a cluster node waits until its physical clock passes
// it, since frames stamped far ahead of physical time are refused by peers.
func keepClockBound(ctx context.Context, engine *storage.Engine, clock *hlc.Clock, cfg coreConfig) error {
	var bound int64
	if v, found, err := engine.Get(clockBoundKey); err != nil {
		return err
	} else if found && len(v) == 8 {
		bound = int64(binary.BigEndian.Uint64(v))
	}
	if bound > 0 {
		if cfg.Transport != nil {
			waited, err := hlc.WaitForBound(cfg.Wall, bound, ctx.Done())
			if err != nil {
				return err
			}
			if waited > 0 && cfg.Logger != nil {
				cfg.Logger.Warn("waited for the clock to pass the bound persisted before the restart", "waited", waited)
			}
		} else {
			clock.Update(hlc.Timestamp{WallTime: bound})
		}
	}
	persist := func(wall int64) error {
		b := engine.NewBatch()
		defer b.Close()
		if err := b.Set(clockBoundKey, binary.BigEndian.AppendUint64(nil, uint64(wall))); err != nil {
			return err
		}
		return b.Commit(true)
	}
	clock.PersistUpperBound(persist, clockBoundWindow, bound, cfg.OnClockError)
	return nil
}

func uncertaintyWindow(cfg coreConfig) time.Duration {
	if cfg.Transport == nil {
		return 0
	}
	if cfg.MaxClockOffset > 0 {
		return cfg.MaxClockOffset
	}
	return replica.DefaultMaxClockOffset
}

// core is the storage, consensus and transaction stack of one node, below SQL.
type core struct {
	engine *storage.Engine
	store  *replica.Store
	kvs    *kvserver.Server
	db     *kv.DB
	clock  *hlc.Clock
	epoch  uint64
	stopGC func()
	// proposeLatency times Raft commands, logSyncLatency the Raft log's
	// synced writes (metrics.go, metrics_engine.go).
	proposeLatency prometheus.Histogram
	logSyncLatency prometheus.Histogram
	// beforeStoreStop, when set, runs after background kv work ended and
	// before Raft stops (cluster: stop serving other nodes).
	beforeStoreStop func()
}

// coreConfig is what openCore needs from Config.
type coreConfig struct {
	DataDir    string
	InMemory   bool
	NodeID     uint64
	Peers      []replica.Peer
	Partitions int
	Transport  replica.Transport
	Logger     *slog.Logger
	// Cluster mode (cluster.go): the node's clock (shared with the
	// network), a Sender wrapping the local kvserver with routing to remote
	// leaders, and Attach, called once the store and kvserver exist and
	// before waiting for leaders (it connects the transport to the store).
	Clock *hlc.Clock
	// MaxClockOffset and LeaseDuration configure partition leases (zero:
	// the replica defaults).
	MaxClockOffset, LeaseDuration time.Duration
	// MaxCommandBytes is raft_max_command_bytes (0: the replica default).
	MaxCommandBytes int
	// MaxTxnWriteBytes is txn_max_write_bytes resolved (0: no bound).
	MaxTxnWriteBytes int64
	// Wall is the physical clock Clock reads (nil: real time), for waiting
	// out the persisted clock bound; OnClockError hears that the bound
	// could not be persisted (the node must stop).
	Wall         hlc.WallClock
	OnClockError func(error)
	Sender       func(local *kvserver.Server) kv.Sender
	Attach       func(*replica.Store, *kvserver.Server)
	// KeepLeadership becomes replica.Config.KeepLeadership.
	KeepLeadership func(partitionID uint64) bool
	// BeforeStoreStop becomes core.beforeStoreStop.
	BeforeStoreStop func()
	// OnEngine, when set, runs once the engine is open and before the
	// store starts (cluster mode: load the cluster id).
	OnEngine func(*storage.Engine) error
	// GCInterval and GCTTL replace gcInterval and gcTTL (tests; zero: the
	// defaults).
	GCInterval, GCTTL time.Duration
}

// openCore opens the engine, recovers or bootstraps the partitions, and
// waits (bounded by ctx) until this node leads every partition — the
// standalone case; cluster start-up waits for leaders elsewhere.
func openCore(ctx context.Context, cfg coreConfig) (*core, error) {
	engine, err := storage.Open(storage.Options{Dir: cfg.DataDir, InMemory: cfg.InMemory, CacheGroup: mvcc.CacheGroup, CacheWriteThrough: mvcc.CacheWriteThrough})
	if err != nil {
		return nil, err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = hlc.NewClock(nil)
	}
	c := &core{engine: engine, clock: clock, beforeStoreStop: cfg.BeforeStoreStop}
	fail := func(err error) (*core, error) {
		c.close(context.Background())
		return nil, err
	}
	if c.epoch, err = nextIncarnation(engine); err != nil {
		return fail(err)
	}
	if err := keepClockBound(ctx, engine, clock, cfg); err != nil {
		return fail(err)
	}
	if cfg.OnEngine != nil {
		if err := cfg.OnEngine(engine); err != nil {
			return fail(err)
		}
	}
	c.logSyncLatency = newLogSyncHistogram()
	c.store, err = replica.NewStore(replica.Config{
		OnLogSync:  func(d time.Duration) { c.logSyncLatency.Observe(d.Seconds()) },
		NodeID:     cfg.NodeID,
		Peers:      cfg.Peers,
		Engine:     engine,
		Partitions: cfg.Partitions,
		Transport:  cfg.Transport,
		Logger:     cfg.Logger,
		Clock:      clock,

		MaxClockOffset:  cfg.MaxClockOffset,
		LeaseDuration:   cfg.LeaseDuration,
		MaxCommandBytes: cfg.MaxCommandBytes,
		KeepLeadership:  cfg.KeepLeadership,
	})
	if err != nil {
		return fail(err)
	}
	if err := c.store.Start(); err != nil {
		c.store = nil
		return fail(err)
	}
	ids := c.store.PartitionIDs()
	c.proposeLatency = newProposeHistogram()
	c.kvs = kvserver.New(engine, c.clock, replicator{store: c.store, latency: c.proposeLatency})
	c.kvs.SetMaxCommandBytes(cfg.MaxCommandBytes)
	var sender kv.Sender = c.kvs
	if cfg.Sender != nil {
		sender = cfg.Sender(c.kvs)
	}
	if cfg.Attach != nil {
		cfg.Attach(c.store, c.kvs)
	}
	for _, id := range ids {
		var err error
		if cfg.Transport == nil {
			err = c.store.WaitReady(ctx, id)
		} else {
			err = waitLeader(ctx, c.store, id) // cluster.go: some node leads it
		}
		if err != nil {
			return fail(fmt.Errorf("partition %d did not become ready: %w", id, err))
		}
	}
	c.db = kv.NewDB(kv.Config{
		Sender:        sender,
		Clock:         c.clock,
		NumPartitions: len(ids),
		NodeID:        cfg.NodeID,
		Epoch:         c.epoch,
		Logger:        cfg.Logger,
		// Reads need an uncertainty interval only where several clocks
		// assign timestamps (a cluster); a standalone node has one.
		UncertaintyWindow: uncertaintyWindow(cfg),
		MaxCommandBytes:   cfg.MaxCommandBytes,
		MaxWriteBytes:     cfg.MaxTxnWriteBytes,
	})
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	c.stopGC = c.startGC(logger, cmp.Or(cfg.GCInterval, gcInterval), cmp.Or(cfg.GCTTL, gcTTL))
	return c, nil
}

// close stops everything in order: background kv work, Raft, the engine.
func (c *core) close(ctx context.Context) {
	if c.stopGC != nil {
		c.stopGC()
	}
	if c.db != nil {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c.db.Close(dctx)
		cancel()
	}
	if c.beforeStoreStop != nil {
		c.beforeStoreStop()
	}
	if c.store != nil {
		c.store.Stop()
	}
	if c.clock != nil {
		c.clock.StopBoundRenewal() // it writes to the engine
	}
	if c.engine != nil {
		_ = c.engine.Close()
	}
}
