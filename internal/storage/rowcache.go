package storage

import (
	"bytes"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// The read cache keeps, per key group, what a reader made of the engine's
// keys in that group (for MVCC: the newest committed version of one user
// key), so that a repeated point read skips Pebble: a seek through a large
// memtable costs a few microseconds of cache misses, a lookup here one or
// two.
//
// Validity, not eviction, is what makes it correct. Every group hashes to
// one of genBuckets generation counters. A reader loads the counter (the
// CacheStamp) before it reads the engine and stores its result with that
// stamp; an entry is served only while its bucket's counter, and the
// cache-wide epoch, still have the values it was stored with. Every batch
// committed through this engine bumps, after Pebble has made it visible,
// the counter of every group it wrote (and the epoch for a range
// deletion). So an entry read before a write became visible is never
// served after the write's bump, and one read after it is correct anyway.
//
// Between a write becoming visible and its bump, an older entry can still
// be served. That is the instant before the write, and harmless exactly
// when the caller's concurrency control keeps readers of a key away from a
// write to it until the write has been applied — the kv layer's latches
// do, and they are also what makes a plain engine read correct there.
//
// Entries live in a table of atomic pointers (no locks on the read path),
// two slots per group (a two-way set: a third group sharing them replaces
// one); past the byte budget a store clears a few other slots.

const (
	genBuckets = 1 << 16
	// entryOverhead is an entry's memory beyond a payload too big to be
	// inline (the struct, 160 bytes, and allocation rounding).
	entryOverhead = 176
	// evictProbes is how many other slots a store over budget clears at
	// most.
	evictProbes = 8
	// invalidateAllAbove: a batch of more mutations than this drops the
	// whole cache (bumps the epoch) instead of hashing every key it wrote
	// into its generation counter, which cost a bulk load ~4%.
	invalidateAllAbove = 256
)

// DefaultReadCacheBytes is the read cache's budget when Options leave it
// at zero.
const DefaultReadCacheBytes = 32 << 20

// CacheStamp is what a reader learned about a group before reading the
// engine; pass it to CacheStore with the result.
type CacheStamp struct {
	hash       uint64
	gen, epoch uint64
	ok         bool
}

// Valid reports whether the stamp came from a read cache.
func (s CacheStamp) Valid() bool { return s.ok }

type cacheEntry struct {
	hash       uint64
	gen, epoch uint64
	glen, n    uint32 // group length; group and payload length
	// The group, then the payload: inline when they fit (the usual row),
	// so that a hit touches the entry and nothing else; in big otherwise.
	inline [entryInline]byte
	big    []byte
}

// entryInline makes a cacheEntry 160 bytes, one of Go's size classes.
const entryInline = 96

func (e *cacheEntry) bytes() []byte {
	if e.big != nil {
		return e.big
	}
	return e.inline[:e.n]
}

func (e *cacheEntry) group() []byte   { return e.bytes()[:e.glen] }
func (e *cacheEntry) payload() []byte { return e.bytes()[e.glen:] }
func (e *cacheEntry) size() int64     { return int64(len(e.big)) + entryOverhead }

type readCache struct {
	group     func(key []byte) int
	seed      maphash.Seed
	gens      []atomic.Uint64
	epoch     atomic.Uint64
	slots     []atomic.Pointer[cacheEntry]
	slotMask  uint64
	bytes     atomic.Int64
	budget    int64
	maxEntry  int64
	hits      atomic.Int64
	misses    atomic.Int64
	evictions atomic.Int64
}

func newReadCache(group func([]byte) int, budget int64) *readCache {
	// One slot per 128 bytes of budget, a power of two.
	slots := uint64(1024)
	for int64(slots)*128 < budget {
		slots <<= 1
	}
	return &readCache{
		group:    group,
		seed:     maphash.MakeSeed(),
		gens:     make([]atomic.Uint64, genBuckets),
		slots:    make([]atomic.Pointer[cacheEntry], slots),
		slotMask: slots - 1,
		budget:   budget,
		maxEntry: max(budget/1024, 512),
	}
}

// set returns the first of the two slots group's hash may occupy (a
// two-way set: two groups that share a slot can both stay).
func (c *readCache) set(hash uint64) uint64 {
	// The generation bucket takes the low bits; the set the high ones, so
	// groups sharing a set rarely share a bucket.
	return (hash >> 32) & c.slotMask &^ 1
}

func (c *readCache) valid(e *cacheEntry) bool {
	return e.gen == c.gens[e.hash%genBuckets].Load() && e.epoch == c.epoch.Load()
}

func (c *readCache) lookup(group []byte) ([]byte, CacheStamp) {
	h := maphash.Bytes(c.seed, group)
	st := CacheStamp{hash: h, epoch: c.epoch.Load(), gen: c.gens[h%genBuckets].Load(), ok: true}
	i := c.set(h)
	for w := uint64(0); w < 2; w++ {
		if e := c.slots[i+w].Load(); e != nil && e.hash == h && bytes.Equal(e.group(), group) {
			if e.gen == st.gen && e.epoch == st.epoch {
				c.hits.Add(1)
				return e.payload(), st
			}
			break
		}
	}
	c.misses.Add(1)
	return nil, st
}

func (c *readCache) store(group []byte, st CacheStamp, head, value []byte) {
	n := len(group) + len(head) + len(value)
	if !st.ok || int64(n)+entryOverhead > c.maxEntry || n > math.MaxUint32 {
		return
	}
	if c.gens[st.hash%genBuckets].Load() != st.gen || c.epoch.Load() != st.epoch {
		return // written since: the entry would never be served
	}
	e := &cacheEntry{hash: st.hash, gen: st.gen, epoch: st.epoch, glen: uint32(len(group)), n: uint32(n)}
	buf := e.inline[:0]
	if n > entryInline {
		buf = make([]byte, 0, n)
	}
	buf = append(append(append(buf, group...), head...), value...)
	if n > entryInline {
		e.big = buf
	}
	sz := e.size()
	// The slot holding group, else an empty or invalidated one, else
	// either at random.
	i := c.set(st.hash)
	target := i + rand.Uint64()&1
	for w := uint64(0); w < 2; w++ {
		if o := c.slots[i+w].Load(); o == nil || (o.hash == st.hash && bytes.Equal(o.group(), group)) || !c.valid(o) {
			target = i + w
			break
		}
	}
	if old := c.slots[target].Swap(e); old != nil {
		sz -= old.size()
	}
	if c.bytes.Add(sz) <= c.budget {
		return
	}
	// Over budget: clear slots spread over the table (a random victim,
	// in effect) until under it again; if the probes find too little,
	// take the new entry back out, so the budget holds.
	for k := uint64(1); k <= evictProbes; k++ {
		if old := c.slots[(target+k*0x9E3779B1)&c.slotMask].Swap(nil); old != nil {
			c.evictions.Add(1)
			if c.bytes.Add(-old.size()) <= c.budget {
				return
			}
		}
	}
	if c.slots[target].CompareAndSwap(e, nil) {
		c.evictions.Add(1)
		c.bytes.Add(-e.size())
	}
}

// invalidation is what a committing batch must bump once it is visible.
type invalidation struct {
	hashes []uint64
	all    bool
	buf    [8]uint64
}

// collect reads the batch's mutations (before the commit: Pebble may
// clear a large batch's contents when it applies it).
func (c *readCache) collect(b *pebble.Batch, inv *invalidation) {
	inv.hashes = inv.buf[:0]
	if b.Count() > invalidateAllAbove {
		inv.all = true // a load: dropping everything costs one counter
		return
	}
	r := b.Reader()
	for {
		kind, key, value, ok, err := r.Next()
		if err != nil {
			inv.all = true // cannot tell which groups: drop everything
			return
		}
		if !ok {
			return
		}
		switch kind {
		case pebble.InternalKeyKindSet, pebble.InternalKeyKindDelete, pebble.InternalKeyKindSingleDelete,
			pebble.InternalKeyKindDeleteSized, pebble.InternalKeyKindMerge, pebble.InternalKeyKindSetWithDelete:
			if n := c.group(key); n > 0 {
				inv.hashes = append(inv.hashes, maphash.Bytes(c.seed, key[:n]))
			}
		case pebble.InternalKeyKindLogData:
		case pebble.InternalKeyKindRangeDelete:
			// [key, value): Raft log truncations delete ranges outside
			// the data space, where no group lives.
			if string(value) > string([]byte{PrefixData}) && string(key) < string([]byte{PrefixData + 1}) {
				inv.all = true
			}
		default: // range keys, anything new
			inv.all = true
		}
	}
}

// bump invalidates what collect found; call it after the batch became
// visible (also when the commit failed: it may have applied).
func (c *readCache) bump(inv *invalidation) {
	for _, h := range inv.hashes {
		c.gens[h%genBuckets].Add(1)
	}
	if inv.all {
		c.epoch.Add(1)
	}
}

// ReadCacheStats counts read cache lookups.
type ReadCacheStats struct {
	Hits, Misses, Evictions int64
	Bytes                   int64
}

// CacheLookup returns the payload CacheStore kept for group, if no write
// to the group became visible since (nil otherwise; the payload is shared:
// do not modify it), and the stamp to store a fresh result with. Without
// a read cache (Options.CacheGroup unset) it always misses and the stamp
// is not Valid.
func (e *Engine) CacheLookup(group []byte) ([]byte, CacheStamp) {
	if e.cache == nil {
		return nil, CacheStamp{}
	}
	return e.cache.lookup(group)
}

// CacheStore keeps head followed by value (copied) as group's payload, as
// read after CacheLookup returned st.
func (e *Engine) CacheStore(group []byte, st CacheStamp, head, value []byte) {
	if e.cache != nil {
		e.cache.store(group, st, head, value)
	}
}

// ReadCacheStats samples the read cache's counters (zero without one).
func (e *Engine) ReadCacheStats() ReadCacheStats {
	c := e.cache
	if c == nil {
		return ReadCacheStats{}
	}
	return ReadCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(), Bytes: c.bytes.Load()}
}
