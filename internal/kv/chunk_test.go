package kv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvtest"
	"github.com/camusdb/camusdb-go/internal/kvpb"
)

// TestLargeTransactionsUnderCommandLimit: with a 64 KiB limit on one
// Raft command, a transaction writing 2 MiB in one partition (and one
// spanning two) commits — its intents go in many commands before the
// commit record — and reads back whole; a single value over the limit is
// refused with CommandTooLargeError, writes nothing, and the partition
// keeps committing.
func TestLargeTransactionsUnderCommandLimit(t *testing.T) {
	const limit = 64 << 10
	n := kvtest.Start(t, kvtest.Options{Partitions: 2, MaxCommandBytes: limit})
	db := n.CurrentDB()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	tables := kvtest.TablesOn(1, 2, 1)
	other := kvtest.TablesOn(2, 2, 1)
	value := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, 1000) }
	const rows = 2000 // ~2 MiB, 32 times the limit

	for _, spread := range []bool{false, true} {
		txn, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			table := tables[0]
			if spread && i%2 == 1 {
				table = other[0]
			}
			if err := txn.Put(kvtest.Key(table, fmt.Sprintf("s%v-%05d", spread, i)), value(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.Commit(ctx); err != nil {
			t.Fatalf("spread=%v: commit of %d rows: %v", spread, rows, err)
		}
		read, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			table := tables[0]
			if spread && i%2 == 1 {
				table = other[0]
			}
			got, found, err := read.Get(ctx, kvtest.Key(table, fmt.Sprintf("s%v-%05d", spread, i)))
			if err != nil || !found || !bytes.Equal(got, value(i)) {
				t.Fatalf("spread=%v: row %d: found=%v err=%v", spread, i, found, err)
			}
		}
		_ = read.Rollback(ctx)
	}

	// One value over the limit.
	big := kvtest.Key(tables[0], "big")
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = txn.Put(big, make([]byte, 2*limit))
	_ = txn.Put(kvtest.Key(tables[0], "small"), []byte("x"))
	var tooLarge *kvpb.CommandTooLargeError
	if err := txn.Commit(ctx); !errors.As(err, &tooLarge) || tooLarge.Limit != limit {
		t.Fatalf("commit of a %d-byte value: %v, want CommandTooLargeError", 2*limit, err)
	}
	err = db.RunTxn(ctx, 5, func(txn2 *kv.Txn) error {
		if _, found, err := txn2.Get(ctx, kvtest.Key(tables[0], "small")); err != nil || found {
			return fmt.Errorf("a write of the refused transaction is visible (found=%v, err=%v)", found, err)
		}
		return txn2.Put(kvtest.Key(tables[0], "after"), []byte("y"))
	})
	if err != nil {
		t.Fatalf("the partition after a refused command: %v", err)
	}
}
