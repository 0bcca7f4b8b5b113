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

// TestClearSpan: a span is cleared with one range deletion only once the
// GC threshold reaches notBelow (before, reads below it could still need
// the keys); then every version and intent under it is gone, from the
// engine and from the read cache, and the keys around it are untouched.
func TestClearSpan(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	db := e.db(t, 1, 1)
	dropped := kvpb.RowPrefix(1, 7)
	for _, v := range []string{"v1", "v2"} {
		txn, _ := db.Begin(ctx)
		_ = txn.Put(key(7, "a"), []byte(v))
		_ = txn.Put(key(7, "b"), []byte(v))
		_ = txn.Put(key(8, "kept"), []byte(v)) // another table, same partition
		mustCommit(t, txn)
	}
	// An intent under the span, of a transaction that never finished.
	req := &kvserver.CommitRequest{TxnID: mvcc.TxnID{9}, ReadTS: db.clock.Now(),
		Writes: []kvserver.Mutation{{Key: key(7, "c"), Value: []byte("provisional")}},
		Intent: mvcc.Intent{Home: 1, CoordNode: 1, CoordEpoch: 1}}
	if _, err := e.server.Prepare(ctx, 1, req); err != nil {
		t.Fatal(err)
	}
	// A read through the cache before the clear.
	warm, _ := db.Begin(ctx)
	if v, ok, err := warm.Get(ctx, key(7, "a")); err != nil || !ok || string(v) != "v2" {
		t.Fatalf("read before the clear: %q %v %v", v, ok, err)
	}
	engineKeys := func() int {
		it, err := e.engine.NewIter(mvcc.IntentKey(1, dropped), mvcc.IntentKey(1, kvpb.PrefixEnd(dropped)))
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		n := 0
		for ok := it.First(); ok; ok = it.Next() {
			n++
		}
		return n
	}
	if n := engineKeys(); n != 5 {
		t.Fatalf("%d engine keys under the span before the clear, want 5 (2x2 versions, 1 intent)", n)
	}

	notBelow := db.clock.Now()
	var re *kvpb.RetryError
	if err := db.ClearSpan(ctx, dropped, kvpb.PrefixEnd(dropped), notBelow); !errors.As(err, &re) {
		t.Fatalf("clear before the GC threshold reached notBelow: %v", err)
	}
	if n := engineKeys(); n != 5 {
		t.Fatalf("a refused clear changed the span: %d engine keys", n)
	}
	if _, err := e.server.CollectGarbage(ctx, 1, notBelow); err != nil {
		t.Fatal(err)
	}
	if err := db.ClearSpan(ctx, dropped, kvpb.PrefixEnd(dropped), notBelow); err != nil {
		t.Fatalf("clear once the threshold reached notBelow: %v", err)
	}
	if n := engineKeys(); n != 0 {
		t.Fatalf("%d engine keys under the cleared span", n)
	}
	fresh, _ := db.Begin(ctx)
	for _, k := range []string{"a", "b", "c"} {
		if v, ok, err := fresh.Get(ctx, key(7, k)); err != nil || ok {
			t.Errorf("cleared key %s: %q %v %v", k, v, ok, err)
		}
	}
	if v, ok, err := fresh.Get(ctx, key(8, "kept")); err != nil || !ok || string(v) != "v2" {
		t.Fatalf("key outside the span: %q %v %v", v, ok, err)
	}
}
