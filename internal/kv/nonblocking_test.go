package kv

import (
	"context"
	"sync"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// optsRecorder is a Sender that records the options of every scan.
type optsRecorder struct {
	*kvserver.Server
	mu   sync.Mutex
	seen []mvcc.ScanOptions
}

func (r *optsRecorder) record(opts mvcc.ScanOptions) {
	r.mu.Lock()
	r.seen = append(r.seen, opts)
	r.mu.Unlock()
}

func (r *optsRecorder) Scan(ctx context.Context, pid uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions) ([]mvcc.KeyValue, []byte, error) {
	r.record(opts)
	return r.Server.Scan(ctx, pid, start, end, readTS, opts)
}

func (r *optsRecorder) ScanValues(ctx context.Context, pid uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions, visit func([]byte) error) ([]byte, error) {
	r.record(opts)
	return r.Server.ScanValues(ctx, pid, start, end, readTS, opts, visit)
}

// A transaction's scans ask for non-blocking latches exactly when it
// called NonBlockingScans, serial and parallel ones alike.
func TestNonBlockingScansReachTheLeaseholder(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rec := &optsRecorder{Server: e.server}
	db := NewDB(Config{Sender: rec, Clock: e.clock, NumPartitions: 1, NodeID: 1, Epoch: 1})
	t.Cleanup(func() { db.Close(context.Background()) })
	load, _ := db.Begin(ctx)
	for i := range 600 {
		_ = load.Put(nkey(i), []byte("v"))
	}
	if err := load.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, nonBlocking := range []bool{false, true} {
		rec.mu.Lock()
		rec.seen = nil
		rec.mu.Unlock()
		txn, _ := db.Begin(ctx)
		if nonBlocking {
			txn.NonBlockingScans()
		}
		it := txn.Scan(ctx, key(1, ""), nil, false)
		for it.Next(ctx) {
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		it.Close()
		if ok, err := txn.ScanValuesParallel(ctx, key(1, ""), nil, ParallelScanOptions{Workers: 2, Pieces: 4, BatchBytes: 1 << 20}, func(int, []byte) error { return nil }); !ok || err != nil {
			t.Fatal(ok, err)
		}
		_ = txn.Rollback(ctx)
		rec.mu.Lock()
		seen := rec.seen
		rec.mu.Unlock()
		if len(seen) < 3 {
			t.Fatalf("%d scans recorded", len(seen))
		}
		for _, o := range seen {
			if o.NonBlocking != nonBlocking {
				t.Fatalf("NonBlockingScans=%v: a scan went with NonBlocking=%v", nonBlocking, o.NonBlocking)
			}
		}
	}
}
