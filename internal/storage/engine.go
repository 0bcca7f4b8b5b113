package storage

import (
	"errors"
	"fmt"
	dto "github.com/prometheus/client_model/go"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/camusdb/camusdb-go/internal/util/procs"
)

// ErrClosed is returned by operations on a closed engine.
var ErrClosed = errors.New("storage: engine closed")

// Reader reads a consistent or live view of the engine.
type Reader interface {
	// Get returns a copy of the value of key, or found=false.
	Get(key []byte) (value []byte, found bool, err error)
	// NewIter returns an iterator over [lower, upper). Either bound may be nil.
	NewIter(lower, upper []byte) (Iterator, error)
}

// Writer accumulates mutations.
type Writer interface {
	Set(key, value []byte) error
	Delete(key []byte) error
	// DeleteRange deletes every key in [start, end).
	DeleteRange(start, end []byte) error
}

// Iterator walks keys in order. Key/Value are valid until the next move.
type Iterator interface {
	SeekGE(key []byte) bool
	SeekLT(key []byte) bool
	First() bool
	Last() bool
	Next() bool
	Prev() bool
	Valid() bool
	Key() []byte
	Value() []byte
	Error() error
	Close() error
}

// Batch is an atomic set of mutations.
type Batch interface {
	Writer
	// Commit applies the batch; with sync the WAL is fsynced before return.
	Commit(sync bool) error
	// CommitNoSyncWait applies the batch (its writes are visible at once)
	// and starts the fsync of the WAL up to it without waiting for it:
	// SyncWait waits. Batches become durable in commit order (one WAL), and
	// concurrent fsyncs are grouped. Close the batch only after SyncWait.
	CommitNoSyncWait() error
	// SyncWait waits for the fsync a CommitNoSyncWait started.
	SyncWait() error
	// Len is the encoded size in bytes; Empty reports no mutations.
	Len() int
	Empty() bool
	Close() error
}

// Snapshot is a consistent point-in-time Reader; Close it when done.
type Snapshot interface {
	Reader
	Close() error
}

// Options configures Open.
type Options struct {
	// Dir is the data directory. Ignored when FS is set and InMemory is true.
	Dir string
	// InMemory keeps everything in memory (tests, `camusdb demo`).
	InMemory bool
	// FS overrides the filesystem (crash tests use vfs.NewCrashableMem). It
	// is a pebble vfs.FS; only tests outside this package need to set it, via
	// NewCrashableMemFS.
	FS vfs.FS
	// CacheBytes is the memory the block cache keeps for blocks (default
	// 128 MiB). Pebble counts its memtables against the cache as well (the
	// one being written and one kept for reuse, memTableSize each once
	// writes filled a few), so the cache is made that much larger: sized at
	// CacheBytes alone, a write-heavy node had no room left for blocks and
	// every scan read and decompressed every block again.
	CacheBytes int64
	// CacheGroup turns on the read cache (rowcache.go): it returns the
	// length of the prefix of an engine key that names the key's cache
	// group, or 0 for keys no reader caches. Only keys of the PrefixData
	// space may have a group (a range deletion elsewhere, such as a Raft
	// log truncation, leaves the cache alone). ReadCacheBytes is the cache's
	// budget (default DefaultReadCacheBytes; negative: no read cache).
	CacheGroup     func(key []byte) int
	ReadCacheBytes int64
	// CacheWriteThrough, with CacheGroup, keeps a group's entry warm
	// across a write to it instead of only dropping it (see WriteThrough).
	CacheWriteThrough WriteThrough
}

// memTableSize is the size memtables grow to.
const memTableSize = 32 << 20

// blockSize is the target size of sstable data blocks. Pebble's default
// is 4 KiB; a full-table aggregate steps through every block, and at
// 16 KiB the 1M-row COUNT/SUM took 57-59 ms instead of 59-63 ms
// (interleaved runs; 32 KiB, CockroachDB's choice, measured the same as
// 16; a later set of runs was within the VM's noise) with point selects
// unchanged. Kept at 16 so that a point read that
// misses the block cache decompresses less.
const blockSize = 16 << 10

// Engine is one Pebble instance.
type Engine struct {
	db    *pebble.DB
	spare *spareFS   // nil unless on the real filesystem
	cache *readCache // nil without Options.CacheGroup
	// stalls counts Pebble's write stalls (too many memtables waiting to
	// be flushed, or too many L0 files) and stallNanos their duration.
	stalls, stallNanos atomic.Int64
	stallStart         atomic.Int64 // unix nanos of the stall in progress
	background         backgroundJobs
}

// backgroundJobs holds the scheduler governor wide (procs.Hold) for each
// flush or compaction between its begin and end events.
type backgroundJobs struct {
	mu      sync.Mutex
	release map[int]func()
}

func (b *backgroundJobs) begin(job int) {
	release := procs.Hold()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.release == nil {
		b.release = make(map[int]func())
	}
	if old := b.release[job]; old != nil {
		old()
	}
	b.release[job] = release
}

func (b *backgroundJobs) end(job int) {
	b.mu.Lock()
	release := b.release[job]
	delete(b.release, job)
	b.mu.Unlock()
	if release != nil {
		release()
	}
}

// Open opens or creates the engine.
func Open(opts Options) (*Engine, error) {
	fs := opts.FS
	dir := opts.Dir
	if fs == nil && opts.InMemory {
		fs = vfs.NewMem()
	}
	if dir == "" {
		dir = "camusdb-data"
	}
	var spare *spareFS
	if fs == nil {
		if err := vfs.Default.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("storage: open %s: %w", dir, err)
		}
		spare = newSpareFS(vfs.Default, vfs.Default.PathJoin(dir), walSpareSize)
		fs = spare
	}
	cacheBytes := opts.CacheBytes
	if cacheBytes <= 0 {
		cacheBytes = 128 << 20
	}
	cache := pebble.NewCache(cacheBytes + 2*memTableSize)
	defer cache.Unref()
	e := &Engine{}
	popts := &pebble.Options{
		EventListener: &pebble.EventListener{
			WriteStallBegin: func(pebble.WriteStallBeginInfo) {
				e.stalls.Add(1)
				e.stallStart.Store(time.Now().UnixNano())
			},
			WriteStallEnd: func() {
				if start := e.stallStart.Swap(0); start != 0 {
					e.stallNanos.Add(time.Now().UnixNano() - start)
				}
			},
			// Flushes and compactions want a core of their own: a node
			// the scheduler governor narrowed to one P widens while
			// they run (util/procs).
			FlushBegin:      func(i pebble.FlushInfo) { e.background.begin(i.JobID) },
			FlushEnd:        func(i pebble.FlushInfo) { e.background.end(i.JobID) },
			CompactionBegin: func(i pebble.CompactionInfo) { e.background.begin(i.JobID) },
			CompactionEnd:   func(i pebble.CompactionInfo) { e.background.end(i.JobID) },
		},
		FS:                 fs,
		Cache:              cache,
		FormatMajorVersion: pebble.FormatNewest,
		MemTableSize:       memTableSize,
		Logger:             quietLogger{},
	}
	for i := range popts.Levels {
		popts.Levels[i].BlockSize = blockSize
	}
	// No read-triggered compactions: sampling the bytes an iterator returns
	// cost ~2.5% of a full-table scan's CPU, and the point reads it would
	// speed up mostly hit the read cache (rowcache.go) instead of Pebble.
	popts.Experimental.ReadSamplingMultiplier = -1
	db, err := pebble.Open(dir, popts)
	if err != nil {
		if spare != nil {
			spare.close()
		}
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	if spare != nil {
		spare.prepare()
	}
	e.db, e.spare = db, spare
	if opts.CacheGroup != nil && opts.ReadCacheBytes >= 0 {
		budget := opts.ReadCacheBytes
		if budget == 0 {
			budget = DefaultReadCacheBytes
		}
		e.cache = newReadCache(opts.CacheGroup, budget)
		e.cache.writeThrough = opts.CacheWriteThrough
	}
	return e, nil
}

// Close closes the engine. Unsynced batches may be lost only on a crash,
// not on Close.
func (e *Engine) Close() error {
	if e.db == nil {
		return ErrClosed
	}
	err := e.db.Close()
	e.db = nil
	if e.spare != nil {
		e.spare.close()
	}
	return err
}

// Flush flushes memtables to sstables (used before checkpoints in tests).
func (e *Engine) Flush() error { return e.db.Flush() }

// Get implements Reader.
func (e *Engine) Get(key []byte) ([]byte, bool, error) { return get(e.db, key) }

// NewIter implements Reader.
func (e *Engine) NewIter(lower, upper []byte) (Iterator, error) {
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	return it, nil
}

// SyncWAL makes every write committed so far durable (one fsync of the
// write-ahead log).
func (e *Engine) SyncWAL() error { return e.db.LogData(nil, pebble.Sync) }

// NewBatch returns an empty write batch.
func (e *Engine) NewBatch() Batch { return &batch{b: e.db.NewBatch(), db: e.db, cache: e.cache} }

// NewSnapshot returns a consistent read view.
func (e *Engine) NewSnapshot() Snapshot { return &snapshot{s: e.db.NewSnapshot()} }

// Metrics returns Pebble's metrics summary as text (for debugging).
func (e *Engine) Metrics() string { return e.db.Metrics().String() }

// EngineStats are the engine figures an operator watches (/metrics).
type EngineStats struct {
	// ReadAmp is the read amplification: sorted runs a point read may
	// have to consult (L0 sublevels plus non-empty levels).
	ReadAmp int
	// Compactions completed since the engine opened; CompactionDebt is an
	// estimate of the bytes still to compact to reach a stable shape.
	Compactions    int64
	CompactionDebt uint64
	// BlockCacheHits and BlockCacheMisses count block cache lookups;
	// BlockCacheBytes is its size in use.
	BlockCacheHits, BlockCacheMisses, BlockCacheBytes int64
	// MemtableBytes is the memory of the memtables; WALBytes what was
	// written to the write-ahead log.
	MemtableBytes uint64
	WALBytes      uint64
	// WALSyncs counts the fsyncs of the write-ahead log (one covers every
	// batch committed while the one before it ran: group commit), and
	// WALSyncSeconds is their total duration.
	WALSyncs       uint64
	WALSyncSeconds float64
	// WriteStalls counts the times Pebble held every write back (memtables
	// waiting to be flushed, or too many L0 files); WriteStallSeconds is
	// how long they lasted in total.
	WriteStalls       int64
	WriteStallSeconds float64
}

// Stats samples the engine's figures.
func (e *Engine) Stats() EngineStats {
	m := e.db.Metrics()
	st := EngineStats{
		ReadAmp:           m.ReadAmp(),
		Compactions:       m.Compact.Count,
		CompactionDebt:    m.Compact.EstimatedDebt,
		BlockCacheHits:    m.BlockCache.Hits,
		BlockCacheMisses:  m.BlockCache.Misses,
		BlockCacheBytes:   m.BlockCache.Size,
		MemtableBytes:     m.MemTable.Size,
		WALBytes:          m.WAL.BytesWritten,
		WriteStalls:       e.stalls.Load(),
		WriteStallSeconds: float64(e.stallNanos.Load()) / 1e9,
	}
	if h := m.LogWriter.FsyncLatency; h != nil {
		var pm dto.Metric
		if h.Write(&pm) == nil && pm.Histogram != nil {
			st.WALSyncs = pm.Histogram.GetSampleCount()
			st.WALSyncSeconds = pm.Histogram.GetSampleSum() / 1e9 // observed in nanoseconds
		}
	}
	return st
}

type pebbleGetter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

func get(g pebbleGetter, key []byte) ([]byte, bool, error) {
	v, closer, err := g.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := make([]byte, len(v))
	copy(out, v)
	_ = closer.Close()
	return out, true, nil
}

type batch struct {
	b     *pebble.Batch
	db    *pebble.DB
	cache *readCache
}

func (b *batch) Set(key, value []byte) error         { return b.b.Set(key, value, nil) }
func (b *batch) Delete(key []byte) error             { return b.b.Delete(key, nil) }
func (b *batch) DeleteRange(start, end []byte) error { return b.b.DeleteRange(start, end, nil) }
func (b *batch) Len() int                            { return b.b.Len() }
func (b *batch) Empty() bool                         { return b.b.Empty() }
func (b *batch) Close() error                        { return b.b.Close() }
func (b *batch) SyncWait() error                     { return b.b.SyncWait() }

func (b *batch) CommitNoSyncWait() error {
	return b.apply(func() error { return b.db.ApplyNoSyncWait(b.b, pebble.Sync) })
}

func (b *batch) Commit(sync bool) error {
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	return b.apply(func() error { return b.b.Commit(opts) })
}

// apply runs commit, which makes the batch visible, and then invalidates
// the read cache's entries of the groups the batch wrote.
func (b *batch) apply(commit func() error) error {
	if b.cache == nil {
		return commit()
	}
	inv := getInvalidation()
	defer inv.release()
	b.cache.collect(b.b, inv)
	err := commit()
	b.cache.bump(inv, err == nil)
	return err
}

type snapshot struct{ s *pebble.Snapshot }

func (s *snapshot) Get(key []byte) ([]byte, bool, error) { return get(s.s, key) }
func (s *snapshot) NewIter(lower, upper []byte) (Iterator, error) {
	it, err := s.s.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	return it, nil
}
func (s *snapshot) Close() error { return s.s.Close() }

// NewCrashableMemFS returns an in-memory filesystem that can simulate a
// crash (losing unsynced writes) through CrashClone.
func NewCrashableMemFS() *vfs.MemFS { return vfs.NewCrashableMem() }

// CrashClone returns the state fs would have after a crash now: exactly the
// synced data.
func CrashClone(fs *vfs.MemFS) *vfs.MemFS { return fs.CrashClone(vfs.CrashCloneCfg{}) }

type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{})              {}
func (quietLogger) Errorf(format string, args ...interface{}) {}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}
