package kv

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// nkey is the key of row i of table 1: big-endian, like the integer keys
// of SQL tables (SplitSpan interpolates between numbers).
func nkey(i int) []byte { return key(1, string(binary.BigEndian.AppendUint32(nil, uint32(i)))) }

// parallelScan runs ScanValuesParallel over table 1 and returns the
// values of each piece.
func parallelScan(t *testing.T, txn *Txn) (pieces [][]string, ok bool) {
	t.Helper()
	opts := ParallelScanOptions{Workers: 2, Pieces: 8, BatchBytes: 4 << 10}
	pieces = make([][]string, opts.Pieces+1)
	ok, err := txn.ScanValuesParallel(context.Background(), key(1, ""), nil, opts, func(piece int, v []byte) error {
		pieces[piece] = append(pieces[piece], string(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pieces, ok
}

func serialValues(t *testing.T, txn *Txn) []string {
	t.Helper()
	var out []string
	it := txn.Scan(context.Background(), key(1, ""), nil, false)
	for it.Next(context.Background()) {
		out = append(out, string(it.Value()))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A parallel scan reads exactly what a serial one does (older versions
// and deleted keys skipped), in pieces that are in key order, with
// several of them read; it records the span as one read, which commit
// validates like a Scan's.
func TestScanValuesParallel(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	db := e.db(t, 1, 1)
	const rows = 20000
	load, _ := db.Begin(ctx)
	for i := 0; i < rows; i++ {
		_ = load.Put(nkey(i), []byte(fmt.Sprint(i)))
	}
	mustCommit(t, load)
	upd, _ := db.Begin(ctx)
	for i := 0; i < rows; i += 7 {
		if i%2 == 0 {
			_ = upd.Delete(nkey(i))
		} else {
			_ = upd.Put(nkey(i), []byte(fmt.Sprint("u", i)))
		}
	}
	mustCommit(t, upd)

	txn, _ := db.Begin(ctx)
	want := serialValues(t, txn)
	txn.reads, txn.firstReads = nil, readSet{} // forget the serial scan's reads
	pieces, ok := parallelScan(t, txn)
	if !ok {
		t.Fatal("the parallel scan did not run")
	}
	var got []string
	used := 0
	for _, p := range pieces {
		got = append(got, p...)
		if len(p) > 0 {
			used++
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("parallel scan read %d values, serial %d; first %.60q vs %.60q", len(got), len(want), got, want)
	}
	if used < 4 {
		t.Fatalf("values came in %d pieces: the span was not cut", used)
	}
	expectOneTableSpan(t, txn)
	expectPhantomConflict(t, db, txn, append(nkey(12345), 'x'))
}

// Own writes in the span, or an uncertain version, make it decline
// (ok=false) and record nothing: the caller scans serially.
func TestScanValuesParallelDeclines(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fast, slow := e.fastAndSlowDBs(t)
	load, _ := slow.Begin(ctx)
	for i := 0; i < 5000; i++ {
		_ = load.Put(nkey(i), []byte("v"))
	}
	mustCommit(t, load)

	own, _ := slow.Begin(ctx)
	_ = own.Put(append(nkey(100), 'x'), []byte("mine"))
	if _, ok := parallelScan(t, own); ok || len(own.reads) != 0 {
		t.Fatalf("parallel scan over own writes: ok=%v, reads %v", ok, own.reads)
	}

	r, _ := slow.Begin(ctx)
	w, _ := fast.Begin(ctx)
	_ = w.Put(nkey(4999), []byte("ahead"))
	mustCommit(t, w)
	if _, ok := parallelScan(t, r); ok || len(r.reads) != 0 {
		t.Fatalf("parallel scan meeting an uncertain version: ok=%v, reads %v", ok, r.reads)
	}
	if vals := serialValues(t, r); len(vals) != 5000 || vals[4999] != "ahead" {
		t.Fatalf("serial scan after declining: %d values", len(vals))
	}
}

// An intent of a dead coordinator in the middle of a piece is resolved
// and the piece goes on after it, every value visited once.
func TestScanValuesParallelResolvesIntents(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	old := e.db(t, 1, 1)
	load, _ := old.Begin(ctx)
	for i := 0; i < 20000; i++ {
		_ = load.Put(nkey(i), []byte(fmt.Sprint(i)))
	}
	mustCommit(t, load)
	crashed, _ := old.Begin(ctx)
	for _, i := range []int{5001, 12345, 17777} {
		_ = crashed.Put(nkey(i), []byte("lost"))
	}
	if err := crashed.commitCrashAfterPrepare(ctx); err != nil {
		t.Fatal(err)
	}
	fresh := e.db(t, 1, 2)
	txn, _ := fresh.Begin(ctx)
	pieces, ok := parallelScan(t, txn)
	if !ok {
		t.Fatal("the parallel scan did not run")
	}
	n := 0
	for _, p := range pieces {
		for _, v := range p {
			if v != fmt.Sprint(n) {
				t.Fatalf("value %d is %q", n, v)
			}
			n++
		}
	}
	if n != 20000 {
		t.Fatalf("%d values, want 20000", n)
	}
}

// BenchmarkScanValues compares reading 100 000 values with the serial
// iterator and with ScanValuesParallel (2 goroutines, values not copied).
func BenchmarkScanValues(b *testing.B) {
	ctx := context.Background()
	e := newEnvTB(b)
	db := NewDB(Config{Sender: e.server, Clock: e.clock, NumPartitions: 1, NodeID: 1, Epoch: 1})
	b.Cleanup(func() { db.Close(context.Background()) })
	const rows = 100_000
	load, _ := db.Begin(ctx)
	for i := 0; i < rows; i++ {
		_ = load.Put(nkey(i), []byte("0123456789abcdef"))
	}
	if err := load.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	if err := e.engine.Flush(); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			txn, _ := db.Begin(ctx)
			it := txn.Scan(ctx, key(1, ""), nil, false)
			it.ValuesOnly()
			n := 0
			for it.Next(ctx) {
				n += len(it.Value())
			}
			if it.Err() != nil || n != rows*16 {
				b.Fatal(n, it.Err())
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
	})
	b.Run("parallel", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			txn, _ := db.Begin(ctx)
			var n [33]int
			ok, err := txn.ScanValuesParallel(ctx, key(1, ""), nil, ParallelScanOptions{Workers: 2, Pieces: 8, BatchBytes: 2 << 20}, func(p int, v []byte) error {
				n[p] += len(v)
				return nil
			})
			total := 0
			for _, x := range n {
				total += x
			}
			if !ok || err != nil || total != rows*16 {
				b.Fatal(ok, err, total)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
	})
}

// newEnvTB is newEnv for benchmarks.
func newEnvTB(tb testing.TB) *env {
	tb.Helper()
	e, err := storage.Open(storage.Options{InMemory: true, Dir: "mem", CacheGroup: mvcc.CacheGroup, CacheWriteThrough: mvcc.CacheWriteThrough})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	clock := hlc.NewClock(nil)
	repl := &directReplicator{engine: e, failPropose: map[uint64]error{}}
	return &env{engine: e, server: kvserver.New(e, clock, repl), repl: repl, clock: clock}
}
