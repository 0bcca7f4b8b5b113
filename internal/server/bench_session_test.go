package server

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// BenchmarkSessionInsert drives the SQL session directly (no HTTP) over the
// real stack, to separate the protocol's cost from the engine's.
func BenchmarkSessionInsert(b *testing.B) {
	ctx := context.Background()
	c, err := openCore(ctx, coreConfig{DataDir: b.TempDir(), NodeID: 1, Partitions: 1})
	if err != nil {
		b.Fatal(err)
	}
	s := session.NewServer(sqlDB{c.db}, session.Config{})
	b.Cleanup(func() { s.Close(); c.close(ctx) })
	for _, q := range []string{"CREATE DATABASE bench", "CREATE TABLE items (id INT64 PRIMARY KEY, name STRING NOT NULL, qty INT64)"} {
		if _, err := s.Execute(ctx, session.Request{Database: "bench", SQL: q}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := next.Add(1)
			_, err := s.Execute(ctx, session.Request{Database: "bench", SQL: "INSERT INTO items (id, name, qty) VALUES (@id, 'x', 1)",
				Params: map[string]types.Value{"id": types.NewInt(id)}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
}

// BenchmarkSessionPointSelect runs primary-key point selects through the SQL
// session over the real stack (no protocol): the descriptor resolution of
// every statement is a large part of what it measures.
func BenchmarkSessionPointSelect(b *testing.B) {
	ctx := context.Background()
	c, err := openCore(ctx, coreConfig{DataDir: b.TempDir(), NodeID: 1, Partitions: 1})
	if err != nil {
		b.Fatal(err)
	}
	s := session.NewServer(sqlDB{c.db}, session.Config{ParseCacheTTL: time.Minute})
	b.Cleanup(func() { s.Close(); c.close(ctx) })
	for _, q := range []string{"CREATE DATABASE bench", "CREATE TABLE items (id INT64 PRIMARY KEY, name STRING NOT NULL, qty INT64)",
		"INSERT INTO items VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3), (4, 'd', 4)"} {
		if _, err := s.Execute(ctx, session.Request{Database: "bench", SQL: q}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := next.Add(1)%4 + 1
			res, err := s.Execute(ctx, session.Request{Database: "bench", SQL: "SELECT name FROM items WHERE id = @id",
				Params: map[string]types.Value{"id": types.NewInt(id)}})
			if err != nil || len(res.Rows) != 1 {
				b.Error(res, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "selects/s")
}
