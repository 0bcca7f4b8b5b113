package kv

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

func TestDeadlockDetection(t *testing.T) {
	db := newEnv(t).db(t, 1, 1)
	a, b, c := mvcc.TxnID{1}, mvcc.TxnID{2}, mvcc.TxnID{3}
	if !db.addWait(a, b) || !db.addWait(b, c) {
		t.Fatal("acyclic waits refused")
	}
	if db.addWait(c, a) {
		t.Fatal("cycle a→b→c→a not detected")
	}
	db.removeWait(b, c)
	if !db.addWait(c, a) {
		t.Fatal("no cycle after b stopped waiting, but refused")
	}
}

// multiPartitionPair returns two keys in different partitions of 4.
func multiPartitionPair(t *testing.T, db *DB) ([]byte, []byte) {
	for tbl := uint32(2); tbl < 100; tbl++ {
		p1, _ := db.partitionOf(key(1, "k"))
		p2, _ := db.partitionOf(key(tbl, "k"))
		if p1 != p2 {
			return key(1, "k"), key(tbl, "k")
		}
	}
	t.Fatal("no two tables in different partitions")
	return nil, nil
}

// TestHolderWaitsInsteadOfAborting: a two-phase commit whose prepare meets
// the intent of another committing transaction waits for it and then
// commits, instead of failing at once.
func TestHolderWaitsInsteadOfAborting(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	release := make(chan struct{})
	firstPrepared := make(chan struct{})
	waiting := make(chan struct{})
	var once, waitOnce sync.Once
	var first mvcc.TxnID
	db := NewDB(Config{Sender: e.server, Clock: e.clock, NumPartitions: 4, NodeID: 1, Epoch: 1,
		Knobs: TestingKnobs{
			BeforeCommitRecord: func(id mvcc.TxnID) error {
				if id == first {
					once.Do(func() { close(firstPrepared) })
					<-release
				}
				return nil
			},
			OnHolderWait: func(waiter, owner mvcc.TxnID) {
				if owner == first {
					waitOnce.Do(func() { close(waiting) })
				}
			},
		}})
	t.Cleanup(func() { db.Close(ctx) })
	k1, k2 := multiPartitionPair(t, db)
	t1, _ := db.Begin(ctx)
	first = t1.ID()
	_ = t1.Put(k1, []byte("t1"))
	_ = t1.Put(k2, []byte("t1"))
	errs := make(chan error, 1)
	go func() { errs <- t1.Commit(ctx) }()
	<-firstPrepared
	t2, _ := db.Begin(ctx)
	_ = t2.Put(k1, []byte("t2")) // blind writes: no read to invalidate
	_ = t2.Put(k2, []byte("t2"))
	second := make(chan error, 1)
	go func() { second <- t2.Commit(ctx) }()
	select {
	case <-waiting:
	case err := <-second:
		close(release)
		t.Fatalf("second transaction did not wait for the first: %v", err)
	}
	close(release)
	if err := <-errs; err != nil {
		t.Fatalf("first commit: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("second commit: %v", err)
	}
	r, _ := db.Begin(ctx)
	for _, k := range [][]byte{k1, k2} {
		if v, _, err := r.Get(ctx, k); err != nil || string(v) != "t2" {
			t.Fatalf("last writer should win: %q %v", v, err)
		}
	}
}

// TestReaderWaitsForCommittingWriter: a read at a timestamp above a
// committing transaction's intents waits and then sees its writes.
func TestReaderWaitsForCommittingWriter(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	release := make(chan struct{})
	prepared := make(chan struct{})
	db := NewDB(Config{Sender: e.server, Clock: e.clock, NumPartitions: 4, NodeID: 1, Epoch: 1,
		Knobs: TestingKnobs{BeforeCommitRecord: func(mvcc.TxnID) error {
			close(prepared)
			<-release
			return nil
		}}})
	t.Cleanup(func() { db.Close(ctx) })
	k1, k2 := multiPartitionPair(t, db)
	// Start both partitions' timestamp caches before w begins, so that w's
	// writes are not pushed above r by a fresh cache's low-water mark.
	warm, _ := db.Begin(ctx)
	for _, k := range [][]byte{k1, k2} {
		if _, _, err := warm.Get(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	w, _ := db.Begin(ctx)
	_ = w.Put(k1, []byte("new"))
	_ = w.Put(k2, []byte("new"))
	done := make(chan error, 1)
	go func() { done <- w.Commit(ctx) }()
	<-prepared
	// The intent is on the key that does not sort first: the first key's
	// partition is home, whose writes commit with the record.
	withIntent := k2
	if bytes.Compare(k2, k1) < 0 {
		withIntent = k1
	}
	r, _ := db.Begin(ctx) // reads above the intent
	got := make(chan string, 1)
	go func() {
		v, _, err := r.Get(ctx, withIntent)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(v)
	}()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != "new" {
		t.Fatalf("reader above a committed transaction's intents read %q", v)
	}
}

// TestOlderHolderPushesYoungerOwner: an older transaction whose prepare
// keeps meeting a younger committing transaction's intents aborts the
// younger one instead of giving up; the younger's commit then fails with a
// conflict and the older one's writes win.
func TestOlderHolderPushesYoungerOwner(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	release := make(chan struct{})
	youngPrepared := make(chan struct{})
	var young mvcc.TxnID
	var once sync.Once
	db := NewDB(Config{Sender: e.server, Clock: e.clock, NumPartitions: 4, NodeID: 1, Epoch: 1,
		Knobs: TestingKnobs{BeforeCommitRecord: func(id mvcc.TxnID) error {
			if id == young {
				once.Do(func() { close(youngPrepared) })
				<-release
			}
			return nil
		}}})
	t.Cleanup(func() { db.Close(ctx) })
	k1, k2 := multiPartitionPair(t, db)
	old, _ := db.Begin(ctx)
	e.clock.Update(hlc.Timestamp{WallTime: old.ReadTimestamp().WallTime + 1}) // strictly younger below
	y, _ := db.Begin(ctx)
	young = y.ID()
	_ = y.Put(k1, []byte("young"))
	_ = y.Put(k2, []byte("young"))
	youngDone := make(chan error, 1)
	go func() { youngDone <- y.Commit(ctx) }()
	<-youngPrepared
	_ = old.Put(k1, []byte("old"))
	_ = old.Put(k2, []byte("old"))
	if err := old.Commit(ctx); err != nil {
		close(release)
		t.Fatalf("older transaction did not push the younger one: %v", err)
	}
	close(release)
	var ce *kvpb.ConflictError
	if err := <-youngDone; !errors.As(err, &ce) {
		t.Fatalf("pushed younger transaction: %v, want a conflict", err)
	}
	r, _ := db.Begin(ctx)
	for _, k := range [][]byte{k1, k2} {
		if v, _, err := r.Get(ctx, k); err != nil || string(v) != "old" {
			t.Fatalf("after the push %q = %q %v", k, v, err)
		}
	}
}
