package server

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// BenchmarkNodeCopyCSV loads CSV rows with COPY ... FROM STDIN into a
// real node (Raft, Pebble, fsync), in batches of 1M rows per COPY:
//
//	go test -run '^$' -bench NodeCopyCSV -benchtime 1x ./internal/server
//
// rows/s is the figure (the bar: 200,000 rows/s on 1M rows).
func BenchmarkNodeCopyCSV(b *testing.B) {
	const rows = 1_000_000
	n := startPGNode(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgURL(n))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var data bytes.Buffer
	for i := range rows {
		fmt.Fprintf(&data, "%d,name-%d,%d.5,%t\n", i, i, i%1000, i%2 == 0)
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		table := fmt.Sprintf("t%d", i)
		if _, err := conn.Exec(ctx, "CREATE TABLE "+table+" (id INT64 PRIMARY KEY, name STRING, score FLOAT64, ok BOOL)"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		tag, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(data.Bytes()), "COPY "+table+" FROM STDIN WITH (FORMAT csv)")
		if err != nil || tag.RowsAffected() != rows {
			b.Fatalf("%v %v", tag, err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
