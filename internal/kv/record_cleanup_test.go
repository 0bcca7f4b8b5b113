package kv

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// failingResolve is a sender whose intent resolutions fail while fail is
// set, as when the coordinator dies right after its commit point.
type failingResolve struct {
	Sender
	fail atomic.Bool
}

func (s *failingResolve) ResolveIntents(ctx context.Context, p uint64, items []kvserver.Resolution) error {
	if s.fail.Load() {
		return errors.New("coordinator died")
	}
	return s.Sender.ResolveIntents(ctx, p, items)
}

// TestFinishCommittedRecord: a two-partition commit whose intents were
// never resolved leaves a COMMITTED record and an intent; the record lists
// the intent's key, so the home partition's cleanup resolves it as
// committed and deletes the record.
func TestFinishCommittedRecord(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	sender := &failingResolve{Sender: e.server}
	db := NewDB(Config{Sender: sender, Clock: e.clock, NumPartitions: 4, NodeID: 1, Epoch: 1})
	t.Cleanup(func() { db.Close(ctx) })
	k1, k2 := multiPartitionPair(t, db)
	sender.fail.Store(true)
	txn, _ := db.Begin(ctx)
	_ = txn.Put(k1, []byte("v1"))
	_ = txn.Put(k2, []byte("v2"))
	mustCommit(t, txn)
	db.Close(ctx) // the resolver's round ran (and failed)

	home, _ := db.partitionOf([]byte(min(string(k1), string(k2))))
	other, otherKey := partitionAndKey(t, db, k1, k2, home)
	recs, err := e.server.StaleCommittedRecords(home, e.clock.Now().WallTime+1, 10)
	if err != nil || len(recs) != 1 || recs[0].ID != txn.ID() {
		t.Fatalf("stale records = %+v %v, want the transaction's record", recs, err)
	}
	if got := recs[0].Record.Locks[other]; len(got) != 1 || string(got[0]) != string(otherKey) {
		t.Fatalf("record locks = %q, want [%q] on partition %d", got, otherKey, other)
	}
	if in, _ := mvcc.GetIntent(e.engine, other, otherKey); in == nil {
		t.Fatal("no intent left behind: the test does not exercise cleanup")
	}

	sender.fail.Store(false)
	db2 := NewDB(Config{Sender: sender, Clock: e.clock, NumPartitions: 4, NodeID: 1, Epoch: 2})
	t.Cleanup(func() { db2.Close(ctx) })
	n, err := db2.FinishCommitted(ctx, home, recs)
	if err != nil || n != 1 {
		t.Fatalf("FinishCommitted = %d %v", n, err)
	}
	if in, _ := mvcc.GetIntent(e.engine, other, otherKey); in != nil {
		t.Fatal("intent still there after cleanup")
	}
	if rec, _ := mvcc.GetTxnRecord(e.engine, home, txn.ID()); rec != nil {
		t.Fatalf("record still there after cleanup: %+v", rec)
	}
	r, _ := db2.Begin(ctx)
	for k, want := range map[string]string{string(k1): "v1", string(k2): "v2"} {
		if v, _, err := r.Get(ctx, []byte(k)); err != nil || string(v) != want {
			t.Fatalf("%q = %q %v, want %q", k, v, err, want)
		}
	}
}

// partitionAndKey returns the key of k1, k2 that is not on home, and its partition.
func partitionAndKey(t *testing.T, db *DB, k1, k2 []byte, home uint64) (uint64, []byte) {
	for _, k := range [][]byte{k1, k2} {
		if p, _ := db.partitionOf(k); p != home {
			return p, k
		}
	}
	t.Fatal("both keys on the home partition")
	return 0, nil
}
