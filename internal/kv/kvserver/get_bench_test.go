package kvserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
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
// MVCC read from Pebble or the read cache, timestamp cache (16 readers,
// random keys), over 1000 and 100000 keys, with and without the
// engine's read cache.
//
//	go test -run '^$' -bench ServerGet -benchmem ./internal/kv/kvserver
func BenchmarkServerGet(b *testing.B) {
	for _, keys := range []int64{1000, 100000} {
		for _, cached := range []bool{false, true} {
			b.Run(fmt.Sprintf("keys=%d/cache=%v", keys, cached), func(b *testing.B) { benchServerGet(b, keys, cached) })
		}
	}
}

func benchServerGet(b *testing.B, keys int64, cached bool) {
	opts := storage.Options{InMemory: true}
	if cached {
		opts.CacheGroup = mvcc.CacheGroup
	}
	eng, err := storage.Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	clock := hlc.NewClock(nil)
	s := New(eng, clock, &gatedReplicator{engine: eng})
	ctx := context.Background()
	const p = 1
	key := func(i int64) []byte { return binary.BigEndian.AppendUint64([]byte("row/"), uint64(i%keys)) }
	for start := int64(0); start < keys; start += 1000 {
		var muts []Mutation
		for i := start; i < start+1000 && i < keys; i++ {
			muts = append(muts, Mutation{Key: key(i), Value: []byte("value")})
		}
		if _, err := s.Commit1PC(ctx, p, &CommitRequest{TxnID: mvcc.TxnID{1}, ReadTS: clock.Now(), Writes: muts}); err != nil {
			b.Fatal(err)
		}
	}
	var seed atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		own := mvcc.TxnID{2}
		rng := rand.New(rand.NewSource(seed.Add(1)))
		for pb.Next() {
			_, found, err := s.Get(ctx, p, key(rng.Int63n(keys)), clock.Now(), mvcc.ReadOptions{Own: &own})
			if err != nil || !found {
				b.Error(found, err)
				return
			}
		}
	})
	if st := eng.ReadCacheStats(); cached && st.Hits+st.Misses > 0 {
		b.ReportMetric(float64(st.Hits)/float64(st.Hits+st.Misses), "hits/read")
	}
}
