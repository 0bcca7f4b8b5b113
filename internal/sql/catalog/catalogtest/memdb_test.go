package catalogtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
)

func scanAll(t *testing.T, txn catalog.Txn, start, end string, reverse bool) string {
	t.Helper()
	it := txn.Scan(context.Background(), []byte(start), []byte(end), reverse)
	defer it.Close()
	var parts []string
	for it.Next(context.Background()) {
		parts = append(parts, string(it.Key())+"="+string(it.Value()))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(parts, ",")
}

func TestMemDBScanMergesOwnWrites(t *testing.T) {
	ctx := context.Background()
	db := NewMemDB()
	w, _ := db.Begin(ctx)
	for _, k := range []string{"sa", "sc", "se"} {
		if err := w.Put([]byte(k), []byte("1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	txn, _ := db.Begin(ctx)
	defer txn.Rollback(ctx)
	_ = txn.Put([]byte("sb"), []byte("2"))
	_ = txn.Put([]byte("sc"), []byte("2"))
	_ = txn.Delete([]byte("se"))
	if got, want := scanAll(t, txn, "s", "t", false), "sa=1,sb=2,sc=2"; got != want {
		t.Fatalf("forward: %s want %s", got, want)
	}
	if got, want := scanAll(t, txn, "sb", "sd", true), "sc=2,sb=2"; got != want {
		t.Fatalf("reverse: %s want %s", got, want)
	}
	if v, ok, _ := txn.Get(ctx, []byte("se")); ok {
		t.Fatalf("deleted key visible: %s", v)
	}
}

func TestMemDBSnapshotAndConflicts(t *testing.T) {
	ctx := context.Background()
	db := NewMemDB()
	a, _ := db.Begin(ctx)
	b, _ := db.Begin(ctx)
	// a scans a span, b inserts into it and commits first: a must fail.
	_ = scanAll(t, a, "sk", "sl", false)
	_ = b.Put([]byte("sk1"), []byte("x"))
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, a, "sk", "sl", false); got != "" {
		t.Fatalf("a sees a write committed after its snapshot: %s", got)
	}
	_ = a.Put([]byte("sz"), []byte("y"))
	var conflict *kvpb.ConflictError
	if err := a.Commit(ctx); !errors.As(err, &conflict) {
		t.Fatalf("want conflict, got %v", err)
	}
	if _, ok, _ := mustBegin(t, db).Get(ctx, []byte("sz")); ok {
		t.Fatal("aborted write visible")
	}
	// Disjoint transactions both commit.
	c, d := mustBegin(t, db), mustBegin(t, db)
	_, _, _ = c.Get(ctx, []byte("s1"))
	_, _, _ = d.Get(ctx, []byte("s2"))
	_ = c.Put([]byte("s1"), []byte("c"))
	_ = d.Put([]byte("s2"), []byte("d"))
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Put([]byte("s3"), nil); !errors.Is(err, kvpb.ErrTxnClosed) {
		t.Fatalf("write after commit: %v", err)
	}
	db.FailCommits(1)
	e := mustBegin(t, db)
	_ = e.Put([]byte("s4"), []byte("e"))
	if err := e.Commit(ctx); !kvpb.IsRetryable(err) {
		t.Fatalf("injected failure: %v", err)
	}
}

func TestMemDBRejectsCrossBucketScan(t *testing.T) {
	txn := mustBegin(t, NewMemDB())
	it := txn.Scan(context.Background(), []byte("s"), kvpb.PrefixEnd(kvpb.RowPrefix(1, 1)), false)
	if it.Next(context.Background()) || it.Err() == nil {
		t.Fatal("scan across buckets accepted")
	}
}

func mustBegin(t *testing.T, db *MemDB) catalog.Txn {
	t.Helper()
	txn, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = txn.Rollback(context.Background()) })
	return txn
}
