package kv

import (
	"context"
	"errors"
	"testing"

	"github.com/camusdb/camusdb-go/internal/kvpb"
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
