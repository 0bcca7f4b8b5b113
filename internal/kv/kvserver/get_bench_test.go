package kvserver

import (
	"context"
	"encoding/binary"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/storage"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// TestLatchWaiterWokenByRelease: a read latch waiting for a write latch on
// its key (the waiter makes the holder's done channel, which only waiters
// need) is granted when the writer releases; two readers of one key share
// it, and a writer waits until both are gone.
func TestLatchWaiterWokenByRelease(t *testing.T) {
	m := newLatchManager()
	ctx := context.Background()
	writer, _ := m.acquire(ctx, []latchSpan{{start: "k", write: true}})
	got := make(chan *latchGroup)
	go func() {
		g, _ := m.acquire(ctx, []latchSpan{{start: "k"}})
		got <- g
	}()
	testutil.SucceedsSoon(t, 10*time.Second, func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if writer.done == nil {
			return errors.New("the reader is not waiting yet")
		}
		return nil
	})
	m.release(writer)
	reader1 := <-got
	reader2, err := m.acquire(ctx, []latchSpan{{start: "k"}})
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	blocker := m.conflictLocked(&latchGroup{spans: []latchSpan{{start: "k", write: true}}})
	m.mu.Unlock()
	if blocker != reader1 && blocker != reader2 {
		t.Fatalf("a writer is blocked by %p, want one of the readers", blocker)
	}
	m.release(reader1)
	m.mu.Lock()
	blocker = m.conflictLocked(&latchGroup{spans: []latchSpan{{start: "k", write: true}}})
	m.mu.Unlock()
	if blocker != reader2 {
		t.Fatalf("after the first reader left a writer is blocked by %p, want the second reader", blocker)
	}
	m.release(reader2)
	if m.points.Len() != 0 {
		t.Fatal("latches left after release")
	}
}

// BenchmarkServerGet measures a point read on the leaseholder: latch,
// MVCC read from Pebble, timestamp cache (1000 keys, 16 readers).
//
//	go test -run '^$' -bench ServerGet -benchmem ./internal/kv/kvserver
func BenchmarkServerGet(b *testing.B) {
	eng, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	clock := hlc.NewClock(nil)
	s := New(eng, clock, &gatedReplicator{engine: eng})
	ctx := context.Background()
	const p, keys = 1, 1000
	key := func(i int64) []byte { return binary.BigEndian.AppendUint64([]byte("row/"), uint64(i%keys)) }
	var muts []Mutation
	for i := int64(0); i < keys; i++ {
		muts = append(muts, Mutation{Key: key(i), Value: []byte("value")})
	}
	if _, err := s.Commit1PC(ctx, p, &CommitRequest{TxnID: mvcc.TxnID{1}, ReadTS: clock.Now(), Writes: muts}); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		own := mvcc.TxnID{2}
		for pb.Next() {
			_, found, err := s.Get(ctx, p, key(next.Add(1)), clock.Now(), mvcc.ReadOptions{Own: &own})
			if err != nil || !found {
				b.Error(found, err)
				return
			}
		}
	})
}
