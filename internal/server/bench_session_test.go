package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	sqlexec "github.com/camusdb/camusdb-go/internal/sql/exec"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// BenchmarkSessionInsert drives the SQL session directly (no HTTP) over the
// real stack, to separate the protocol's cost from the engine's.
func BenchmarkSessionInsert(b *testing.B) {
	ctx := context.Background()
	s := benchSession(b, session.Config{}, "CREATE DATABASE bench", "CREATE TABLE items (id INT64 PRIMARY KEY, name STRING NOT NULL, qty INT64)")
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
	s := benchSession(b, session.Config{ParseCacheTTL: time.Minute}, "CREATE DATABASE bench", "CREATE TABLE items (id INT64 PRIMARY KEY, name STRING NOT NULL, qty INT64)",
		"INSERT INTO items VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3), (4, 'd', 4)")
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

// BenchmarkSessionBank runs the benchmark tool's bank workload through the
// SQL session over the real stack: a serializable transaction reads two of
// 1 000 account balances and writes both, retried whole on a retryable
// error. Each key is read again soon after it was written, which is what
// the read cache's write-through serves.
//
//	go test -run '^$' -bench SessionBank -benchtime 20000x ./internal/server
func BenchmarkSessionBank(b *testing.B) {
	const accounts = 1000
	ctx := context.Background()
	var load strings.Builder
	load.WriteString("INSERT INTO accounts VALUES ")
	for i := 0; i < accounts; i++ {
		if i > 0 {
			load.WriteString(", ")
		}
		fmt.Fprintf(&load, "(%d, 1000)", i)
	}
	s := benchSession(b, session.Config{ParseCacheTTL: time.Minute}, "CREATE DATABASE bench",
		"CREATE TABLE accounts (id INT64 PRIMARY KEY, balance INT64 NOT NULL)", load.String())
	var seed, retries atomic.Int64
	transfer := func(rng *rand.Rand) error {
		from, to := rng.IntN(accounts), rng.IntN(accounts-1)
		if to >= from {
			to++
		}
		h, err := s.Begin(ctx, "bench")
		if err != nil {
			return err
		}
		run := func(q string, id int) (*session.Result, error) {
			return s.Execute(ctx, session.Request{Database: "bench", Txn: &h, SQL: q, Params: map[string]types.Value{"id": types.NewInt(int64(id))}})
		}
		for _, id := range []int{from, to} {
			if _, err := run("SELECT balance FROM accounts WHERE id = @id", id); err != nil {
				_ = s.Rollback(ctx, h)
				return err
			}
		}
		if _, err := run("UPDATE accounts SET balance = balance - 1 WHERE id = @id", from); err != nil {
			_ = s.Rollback(ctx, h)
			return err
		}
		if _, err := run("UPDATE accounts SET balance = balance + 1 WHERE id = @id", to); err != nil {
			_ = s.Rollback(ctx, h)
			return err
		}
		return s.Commit(ctx, h)
	}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(uint64(seed.Add(1)), 7))
		for pb.Next() {
			for attempt := 0; ; attempt++ {
				err := transfer(rng)
				if err == nil {
					break
				}
				if !errcode.Of(err).Retryable() || attempt == 50 {
					b.Error(err)
					return
				}
				retries.Add(1)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "txn/s")
	b.ReportMetric(float64(retries.Load())/float64(b.N), "retries/txn")
}

// BenchmarkSessionScanCountSum runs a whole-table COUNT(*), SUM(v) through
// the SQL session over the real stack (Pebble, Raft, kvserver) on a
// standalone node: the scan workload of the benchmark tool without the
// protocol (100 000 rows; ns/row is the figure to compare).
//
//	go test -run '^$' -bench SessionScan -cpuprofile /tmp/cpu.out ./internal/server
func BenchmarkSessionScanCountSum(b *testing.B) {
	const rows = 100_000
	ctx := context.Background()
	s := benchSession(b, session.Config{ParseCacheTTL: time.Minute})
	exec := func(q string) {
		if _, err := s.Execute(ctx, session.Request{Database: "bench", SQL: q}); err != nil {
			b.Fatal(err)
		}
	}
	exec("CREATE DATABASE bench")
	exec("CREATE TABLE t (k INT64 PRIMARY KEY, v INT64)")
	var want int64
	for j := range rows {
		want += int64(j % 1000)
	}
	benchLoad(b, s, rows, func(j int) string { return fmt.Sprintf("(%d, %d)", j, j%1000) })
	b.ReportAllocs()
	cpuBefore := testutil.ProcessCPU(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.Execute(ctx, session.Request{Database: "bench", SQL: "SELECT COUNT(*), SUM(v) FROM t"})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Rows) != 1 || res.Rows[0][0].Int != rows || res.Rows[0][1].Int != want {
			b.Fatalf("got %v, want %d rows summing to %d", res.Rows, rows, want)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
	// CPU time of the process per row: steadier than wall time on a
	// machine shared with other work.
	b.ReportMetric(float64(testutil.ProcessCPU(b)-cpuBefore)/float64(b.N)/float64(rows), "cpu-ns/row")
}

// BenchmarkSessionInsertValues loads a table with 1000-row INSERT ...
// VALUES statements through the session (the bulk workload's statement),
// reporting the CPU per row.
func BenchmarkSessionInsertValues(b *testing.B) {
	ctx := context.Background()
	s := benchSession(b, session.Config{}, "CREATE DATABASE bench", "CREATE TABLE t (k INT64 PRIMARY KEY, v INT64)")
	const rows = 1000
	stmts := make([]string, b.N)
	for i := range stmts {
		var sb strings.Builder
		sb.WriteString("INSERT INTO t (k, v) VALUES ")
		for k := i * rows; k < (i+1)*rows; k++ {
			if k > i*rows {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d, %d)", k, k%1000)
		}
		stmts[i] = sb.String()
	}
	cpuBefore := testutil.ProcessCPU(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Execute(ctx, session.Request{Database: "bench", SQL: stmts[i]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(testutil.ProcessCPU(b)-cpuBefore)/float64(b.N*rows), "cpu-ns/row")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

// benchLoad inserts rows rows into table t of database bench, row(j)
// giving the VALUES tuple of row j, 5000 rows per statement.
func benchLoad(b *testing.B, s *session.Server, rows int, row func(j int) string) {
	b.Helper()
	const chunk = 5000
	var sb strings.Builder
	for i := 0; i < rows; i += chunk {
		sb.Reset()
		sb.WriteString("INSERT INTO t VALUES ")
		for j := i; j < min(i+chunk, rows); j++ {
			if j > i {
				sb.WriteString(", ")
			}
			sb.WriteString(row(j))
		}
		if _, err := s.Execute(context.Background(), session.Request{Database: "bench", SQL: sb.String()}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSession opens a standalone core on disk with a session server over
// it and runs the setup statements in database "bench".
func benchSession(b *testing.B, cfg session.Config, setup ...string) *session.Server {
	b.Helper()
	s, _ := benchSessionDB(b, cfg, setup...)
	return s
}

// benchSessionDB is benchSession that also returns the catalog.DB under
// the session.
func benchSessionDB(b *testing.B, cfg session.Config, setup ...string) (*session.Server, catalog.DB) {
	b.Helper()
	ctx := context.Background()
	c, err := openCore(ctx, coreConfig{DataDir: b.TempDir(), NodeID: 1, Partitions: 1})
	if err != nil {
		b.Fatal(err)
	}
	db := sqlDB{c.db}
	s := session.NewServer(db, cfg)
	b.Cleanup(func() { s.Close(); c.close(ctx) })
	for _, q := range setup {
		if _, err := s.Execute(ctx, session.Request{Database: "bench", SQL: q}); err != nil {
			b.Fatal(err)
		}
	}
	return s, db
}

// BenchmarkStatsRefresh computes the planner statistics of a 100 000-row
// table (four columns, a string among them) over the real stack: the work
// the background refresh does each time a tenth of a table was written,
// decoding every row (every=1) or a tenth of them (every=10, a 1M-row
// table's sample). cpu-ns/row is the figure to compare.
//
//	go test -run '^$' -bench StatsRefresh ./internal/server
func BenchmarkStatsRefresh(b *testing.B) {
	const rows = 100_000
	s, db := benchSessionDB(b, session.Config{}, "CREATE DATABASE bench",
		"CREATE TABLE t (id INT64 PRIMARY KEY, v INT64 NOT NULL, w INT64 NOT NULL, pad STRING)")
	benchLoad(b, s, rows, func(j int) string { return fmt.Sprintf("(%d, %d, 0, 'pad-%d')", j, j, j) })
	for _, every := range []int64{1, 10} {
		b.Run(fmt.Sprintf("every=%d", every), func(b *testing.B) { benchStats(b, db, rows, every) })
	}
}

func benchStats(b *testing.B, db catalog.DB, rows, every int64) {
	ctx := context.Background()
	b.ReportAllocs()
	cpuBefore := testutil.ProcessCPU(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		txn, err := db.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		d, err := catalog.GetDatabase(ctx, txn, "bench")
		if err != nil {
			b.Fatal(err)
		}
		t, err := catalog.GetTable(ctx, txn, d.ID, "t")
		if err != nil {
			b.Fatal(err)
		}
		st, err := sqlexec.ComputeStats(ctx, txn, t, every)
		if err != nil {
			b.Fatal(err)
		}
		if st.Rows != rows {
			b.Fatalf("counted %d rows, want %d", st.Rows, rows)
		}
		txn.Rollback(ctx)
	}
	b.StopTimer()
	b.ReportMetric(float64(testutil.ProcessCPU(b)-cpuBefore)/float64(int64(b.N)*rows), "cpu-ns/row")
}
