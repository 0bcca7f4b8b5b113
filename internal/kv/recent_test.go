package kv

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// countingSender counts the point reads that reach the partitions.
type countingSender struct {
	Sender
	gets atomic.Int64
}

func (s *countingSender) Get(ctx context.Context, pid uint64, key []byte, readTS hlc.Timestamp, opts mvcc.ReadOptions) ([]byte, bool, error) {
	s.gets.Add(1)
	return s.Sender.Get(ctx, pid, key, readTS, opts)
}

// TestRereadServedByTheTransaction: a transaction that reads a key again
// (SELECT, then UPDATE of the same row) gets the first result without a
// second read, which is still its snapshot's value; its own write wins.
func TestRereadServedByTheTransaction(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cs := &countingSender{Sender: e.server}
	db := NewDB(Config{Sender: cs, Clock: e.clock, NumPartitions: 1, NodeID: 1, Epoch: 1})
	t.Cleanup(func() { db.Close(context.Background()) })
	setup, _ := db.Begin(ctx)
	_ = setup.Put(key(1, "a"), []byte("1"))
	mustCommit(t, setup)

	txn, _ := db.Begin(ctx)
	if v, ok, err := txn.Get(ctx, key(1, "a")); err != nil || !ok || string(v) != "1" {
		t.Fatalf("first read: %q %v %v", v, ok, err)
	}
	if _, ok, _ := txn.Get(ctx, key(1, "missing")); ok {
		t.Fatal("missing key found")
	}
	// Committed by someone else after the first read: not in the snapshot.
	other, _ := db.Begin(ctx)
	_ = other.Put(key(1, "missing"), []byte("x"))
	mustCommit(t, other)
	reads := cs.gets.Load()
	if v, ok, _ := txn.Get(ctx, key(1, "a")); !ok || string(v) != "1" {
		t.Fatalf("second read: %q", v)
	}
	if _, ok, _ := txn.Get(ctx, key(1, "missing")); ok {
		t.Fatal("second read of a missing key found it")
	}
	if n := cs.gets.Load() - reads; n != 0 {
		t.Fatalf("%d reads reached the partition for keys already read", n)
	}
	_ = txn.Put(key(1, "a"), []byte("2"))
	if v, _, _ := txn.Get(ctx, key(1, "a")); string(v) != "2" {
		t.Fatalf("own write not seen: %q", v)
	}
	mustCommit(t, txn)
}
