package kv

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/camusdb/camusdb-go/internal/kvpb"
)

// TestPutIfAbsent: the write commits only when its key has no live
// version at the commit (absent, or deleted); otherwise the commit fails
// with the caller's message and writes nothing, in one-phase and in
// two-phase commits.
func TestPutIfAbsent(t *testing.T) {
	ctx := context.Background()
	for _, parts := range []int{1, 4} {
		t.Run(fmt.Sprint(parts), func(t *testing.T) {
			db := newEnv(t).db(t, parts, 1)
			setup, _ := db.Begin(ctx)
			_ = setup.Put(key(1, "live"), []byte("old"))
			_ = setup.Put(key(1, "gone"), []byte("old"))
			mustCommit(t, setup)
			del, _ := db.Begin(ctx)
			_ = del.Delete(key(1, "gone"))
			mustCommit(t, del)

			for _, k := range []string{"new", "gone"} {
				txn, _ := db.Begin(ctx)
				if err := txn.PutIfAbsent(key(1, k), []byte("v"), "dup"); err != nil {
					t.Fatal(err)
				}
				mustCommit(t, txn)
			}

			// A live key fails the commit, also with a write elsewhere (two
			// partitions when parts > 1: the other write must not land).
			txn, _ := db.Begin(ctx)
			_ = txn.Put(key(2, "other"), []byte("x"))
			_ = txn.PutIfAbsent(key(1, "live"), []byte("v"), "duplicate primary key in table \"t\"")
			err := txn.Commit(ctx)
			var cf *kvpb.ConditionFailedError
			if !errors.As(err, &cf) || cf.Message != "duplicate primary key in table \"t\"" {
				t.Fatalf("commit over a live key: %v", err)
			}
			check, _ := db.Begin(ctx)
			if v, _, _ := check.Get(ctx, key(1, "live")); string(v) != "old" {
				t.Fatalf("live key overwritten: %q", v)
			}
			if _, ok, _ := check.Get(ctx, key(2, "other")); ok {
				t.Fatal("the failed transaction's other write landed")
			}
			// A Put after PutIfAbsent of the same key keeps the condition.
			again, _ := db.Begin(ctx)
			_ = again.PutIfAbsent(key(1, "new"), []byte("1"), "dup")
			_ = again.Put(key(1, "new"), []byte("2"))
			if err := again.Commit(ctx); !errors.As(err, &cf) {
				t.Fatalf("condition lost by a later Put: %v", err)
			}
		})
	}
}

// TestPutIfAbsentRace: transactions inserting the same key concurrently;
// exactly one commits, the others fail with the condition (or a retryable
// error, never a second success).
func TestPutIfAbsentRace(t *testing.T) {
	ctx := context.Background()
	db := newEnv(t).db(t, 1, 1)
	const n = 8
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			txn, err := db.Begin(ctx)
			if err != nil {
				results[i] = err
				return
			}
			_ = txn.PutIfAbsent(key(1, "k"), []byte(fmt.Sprint(i)), "dup")
			results[i] = txn.Commit(ctx)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range results {
		var cf *kvpb.ConditionFailedError
		switch {
		case err == nil:
			won++
		case errors.As(err, &cf), kvpb.IsRetryable(err):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d transactions inserted the same key", won)
	}
}
