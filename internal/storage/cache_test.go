package storage

import (
	"bytes"
	"fmt"
	"testing"
)

// Pebble counts its memtables (the one being written and a recycled one,
// 32 MiB each once writes filled a few) against the block cache: blocks
// must still find room in it, so a second scan of flushed data hits it.
func TestBlockCacheKeepsBlocksAfterFlushes(t *testing.T) {
	e, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// Fill memtables until they reach their full size.
	big := bytes.Repeat([]byte("v"), 64<<10)
	for i := 0; i < 2000; i++ {
		b := e.NewBatch()
		_ = b.Set([]byte(fmt.Sprintf("big%08d", i)), big)
		if err := b.Commit(false); err != nil {
			t.Fatal(err)
		}
	}
	b := e.NewBatch()
	for i := 0; i < 20000; i++ {
		_ = b.Set([]byte(fmt.Sprintf("key%08d", i)), []byte("value"))
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	scan := func() {
		it, err := e.NewIter([]byte("key"), []byte("kez"))
		if err != nil {
			t.Fatal(err)
		}
		for ok := it.First(); ok; ok = it.Next() {
		}
		_ = it.Close()
	}
	scan()
	before := e.Stats()
	scan()
	after := e.Stats()
	if after.BlockCacheBytes == 0 || after.BlockCacheHits == before.BlockCacheHits {
		t.Fatalf("block cache holds %d bytes (memtables %d), second scan hit it %d times",
			after.BlockCacheBytes, after.MemtableBytes, after.BlockCacheHits-before.BlockCacheHits)
	}
}
