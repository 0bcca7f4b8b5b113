package pgwire

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

const benchConns = 16

// runConns splits b.N operations over benchConns pgx connections.
func runConns(b *testing.B, conns []*pgx.Conn, op func(ctx context.Context, conn *pgx.Conn, i int64) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(conns))
	b.ResetTimer()
	for _, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := op(ctx, conn, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func benchSetup(b *testing.B) []*pgx.Conn {
	_, ts := memServer(b)
	conns := make([]*pgx.Conn, benchConns)
	for i := range conns {
		conns[i] = ts.connect(b, "test")
	}
	mustExec(b, conns[0], "CREATE TABLE kv (k INT64 PRIMARY KEY, v STRING)")
	return conns
}

// BenchmarkPgx measures statements through pgx over loopback TCP, 16
// connections, on the in-memory kv (the protocol and SQL layers, not
// Raft or Pebble): go test -run '^$' -bench Pgx ./internal/pgwire
func BenchmarkPgx(b *testing.B) {
	b.Run("point-select", func(b *testing.B) {
		conns := benchSetup(b)
		for k := 0; k < 1000; k += 100 {
			batch := &pgx.Batch{}
			for j := k; j < k+100; j++ {
				batch.Queue("INSERT INTO kv VALUES ($1, $2)", j, "value")
			}
			if err := conns[0].SendBatch(context.Background(), batch).Close(); err != nil {
				b.Fatal(err)
			}
		}
		runConns(b, conns, func(ctx context.Context, conn *pgx.Conn, i int64) error {
			var v string
			return conn.QueryRow(ctx, "SELECT v FROM kv WHERE k = $1", i%1000).Scan(&v)
		})
	})
	b.Run("insert", func(b *testing.B) {
		conns := benchSetup(b)
		runConns(b, conns, func(ctx context.Context, conn *pgx.Conn, i int64) error {
			_, err := conn.Exec(ctx, "INSERT INTO kv VALUES ($1, $2)", i, "value")
			return err
		})
	})
}
