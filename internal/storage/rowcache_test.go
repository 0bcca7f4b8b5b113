package storage

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// testGroup groups keys "g<x>/..." by their first two bytes; other keys
// are not cached.
func testGroup(key []byte) int {
	if len(key) >= 3 && key[0] == 'g' && key[2] == '/' {
		return 2
	}
	return 0
}

func openCached(t *testing.T, budget int64) *Engine {
	t.Helper()
	e, err := Open(Options{InMemory: true, Dir: "mem", CacheGroup: testGroup, ReadCacheBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func commit(t *testing.T, e *Engine, fn func(b Batch)) {
	t.Helper()
	b := e.NewBatch()
	defer b.Close()
	fn(b)
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
}

// cached stores v for group the way a reader does: stamp, read, store.
func cached(e *Engine, group string, v string) {
	_, st := e.CacheLookup([]byte(group))
	e.CacheStore([]byte(group), st, []byte(v[:len(v)/2]), []byte(v[len(v)/2:]))
}

func hit(e *Engine, group string) (string, bool) {
	v, _ := e.CacheLookup([]byte(group))
	return string(v), v != nil
}

func TestReadCacheInvalidatedByWrites(t *testing.T) {
	e := openCached(t, 0)
	cached(e, "ga", "A")
	cached(e, "gb", "B")
	if v, ok := hit(e, "ga"); !ok || v != "A" {
		t.Fatalf("ga = %q,%v, want A", v, ok)
	}
	// A write to a key of group ga (not the group name itself) drops it.
	commit(t, e, func(b Batch) { _ = b.Set([]byte("ga/version"), []byte("x")) })
	if v, ok := hit(e, "ga"); ok {
		t.Fatalf("ga served %q after a write to its group", v)
	}
	c := e.cache
	sameBucket := hashOf(c, "ga")%genBuckets == hashOf(c, "gb")%genBuckets // 1 in 65536: skip the check
	if v, ok := hit(e, "gb"); !sameBucket && (!ok || v != "B") {
		t.Fatalf("gb = %q,%v after a write to another group, want B", v, ok)
	}
	// Deletes invalidate too; keys outside any group do not.
	cached(e, "ga", "A2")
	commit(t, e, func(b Batch) { _ = b.Set([]byte("other"), []byte("x")) })
	if v, ok := hit(e, "ga"); !ok || v != "A2" {
		t.Fatalf("ga = %q,%v after an ungrouped write, want A2", v, ok)
	}
	commit(t, e, func(b Batch) { _ = b.Delete([]byte("ga/")) })
	if _, ok := hit(e, "ga"); ok {
		t.Fatal("ga served after a delete in its group")
	}
	// A range deletion of the data space drops everything; one outside
	// it (a Raft log truncation) nothing.
	cached(e, "ga", "A3")
	commit(t, e, func(b Batch) { _ = b.DeleteRange([]byte{PrefixRaft}, []byte{PrefixRaft, 9}) })
	if v, ok := hit(e, "ga"); !ok || v != "A3" {
		t.Fatalf("ga = %q,%v after a range deletion outside the data space, want A3", v, ok)
	}
	cached(e, "gb", "B3")
	commit(t, e, func(b Batch) { _ = b.DeleteRange([]byte{PrefixData, 5}, []byte{PrefixData, 6}) })
	for _, g := range []string{"ga", "gb"} {
		if _, ok := hit(e, g); ok {
			t.Fatalf("%s served after a range deletion", g)
		}
	}
	// A batch larger than invalidateAllAbove drops everything, also
	// groups it did not write.
	cached(e, "ga", "A4")
	commit(t, e, func(b Batch) {
		for i := 0; i <= invalidateAllAbove; i++ {
			_ = b.Set([]byte(fmt.Sprintf("gb/%d", i)), nil)
		}
	})
	if _, ok := hit(e, "ga"); ok {
		t.Fatal("ga served after a large batch")
	}
	// CommitNoSyncWait invalidates like Commit.
	cached(e, "gc", "C")
	b := e.NewBatch()
	_ = b.Set([]byte("gc/1"), nil)
	if err := b.CommitNoSyncWait(); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncWait(); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	if _, ok := hit(e, "gc"); ok {
		t.Fatal("gc served after CommitNoSyncWait")
	}
	if st := e.ReadCacheStats(); st.Hits == 0 || st.Misses == 0 {
		t.Fatalf("stats %+v: want hits and misses counted", st)
	}
}

// Payloads too big to sit in the entry round trip as well as inline ones,
// and the entry keeps its size class.
func TestReadCacheEntrySizes(t *testing.T) {
	e := openCached(t, 0)
	for _, n := range []int{0, 1, entryInline - 2, entryInline - 1, entryInline, 4000} {
		g := fmt.Sprintf("g%d", n%10)
		v := strings.Repeat("x", n)
		cached(e, g, v)
		if got, ok := hit(e, g); !ok || got != v {
			t.Fatalf("payload of %d bytes: got %d bytes, hit %v", n, len(got), ok)
		}
	}
	if sz := unsafe.Sizeof(cacheEntry{}); sz > 160 {
		t.Fatalf("cacheEntry is %d bytes, past its 160-byte size class", sz)
	}
}

func hashOf(c *readCache, group string) uint64 {
	_, st := c.lookup([]byte(group))
	return st.hash
}

// A reader that read the engine before a write became visible must not
// leave its (stale) result behind: its stamp predates the write's bump.
func TestReadCacheRejectsStaleStore(t *testing.T) {
	e := openCached(t, 0)
	_, st := e.CacheLookup([]byte("ga"))
	commit(t, e, func(b Batch) { _ = b.Set([]byte("ga/1"), []byte("new")) })
	e.CacheStore([]byte("ga"), st, nil, []byte("old"))
	if v, ok := hit(e, "ga"); ok {
		t.Fatalf("served %q stored under a stamp older than the last write", v)
	}
	// The same holds when the store lands before the bump of a later
	// write: the entry is stored but never served afterwards.
	_, st = e.CacheLookup([]byte("ga"))
	e.CacheStore([]byte("ga"), st, nil, []byte("cur"))
	commit(t, e, func(b Batch) { _ = b.Set([]byte("ga/2"), []byte("newer")) })
	if v, ok := hit(e, "ga"); ok {
		t.Fatalf("served %q after a later write", v)
	}
}

func TestReadCacheBudget(t *testing.T) {
	const budget = 64 << 10
	e := openCached(t, budget)
	big := string(make([]byte, budget)) // over the per-entry limit
	cached(e, "gz", big)
	if _, ok := hit(e, "gz"); ok {
		t.Fatal("an entry larger than the per-entry limit was kept")
	}
	for i := 0; i < 5000; i++ {
		g := fmt.Sprintf("g%c%d", 'a'+i%26, i)
		cached(e, g, "0123456789012345678901234567890123456789")
		if n := e.ReadCacheStats().Bytes; n > budget {
			t.Fatalf("after %d stores the cache holds %d bytes, budget %d", i+1, n, budget)
		}
	}
	if st := e.ReadCacheStats(); st.Evictions == 0 {
		t.Fatalf("stats %+v: 5000 entries in a 64 KiB budget evicted nothing", st)
	}
}

func TestNoReadCacheWithoutGroup(t *testing.T) {
	e, err := Open(Options{InMemory: true, Dir: "mem"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_, st := e.CacheLookup([]byte("ga"))
	if st.Valid() {
		t.Fatal("an engine without CacheGroup handed out a valid stamp")
	}
	e.CacheStore([]byte("ga"), st, nil, []byte("A"))
	if _, ok := hit(e, "ga"); ok {
		t.Fatal("an engine without CacheGroup cached")
	}
}

// testWriteThrough appends the written value to the cached payload;
// a value "?" is one it cannot carry forward.
func testWriteThrough(dst, key []byte, glen int, value, cached []byte) ([]byte, bool) {
	if string(value) == "?" || glen >= len(key) {
		return dst, false
	}
	return append(append(append(dst, cached...), '+'), value...), true
}

func TestReadCacheWriteThrough(t *testing.T) {
	e, err := Open(Options{InMemory: true, Dir: "mem", CacheGroup: testGroup, CacheWriteThrough: testWriteThrough})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	want := func(group, payload string) {
		t.Helper()
		v, ok := hit(e, group)
		if payload == "" && ok {
			t.Fatalf("%s served %q, want a miss", group, v)
		}
		if payload != "" && (!ok || v != payload) {
			t.Fatalf("%s = %q,%v, want %q", group, v, ok, payload)
		}
	}
	// A valid entry and one write to its group: the entry carries on.
	cached(e, "ga", "A")
	commit(t, e, func(b Batch) { _ = b.Set([]byte("ga/1"), []byte("x")) })
	want("ga", "A+x")
	commit(t, e, func(b Batch) { _ = b.Set([]byte("ga/2"), []byte("y")) })
	want("ga", "A+x+y")
	// Writes to two groups in one batch: both carry on.
	cached(e, "gb", "B")
	commit(t, e, func(b Batch) {
		_ = b.Set([]byte("ga/3"), []byte("z"))
		_ = b.Set([]byte("gb/1"), []byte("w"))
	})
	want("ga", "A+x+y+z")
	if hashOf(e.cache, "ga")%genBuckets != hashOf(e.cache, "gb")%genBuckets { // else both were only dropped
		want("gb", "B+w")
	}
	if st := e.ReadCacheStats(); st.Refreshes < 3 {
		t.Fatalf("stats %+v: want the refreshes counted", st)
	}
	// No entry before the write: none after (the write alone does not
	// tell what else the group holds).
	commit(t, e, func(b Batch) { _ = b.Set([]byte("gc/1"), []byte("x")) })
	want("gc", "")
	// Anything else in the group in the same batch drops the entry:
	// another key set (for MVCC: an intent) or deleted, before or after.
	for name, fn := range map[string]func(b Batch){
		"another key set after":  func(b Batch) { _ = b.Set([]byte("ga/4"), []byte("v")); _ = b.Set([]byte("ga/"), []byte("intent")) },
		"another key deleted":    func(b Batch) { _ = b.Delete([]byte("ga/")); _ = b.Set([]byte("ga/4"), []byte("v")) },
		"another key set before": func(b Batch) { _ = b.Set([]byte("ga/5"), []byte("v")); _ = b.Set([]byte("ga/4"), []byte("v")) },
		"the key set twice":      func(b Batch) { _ = b.Set([]byte("ga/4"), []byte("v")); _ = b.Set([]byte("ga/4"), []byte("w")) },
		"not derivable":          func(b Batch) { _ = b.Set([]byte("ga/4"), []byte("?")) },
		"range deletion": func(b Batch) {
			_ = b.Set([]byte("ga/4"), []byte("v"))
			_ = b.DeleteRange([]byte{PrefixData}, []byte{PrefixData + 1})
		},
	} {
		cached(e, "ga", "A")
		commit(t, e, fn)
		if v, ok := hit(e, "ga"); ok {
			t.Fatalf("%s: ga served %q after the batch", name, v)
		}
	}
	// Another write to the bucket between the collect and the bump (a
	// batch of another group sharing it, visible meanwhile): not stored.
	cached(e, "ga", "A")
	b := e.NewBatch().(*batch)
	_ = b.Set([]byte("ga/6"), []byte("v"))
	inv := &invalidation{}
	e.cache.collect(b.b, inv)
	if len(inv.refresh) != 1 {
		t.Fatalf("collect prepared %d refreshes, want 1", len(inv.refresh))
	}
	e.cache.gens[hashOf(e.cache, "ga")%genBuckets].Add(1)
	if err := b.b.Commit(nil); err != nil {
		t.Fatal(err)
	}
	e.cache.bump(inv, true)
	_ = b.Close()
	want("ga", "")
	// A failed commit stores nothing.
	cached(e, "ga", "A")
	inv = &invalidation{}
	b = e.NewBatch().(*batch)
	_ = b.Set([]byte("ga/7"), []byte("v"))
	e.cache.collect(b.b, inv)
	e.cache.bump(inv, false)
	_ = b.Close()
	want("ga", "")
}
