package lease

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// A row of this node on a key it holds no copy of (an acquisition a change
// overtook) is deleted when a drain marker names the key: the change does
// not wait for it to expire.
func TestOrphanRowReleasedOnMarker(t *testing.T) {
	ctx := context.Background()
	clock := hlc.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	db := catalogtest.NewMemDBWithClock(clock.UnixNano)
	key := catalog.DatabaseKey("d")
	run := func(fn func(catalog.Txn) error) {
		txn, _ := db.Begin(ctx)
		if err := fn(txn); err != nil {
			t.Fatal(err)
		}
		if err := txn.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	run(func(txn catalog.Txn) error {
		_, err := catalog.CreateDatabase(ctx, txn, "d", false)
		return err
	})
	// Node 2 left a live row behind without holding the key.
	run(func(txn catalog.Txn) error {
		return txn.Put(leaseKey(key, 2), encodeLease(clock.UnixNano()+int64(time.Hour), 0))
	})
	node2 := New(db, Config{NodeID: 2, PollInterval: time.Hour})
	defer node2.Close()
	node1 := New(db, Config{NodeID: 1, PollInterval: time.Millisecond})
	defer node1.Close()
	done := make(chan error, 1)
	go func() {
		txn, _ := db.Begin(ctx)
		if err := node1.Drain(ctx, txn, [][]byte{key}); err != nil {
			done <- err
			return
		}
		done <- txn.Commit(ctx)
		node1.Committed([][]byte{key})
	}()
	// Wait for the marker, then let node 2 look.
	testutil.SucceedsSoon(t, 30*time.Second, func() error {
		txn, _ := db.Begin(ctx)
		_, found, _ := txn.Get(ctx, markerKey(key))
		_ = txn.Rollback(ctx)
		if !found {
			return errors.New("no drain marker yet")
		}
		return nil
	})
	node2.Tick(ctx)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the change still waits for node 2's orphaned row")
	}
}
