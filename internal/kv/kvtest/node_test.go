package kvtest

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestKeyTable(t *testing.T) {
	tbl, row, err := Table(Key(70000, "r1"))
	if err != nil || tbl != 70000 || row != "r1" {
		t.Fatalf("Table(Key(70000, r1)) = %d %q %v", tbl, row, err)
	}
	for p := uint64(1); p <= 4; p++ {
		for _, tbl := range TablesOn(p, 4, 3) {
			if got, _ := kvpb.PartitionOf(Key(tbl, "x"), 4); got != p {
				t.Fatalf("table %d: partition %d, want %d", tbl, got, p)
			}
		}
	}
}

// TestCrashKeepsAcknowledgedAndDropsAbandoned: a committed multi-partition
// write survives a crash; a commit abandoned before its record leaves
// intents of the old epoch that a reader of the new incarnation aborts.
func TestCrashKeepsAcknowledgedAndDropsAbandoned(t *testing.T) {
	for _, dir := range []string{"", "tempdir"} {
		t.Run("dir="+dir, func(t *testing.T) {
			ctx := context.Background()
			opts := Options{}
			if dir != "" {
				opts.Dir = t.TempDir()
			}
			n := Start(t, opts)
			a, b := Key(TablesOn(1, 4, 1)[0], "k"), Key(TablesOn(2, 4, 1)[0], "k")
			put := func(v string) error {
				txn, err := n.DB.Begin(ctx)
				if err != nil {
					return err
				}
				_ = txn.Put(a, []byte(v))
				_ = txn.Put(b, []byte(v))
				return txn.Commit(ctx)
			}
			if err := put("v1"); err != nil {
				t.Fatal(err)
			}
			abandon := errors.New("abandon")
			n.SetBeforeCommitRecord(func(mvcc.TxnID) error { return abandon })
			if err := put("v2"); !errors.Is(err, abandon) {
				t.Fatalf("knob: %v", err)
			}
			n.SetBeforeCommitRecord(nil)
			n.SyncWAL() // as any other commit would: prepares are lazy
			n.Crash()
			if n.Epoch != 2 {
				t.Fatalf("epoch %d after a crash", n.Epoch)
			}
			// One intent: the home partition's write would have been
			// committed with the record.
			if got := len(n.Intents()); got != 1 {
				t.Fatalf("%d intents survived the crash, want 1", got)
			}
			txn, _ := n.DB.Begin(ctx)
			for _, k := range [][]byte{a, b} {
				v, ok, err := txn.Get(ctx, k)
				if err != nil || !ok || string(v) != "v1" {
					t.Fatalf("after crash: %q %v %v", v, ok, err)
				}
			}
			if got := len(n.Intents()); got != 0 {
				t.Fatalf("%d intents left after reads resolved them", got)
			}
			n.Restart()
			if err := put("v3"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
