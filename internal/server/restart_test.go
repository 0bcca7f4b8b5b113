package server

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/replica"
)

// TestRestartAfterManyWritesIsBounded commits many single-write
// transactions, restarts the node on its data directory and checks that the
// Raft log was truncated behind a checkpoint (so restart replays at most
// one truncation interval, not the whole history) and that every write is
// there. The restart time is logged (-v) as the figure the README records;
// nothing asserts on time.
func TestRestartAfterManyWritesIsBounded(t *testing.T) {
	const writes = 100_000
	dir := t.TempDir()
	ctx := context.Background()
	c, err := openCore(ctx, coreConfig{DataDir: dir, NodeID: 1, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	key := func(i int) []byte { return fmt.Appendf(kvpb.RowPrefix(1, 1), "%08d", i) }
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	start := time.Now()
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= writes {
					return
				}
				if err := c.db.RunTxn(ctx, 10, func(txn *kv.Txn) error {
					return txn.Put(key(i), []byte("v"))
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d single-write transactions committed in %v (%.0f/s)", writes, time.Since(start), float64(writes)/time.Since(start).Seconds())
	st, err := c.store.Status(1)
	if err != nil {
		t.Fatal(err)
	}
	if st.AppliedIndex < uint64(writes) {
		t.Fatalf("applied index %d below the %d writes", st.AppliedIndex, writes)
	}
	logLen := st.LastIndex - st.FirstIndex + 1
	t.Logf("raft log: first %d last %d applied %d (%d entries kept)", st.FirstIndex, st.LastIndex, st.AppliedIndex, logLen)
	if logLen > 2*replica.DefaultTruncateEntries {
		t.Fatalf("log holds %d entries after %d writes: not truncated behind the applied index", logLen, writes)
	}
	c.close(ctx)

	start = time.Now()
	c, err = openCore(ctx, coreConfig{DataDir: dir, NodeID: 1, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.close(ctx)
	t.Logf("restart after %d writes: ready in %v", writes, time.Since(start))
	txn, _ := c.db.Begin(ctx)
	n := 0
	it := txn.Scan(ctx, kvpb.RowPrefix(1, 1), nil, false)
	for it.Next(ctx) {
		n++
	}
	if it.Err() != nil || n != writes {
		t.Fatalf("after restart %d of %d writes visible (%v)", n, writes, it.Err())
	}
}
