package lease

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
)

// Defaults of Config.
const (
	DefaultDuration     = 10 * time.Second
	DefaultPollInterval = 100 * time.Millisecond
	DefaultMarkerTTL    = 5 * time.Minute
)

// Config configures a Manager. Zero values take the defaults.
type Config struct {
	// NodeID names this node's lease rows.
	NodeID uint64
	// Duration is how long a lease lasts; leases in use are renewed when
	// less than half of it remains. It bounds how long a node that stopped
	// answering holds up a schema change.
	Duration time.Duration
	// PollInterval is how often a node looks for drain markers and renews
	// its leases, and how often a draining change looks again for live
	// leases.
	PollInterval time.Duration
	// MarkerTTL bounds a drain marker, and so the transaction of the
	// change that wrote it: a change not committed by then fails with a
	// retryable error.
	MarkerTTL time.Duration
}

// Manager is one node's descriptor cache and lease holder. A nil *Manager
// caches nothing: Resolver returns its fallback and Drain does nothing.
type Manager struct {
	db     catalog.ClockedDB
	cfg    Config
	decode *catalog.DecodeCache

	mu struct {
		sync.RWMutex
		entries map[string]*entry
		// acquiring: keys with an acquisition under way.
		acquiring map[string]bool
		// gen counts, per key, the times its cached copy was dropped
		// because of a change: an acquisition started before installs
		// nothing.
		gen map[string]uint64
		// draining: keys with a change under way on this node (Drain until
		// Committed); not leased here meanwhile.
		draining map[string]int
		// released: keys whose row releaseMarked deleted and that were
		// not leased here since (it need not delete again).
		released map[string]bool
	}
	hits, misses, acquired atomic.Int64

	stop chan struct{}
	wg   sync.WaitGroup
}

// entry is a leased descriptor.
type entry struct {
	key     string
	bytes   []byte
	table   *catalog.TableDesc    // for a table key
	db      *catalog.DatabaseDesc // for a database key
	version uint64
	// from: the lease serves read timestamps at or above it.
	from hlc.Timestamp
	// expires: ... and strictly below this wall time.
	expires atomic.Int64
	// used since the last renewal.
	used atomic.Bool
}

// New returns the lease manager of a node over db and starts its
// background loop (Close stops it). It returns nil — no caching — when db
// does not expose timestamps (catalog.ClockedDB).
func New(db catalog.DB, cfg Config) *Manager {
	cdb, ok := db.(catalog.ClockedDB)
	if !ok {
		return nil
	}
	if cfg.Duration <= 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MarkerTTL <= 0 {
		cfg.MarkerTTL = DefaultMarkerTTL
	}
	m := &Manager{db: cdb, cfg: cfg, decode: catalog.NewDecodeCache(256), stop: make(chan struct{})}
	m.mu.entries = map[string]*entry{}
	m.mu.acquiring = map[string]bool{}
	m.mu.gen = map[string]uint64{}
	m.mu.draining = map[string]int{}
	m.mu.released = map[string]bool{}
	m.wg.Add(1)
	go m.loop()
	return m
}

// Close stops the background work and gives up the leases this node holds
// (their rows are deleted, best effort).
func (m *Manager) Close() {
	if m == nil {
		return
	}
	select {
	case <-m.stop:
		return
	default:
		close(m.stop)
	}
	m.wg.Wait()
	m.mu.Lock()
	keys := make([][]byte, 0, len(m.mu.entries))
	for k := range m.mu.entries {
		keys = append(keys, []byte(k))
	}
	m.mu.entries = map[string]*entry{}
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = m.deleteOwnRows(ctx, keys)
}

// Stats are the manager's counters.
type Stats struct {
	// Hits and Misses count descriptor resolutions served from the cache
	// and read through the statement's transaction.
	Hits, Misses int64
	// Acquired counts leases acquired; Held is the number held now.
	Acquired int64
	Held     int
}

// Stats returns the counters (zero for a nil Manager).
func (m *Manager) Stats() Stats {
	if m == nil {
		return Stats{}
	}
	m.mu.RLock()
	held := len(m.mu.entries)
	m.mu.RUnlock()
	return Stats{Hits: m.hits.Load(), Misses: m.misses.Load(), Acquired: m.acquired.Load(), Held: held}
}

// lookup returns the leased entry for key valid at readTS, or nil (and
// starts acquiring a lease when there is none).
func (m *Manager) lookup(key []byte, readTS hlc.Timestamp) *entry {
	m.mu.RLock()
	e := m.mu.entries[string(key)] // no copy for the lookup
	m.mu.RUnlock()
	if e != nil && e.from.LessEq(readTS) && readTS.WallTime < e.expires.Load() {
		e.used.Store(true)
		m.hits.Add(1)
		return e
	}
	m.misses.Add(1)
	if e == nil || readTS.WallTime >= e.expires.Load() {
		m.startAcquire(string(key))
	}
	return nil
}

// startAcquire acquires a lease on key in the background: the statement
// that missed reads through its transaction (a lease acquired now would
// not cover its read timestamp anyway).
func (m *Manager) startAcquire(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.acquiring[key] || m.mu.draining[key] > 0 {
		return
	}
	gen := m.mu.gen[key]
	select {
	case <-m.stop:
		return
	default:
	}
	m.mu.acquiring[key] = true
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.Duration)
		defer cancel()
		e, err := m.acquire(ctx, []byte(key), nil)
		m.mu.Lock()
		installed := err == nil && e != nil && m.mu.gen[key] == gen && m.mu.draining[key] == 0
		if installed {
			m.mu.entries[key] = e
			delete(m.mu.released, key)
			m.acquired.Add(1)
		}
		m.mu.Unlock()
		if err == nil && e != nil && !installed {
			// A change dropped the key meanwhile: the row just written
			// serves nothing, and would hold the next change up until it
			// expires. No other acquisition of key runs (acquiring is
			// still set) and nothing is installed, so it is ours to delete.
			_ = m.deleteOwnRows(ctx, [][]byte{[]byte(key)})
		}
		m.mu.Lock()
		delete(m.mu.acquiring, key)
		m.mu.Unlock()
	}()
}

// Settle waits until no acquisition is under way (tests use it to make
// the next statement find the lease the previous one started).
func (m *Manager) Settle(ctx context.Context) error {
	if m == nil {
		return nil
	}
	for {
		m.mu.RLock()
		n := len(m.mu.acquiring)
		m.mu.RUnlock()
		if n == 0 {
			return nil
		}
		if err := m.wait(ctx, time.Millisecond); err != nil {
			return err
		}
	}
}

// acquire takes (or, with prev, renews) a lease on the descriptor at key:
// in one transaction it checks that no drain marker holds the key, reads
// the descriptor and writes this node's lease row. It returns nil, nil
// when the key is drained or names no descriptor. A renewal whose
// descriptor bytes changed returns a fresh entry.
func (m *Manager) acquire(ctx context.Context, key []byte, prev *entry) (*entry, error) {
	txn, err := m.db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			_ = txn.Rollback(context.WithoutCancel(ctx))
		}
	}()
	tt, ok := txn.(catalog.TimestampedTxn)
	if !ok {
		return nil, nil
	}
	readTS := tt.ReadTimestamp()
	if v, found, err := txn.Get(ctx, markerKey(key)); err != nil {
		return nil, err
	} else if found {
		_, until, err := decodeMarker(markerKey(key), v)
		if err != nil {
			return nil, err
		}
		if until > readTS.WallTime {
			return nil, nil
		}
	}
	b, found, err := txn.Get(ctx, key)
	if err != nil || !found {
		return nil, err
	}
	e := &entry{key: string(key), bytes: b, from: readTS}
	if prev != nil && string(prev.bytes) == string(b) && readTS.WallTime < prev.expires.Load() {
		// Unchanged and leased without a gap: keep serving from its start.
		e = prev
	} else if err := m.decodeInto(e); err != nil {
		return nil, err
	}
	expires := readTS.WallTime + int64(m.cfg.Duration)
	if err := txn.Put(leaseKey(key, m.cfg.NodeID), encodeLease(expires, e.version)); err != nil {
		return nil, err
	}
	tt.SetDeadline(hlc.Timestamp{WallTime: expires})
	if err := txn.Commit(ctx); err != nil {
		return nil, err
	}
	committed = true
	e.expires.Store(expires)
	return e, nil
}

func (m *Manager) decodeInto(e *entry) error {
	if len(e.key) >= 2 && e.key[1] == catalog.DatabaseKey("")[1] {
		db, err := m.decode.DecodeDatabase(e.bytes)
		if err != nil {
			return err
		}
		e.db = db
		return nil
	}
	t, err := m.decode.DecodeTable(e.bytes)
	if err != nil {
		return err
	}
	if string(catalog.TableKey(t.DBID, t.Name)) != e.key {
		return corrupt("table descriptor at %q names %d/%q", e.key, t.DBID, t.Name)
	}
	e.table, e.version = t, uint64(t.Version)
	return nil
}

// block drops the cached copy of key: no statement starts using it any
// more, and an acquisition under way installs nothing.
func (m *Manager) block(key string) {
	m.mu.Lock()
	delete(m.mu.entries, key)
	m.mu.gen[key]++
	m.mu.Unlock()
}

// deleteOwnRows deletes this node's lease rows on keys.
func (m *Manager) deleteOwnRows(ctx context.Context, keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	return m.runTxn(ctx, func(txn catalog.Txn) error {
		for _, k := range keys {
			if err := txn.Delete(leaseKey(k, m.cfg.NodeID)); err != nil {
				return err
			}
		}
		return nil
	})
}

// runTxn runs fn in a transaction and commits it, retrying retryable
// errors a few times.
func (m *Manager) runTxn(ctx context.Context, fn func(catalog.Txn) error) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		var txn catalog.Txn
		if txn, err = m.db.Begin(ctx); err != nil {
			return err
		}
		if err = fn(txn); err == nil {
			if err = txn.Commit(ctx); err == nil {
				return nil
			}
		} else {
			_ = txn.Rollback(ctx)
		}
		if !retryable(err) || ctx.Err() != nil {
			return err
		}
		if werr := m.wait(ctx, time.Millisecond<<attempt); werr != nil {
			return werr
		}
	}
	return err
}

// wait waits d or until ctx ends or the manager closes.
func (m *Manager) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-m.stop:
		return errClosed
	case <-t.C:
		return nil
	}
}
