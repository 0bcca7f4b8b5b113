package kv_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvtest"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/util/histcheck"
)

// step is one operation of a scripted transaction; interleave runs the steps
// of two transactions in a random order that keeps each one's own order.
type step func() error

func interleave(rng *rand.Rand, a, b []step) error {
	for len(a) > 0 || len(b) > 0 {
		pickA := len(b) == 0 || (len(a) > 0 && rng.Intn(2) == 0)
		var s step
		if pickA {
			s, a = a[0], a[1:]
		} else {
			s, b = b[0], b[1:]
		}
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// pairTxn is one side of an anomaly scenario: begin, reads that decide
// whether to write, the write, and the commit. Its outcome is recorded.
type pairTxn struct {
	txn       *kv.Txn
	wantWrite bool // the reads allowed the write
	committed bool // committed with its write
	conflict  bool // the commit failed with a conflict
}

func (p *pairTxn) steps(ctx context.Context, db func() *kv.DB, reads []func(*kv.Txn) (bool, error), write func(*kv.Txn) error) []step {
	s := []step{func() (err error) {
		p.txn, err = db().Begin(ctx)
		return err
	}}
	p.wantWrite = true
	for _, r := range reads {
		s = append(s, func() error {
			ok, err := r(p.txn)
			p.wantWrite = p.wantWrite && ok
			return err
		})
	}
	s = append(s, func() error {
		if !p.wantWrite {
			return nil
		}
		return write(p.txn)
	}, func() error {
		if !p.wantWrite {
			return p.txn.Rollback(ctx)
		}
		err := p.txn.Commit(ctx)
		var ce *kvpb.ConflictError
		switch {
		case err == nil:
			p.committed = true
		case errors.As(err, &ce):
			p.conflict = true
		default:
			return err
		}
		return nil
	})
	return s
}

// checkRaces fails a scenario whose interleavings rarely overlapped: the
// rounds where both transactions read before either committed are the
// ones that test serializability.
func checkRaces(t *testing.T, races, rounds int) {
	if t.Failed() {
		return
	}
	t.Logf("%d of %d rounds overlapped", races, rounds)
	if races < rounds/5 {
		t.Errorf("only %d of %d rounds had both transactions read before either committed", races, rounds)
	}
}

// TestWriteSkewOnCall: two doctors are on call; each checks that both are
// and takes itself off. Over randomized interleavings of begins, reads,
// writes and commits exactly one goes off call — whatever the placement:
// both rows in one partition (1PC), in two (2PC with a read-only
// participant that must refresh).
func TestWriteSkewOnCall(t *testing.T) {
	leakCheck(t)
	ctx := context.Background()
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	db := n.CurrentDB
	rounds := scale(100, 1000)
	for _, placement := range []string{"same-partition", "two-partitions"} {
		t.Run(placement, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(len(placement))))
			p1 := kvtest.TablesOn(1, 4, rounds)
			p2 := kvtest.TablesOn(2, 4, rounds)
			races := 0
			defer func() { checkRaces(t, races, rounds) }()
			for round := 0; round < rounds; round++ {
				alice, bob := kvtest.Key(p1[round], "alice"), kvtest.Key(p1[round], "bob")
				if placement == "two-partitions" {
					bob = kvtest.Key(p2[round], "bob")
				}
				if err := runTxn(ctx, n, func(txn *kv.Txn) error {
					_ = txn.Put(alice, []byte("on"))
					return txn.Put(bob, []byte("on"))
				}); err != nil {
					t.Fatal(err)
				}
				isOn := func(k []byte) func(*kv.Txn) (bool, error) {
					return func(txn *kv.Txn) (bool, error) {
						v, _, err := txn.Get(ctx, k)
						return string(v) == "on", err
					}
				}
				goOff := func(k []byte) func(*kv.Txn) error {
					return func(txn *kv.Txn) error { return txn.Put(k, []byte("off")) }
				}
				// Each reads both rows, in a random order.
				readsA := []func(*kv.Txn) (bool, error){isOn(alice), isOn(bob)}
				readsB := []func(*kv.Txn) (bool, error){isOn(bob), isOn(alice)}
				rng.Shuffle(2, func(i, j int) { readsA[i], readsA[j] = readsA[j], readsA[i] })
				var a, b pairTxn
				if err := interleave(rng, a.steps(ctx, db, readsA, goOff(alice)), b.steps(ctx, db, readsB, goOff(bob))); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if a.committed == b.committed {
					t.Fatalf("round %d: alice committed=%v bob committed=%v (want exactly one)", round, a.committed, b.committed)
				}
				if a.wantWrite && b.wantWrite {
					races++
				}
				var on int
				if err := runTxn(ctx, n, func(txn *kv.Txn) error {
					on = 0
					for _, k := range [][]byte{alice, bob} {
						ok, err := isOn(k)(txn)
						if ok {
							on++
						}
						if err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if on != 1 {
					t.Fatalf("round %d: %d doctors on call", round, on)
				}
			}
		})
	}
}

// TestPhantomCountThenInsert: a room holds one booking; each transaction
// counts the bookings with a scan and inserts its own (a new key, so only
// the scanned span can conflict). Over randomized interleavings exactly
// one booking is made. In the two-partition placement each transaction
// also writes a log row elsewhere, so the commits are 2PC.
func TestPhantomCountThenInsert(t *testing.T) {
	leakCheck(t)
	ctx := context.Background()
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	db := n.CurrentDB
	rounds := scale(100, 1000)
	allRooms := kvtest.TablesOn(3, 4, 2*rounds)
	for i, placement := range []string{"same-partition", "two-partitions"} {
		t.Run(placement, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(len(placement)) + 7))
			rooms := allRooms[i*rounds:] // fresh, empty rooms
			logs := kvtest.TablesOn(4, 4, rounds)
			races := 0
			defer func() { checkRaces(t, races, rounds) }()
			for round := 0; round < rounds; round++ {
				room := rooms[round]
				count := func(txn *kv.Txn) (int, error) {
					c := 0
					it := txn.Scan(ctx, kvtest.Key(room, ""), nil, rng.Intn(2) == 0)
					for it.Next(ctx) {
						c++
					}
					return c, it.Err()
				}
				free := func(txn *kv.Txn) (bool, error) {
					c, err := count(txn)
					return c == 0, err
				}
				book := func(who string) func(*kv.Txn) error {
					return func(txn *kv.Txn) error {
						if placement == "two-partitions" {
							if err := txn.Put(kvtest.Key(logs[round], who), []byte("booked")); err != nil {
								return err
							}
						}
						return txn.Put(kvtest.Key(room, who), []byte("booked"))
					}
				}
				var a, b pairTxn
				reads := []func(*kv.Txn) (bool, error){free}
				if err := interleave(rng, a.steps(ctx, db, reads, book("a")), b.steps(ctx, db, reads, book("b"))); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if a.committed == b.committed {
					t.Fatalf("round %d: a committed=%v b committed=%v (want exactly one)", round, a.committed, b.committed)
				}
				if a.wantWrite && b.wantWrite {
					races++
				}
				var c int
				if err := runTxn(ctx, n, func(txn *kv.Txn) (err error) {
					c, err = count(txn)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if c != 1 {
					t.Fatalf("round %d: %d bookings", round, c)
				}
			}
		})
	}
}

// TestWriteSkewConcurrentRetries runs the on-call pair as concurrent
// goroutines that retry conflicts (so commits and prepares really overlap):
// at the end exactly one doctor is on call, every round.
func TestWriteSkewConcurrentRetries(t *testing.T) {
	leakCheck(t)
	ctx := context.Background()
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	rounds := scale(50, 500)
	p1, p2 := kvtest.TablesOn(1, 4, rounds), kvtest.TablesOn(2, 4, rounds)
	for round := 0; round < rounds; round++ {
		keys := [][]byte{kvtest.Key(p1[round], "alice"), kvtest.Key(p2[round], "bob")}
		if err := runTxn(ctx, n, func(txn *kv.Txn) error {
			_ = txn.Put(keys[0], []byte("on"))
			return txn.Put(keys[1], []byte("on"))
		}); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		for me := 0; me < 2; me++ {
			go func() {
				errs <- runTxn(ctx, n, func(txn *kv.Txn) error {
					on := 0
					for _, k := range keys {
						v, _, err := txn.Get(ctx, k)
						if err != nil {
							return err
						}
						if string(v) == "on" {
							on++
						}
					}
					if on < 2 {
						return nil
					}
					return txn.Put(keys[me], []byte("off"))
				})
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		var on int
		if err := runTxn(ctx, n, func(txn *kv.Txn) error {
			on = 0
			for _, k := range keys {
				v, _, err := txn.Get(ctx, k)
				if err != nil {
					return err
				}
				if string(v) == "on" {
					on++
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if on != 1 {
			t.Fatalf("round %d: %s", round, fmt.Sprint(on, " doctors on call"))
		}
	}
}

// TestListAppendAcrossCrashes: workers run transactions of 1–4 random
// appends and reads over 8 lists spread on 4 partitions (one attempt
// each); the node crashes twice under load. The history must have no lost
// committed append, no aborted (G1a) or intermediate (G1b) read, and no
// dependency cycle.
func TestListAppendAcrossCrashes(t *testing.T) { listAppendRun(t, 2, false) }

// TestListAppendWithFaults: the same workload with one crash while about
// 3% of kv requests fail before they are sent and 3% of the successful
// writes (prepares, commit records, resolutions, 1PC commits) lose their
// answer and look ambiguous.
func TestListAppendWithFaults(t *testing.T) { listAppendRun(t, 1, true) }

func listAppendRun(t *testing.T, numCrashes int, faults bool) {
	leakCheck(t)
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	if faults {
		injectFaults(n, 3)
	}
	const lists = 8
	keyOf := func(k int) []byte {
		return kvtest.Key(kvtest.TablesOn(uint64(k%4+1), 4, 2)[k/4%2], "list"+strconv.Itoa(k))
	}
	workers, perWorker := 6, scale(400, 3000)
	var crashes []int
	for i := 1; i <= numCrashes; i++ {
		crashes = append(crashes, i*workers*perWorker/(numCrashes+1))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var history []*histcheck.Txn
	var finished atomic.Int64
	var unexpected errFirst
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w) + 100))
			next := 0
			for i := 0; i < perWorker && ctx.Err() == nil; i++ {
				t := &histcheck.Txn{ID: w*1_000_000 + i}
				for j := rng.Intn(4) + 1; j > 0; j-- {
					op := histcheck.Op{Key: rng.Intn(lists), Append: rng.Intn(2) == 0}
					if op.Append {
						next++
						op.Val = w*1_000_000 + next
					}
					t.Ops = append(t.Ops, op)
					// Sometimes append twice to one key (G1b material).
					if op.Append && rng.Intn(4) == 0 {
						next++
						t.Ops = append(t.Ops, histcheck.Op{Key: op.Key, Append: true, Val: w*1_000_000 + next})
					}
				}
				err := runListAppend(ctx, n.CurrentDB(), keyOf, t)
				var amb *kvpb.AmbiguousError
				switch {
				case err == nil:
					t.Status = histcheck.StatusOK
				case errors.As(err, &amb):
					t.Status = histcheck.StatusInfo
				case kvpb.IsRetryable(err):
					t.Status = histcheck.StatusFail
				default:
					unexpected.set(fmt.Errorf("%v: %w", t, err))
					return
				}
				mu.Lock()
				history = append(history, t)
				mu.Unlock()
				finished.Add(1)
				if err != nil {
					time.Sleep(time.Millisecond) // back off (conflict, or the node restarting)
				}
			}
		}(w)
	}
	for _, at := range crashes {
		kvtest.WaitFor(t, time.Minute, func() error {
			if f := finished.Load(); f < int64(at) && unexpected.get() == nil {
				return fmt.Errorf("%d transactions finished", f)
			}
			return nil
		})
		n.Crash()
	}
	wg.Wait()
	if err := unexpected.get(); err != nil {
		t.Fatal(err)
	}
	n.SetFault(nil)
	n.SetLostReply(nil)
	final := map[int][]int{}
	if err := runTxn(ctx, n, func(txn *kv.Txn) error {
		for k := 0; k < lists; k++ {
			v, _, err := txn.Get(ctx, keyOf(k))
			if err != nil {
				return err
			}
			if final[k], err = histcheck.DecodeList(v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	counts := map[histcheck.Status]int{}
	for _, tx := range history {
		counts[tx.Status]++
	}
	t.Logf("%d transactions: %d committed, %d failed, %d ambiguous; epoch %d", len(history), counts[histcheck.StatusOK], counts[histcheck.StatusFail], counts[histcheck.StatusInfo], n.Epoch)
	if counts[histcheck.StatusOK] < len(history)/5 {
		t.Fatalf("too few commits to mean anything: %v", counts)
	}
	if bad := histcheck.CheckListAppend(history, final); len(bad) > 0 {
		if len(bad) > 20 {
			bad = bad[:20]
		}
		t.Fatalf("anomalies:\n%s", strings.Join(bad, "\n"))
	}
}

// runListAppend runs one attempt of t's operations and commits.
func runListAppend(ctx context.Context, db *kv.DB, keyOf func(int) []byte, t *histcheck.Txn) error {
	txn, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	appended := map[int]bool{}
	for i := range t.Ops {
		op := &t.Ops[i]
		v, _, err := txn.Get(ctx, keyOf(op.Key))
		if err != nil {
			return err
		}
		l, err := histcheck.DecodeList(v)
		if err != nil {
			return err
		}
		if op.Append {
			appended[op.Key] = true
			if err := txn.Put(keyOf(op.Key), histcheck.EncodeList(append(l, op.Val))); err != nil {
				return err
			}
			continue
		}
		op.Read, op.AfterOwn = l, appended[op.Key]
	}
	return txn.Commit(ctx)
}
