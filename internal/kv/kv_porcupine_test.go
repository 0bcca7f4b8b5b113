package kv_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/camusdb/camusdb-go/internal/kv/kvtest"
	"github.com/camusdb/camusdb-go/internal/kvpb"
)

// regInput is one operation on one key's register.
type regInput struct {
	key      int
	op       string // "read", "write", "cas"
	old, new int    // write: new; cas: old -> new
}

// regOutput is what the operation returned. unknown marks a write or cas
// whose commit was ambiguous: it may take effect at any point after its
// call (its Return is +inf), and the model lets it succeed if it can.
type regOutput struct {
	value   int  // read
	ok      bool // cas
	unknown bool
}

// registerModel is a register per key (absent = 0), partitioned by key.
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[int][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(regInput).key
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(byKey))
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return 0 },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(int), input.(regInput), output.(regOutput)
		switch in.op {
		case "read":
			return out.value == st, st
		case "write":
			return true, in.new
		case "cas":
			switch {
			case out.unknown:
				if st == in.old {
					return true, in.new
				}
				return true, st
			case out.ok:
				return st == in.old, in.new
			default:
				return st != in.old, st
			}
		}
		return false, st
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(regInput), output.(regOutput)
		switch in.op {
		case "read":
			return fmt.Sprintf("read(k%d) -> %d", in.key, out.value)
		case "write":
			return fmt.Sprintf("write(k%d, %d) unknown=%v", in.key, in.new, out.unknown)
		}
		return fmt.Sprintf("cas(k%d, %d -> %d) -> %v unknown=%v", in.key, in.old, in.new, out.ok, out.unknown)
	},
}

// TestRegisterModelRejectsStaleRead: the checker is not vacuous — a read
// that returns an overwritten value after the overwrite was acknowledged
// is not linearizable; an ambiguous write may land late.
func TestRegisterModelRejectsStaleRead(t *testing.T) {
	stale := []porcupine.Operation{
		{Input: regInput{key: 1, op: "write", new: 1}, Output: regOutput{}, Call: 0, Return: 10},
		{Input: regInput{key: 1, op: "write", new: 2}, Output: regOutput{}, Call: 20, Return: 30},
		{Input: regInput{key: 1, op: "read"}, Output: regOutput{value: 1}, Call: 40, Return: 50},
	}
	if porcupine.CheckOperations(registerModel, stale) {
		t.Fatal("stale read accepted")
	}
	late := []porcupine.Operation{
		{Input: regInput{key: 1, op: "write", new: 1}, Output: regOutput{unknown: true}, Call: 0, Return: math.MaxInt64},
		{Input: regInput{key: 1, op: "read"}, Output: regOutput{value: 0}, Call: 40, Return: 50},
		{Input: regInput{key: 1, op: "read"}, Output: regOutput{value: 1}, Call: 60, Return: 70},
	}
	if !porcupine.CheckOperations(registerModel, late) {
		t.Fatal("ambiguous write that landed late rejected")
	}
}

// linearizabilityRun drives concurrent single-key reads, writes and
// compare-and-sets (each one transaction, one attempt) and checks the
// history. With spread, every write also writes a key of another partition,
// so the commits are 2PC. With crashAfter > 0 the node crashes once that
// many operations finished; with faultPct > 0 faults are injected (see
// injectFaults).
func linearizabilityRun(t *testing.T, spread bool, crashAfter, faultPct int) {
	leakCheck(t)
	n := kvtest.Start(t, kvtest.Options{Partitions: 4})
	if faultPct > 0 {
		injectFaults(n, faultPct)
	}
	const keys = 4
	clients, opsPerClient := 8, scale(300, 2000)
	key := func(k int) []byte { return kvtest.Key(kvtest.TablesOn(uint64(k%4+1), 4, 1)[0], "reg"+strconv.Itoa(k)) }
	shadow := func(k int) []byte {
		return kvtest.Key(kvtest.TablesOn(uint64((k+1)%4+1), 4, 2)[1], "shadow"+strconv.Itoa(k))
	}
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var mu sync.Mutex
	var history []porcupine.Operation
	var finished, ambiguous, failed int
	crashed := make(chan struct{})
	var wg sync.WaitGroup
	var unexpected errFirst
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(c)))
			for i := 0; i < opsPerClient && ctx.Err() == nil; i++ {
				in := regInput{key: rng.Intn(keys)}
				unique := c*1_000_000 + i + 1 // written values are unique
				switch r := rng.Intn(10); {
				case r < 4:
					in.op = "read"
				case r < 7:
					in.op, in.new = "write", unique
				default:
					in.op, in.new = "cas", unique
				}
				var out regOutput
				call := now()
				err := func() error {
					txn, err := n.CurrentDB().Begin(ctx)
					if err != nil {
						return err
					}
					v, found, err := txn.Get(ctx, key(in.key))
					if err != nil {
						return err
					}
					cur := 0
					if found {
						if cur, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					}
					switch in.op {
					case "read":
						out.value = cur
						return txn.Commit(ctx)
					case "cas":
						// Expect a recently seen value half of the time.
						in.old = cur
						if rng.Intn(2) == 0 {
							in.old = rng.Intn(3)
						}
						if cur != in.old {
							return txn.Commit(ctx)
						}
						out.ok = true
					}
					_ = txn.Put(key(in.key), []byte(strconv.Itoa(in.new)))
					if spread {
						_ = txn.Put(shadow(in.key), []byte(strconv.Itoa(in.new)))
					}
					return txn.Commit(ctx)
				}()
				ret := now()
				var amb *kvpb.AmbiguousError
				mu.Lock()
				switch {
				case err == nil:
					history = append(history, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
				case errors.As(err, &amb) && in.op != "read":
					out.unknown = true
					history = append(history, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: math.MaxInt64})
					ambiguous++
				case kvpb.IsRetryable(err) || errors.As(err, &amb):
					failed++ // nothing happened: try the operation again
					i--
				default:
					unexpected.set(err)
				}
				finished++
				if finished == crashAfter {
					close(crashed)
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(time.Millisecond) // back off while the node restarts
				}
			}
		}(c)
	}
	if crashAfter > 0 {
		select {
		case <-crashed:
			n.Crash()
		case <-ctx.Done():
			t.Fatal("workload did not reach the crash point")
		}
	}
	wg.Wait()
	if err := unexpected.get(); err != nil {
		t.Fatal(err)
	}
	if len(history) < clients*opsPerClient {
		t.Fatalf("only %d of %d operations completed (%d failed attempts)", len(history), clients*opsPerClient, failed)
	}
	res, info := porcupine.CheckOperationsVerbose(registerModel, history, 30*time.Second)
	t.Logf("%d operations (%d ambiguous, %d failed attempts): %s", len(history), ambiguous, failed, res)
	if res != porcupine.Ok {
		path := t.TempDir() + "/history.html"
		if err := porcupine.VisualizePath(registerModel, info, path); err == nil {
			t.Logf("visualization: %s", path)
		}
		t.Fatalf("history is not linearizable: %s", res)
	}
}

func TestLinearizableRegisters(t *testing.T) {
	for _, tc := range []struct {
		name       string
		spread     bool
		crashAfter int
		faultPct   int
	}{
		{"1pc", false, 0, 0},
		{"2pc", true, 0, 0},
		{"2pc-crash", true, 300, 0},
		{"1pc-faults", false, 0, 5},
		{"2pc-faults", true, 0, 5},
	} {
		t.Run(tc.name, func(t *testing.T) { linearizabilityRun(t, tc.spread, tc.crashAfter, tc.faultPct) })
	}
}
