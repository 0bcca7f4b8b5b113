package kvtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kvpb"
)

// BenchmarkTxn2R2W: write transactions of 2 point reads and 2 writes from
// 16 concurrent clients on one in-process node, each client on its own
// keys (no contention); reports txn/s.
//
//   - 1-partition: all four keys in one partition (one-phase commit);
//     4-partitions: every key in another partition (two written
//     participants with intents and a record, two read-only participants
//     that refresh).
//   - rows: each client cycles over 256 rows per key slot; hot: each client
//     rewrites the same 4 keys in every transaction.
//   - mem: an in-memory engine; disk: a directory (fsync per Raft batch).
func BenchmarkTxn2R2W(b *testing.B) {
	for _, storage := range []string{"mem", "disk"} {
		for _, keys := range []string{"rows", "hot"} {
			for _, spread := range []int{1, 4} {
				name := fmt.Sprintf("%s/%s/%d-partition", storage, keys, spread)
				if spread > 1 {
					name += "s"
				}
				b.Run(name, func(b *testing.B) {
					rows := 256
					if keys == "hot" {
						rows = 1
					}
					benchTxn2R2W(b, storage == "disk", spread, rows)
				})
			}
		}
	}
}

func benchTxn2R2W(b *testing.B, disk bool, spread, rows int) {
	const clients = 16
	opts := Options{Partitions: 4, Ephemeral: true}
	if disk {
		opts = Options{Partitions: 4, Dir: b.TempDir()}
	}
	n := Start(b, opts)
	ctx := context.Background()
	// key(c, r, i): client c's row r of slot i; slots 0, 1 are read, 2, 3
	// written.
	key := func(c, r, i int) []byte {
		part := uint64(1)
		if spread > 1 {
			part = uint64(i%4 + 1)
		}
		return Key(TablesOn(part, 4, 1)[0], fmt.Sprintf("c%02d-r%03d-%d", c, r, i))
	}
	for c := 0; c < clients; c++ {
		seed, _ := n.DB.Begin(ctx)
		for r := 0; r < rows; r++ {
			for i := 0; i < 2; i++ {
				_ = seed.Put(key(c, r, i), []byte("0"))
			}
		}
		if err := seed.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for j := 0; next.Add(1) <= int64(b.N); j++ {
				r := j % rows
				err := n.DB.RunTxn(ctx, 10, func(txn *kv.Txn) error {
					x, _, err := txn.Get(ctx, key(c, r, 0))
					if err != nil {
						return err
					}
					y, _, err := txn.Get(ctx, key(c, r, 1))
					if err != nil {
						return err
					}
					_ = txn.Put(key(c, r, 2), x)
					return txn.Put(key(c, r, 3), y)
				})
				if err != nil && !kvpb.IsRetryable(err) {
					failed.Store(err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "txn/s")
	// fsyncs and Raft entries per transaction (the seeding commits count
	// too; they are few).
	m := n.Store.Metrics()
	b.ReportMetric(float64(n.Engine.Stats().WALSyncs)/float64(b.N), "fsyncs/txn")
	b.ReportMetric(float64(m.EntriesAppended)/float64(b.N), "entries/txn")
}
