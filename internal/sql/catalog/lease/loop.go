package lease

import (
	"context"
	"errors"
	"time"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

var errClosed = errcode.New(errcode.MustRetry, "schema lease manager is closed (node shutting down)")

func retryable(err error) bool {
	return kvpb.IsRetryable(err) || errors.Is(err, context.DeadlineExceeded)
}

// loop renews the leases in use and releases those a drain marker asks
// for, every PollInterval.
func (m *Manager) loop() {
	defer m.wg.Done()
	ticker := time.NewTicker(m.cfg.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-ticker.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.Duration/2)
		m.Tick(ctx)
		cancel()
	}
}

// Tick runs one round of the background work: release the leases a
// drain marker asks for, renew the leases used since the last renewal
// that are past half their life, forget unused expired ones. The loop
// calls it; tests call it directly.
func (m *Manager) Tick(ctx context.Context) {
	if m == nil {
		return
	}
	_ = m.releaseMarked(ctx)
	now := m.db.Now().WallTime
	m.mu.RLock()
	var renew, drop []*entry
	for _, e := range m.mu.entries {
		left := e.expires.Load() - now
		switch {
		case e.used.Load() && left < int64(m.cfg.Duration/2):
			renew = append(renew, e)
		case !e.used.Load() && left <= 0:
			drop = append(drop, e)
		}
	}
	m.mu.RUnlock()
	for _, e := range renew {
		e.used.Store(false)
		fresh, err := m.acquire(ctx, []byte(e.key), e)
		m.mu.Lock()
		if m.mu.entries[e.key] == e {
			switch {
			case err != nil:
				// Keep serving until expiry; the next round tries again.
				e.used.Store(true)
			case fresh == nil:
				delete(m.mu.entries, e.key) // drained or gone
			case fresh != e:
				m.mu.entries[e.key] = fresh
			}
		}
		m.mu.Unlock()
	}
	if len(drop) > 0 {
		keys := make([][]byte, 0, len(drop))
		m.mu.Lock()
		for _, e := range drop {
			if m.mu.entries[e.key] == e {
				delete(m.mu.entries, e.key)
				keys = append(keys, []byte(e.key))
			}
		}
		m.mu.Unlock()
		_ = m.deleteOwnRows(ctx, keys)
	}
}

// releaseMarked releases this node's leases on the keys a live drain
// marker names: the cached copy is dropped first (no statement starts
// using it any more), then the row is deleted, which is what the change
// waits for.
func (m *Manager) releaseMarked(ctx context.Context) error {
	txn, err := m.db.Begin(ctx)
	if err != nil {
		return err
	}
	tt, _ := txn.(catalog.TimestampedTxn)
	it := txn.Scan(ctx, markerPrefix, kvpb.PrefixEnd(markerPrefix), false)
	var release [][]byte
	for it.Next(ctx) {
		desc, until, err := decodeMarker(it.Key(), it.Value())
		if err != nil || tt == nil || until <= tt.ReadTimestamp().WallTime {
			continue
		}
		// Held or not: a row of ours on a marked key serves nothing once
		// the copy is dropped (an acquisition under way installs nothing
		// after block), so it goes too.
		m.mu.RLock()
		done := m.mu.released[string(desc)]
		m.mu.RUnlock()
		if !done {
			m.block(string(desc))
			release = append(release, desc)
		}
	}
	err = it.Err()
	it.Close()
	_ = txn.Rollback(ctx)
	if err != nil {
		return err
	}
	if err := m.deleteOwnRows(ctx, release); err != nil {
		return err
	}
	m.mu.Lock()
	for _, k := range release {
		if _, held := m.mu.entries[string(k)]; !held {
			m.mu.released[string(k)] = true
		}
	}
	m.mu.Unlock()
	return nil
}
