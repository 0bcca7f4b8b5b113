package lease

import (
	"context"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Drain prepares txn, which has written the descriptors at keys, to
// commit: it writes a drain marker for each key (no node acquires a lease
// on it any more), gives up this node's leases on them, waits until no
// lease row on them is live (other nodes release theirs when they see the
// marker, within PollInterval; a node that does not answer holds the
// change up until its lease expires), and then bounds txn's commit
// timestamp: above the moment the leases were seen gone, below the
// markers' end. txn deletes the markers when it commits. ctx bounds the
// wait. A txn without timestamps, or a nil Manager, needs nothing. After
// a nil error the caller calls Committed (or Undrain) with the same keys
// once txn has ended; after an error Drain has undone itself.
func (m *Manager) Drain(ctx context.Context, txn catalog.Txn, keys [][]byte) error {
	if m == nil || len(keys) == 0 {
		return nil
	}
	tt, ok := txn.(catalog.TimestampedTxn)
	if !ok {
		return nil
	}
	err := m.drain(ctx, tt, keys)
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.Duration)
		defer cancel()
		m.Undrain(rctx, keys)
	}
	return err
}

func (m *Manager) drain(ctx context.Context, tt catalog.TimestampedTxn, keys [][]byte) error {
	until := m.db.Now().WallTime + int64(m.cfg.MarkerTTL)
	m.mu.Lock()
	for _, k := range keys {
		m.mu.draining[string(k)]++
	}
	m.mu.Unlock()
	for _, k := range keys {
		m.block(string(k))
	}
	marker := encodeMarker(until)
	err := m.runTxn(ctx, func(t catalog.Txn) error {
		for _, k := range keys {
			if err := t.Put(markerKey(k), marker); err != nil {
				return err
			}
			if err := t.Delete(leaseKey(k, m.cfg.NodeID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for {
		seen, live, err := m.liveLeases(ctx, keys)
		if err == nil && len(live) == 0 {
			tt.SetMinCommitTimestamp(seen)
			break
		}
		if err == nil {
			err = m.wait(ctx, m.cfg.PollInterval)
		}
		if err != nil {
			if len(live) > 0 || ctx.Err() != nil {
				return waitError(live, err)
			}
			return err
		}
	}
	tt.SetDeadline(hlc.Timestamp{WallTime: until})
	for _, k := range keys {
		if err := tt.Delete(markerKey(k)); err != nil {
			return err
		}
	}
	return nil
}

// Undrain removes the markers of a change that will not commit, so the
// keys can be leased again before the markers would end, and lets this
// node lease them again. Best effort.
func (m *Manager) Undrain(ctx context.Context, keys [][]byte) {
	if m == nil || len(keys) == 0 {
		return
	}
	_ = m.runTxn(ctx, func(t catalog.Txn) error {
		for _, k := range keys {
			if err := t.Delete(markerKey(k)); err != nil {
				return err
			}
		}
		return nil
	})
	m.Committed(keys)
}

// Committed tells the manager that the change of keys, drained by Drain,
// committed (or was given up): this node may lease them again. Every
// Drain must be followed by one Committed or Undrain of the same keys.
func (m *Manager) Committed(keys [][]byte) {
	if m == nil {
		return
	}
	m.mu.Lock()
	for _, k := range keys {
		if m.mu.draining[string(k)]--; m.mu.draining[string(k)] <= 0 {
			delete(m.mu.draining, string(k))
		}
	}
	m.mu.Unlock()
}

// liveLeases reads, in a fresh transaction, the lease rows on keys whose
// expiration is above its read timestamp; it returns that timestamp too.
func (m *Manager) liveLeases(ctx context.Context, keys [][]byte) (hlc.Timestamp, []row, error) {
	txn, err := m.db.Begin(ctx)
	if err != nil {
		return hlc.Timestamp{}, nil, err
	}
	defer func() { _ = txn.Rollback(ctx) }()
	tt, ok := txn.(catalog.TimestampedTxn)
	if !ok {
		return hlc.Timestamp{}, nil, nil
	}
	readTS := tt.ReadTimestamp()
	var live []row
	for _, k := range keys {
		span := leaseSpan(k)
		it := txn.Scan(ctx, span, kvpb.PrefixEnd(span), false)
		for it.Next(ctx) {
			r, err := decodeLease(it.Key(), it.Value())
			if err != nil {
				it.Close()
				return hlc.Timestamp{}, nil, err
			}
			if string(r.desc) == string(k) && r.expires > readTS.WallTime {
				live = append(live, r)
			}
		}
		err := it.Err()
		it.Close()
		if err != nil {
			return hlc.Timestamp{}, nil, err
		}
	}
	return readTS, live, nil
}

func waitError(live []row, err error) error {
	if len(live) == 0 {
		return errcode.New(errcode.SchemaCatchingUp, "schema change gave up waiting for schema leases to end: %v", err)
	}
	r := live[0]
	return errcode.New(errcode.SchemaCatchingUp,
		"schema change gave up waiting for node %d to release its lease on descriptor %q (version %d): %v", r.nodeID, r.desc, r.version, err)
}
