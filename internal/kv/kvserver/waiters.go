package kvserver

import (
	"context"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// intentWaiters is a partition's wait queue on intents: requests blocked by
// another transaction's intent park here and are woken when the intent is
// resolved on this node, instead of polling.
type intentWaiters struct {
	mu sync.Mutex
	m  map[string]chan struct{} // guarded by mu: closed at the key's next resolution
}

func (w *intentWaiters) channel(key string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = make(map[string]chan struct{})
	}
	ch := w.m[key]
	if ch == nil {
		ch = make(chan struct{})
		w.m[key] = ch
	}
	return ch
}

func (w *intentWaiters) release(key string) {
	w.mu.Lock()
	ch := w.m[key]
	delete(w.m, key)
	w.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// releaseAll wakes every waiter (the lease changed: whatever they wait for
// is now another leaseholder's business, or must be looked at again).
func (w *intentWaiters) releaseAll() {
	w.mu.Lock()
	m := w.m
	w.m = nil
	w.mu.Unlock()
	for _, ch := range m {
		close(ch)
	}
}

func (s *Server) waitersFor(partitionID uint64) *intentWaiters {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.mu.waiters[partitionID]
	if w == nil {
		w = &intentWaiters{}
		s.mu.waiters[partitionID] = w
	}
	return w
}

// WaitIntent waits until the intent of transaction owner on key is
// resolved, at most maxWait. It returns nil in every case but ctx's end;
// the caller re-reads to learn what happened.
func (s *Server) WaitIntent(ctx context.Context, partitionID uint64, key []byte, owner mvcc.TxnID, maxWait time.Duration) error {
	ch := s.waitersFor(partitionID).channel(string(key))
	// Registered first, then checked: a resolution after this check closes ch.
	in, err := mvcc.GetIntent(s.engine, partitionID, key)
	if err != nil || in == nil || in.TxnID != owner {
		return err
	}
	t := time.NewTimer(maxWait)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}
