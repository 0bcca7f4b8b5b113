package kv_test

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/camusdb/camusdb-go/internal/kv/kvtest"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/util/histcheck"
)

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
				in := histcheck.RegInput{Key: rng.Intn(keys)}
				unique := c*1_000_000 + i + 1 // written values are unique
				switch r := rng.Intn(10); {
				case r < 4:
					in.Op = "read"
				case r < 7:
					in.Op, in.New = "write", unique
				default:
					in.Op, in.New = "cas", unique
				}
				var out histcheck.RegOutput
				call := now()
				err := func() error {
					txn, err := n.CurrentDB().Begin(ctx)
					if err != nil {
						return err
					}
					v, found, err := txn.Get(ctx, key(in.Key))
					if err != nil {
						return err
					}
					cur := 0
					if found {
						if cur, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					}
					switch in.Op {
					case "read":
						out.Value = cur
						return txn.Commit(ctx)
					case "cas":
						// Expect a recently seen value half of the time.
						in.Old = cur
						if rng.Intn(2) == 0 {
							in.Old = rng.Intn(3)
						}
						if cur != in.Old {
							return txn.Commit(ctx)
						}
						out.OK = true
					}
					_ = txn.Put(key(in.Key), []byte(strconv.Itoa(in.New)))
					if spread {
						_ = txn.Put(shadow(in.Key), []byte(strconv.Itoa(in.New)))
					}
					return txn.Commit(ctx)
				}()
				ret := now()
				var amb *kvpb.AmbiguousError
				mu.Lock()
				switch {
				case err == nil:
					history = append(history, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
				case errors.As(err, &amb) && in.Op != "read":
					out.Unknown = true
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
	res, info := porcupine.CheckOperationsVerbose(histcheck.RegisterModel, history, 30*time.Second)
	t.Logf("%d operations (%d ambiguous, %d failed attempts): %s", len(history), ambiguous, failed, res)
	if res != porcupine.Ok {
		path := t.TempDir() + "/history.html"
		if err := porcupine.VisualizePath(histcheck.RegisterModel, info, path); err == nil {
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
