package storage

import (
	"bytes"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"sync"
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
// A write need not cost the next reader its entry: with a WriteThrough
// (Options.CacheWriteThrough), a batch that sets one key of a group whose
// entry is valid when the batch is collected, and touches the group
// nowhere else, stores the payload the WriteThrough derives from that
// entry and the new key and value, once the batch is visible and bumped.
// It does so only when the bucket's counter moved from the old entry's g
// to exactly g+1: this batch's one bump. A second mutation of the group
// in the batch, a group sharing the bucket, or another batch's write
// since collect moved it further, and nothing is stored; a write after
// the store leaves the new entry unserved as usual. So the entry describes the engine right after this batch,
// and whatever a later batch changes invalidates it as before. A
// read-modify-write workload (read a row, write it, read it again) then
// reads its rows from the cache, not through Pebble's memtable.
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

// WriteThrough derives a group's payload after a committed batch set key
// (whose first groupLen bytes name the group; it is longer) to value,
// from the payload cached for the group before the batch: it appends the
// new payload to dst, or returns false when the write does not determine
// it (the entry is then only dropped). It must not keep its arguments.
type WriteThrough func(dst, key []byte, groupLen int, value, cached []byte) ([]byte, bool)

type readCache struct {
	group        func(key []byte) int
	writeThrough WriteThrough // nil: writes only invalidate
	seed         maphash.Seed
	gens         []atomic.Uint64
	epoch        atomic.Uint64
	slots        []atomic.Pointer[cacheEntry]
	slotMask     uint64
	bytes        atomic.Int64
	budget       int64
	maxEntry     int64
	hits         atomic.Int64
	misses       atomic.Int64
	evictions    atomic.Int64
	refreshes    atomic.Int64 // entries a write stored (writeThrough)
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

// store keeps head followed by value as group's payload, stamped st,
// and reports whether it did.
func (c *readCache) store(group []byte, st CacheStamp, head, value []byte) bool {
	n := len(group) + len(head) + len(value)
	if !st.ok || int64(n)+entryOverhead > c.maxEntry || n > math.MaxUint32 {
		return false
	}
	if c.gens[st.hash%genBuckets].Load() != st.gen || c.epoch.Load() != st.epoch {
		return false // written since: the entry would never be served
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
		return true
	}
	// Over budget: clear slots spread over the table (a random victim,
	// in effect) until under it again; if the probes find too little,
	// take the new entry back out, so the budget holds.
	for k := uint64(1); k <= evictProbes; k++ {
		if old := c.slots[(target+k*0x9E3779B1)&c.slotMask].Swap(nil); old != nil {
			c.evictions.Add(1)
			if c.bytes.Add(-old.size()) <= c.budget {
				return true
			}
		}
	}
	if c.slots[target].CompareAndSwap(e, nil) {
		c.evictions.Add(1)
		c.bytes.Add(-e.size())
		return false
	}
	return true
}

// invalidation is what a committing batch must bump once it is visible,
// and the entries it then stores (writeThrough). Pooled: its slices keep
// their capacity from one batch to the next.
type invalidation struct {
	hashes []uint64
	all    bool
	// Write-through: candidates while collecting, then the entries to
	// store, their groups and payloads in scratch.
	cands   []wtCandidate
	refresh []wtRefresh
	scratch []byte
}

var invalidationPool = sync.Pool{New: func() any { return new(invalidation) }}

func getInvalidation() *invalidation { return invalidationPool.Get().(*invalidation) }

// release returns inv to the pool, dropping what aliases the batch.
func (inv *invalidation) release() {
	clear(inv.cands)
	inv.hashes, inv.all = inv.hashes[:0], false
	inv.cands, inv.refresh, inv.scratch = inv.cands[:0], inv.refresh[:0], inv.scratch[:0]
	invalidationPool.Put(inv)
}

type wtCandidate struct {
	key, value []byte // alias the batch: valid until it commits
	glen       int
	hash       uint64
}

type wtRefresh struct {
	hash       uint64
	gen, epoch uint64 // of the entry the payload was derived from
	glen, end  int    // scratch[start:start+glen] is the group, then the payload up to end
	start      int
}

// writeThroughMax bounds the sets in a batch that may store entries; a
// Raft apply batch of 16 clients' two-row commits holds ~32.
const writeThroughMax = 64

// collect reads the batch's mutations (before the commit: Pebble may
// clear a large batch's contents when it applies it).
func (c *readCache) collect(b *pebble.Batch, inv *invalidation) {
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
			break
		}
		switch kind {
		case pebble.InternalKeyKindSet, pebble.InternalKeyKindDelete, pebble.InternalKeyKindSingleDelete,
			pebble.InternalKeyKindDeleteSized, pebble.InternalKeyKindMerge, pebble.InternalKeyKindSetWithDelete:
			if n := c.group(key); n > 0 {
				h := maphash.Bytes(c.seed, key[:n])
				inv.hashes = append(inv.hashes, h)
				if kind == pebble.InternalKeyKindSet && n < len(key) && c.writeThrough != nil && len(inv.cands) < writeThroughMax {
					inv.cands = append(inv.cands, wtCandidate{key: key, value: value, glen: n, hash: h})
				}
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
	if len(inv.cands) > 0 && !inv.all {
		c.prepareRefresh(inv)
	}
}

// prepareRefresh derives, for each candidate whose group has a valid
// entry, the payload to store after the commit. Whether the set was the
// only mutation of its group in the batch is left to bump: every other
// one (an intent set or deleted, a second version) bumps the same
// generation counter again, and then nothing is stored.
func (c *readCache) prepareRefresh(inv *invalidation) {
	epoch := c.epoch.Load()
	for _, cd := range inv.cands {
		group := cd.key[:cd.glen]
		i := c.set(cd.hash)
		for w := uint64(0); w < 2; w++ {
			e := c.slots[i+w].Load()
			if e == nil || e.hash != cd.hash || !bytes.Equal(e.group(), group) {
				continue
			}
			if e.epoch != epoch || e.gen != c.gens[cd.hash%genBuckets].Load() {
				break // invalid: no newest version known
			}
			start := len(inv.scratch)
			buf := append(inv.scratch, group...)
			buf, ok := c.writeThrough(buf, cd.key, cd.glen, cd.value, e.payload())
			if !ok {
				inv.scratch = buf[:start]
				break
			}
			inv.scratch = buf
			inv.refresh = append(inv.refresh, wtRefresh{hash: cd.hash, gen: e.gen, epoch: e.epoch, start: start, glen: cd.glen, end: len(buf)})
			break
		}
	}
	clear(inv.cands) // they alias the batch
	inv.cands = inv.cands[:0]
}

// bump invalidates what collect found; call it after the batch became
// visible (also when the commit failed: it may have applied). After a
// commit, it stores the write-through entries whose bucket only this
// batch bumped since collect.
func (c *readCache) bump(inv *invalidation, committed bool) {
	for _, h := range inv.hashes {
		c.gens[h%genBuckets].Add(1)
	}
	if inv.all {
		c.epoch.Add(1)
	}
	if !committed || inv.all {
		return
	}
	for _, r := range inv.refresh {
		// store refuses unless the counter is at gen+1: this batch bumped
		// the bucket once (one mutation of the group, and none of another
		// group sharing the bucket), and no other batch did since collect.
		st := CacheStamp{hash: r.hash, gen: r.gen + 1, epoch: r.epoch, ok: true}
		if c.store(inv.scratch[r.start:r.start+r.glen], st, nil, inv.scratch[r.start+r.glen:r.end]) {
			c.refreshes.Add(1)
		}
	}
}

// ReadCacheStats counts read cache lookups.
type ReadCacheStats struct {
	Hits, Misses, Evictions int64
	// Refreshes counts entries a committed write stored (write-through).
	Refreshes int64
	Bytes     int64
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
	return ReadCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(), Refreshes: c.refreshes.Load(), Bytes: c.bytes.Load()}
}
