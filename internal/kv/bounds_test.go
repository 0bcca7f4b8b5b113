package kv

import (
	"context"
	"errors"
	"testing"

	"github.com/camusdb/camusdb-go/internal/kvpb"
)

// A minimum commit timestamp moves the writes above it: a snapshot taken
// between the transaction's read timestamp and that minimum does not see
// them (they would land at the read timestamp otherwise).
func TestMinCommitTimestamp(t *testing.T) {
	ctx := context.Background()
	for _, parts := range []int{1, 4} {
		e := newEnv(t)
		db := e.db(t, parts, 1)
		writer, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		reader, err := db.Begin(ctx) // reads above writer's read timestamp
		if err != nil {
			t.Fatal(err)
		}
		writer.SetMinCommitTimestamp(e.clock.Now())
		for tbl := uint32(1); tbl <= 3; tbl++ {
			if err := writer.Put(key(tbl, "k"), []byte("v")); err != nil {
				t.Fatal(err)
			}
		}
		mustCommit(t, writer)
		for tbl := uint32(1); tbl <= 3; tbl++ {
			if _, found, err := reader.Get(ctx, key(tbl, "k")); err != nil || found {
				t.Fatalf("partitions=%d: reader below the minimum commit timestamp sees the write (found=%v err=%v)", parts, found, err)
			}
		}
	}
}

// A deadline at or below the commit timestamp fails the commit with a
// retryable error and writes nothing; one above it commits.
func TestCommitDeadline(t *testing.T) {
	ctx := context.Background()
	for _, parts := range []int{1, 4} {
		e := newEnv(t)
		db := e.db(t, parts, 1)
		late, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		late.SetDeadline(late.ReadTimestamp())
		for tbl := uint32(1); tbl <= 3; tbl++ {
			_ = late.Put(key(tbl, "k"), []byte("late"))
		}
		var re *kvpb.RetryError
		if err := late.Commit(ctx); !errors.As(err, &re) {
			t.Fatalf("partitions=%d: commit past the deadline: %v, want a RetryError", parts, err)
		}
		check, _ := db.Begin(ctx)
		for tbl := uint32(1); tbl <= 3; tbl++ {
			if _, found, _ := check.Get(ctx, key(tbl, "k")); found {
				t.Fatalf("partitions=%d: a commit past its deadline wrote", parts)
			}
		}
		ok, _ := db.Begin(ctx)
		ok.SetDeadline(e.clock.Now().Next())
		for tbl := uint32(1); tbl <= 3; tbl++ {
			_ = ok.Put(key(tbl, "k"), []byte("ok"))
		}
		mustCommit(t, ok)
	}
}
