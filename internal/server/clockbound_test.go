package server

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// The clock's upper bound is durable ahead of every timestamp handed out,
// and a restart starts the clock above it: a node whose machine clock went
// back an hour while it was down still hands out timestamps above every
// one it gave before (a standalone node forwards its clock to the bound).
func TestClockBoundSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c, err := openCore(ctx, coreConfig{DataDir: dir, NodeID: 1, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	last := c.clock.Now()
	v, found, err := c.engine.Get(clockBoundKey)
	if err != nil || !found || int64(binary.BigEndian.Uint64(v)) <= last.WallTime {
		t.Fatalf("durable bound %x (found %v, %v) not above the last timestamp %s", v, found, err, last)
	}
	c.close(ctx)

	// The bound as a clock an hour ahead would have left it.
	ahead := time.Now().Add(time.Hour).UnixNano()
	eng, err := storage.Open(storage.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b := eng.NewBatch()
	if err := b.Set(clockBoundKey, binary.BigEndian.AppendUint64(nil, uint64(ahead))); err == nil {
		err = b.Commit(true)
	}
	_ = b.Close()
	_ = eng.Close()
	if err != nil {
		t.Fatal(err)
	}
	c, err = openCore(ctx, coreConfig{DataDir: dir, NodeID: 1, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.close(ctx)
	if now := c.clock.Now(); !(hlc.Timestamp{WallTime: ahead}).Less(now) {
		t.Fatalf("after the restart the clock reads %s, below the persisted bound %d", now, ahead)
	}
}

// A cluster node does not forward its clock (peers refuse frames stamped
// far ahead); it waits until its physical clock passes the bound.
func TestClusterNodeWaitsOutTheClockBound(t *testing.T) {
	wall := hlc.NewManualClock(time.Now().UnixNano())
	bound := wall.UnixNano() + int64(time.Hour)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := hlc.WaitForBound(wall.UnixNano, bound, nil); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
		t.Fatal("returned while the clock was an hour behind the bound")
	default:
	}
	wall.Increment(time.Hour + time.Millisecond)
	<-done
}
