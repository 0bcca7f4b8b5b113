package kv

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// TestGCRefusesOldReads: after garbage collection at a threshold, a
// transaction reading below it gets a retry error instead of a wrong
// answer, and reads above it are unaffected.
func TestGCRefusesOldReads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	db := e.db(t, 1, 1)
	for _, v := range []string{"v1", "v2", "v3"} {
		txn, _ := db.Begin(ctx)
		_ = txn.Put(key(1, "k"), []byte(v))
		mustCommit(t, txn)
	}
	old, _ := db.Begin(ctx)
	threshold := db.clock.Now()
	n, err := e.server.CollectGarbage(ctx, 1, threshold)
	if err != nil || n != 2 {
		t.Fatalf("GC deleted %d versions (%v), want the 2 shadowed ones", n, err)
	}
	var re *kvpb.RetryError
	if _, _, err := old.Get(ctx, key(1, "k")); !errors.As(err, &re) {
		t.Fatalf("read below the GC threshold: %v", err)
	}
	fresh, _ := db.Begin(ctx)
	if v, ok, err := fresh.Get(ctx, key(1, "k")); err != nil || !ok || string(v) != "v3" {
		t.Fatalf("read above the threshold: %q %v %v", v, ok, err)
	}
	if n, _ := e.server.CollectGarbage(ctx, 1, threshold); n != 0 {
		t.Fatalf("second GC at the same threshold deleted %d", n)
	}
}

// TestGCCollectsAbortedRecords: an ABORTED record (written by a reader that
// found the transaction's coordinator gone) is kept while the transaction
// could still try to commit, and collected once the GC threshold passes its
// start; a commit attempt of that transaction is refused from then on.
func TestGCCollectsAbortedRecords(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	abandon := errors.New("abandoned")
	db := NewDB(Config{Sender: e.server, Clock: e.clock, NumPartitions: 4, NodeID: 1, Epoch: 1,
		Knobs: TestingKnobs{BeforeCommitRecord: func(mvcc.TxnID) error { return abandon }}})
	t.Cleanup(func() { db.Close(ctx) })
	k1, k2 := multiPartitionPair(t, db)
	homeKey, otherKey := k1, k2
	if bytes.Compare(k2, k1) < 0 {
		homeKey, otherKey = k2, k1
	}
	home, _ := db.partitionOf(homeKey)

	a, _ := db.Begin(ctx)
	_ = a.Put(k1, []byte("a"))
	_ = a.Put(k2, []byte("a"))
	if err := a.Commit(ctx); !errors.Is(err, abandon) {
		t.Fatalf("abandoned commit: %v", err)
	}
	// A reader meets a's intent: a is no longer committing, so it is aborted.
	r, _ := db.Begin(ctx)
	if _, _, err := r.Get(ctx, otherKey); err != nil {
		t.Fatal(err)
	}
	rec, err := e.server.GetTxnRecord(ctx, home, a.ID())
	if err != nil || rec == nil || rec.Status != mvcc.TxnAborted || rec.StartWall != a.ReadTimestamp().WallTime {
		t.Fatalf("record after the abort: %+v %v", rec, err)
	}

	// GC below a's start keeps the record; above it, deletes it.
	if _, err := e.server.CollectGarbage(ctx, home, hlc.Timestamp{WallTime: a.ReadTimestamp().WallTime}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.server.GetTxnRecord(ctx, home, a.ID()); rec == nil {
		t.Fatal("ABORTED record collected while its transaction could still commit")
	}
	if _, err := e.server.CollectGarbage(ctx, home, db.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.server.GetTxnRecord(ctx, home, a.ID()); rec != nil {
		t.Fatalf("ABORTED record not collected: %+v", rec)
	}
	// A late commit of a (its coordinator woke up) must not succeed now that
	// the record saying ABORTED is gone.
	req := &kvserver.CommitRequest{TxnID: a.ID(), ReadTS: a.ReadTimestamp(),
		Writes: []kvserver.Mutation{{Key: homeKey, Value: []byte("a")}},
		Record: &mvcc.TxnRecord{Status: mvcc.TxnCommitted, Participants: []uint64{home}}}
	var re *kvpb.RetryError
	if _, err := e.server.Commit1PC(ctx, home, req); !errors.As(err, &re) {
		t.Fatalf("late commit below the GC threshold: %v", err)
	}
}
