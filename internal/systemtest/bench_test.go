package systemtest

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

// Benchmarks of the whole product over HTTP: a real camusdb process and the
// Go client on the same machine. Run with
//
//	go test -run '^$' -bench . -benchtime 5s ./internal/systemtest
//
// Figures are reported as ops/s; the README records them.

// clientsParallelism makes b.RunParallel use `clients` goroutines.
func clientsParallelism(b *testing.B, clients int) {
	p := clients / runtime.GOMAXPROCS(0)
	if p < 1 {
		p = 1
	}
	b.SetParallelism(p)
}

func benchInsert(b *testing.B, clients int) {
	n := startNode(b, b.TempDir())
	c := n.client()
	ctx := context.Background()
	_ = c.CreateDB(ctx, "bench", false)
	if err := c.ExecDDL(ctx, "bench", `CREATE TABLE items (id INT64 PRIMARY KEY, name STRING NOT NULL, qty INT64)`); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.ResetTimer()
	if clients == 1 {
		for i := 0; i < b.N; i++ {
			id := next.Add(1)
			if _, err := c.Exec(ctx, "bench", `INSERT INTO items (id, name, qty) VALUES (@id, @name, @qty)`,
				map[string]any{"id": id, "name": "item", "qty": id % 100}, nil); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		clientsParallelism(b, clients)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := next.Add(1)
				if _, err := c.Exec(ctx, "bench", `INSERT INTO items (id, name, qty) VALUES (@id, @name, @qty)`,
					map[string]any{"id": id, "name": "item", "qty": id % 100}, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
}

func BenchmarkHTTPInsert1(b *testing.B)  { benchInsert(b, 1) }
func BenchmarkHTTPInsert16(b *testing.B) { benchInsert(b, 16) }

func BenchmarkHTTPPointSelect16(b *testing.B) {
	n := startNode(b, b.TempDir())
	c := n.client()
	ctx := context.Background()
	_ = c.CreateDB(ctx, "bench", false)
	if err := c.ExecDDL(ctx, "bench", `CREATE TABLE items (id INT64 PRIMARY KEY, name STRING NOT NULL, qty INT64)`); err != nil {
		b.Fatal(err)
	}
	const rows = 1000
	for i := 0; i < rows; i += 100 {
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
	b.ResetTimer()
	clientsParallelism(b, 16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := next.Add(1) % rows
			res, err := c.Query(ctx, "bench", `SELECT id, name, qty FROM items WHERE id = @id`, map[string]any{"id": id}, nil)
			if err != nil || len(res.Rows) != 1 {
				b.Errorf("point select %d: %v", id, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "selects/s")
}

func BenchmarkHTTPCount100k(b *testing.B) {
	n := startNode(b, b.TempDir())
	c := n.client()
	ctx := context.Background()
	_ = c.CreateDB(ctx, "bench", false)
	if err := c.ExecDDL(ctx, "bench", `CREATE TABLE items (id INT64 PRIMARY KEY, name STRING NOT NULL, qty INT64)`); err != nil {
		b.Fatal(err)
	}
	const rows, batch = 100_000, 1000
	for i := 0; i < rows; i += batch {
		sql := make([]byte, 0, 40*batch)
		sql = append(sql, "INSERT INTO items (id, name, qty) VALUES "...)
		for j := i; j < i+batch; j++ {
			if j > i {
				sql = append(sql, ", "...)
			}
			sql = fmt.Appendf(sql, "(%d, 'item-%d', %d)", j, j, j%7)
		}
		if _, err := c.Exec(ctx, "bench", string(sql), nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := c.Query(ctx, "bench", `SELECT COUNT(*), SUM(qty) FROM items`, nil, nil)
		if err != nil || len(res.Rows) != 1 || res.Rows[0][0] != int64(rows) {
			b.Fatalf("count: %v %v", res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/query")
}
