package kv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/replica"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// directReplicator applies proposals straight to the engine: a unit-test
// stand-in for the Raft layer (the real one is exercised by the server
// tests).
type directReplicator struct {
	engine *storage.Engine
	mu     sync.Mutex
	// failPropose, when set, makes proposals to that partition fail.
	failPropose map[uint64]error
}

func (r *directReplicator) Admit(uint64) (replica.LeaseStatus, func(), error) {
	return replica.LeaseStatus{Term: 1, Seq: 1}, func() {}, nil
}
func (r *directReplicator) Propose(ctx context.Context, pid uint64, cmd kvserver.Command) error {
	defer cmd.Settle()
	r.mu.Lock()
	err := r.failPropose[pid]
	r.mu.Unlock()
	if err != nil {
		return err
	}
	b := r.engine.NewBatch()
	defer b.Close()
	for _, w := range cmd.Writes {
		switch {
		case w.End != nil:
			_ = b.DeleteRange(w.Key, w.End)
		case w.Delete:
			_ = b.Delete(w.Key)
		default:
			_ = b.Set(w.Key, w.Value)
		}
	}
	return b.Commit(false)
}

type env struct {
	engine *storage.Engine
	server *kvserver.Server
	repl   *directReplicator
	clock  *hlc.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e, err := storage.Open(storage.Options{InMemory: true, Dir: "mem", CacheGroup: mvcc.CacheGroup, CacheWriteThrough: mvcc.CacheWriteThrough})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	clock := hlc.NewClock(nil)
	repl := &directReplicator{engine: e, failPropose: map[uint64]error{}}
	return &env{engine: e, server: kvserver.New(e, clock, repl), repl: repl, clock: clock}
}

func (e *env) db(t *testing.T, partitions int, epoch uint64) *DB {
	db := NewDB(Config{Sender: e.server, Clock: e.clock, NumPartitions: partitions, NodeID: 1, Epoch: epoch})
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// key builds a row key of table tbl (tables hash to different partitions).
func key(tbl uint32, k string) []byte { return append(kvpb.RowPrefix(1, tbl), k...) }

func mustCommit(t *testing.T, txn *Txn) {
	t.Helper()
	if err := txn.Commit(context.Background()); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func TestSnapshotReadsAndOwnWrites(t *testing.T) {
	ctx := context.Background()
	for _, parts := range []int{1, 4} {
		t.Run(fmt.Sprint(parts), func(t *testing.T) {
			db := newEnv(t).db(t, parts, 1)
			t1, _ := db.Begin(ctx)
			_ = t1.Put(key(1, "a"), []byte("1"))
			_ = t1.Put(key(2, "b"), []byte("2"))
			mustCommit(t, t1)

			reader, _ := db.Begin(ctx)
			t2, _ := db.Begin(ctx)
			_ = t2.Put(key(1, "a"), []byte("changed"))
			_ = t2.Delete(key(2, "b"))
			if v, ok, _ := t2.Get(ctx, key(1, "a")); !ok || string(v) != "changed" {
				t.Fatalf("own write not visible: %q", v)
			}
			if _, ok, _ := t2.Get(ctx, key(2, "b")); ok {
				t.Fatal("own delete not visible")
			}
			mustCommit(t, t2)
			if v, ok, _ := reader.Get(ctx, key(1, "a")); !ok || string(v) != "1" {
				t.Fatalf("snapshot broken: %q", v)
			}
			if err := reader.Commit(ctx); err != nil {
				t.Fatalf("read-only commit: %v", err)
			}
			after, _ := db.Begin(ctx)
			if _, ok, _ := after.Get(ctx, key(2, "b")); ok {
				t.Fatal("delete not committed")
			}
		})
	}
}

func TestScanMergesOwnWrites(t *testing.T) {
	ctx := context.Background()
	db := newEnv(t).db(t, 1, 1)
	t1, _ := db.Begin(ctx)
	for i := 0; i < 600; i += 2 {
		_ = t1.Put(key(1, fmt.Sprintf("%04d", i)), []byte("r"))
	}
	mustCommit(t, t1)
	t2, _ := db.Begin(ctx)
	_ = t2.Put(key(1, "0001"), []byte("l"))
	_ = t2.Delete(key(1, "0002"))
	_ = t2.Put(key(1, "0004"), []byte("l"))
	_ = t2.Put(key(1, "9999"), []byte("l"))
	for _, reverse := range []bool{false, true} {
		it := t2.Scan(ctx, kvpb.RowPrefix(1, 1), nil, reverse)
		var got []string
		for it.Next(ctx) {
			got = append(got, string(it.Key()[len(kvpb.RowPrefix(1, 1)):])+"="+string(it.Value()))
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		if len(got) != 301 {
			t.Fatalf("reverse=%v: %d keys", reverse, len(got))
		}
		first, last := got[0], got[len(got)-1]
		if reverse {
			first, last = last, first
		}
		if first != "0000=r" || got[1] != map[bool]string{false: "0001=l", true: "0598=r"}[reverse] || last != "9999=l" {
			t.Fatalf("reverse=%v: merge wrong: %v ... %v", reverse, got[:3], got[len(got)-3:])
		}
	}
}

// TestWriteSkewAndPhantom: the on-call scenario and count-then-insert;
// exactly one of each pair commits.
func TestWriteSkewAndPhantom(t *testing.T) {
	ctx := context.Background()
	for _, parts := range []int{1, 4} {
		t.Run(fmt.Sprint(parts), func(t *testing.T) {
			db := newEnv(t).db(t, parts, 1)
			rng := rand.New(rand.NewSource(int64(parts)))
			for round := 0; round < 100; round++ {
				tbl := uint32(100 + round)
				setup, _ := db.Begin(ctx)
				_ = setup.Put(key(tbl, "alice"), []byte("on"))
				_ = setup.Put(key(tbl, "bob"), []byte("on"))
				mustCommit(t, setup)
				a, _ := db.Begin(ctx)
				b, _ := db.Begin(ctx)
				countOn := func(txn *Txn) int {
					n := 0
					it := txn.Scan(ctx, kvpb.RowPrefix(1, tbl), nil, false)
					for it.Next(ctx) {
						if string(it.Value()) == "on" {
							n++
						}
					}
					if it.Err() != nil {
						t.Fatal(it.Err())
					}
					return n
				}
				if countOn(a) != 2 || countOn(b) != 2 {
					t.Fatal("setup not visible")
				}
				_ = a.Put(key(tbl, "alice"), []byte("off"))
				_ = b.Put(key(tbl, "bob"), []byte("off"))
				// A phantom: the writes also insert into an index-like other table.
				_ = a.Put(key(tbl+1000, "x"), []byte("a"))
				_ = b.Put(key(tbl+1000, "y"), []byte("b"))
				first, second := a, b
				if rng.Intn(2) == 0 {
					first, second = b, a
				}
				e1 := first.Commit(ctx)
				e2 := second.Commit(ctx)
				var ce *kvpb.ConflictError
				if e1 != nil || !errors.As(e2, &ce) {
					t.Fatalf("round %d: want first ok and second conflict, got %v / %v", round, e1, e2)
				}
				check, _ := db.Begin(ctx)
				if countOn(check) != 1 {
					t.Fatalf("round %d: write skew happened", round)
				}
			}
		})
	}
}

// TestCrashedCoordinatorIntents: intents left by a coordinator that died
// before its commit point are aborted by readers of the next incarnation;
// intents of a committed record are resolved as committed.
func TestCrashedCoordinatorIntents(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	old := e.db(t, 4, 1)
	txn, _ := old.Begin(ctx)
	_ = txn.Put(key(1, "k"), []byte("lost"))
	_ = txn.Put(key(2, "k"), []byte("lost"))
	home, _ := old.partitionOf(key(1, "k"))
	if home2, _ := old.partitionOf(key(2, "k")); home2 == home {
		t.Skip("tables 1 and 2 hash to one partition")
	}
	// The "crash": intents laid on both partitions, no commit record.
	if err := txn.commitCrashAfterPrepare(ctx); err != nil {
		t.Fatal(err)
	}
	fresh := e.db(t, 4, 2)
	r, _ := fresh.Begin(ctx)
	for _, k := range [][]byte{key(1, "k"), key(2, "k")} {
		if _, ok, err := r.Get(ctx, k); err != nil || ok {
			t.Fatalf("uncommitted write of a dead coordinator visible or blocking: %v %v", ok, err)
		}
	}
}

// commitCrashAfterPrepare prepares every partition and stops, as if the
// process died before the commit point.
func (t *Txn) commitCrashAfterPrepare(ctx context.Context) error {
	t.done = true
	byPartition := map[uint64][]kvserver.Mutation{}
	var home uint64
	for i, k := range t.sortedWriteKeys() {
		pid, _ := t.db.partitionOf([]byte(k))
		if i == 0 {
			home = pid
		}
		byPartition[pid] = append(byPartition[pid], kvserver.Mutation{Key: []byte(k), Value: t.writes[k].value})
	}
	for p, muts := range byPartition {
		req := &kvserver.CommitRequest{TxnID: t.id, ReadTS: t.readTS, Writes: muts}
		req.Intent.Home, req.Intent.CoordNode, req.Intent.CoordEpoch = home, t.db.cfg.NodeID, t.db.cfg.Epoch
		if _, err := t.db.sender.Prepare(ctx, p, req); err != nil {
			return err
		}
	}
	return nil
}

// TestBankConcurrent: concurrent transfers over accounts spread on 4
// partitions with readers summing all balances in one transaction.
func TestBankConcurrent(t *testing.T) {
	ctx := context.Background()
	db := newEnv(t).db(t, 4, 1)
	const accounts = 8
	acct := func(i int) []byte { return key(uint32(i), "acct") }
	enc := func(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
	dec := func(b []byte) int64 { return int64(binary.BigEndian.Uint64(b)) }
	setup, _ := db.Begin(ctx)
	for i := 0; i < accounts; i++ {
		_ = setup.Put(acct(i), enc(100))
	}
	mustCommit(t, setup)
	var wg sync.WaitGroup
	var badSum error
	var mu sync.Mutex
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; i < 60; i++ {
				from, to := rng.Intn(accounts), rng.Intn(accounts)
				if from == to {
					continue
				}
				err := db.RunTxn(ctx, 100, func(txn *Txn) error {
					a, _, err := txn.Get(ctx, acct(from))
					if err != nil {
						return err
					}
					b, _, err := txn.Get(ctx, acct(to))
					if err != nil {
						return err
					}
					_ = txn.Put(acct(from), enc(dec(a)-7))
					return txn.Put(acct(to), enc(dec(b)+7))
				})
				if err != nil {
					mu.Lock()
					badSum = err
					mu.Unlock()
					return
				}
			}
		}(w)
	}
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				txn, _ := db.Begin(ctx)
				var sum int64
				for a := 0; a < accounts; a++ {
					v, _, err := txn.Get(ctx, acct(a))
					if err != nil {
						mu.Lock()
						badSum = err
						mu.Unlock()
						return
					}
					sum += dec(v)
				}
				if sum != 100*accounts {
					mu.Lock()
					badSum = fmt.Errorf("reader saw total %d", sum)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if badSum != nil {
		t.Fatal(badSum)
	}
}

func TestMetricsCountOutcomes(t *testing.T) {
	ctx := context.Background()
	db := newEnv(t).db(t, 1, 1)
	w, _ := db.Begin(ctx)
	_ = w.Put(key(1, "a"), []byte("1"))
	mustCommit(t, w)
	r, _ := db.Begin(ctx)
	_, _, _ = r.Get(ctx, key(1, "a"))
	loser, _ := db.Begin(ctx)
	_, _, _ = loser.Get(ctx, key(1, "a"))
	winner, _ := db.Begin(ctx)
	_ = winner.Put(key(1, "a"), []byte("2"))
	mustCommit(t, winner)
	_ = loser.Put(key(1, "a"), []byte("3"))
	if err := loser.Commit(ctx); err == nil {
		t.Fatal("lost update committed")
	}
	mustCommit(t, r)
	m := db.Metrics()
	if m.Begun != 4 || m.Commits1PC != 2 || m.CommitsReadOnly != 1 || m.Conflicts != 1 {
		t.Fatalf("metrics = %+v", m)
	}
}

// TestWriteOrderKeepsKeysSorted: a transaction's writes are scanned and
// committed in key order whatever order they were buffered in — keys
// added in increasing order (kept sorted as they come), then out of
// order, overwritten, handed over with PutOwned, scanned in between.
func TestWriteOrderKeepsKeysSorted(t *testing.T) {
	ctx := context.Background()
	db := newEnv(t).db(t, 4, 1)
	scan := func(txn *Txn) []string {
		t.Helper()
		it := txn.Scan(ctx, kvpb.RowPrefix(1, 1), nil, false)
		defer it.Close()
		var got []string
		for it.Next(ctx) {
			got = append(got, string(it.Key()[len(kvpb.RowPrefix(1, 1)):])+"="+string(it.Value()))
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		return got
	}
	txn, _ := db.Begin(ctx)
	for _, k := range []string{"b", "c", "e"} {
		_ = txn.Put(key(1, k), []byte("1"))
	}
	if got := fmt.Sprint(scan(txn)); got != "[b=1 c=1 e=1]" {
		t.Fatalf("in order: %s", got)
	}
	_ = txn.PutOwned(string(key(1, "f")), []byte("2"))
	_ = txn.Put(key(1, "a"), []byte("2")) // out of order
	_ = txn.Put(key(1, "c"), []byte("3")) // overwrite
	_ = txn.Put(key(1, "d"), []byte("2"))
	want := "[a=2 b=1 c=3 d=2 e=1 f=2]"
	if got := fmt.Sprint(scan(txn)); got != want {
		t.Fatalf("mixed order: %s, want %s", got, want)
	}
	mustCommit(t, txn)
	for _, in := range [][]string{{"g", "h"}, {"j", "i"}} { // committed from sorted keys, then from the map
		txn, _ := db.Begin(ctx)
		for _, k := range in {
			_ = txn.Put(key(1, k), []byte("4"))
		}
		mustCommit(t, txn)
	}
	after, _ := db.Begin(ctx)
	if got := fmt.Sprint(scan(after)); got != "[a=2 b=1 c=3 d=2 e=1 f=2 g=4 h=4 i=4 j=4]" {
		t.Fatalf("committed: %s", got)
	}
}
