package kv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/kv/kvtest"
	"github.com/camusdb/camusdb-go/internal/kvpb"
)

// A transaction buffers its writes until the commit; MaxWriteBytes bounds
// them. Writes count kvpb.WriteCost; overwriting a key counts only
// WriteCopies times the value's growth; the write that would pass the
// bound fails with TxnTooLargeError and is not buffered, while the
// transaction keeps what it had and can still commit it.
func TestTransactionWriteBound(t *testing.T) {
	const limit = 64 << 10
	n := kvtest.Start(t, kvtest.Options{Partitions: 1, MaxWriteBytes: limit})
	db := n.CurrentDB()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	table := kvtest.TablesOn(1, 1, 1)[0]
	key := func(i int) []byte { return kvtest.Key(table, fmt.Sprintf("k%05d", i)) }
	value := bytes.Repeat([]byte{'v'}, 1000)

	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left, lim := txn.WriteBytesLeft(); left != limit || lim != limit {
		t.Fatalf("empty transaction: %d of %d left", left, lim)
	}
	per := kvpb.WriteCost(len(key(0)), len(value))
	fit := int(limit / per)
	for i := range fit {
		if err := txn.Put(key(i), value); err != nil {
			t.Fatalf("write %d of %d that fit: %v", i, fit, err)
		}
	}
	if left, _ := txn.WriteBytesLeft(); left != limit-int64(fit)*per {
		t.Fatalf("after %d writes of %d bytes: %d left, want %d", fit, per, left, limit-int64(fit)*per)
	}
	var tooLarge *kvpb.TxnTooLargeError
	if err := txn.Put(key(fit+1), value); !errors.As(err, &tooLarge) || tooLarge.Limit != limit {
		t.Fatalf("the write past the bound: %v, want TxnTooLargeError", err)
	}
	if _, found, err := txn.Get(ctx, key(fit+1)); err != nil || found {
		t.Fatalf("the refused write is buffered: found=%v err=%v", found, err)
	}
	// Overwriting a key with a smaller value, or deleting it, gives back
	// the difference: then the write fits.
	if err := txn.Put(key(0), value[:10]); err != nil {
		t.Fatalf("overwrite with a smaller value: %v", err)
	}
	if err := txn.Delete(key(1)); err != nil {
		t.Fatalf("delete of a buffered key: %v", err)
	}
	if err := txn.Put(key(fit+1), value); err != nil {
		t.Fatalf("the write after room was given back: %v", err)
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatalf("commit of the writes that fit: %v", err)
	}
	check, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Rollback(ctx)
	for i, want := range map[int]int{0: 10, 1: -1, 2: len(value), fit - 1: len(value), fit: -1, fit + 1: len(value)} {
		got, found, err := check.Get(ctx, key(i))
		if err != nil || (want < 0) == found || (found && len(got) != want) {
			t.Fatalf("key %d after commit: %d bytes, found=%v, err=%v; want %d bytes", i, len(got), found, err, want)
		}
	}
}
