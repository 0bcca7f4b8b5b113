package replica

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// Peer is one voting member of every partition's Raft group.
type Peer struct {
	ID   uint64
	Addr string
}

// Config configures a Store. Zero durations/counts take the defaults below.
type Config struct {
	// NodeID is this node's Raft id (non-zero, unique in the cluster).
	NodeID uint64
	// Peers is the static membership, this node included. Empty means a
	// standalone node (a single voter: NodeID). Used only at bootstrap.
	Peers []Peer
	// Engine is the node's storage engine. The Store does not close it.
	Engine *storage.Engine
	// Partitions is the number of partitions (1..N) created at bootstrap.
	// Ignored when the engine already holds Raft state.
	Partitions int
	// Transport sends Raft messages to other nodes; nil for standalone.
	Transport Transport
	// TickInterval is the Raft tick (default 100 ms).
	TickInterval time.Duration
	// OnLogSync, when set, is told how long each synced write of the Raft
	// log (the group commit's append + fsync) took; it runs on the driver
	// goroutine and must be quick (a histogram observation).
	OnLogSync func(time.Duration)
	// Ticks, when set, replaces the store's own ticker: the store ticks
	// once per value received, and never on its own. Deterministic tests
	// (internal/kv/kvsim) drive time this way; TickInterval still states
	// what one tick stands for.
	Ticks <-chan struct{}
	// ElectionTicks is the election timeout in ticks (default 10).
	ElectionTicks int
	// HeartbeatTicks is the heartbeat interval in ticks (default 1).
	HeartbeatTicks int
	// TruncateEntries: once more than this many applied entries are in a
	// partition's log, it is truncated behind the applied index (default
	// 10 000).
	TruncateEntries uint64
	// TruncateBytes: once a partition's log holds more than this many bytes,
	// it is truncated behind the applied index (default 64 MiB).
	TruncateBytes uint64
	// DisableLeaderBalancing turns off leadership transfer: by default the
	// leader of partition p hands leadership to its preferred node,
	// voters[(p-1) % len(voters)], once that node is caught up, so leaders
	// spread evenly over the nodes.
	DisableLeaderBalancing bool
	// KeepLeadership, when set, is asked at each tick by the leader of a
	// partition that is not its preferred node: true keeps leadership
	// here instead of handing it to the preferred node (the lease
	// followed the workload to this node, see kvremote.Follower). An
	// explicit TransferLease target still applies. It must not block.
	KeepLeadership func(partitionID uint64) bool
	// MaxInboxMessages bounds queued incoming Raft messages; beyond it Step
	// drops messages (Raft retransmits). Default 100 000.
	MaxInboxMessages int
	// Logger receives the store's and raft's logs (default slog.Default()).
	Logger *slog.Logger
	// Clock is the node's hybrid logical clock, which lease start and
	// expiration times are read from (default: a clock on real time).
	Clock *hlc.Clock
	// LeaseDuration is how long a partition lease lasts after each
	// acquisition or extension (default 2 s). The leader extends it when
	// less than half is left. Must exceed twice MaxClockOffset.
	LeaseDuration time.Duration
	// MaxCommandBytes bounds one replicated command (its encoded size);
	// Propose refuses a larger one with *kvpb.CommandTooLargeError before
	// it reaches Raft (default 64 MiB).
	MaxCommandBytes int
	// MaxClockOffset is the largest clock difference between two nodes the
	// lease protocol tolerates (default 500 ms): a leaseholder stops
	// serving MaxClockOffset before its lease expires.
	MaxClockOffset time.Duration
}

// Defaults.
const (
	DefaultTickInterval    = 100 * time.Millisecond
	DefaultElectionTicks   = 10
	DefaultHeartbeatTicks  = 1
	DefaultTruncateEntries = 10_000
	DefaultTruncateBytes   = 64 << 20
	defaultMaxInbox        = 100_000
	DefaultLeaseDuration   = 2 * time.Second
	DefaultMaxClockOffset  = 500 * time.Millisecond
	DefaultMaxCommandBytes = 64 << 20
)

// withDefaults returns cfg with zero fields replaced by defaults.
func (cfg Config) withDefaults() Config {
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = DefaultTickInterval
	}
	if cfg.ElectionTicks <= 0 {
		cfg.ElectionTicks = DefaultElectionTicks
	}
	if cfg.HeartbeatTicks <= 0 {
		cfg.HeartbeatTicks = DefaultHeartbeatTicks
	}
	if cfg.TruncateEntries == 0 {
		cfg.TruncateEntries = DefaultTruncateEntries
	}
	if cfg.TruncateBytes == 0 {
		cfg.TruncateBytes = DefaultTruncateBytes
	}
	if cfg.MaxInboxMessages <= 0 {
		cfg.MaxInboxMessages = defaultMaxInbox
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = hlc.NewClock(nil)
	}
	if cfg.LeaseDuration <= 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.MaxCommandBytes <= 0 {
		cfg.MaxCommandBytes = DefaultMaxCommandBytes
	}
	if cfg.MaxClockOffset <= 0 {
		cfg.MaxClockOffset = DefaultMaxClockOffset
	}
	if len(cfg.Peers) == 0 {
		cfg.Peers = []Peer{{ID: cfg.NodeID}}
	}
	return cfg
}

// Validate reports a configuration the Store cannot run with. It is called
// by NewStore after defaults are applied.
func (cfg Config) Validate() error {
	var errs []error
	if cfg.NodeID == 0 {
		errs = append(errs, errors.New("node id must be non-zero"))
	}
	if cfg.Engine == nil {
		errs = append(errs, errors.New("engine is required"))
	}
	if cfg.ElectionTicks <= cfg.HeartbeatTicks {
		errs = append(errs, fmt.Errorf("election ticks (%d) must exceed heartbeat ticks (%d)",
			cfg.ElectionTicks, cfg.HeartbeatTicks))
	}
	if cfg.LeaseDuration <= 2*cfg.MaxClockOffset {
		errs = append(errs, fmt.Errorf("lease duration (%v) must exceed twice the maximum clock offset (%v)",
			cfg.LeaseDuration, cfg.MaxClockOffset))
	}
	seen := map[uint64]bool{}
	for _, p := range cfg.Peers {
		if p.ID == 0 {
			errs = append(errs, errors.New("peer id must be non-zero"))
		}
		if seen[p.ID] {
			errs = append(errs, fmt.Errorf("duplicate peer id %d", p.ID))
		}
		seen[p.ID] = true
	}
	if len(cfg.Peers) > 0 && !seen[cfg.NodeID] {
		errs = append(errs, fmt.Errorf("peers do not include this node (%d)", cfg.NodeID))
	}
	if len(cfg.Peers) > 1 && cfg.Transport == nil {
		errs = append(errs, errors.New("a transport is required with more than one peer"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("replica: invalid config: %w", err)
	}
	return nil
}

func (cfg Config) voters() []uint64 {
	ids := make([]uint64, 0, len(cfg.Peers))
	for _, p := range cfg.Peers {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	return ids
}
