package server

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
)

// In-process node + client benchmarks, for profiling the request path:
//
//	go test -run '^$' -bench Node -cpuprofile cpu.out ./internal/server
func startBenchNode(b *testing.B, partitions int) *client.Client {
	cfg := testConfig(b)
	cfg.InitialPartitions = partitions
	if os.Getenv("BENCH_NOSTATS") != "" {
		cfg.StatsFlushIntervalMS = -1
	}
	n, err := NewNode(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	c := client.New([]string{"http://" + n.HTTPAddr()})
	b.Cleanup(c.Close)
	ctx := context.Background()
	if err := c.CreateDB(ctx, "bench", false); err != nil {
		b.Fatal(err)
	}
	if err := c.ExecDDL(ctx, "bench", `CREATE TABLE items (id INT64 PRIMARY KEY, name STRING NOT NULL, qty INT64)`); err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkNodePointSelect(b *testing.B) {
	c := startBenchNode(b, 1)
	ctx := context.Background()
	for i := 0; i < 1000; i += 100 {
		sql := "INSERT INTO items (id, name, qty) VALUES "
		for j := i; j < i+100; j++ {
			if j > i {
				sql += ", "
			}
			sql += fmt.Sprintf("(%d, 'item-%d', %d)", j, j, j%7)
		}
		if _, err := c.Exec(ctx, "bench", sql, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := next.Add(1) % 1000
			if _, err := c.Query(ctx, "bench", `SELECT id, name, qty FROM items WHERE id = @id`, map[string]any{"id": id}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "selects/s")
}

func BenchmarkNodeInsert(b *testing.B) {
	c := startBenchNode(b, 1)
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := next.Add(1)
			if _, err := c.Exec(ctx, "bench", `INSERT INTO items (id, name, qty) VALUES (@id, 'x', 1)`, map[string]any{"id": id}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
}
