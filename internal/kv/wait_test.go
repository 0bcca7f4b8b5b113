package kv

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

func TestDeadlockDetection(t *testing.T) {
	db := newEnv(t).db(t, 1, 1)
	a, b, c := mvcc.TxnID{1}, mvcc.TxnID{2}, mvcc.TxnID{3}
	if !db.addWait(a, b, 1) || !db.addWait(b, c, 1) {
		t.Fatal("acyclic waits refused")
	}
	if db.addWait(c, a, 1) {
		t.Fatal("cycle a→b→c→a not detected")
	}
	db.removeWait(b, c)
	if !db.addWait(c, a, 1) {
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

// probingSender lets DBs on one kvserver probe each other as if each were
// a different node's coordinator.
type probingSender struct {
	Sender
	dbs map[uint64]*DB
}

func (s *probingSender) ProbeCoordinator(_ context.Context, node uint64, id mvcc.TxnID) (CoordinatorState, error) {
	db := s.dbs[node]
	if db == nil {
		return CoordinatorState{}, errors.New("no such node")
	}
	return db.CoordinatorStatus(id), nil
}

// TestCrossNodeDeadlock: two transactions coordinated by different nodes
// wait for each other's intents (each node sees only its own edge). The
// cycle is found by asking the other coordinator what its transaction
// waits for: the younger transaction gives way with a deadlock conflict
// at once, instead of both waiting out their wait rounds, and the older
// one commits.
func TestCrossNodeDeadlock(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	sender := &probingSender{Sender: e.server, dbs: map[uint64]*DB{}}
	arrived := make(chan struct{}, 2)
	both := make(chan struct{})
	var bothOnce sync.Once
	barrier := func(mvcc.TxnID) error {
		arrived <- struct{}{}
		if len(arrived) == 2 {
			bothOnce.Do(func() { close(both) })
		}
		<-both
		return nil
	}
	for node := uint64(1); node <= 2; node++ {
		db := NewDB(Config{Sender: sender, Clock: e.clock, NumPartitions: 4, NodeID: node, Epoch: 1,
			Knobs: TestingKnobs{BeforeCommitRecord: barrier}})
		t.Cleanup(func() { db.Close(ctx) })
		sender.dbs[node] = db
	}
	db1, db2 := sender.dbs[1], sender.dbs[2]
	// Tables ta < tb < tc with ta and tc in one partition, tb in another:
	// A writes tb, tc (home tb's partition, intent on tc); B writes ta, tb,
	// tc (home ta's partition, intent on tb). Each home commit then meets
	// the other's intent.
	var ta, tb, tc uint32
	part := func(tbl uint32) uint64 { p, _ := db1.partitionOf(key(tbl, "k")); return p }
	for a := uint32(1); a < 60 && tc == 0; a++ {
		for b := a + 1; b < 60 && tc == 0; b++ {
			for c := b + 1; c < 60; c++ {
				if part(a) == part(c) && part(a) != part(b) {
					ta, tb, tc = a, b, c
					break
				}
			}
		}
	}
	if tc == 0 {
		t.Fatal("no suitable tables")
	}
	txnA, _ := db1.Begin(ctx)
	e.clock.Update(hlc.Timestamp{WallTime: txnA.ReadTimestamp().WallTime + 1})
	txnB, _ := db2.Begin(ctx)
	_ = txnA.Put(key(tb, "k"), []byte("A"))
	_ = txnA.Put(key(tc, "k"), []byte("A"))
	for _, tbl := range []uint32{ta, tb, tc} {
		_ = txnB.Put(key(tbl, "k"), []byte("B"))
	}
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() { errA <- txnA.Commit(ctx) }()
	go func() { errB <- txnB.Commit(ctx) }()
	if err := <-errA; err != nil {
		t.Fatalf("older transaction A: %v", err)
	}
	// Whichever side walks the cycle first acts: B gives way with a
	// deadlock conflict, or A pushes (aborts) B, which then finds itself
	// aborted. Either way the cycle was seen (counted below), not waited
	// out.
	var ce *kvpb.ConflictError
	if err := <-errB; !errors.As(err, &ce) || !(strings.Contains(err.Error(), "deadlock") || strings.Contains(err.Error(), "aborted by a concurrent transaction")) {
		t.Fatalf("younger transaction B: %v, want a deadlock conflict or its abort by A", err)
	}
	if n := db1.Metrics().Deadlocks + db2.Metrics().Deadlocks; n == 0 {
		t.Fatal("no deadlock counted")
	}
	r, _ := db1.Begin(ctx)
	for _, tbl := range []uint32{tb, tc} {
		if v, _, err := r.Get(ctx, key(tbl, "k")); err != nil || string(v) != "A" {
			t.Fatalf("table %d: %q %v, want A's write", tbl, v, err)
		}
	}
}
