package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// scanCounter counts Scan round trips and remembers their sizes.
type scanCounter struct {
	Sender
	maxKeys []int
}

func (s *scanCounter) Scan(ctx context.Context, partitionID uint64, start, end []byte, readTS hlc.Timestamp, opts mvcc.ScanOptions) ([]mvcc.KeyValue, []byte, error) {
	s.maxKeys = append(s.maxKeys, opts.MaxKeys)
	return s.Sender.Scan(ctx, partitionID, start, end, readTS, opts)
}

// A long scan asks for growing batches (few round trips), keeps the first
// one small (a LIMIT reads little more than it needs), and records what it
// read as one span of the read set, which commit still validates: a row
// inserted into the scanned span meanwhile fails the scanner's commit.
func TestLongScanBatchesAndReadSet(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	counter := &scanCounter{Sender: e.server}
	db := NewDB(Config{Sender: counter, Clock: e.clock, NumPartitions: 1, NodeID: 1, Epoch: 1})
	t.Cleanup(func() { db.Close(context.Background()) })
	const rows = 10000
	load, _ := db.Begin(ctx)
	for i := 0; i < rows; i++ {
		_ = load.Put(key(1, fmt.Sprintf("%05d", i*2)), []byte("v"))
	}
	mustCommit(t, load)

	counter.maxKeys = nil
	txn, _ := db.Begin(ctx)
	it := txn.Scan(ctx, key(1, ""), nil, false)
	n := 0
	for it.Next(ctx) {
		n++
	}
	if it.Err() != nil || n != rows {
		t.Fatalf("scanned %d rows, err %v", n, it.Err())
	}
	if counter.maxKeys[0] != scanBatchFirst || len(counter.maxKeys) > 7 {
		t.Fatalf("round trips asked for %v keys: want a first batch of %d, then growing", counter.maxKeys, scanBatchFirst)
	}
	expectOneTableSpan(t, txn)

	// A phantom in the middle of the span, committed after the scan by a
	// transaction that read the key txn then writes: txn's write must go
	// above that read, so its reads are validated there.
	expectPhantomConflict(t, db, txn, key(1, "09999"))
}

// expectOneTableSpan checks that txn's read set in partition 1 is the
// one span of table 1's rows it scanned.
func expectOneTableSpan(t *testing.T, txn *Txn) {
	t.Helper()
	spans := txn.reads[1].spans
	if len(spans) != 1 || !bytes.Equal(spans[0].Key, key(1, "")) || !bytes.Equal(spans[0].EndKey, kvpb.PrefixEnd(kvpb.RowPrefix(1, 1))) {
		t.Fatalf("read set spans %q, want the one scanned span", spans)
	}
}

// expectPhantomConflict commits, after txn scanned a span, a write of
// phantom (inside that span) by a transaction that read the key txn then
// writes: txn's write must go above that read, so its reads are validated
// there, and its commit fails with a conflict.
func expectPhantomConflict(t *testing.T, db *DB, txn *Txn, phantom []byte) {
	t.Helper()
	ctx := context.Background()
	other, _ := db.Begin(ctx)
	if _, _, err := other.Get(ctx, key(2, "w")); err != nil {
		t.Fatal(err)
	}
	_ = other.Put(phantom, []byte("new"))
	mustCommit(t, other)
	_ = txn.Put(key(2, "w"), []byte("w"))
	var ce *kvpb.ConflictError
	if err := txn.Commit(ctx); !errors.As(err, &ce) {
		t.Fatalf("commit after a phantom in the scanned span: %v, want a conflict", err)
	}
}

// Large rows shrink the batches: about scanBatchBytes per round trip.
func TestScanBatchBoundedByBytes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	counter := &scanCounter{Sender: e.server}
	db := NewDB(Config{Sender: counter, Clock: e.clock, NumPartitions: 1, NodeID: 1, Epoch: 1})
	t.Cleanup(func() { db.Close(context.Background()) })
	big := bytes.Repeat([]byte("x"), 64<<10)
	load, _ := db.Begin(ctx)
	for i := 0; i < 400; i++ {
		_ = load.Put(key(1, fmt.Sprintf("%05d", i)), big)
	}
	mustCommit(t, load)
	counter.maxKeys = nil
	txn, _ := db.Begin(ctx)
	it := txn.Scan(ctx, key(1, ""), nil, false)
	for it.Next(ctx) {
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	if len(counter.maxKeys) < 2 || counter.maxKeys[1] > scanBatchBytes/(64<<10) {
		t.Fatalf("round trips asked for %v keys", counter.maxKeys)
	}
}

// An iterator told its caller reads only values returns the same values,
// in order, with or without the transaction's own writes in the span (then
// it still merges them by key).
func TestIteratorValuesOnly(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	db := e.db(t, 1, 1)
	load, _ := db.Begin(ctx)
	for i := 0; i < 1000; i++ {
		_ = load.Put(key(1, fmt.Sprintf("%04d", i)), []byte(fmt.Sprint("v", i)))
	}
	mustCommit(t, load)
	scan := func(txn *Txn, valuesOnly bool) (values []string) {
		it := txn.Scan(ctx, key(1, ""), nil, false)
		if valuesOnly {
			it.ValuesOnly()
		}
		for it.Next(ctx) {
			if valuesOnly && it.Key() != nil && len(txn.writes) == 0 {
				t.Fatalf("values-only scan returned key %q", it.Key())
			}
			values = append(values, string(it.Value()))
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		return values
	}
	txn, _ := db.Begin(ctx)
	if a, b := scan(txn, false), scan(txn, true); fmt.Sprint(a) != fmt.Sprint(b) || len(a) != 1000 {
		t.Fatalf("values-only scan: %d values, full scan %d", len(b), len(a))
	}
	_ = txn.Put(key(1, "0500"), []byte("own"))
	_ = txn.Delete(key(1, "0007"))
	_ = txn.Put(key(1, "0999x"), []byte("new"))
	a, b := scan(txn, false), scan(txn, true)
	if fmt.Sprint(a) != fmt.Sprint(b) || len(b) != 1000 || b[499] != "own" || b[999] != "new" {
		t.Fatalf("values-only scan with own writes: %d values (%q, %q), full scan %d", len(b), b[499], b[len(b)-1], len(a))
	}
}
