package kv

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
)

// skewedDB is a coordinator on the env's kvserver whose clock is offset
// from real time (another node's clock, ahead or behind).
func (e *env) skewedDB(t *testing.T, offset, window time.Duration) *DB {
	clock := hlc.NewClock(func() int64 { return hlc.UnixNano() + int64(offset) })
	db := NewDB(Config{Sender: e.server, Clock: clock, NumPartitions: 1, NodeID: 1, Epoch: 1, UncertaintyWindow: window})
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// fastAndSlowDBs are two coordinators with a 500 ms uncertainty window on
// the env's kvserver, the first one's clock 300 ms ahead of the second's.
func (e *env) fastAndSlowDBs(t *testing.T) (fast, slow *DB) {
	window := 500 * time.Millisecond
	return e.skewedDB(t, 300*time.Millisecond, window), e.skewedDB(t, 0, window)
}

// A write through a coordinator whose clock is 300 ms ahead lands at a
// timestamp above the clock of a coordinator that starts reading after
// the write was acknowledged. Without an uncertainty interval the reader
// misses an acknowledged write (a stale read); with it, the reader moves
// above the write and sees it.
func TestUncertaintyIntervalSeesWriteFromFastClock(t *testing.T) {
	ctx := context.Background()
	for _, window := range []time.Duration{0, 500 * time.Millisecond} {
		e := newEnv(t)
		fast := e.skewedDB(t, 300*time.Millisecond, window)
		slow := e.skewedDB(t, 0, window)
		w, _ := fast.Begin(ctx)
		_ = w.Put(key(1, "k"), []byte("new"))
		mustCommit(t, w)

		r, _ := slow.Begin(ctx)
		v, ok, err := r.Get(ctx, key(1, "k"))
		if err != nil {
			t.Fatal(err)
		}
		if window == 0 {
			if ok {
				t.Fatalf("without a window the read already sees %q: the test shows nothing", v)
			}
			continue
		}
		if !ok || string(v) != "new" {
			t.Fatalf("read after an acknowledged write: %q %v", v, ok)
		}
		if got := slow.Metrics().UncertaintyRestarts; got != 1 {
			t.Fatalf("uncertainty restarts = %d, want 1", got)
		}
		// Scans too.
		r2, _ := slow.Begin(ctx)
		it := r2.Scan(ctx, key(1, ""), nil, false)
		n := 0
		for it.Next(ctx) {
			n++
		}
		if err := it.Err(); err != nil || n != 1 {
			t.Fatalf("scan after an acknowledged write: %d rows, %v", n, err)
		}
	}
}

// Moving the read timestamp re-validates what was read before: if that
// changed in between, the transaction fails with a retryable conflict
// rather than mixing two snapshots.
func TestUncertaintyRestartRevalidatesEarlierReads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fast, slow := e.fastAndSlowDBs(t)

	r, _ := slow.Begin(ctx)
	if _, _, err := r.Get(ctx, key(1, "a")); err != nil {
		t.Fatal(err)
	}
	w, _ := fast.Begin(ctx)
	_ = w.Put(key(1, "a"), []byte("changed"))
	_ = w.Put(key(1, "b"), []byte("new"))
	mustCommit(t, w)
	_, _, err := r.Get(ctx, key(1, "b"))
	if !kvpb.IsRetryable(err) {
		t.Fatalf("uncertain read after a changed read: %v", err)
	}
	var ce *kvpb.ConflictError
	var re *kvpb.RetryError
	if !errors.As(err, &ce) && !errors.As(err, &re) {
		t.Fatalf("want a conflict, got %T %v", err, err)
	}
}

// A transaction without uncertainty (DropUncertainty: advisory reads, the
// statistics scan) reads exactly at its timestamp: it does not see a write
// from a faster clock, and neither moves its read timestamp nor
// re-validates what it read before.
func TestDropUncertaintyReadsAtItsTimestamp(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fast, slow := e.fastAndSlowDBs(t)

	r, _ := slow.Begin(ctx)
	r.DropUncertainty()
	if _, _, err := r.Get(ctx, key(1, "a")); err != nil {
		t.Fatal(err)
	}
	readTS := r.ReadTimestamp()
	w, _ := fast.Begin(ctx)
	_ = w.Put(key(1, "k"), []byte("new"))
	_ = w.Put(key(1, "l"), []byte("new"))
	mustCommit(t, w)

	if v, ok, err := r.Get(ctx, key(1, "k")); err != nil || ok {
		t.Fatalf("read without uncertainty saw the later write: %q %v %v", v, ok, err)
	}
	it := r.Scan(ctx, key(1, ""), nil, false)
	n := 0
	for it.Next(ctx) {
		n++
	}
	if err := it.Err(); err != nil || n != 0 {
		t.Fatalf("scan without uncertainty: %d rows, %v", n, err)
	}
	if r.ReadTimestamp() != readTS {
		t.Fatalf("read timestamp moved from %s to %s", readTS, r.ReadTimestamp())
	}
	if got := slow.Metrics().UncertaintyRestarts; got != 0 {
		t.Fatalf("uncertainty restarts = %d, want 0", got)
	}
}
