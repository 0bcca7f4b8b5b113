package kvserver

import (
	"bytes"
	"slices"
	"sort"
	"sync"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// The timestamp cache remembers, for one partition this node leads, the
// highest timestamp at which each key and span was read, so that a write
// can be placed above every read already served on its key — and no higher.
// A transaction's writes land at its read timestamp whenever nothing read
// or wrote their keys since; then its reads need no refresh at commit.
//
// Memory is bounded by generations: entries go into the current generation;
// when it is full it becomes the previous one and the previous one is
// dropped, its highest timestamp raising the low-water mark, which stands
// for every read no longer remembered individually. Each lease starts a
// cache with only a low-water mark: the lease's start, above every read an
// earlier leaseholder served (see replica/lease), or this node's clock if
// later (observeLease).
type tsCache struct {
	mu    sync.Mutex
	lease uint64 // the lease sequence (replica.LeaseStatus.Seq) it serves
	low   hlc.Timestamp
	cur   *tsGen
	prev  *tsGen

	maxPoints, maxSpans int
}

// tsEntry is a read timestamp and its only reader (zero: several readers
// read at ts, or a non-transactional read).
type tsEntry struct {
	ts  hlc.Timestamp
	txn mvcc.TxnID
}

func (e *tsEntry) forward(ts hlc.Timestamp, txn mvcc.TxnID) {
	switch {
	case e.ts.Less(ts):
		e.ts, e.txn = ts, txn
	case e.ts == ts && e.txn != txn:
		e.txn = mvcc.TxnID{}
	}
}

// limit returns the timestamp a write by txn, starting at from (its write
// timestamp is from or higher), must stay above because of this entry:
// zero when the entry is txn's own read at or below from — every other
// reader of the key read below the entry then (a reader at the same
// timestamp would have cleared txn, a later one replaced the entry), so
// below the write.
func (e *tsEntry) limit(txn mvcc.TxnID, from hlc.Timestamp) hlc.Timestamp {
	if txn != (mvcc.TxnID{}) && e.txn == txn && e.ts.LessEq(from) {
		return hlc.Timestamp{}
	}
	return e.ts
}

type tsSpan struct {
	start, end string // end "" = to the end of the partition
	tsEntry
}

func (s *tsSpan) contains(key string) bool {
	return s.start <= key && (s.end == "" || key < s.end)
}

type tsGen struct {
	points map[string]*tsEntry
	// slab is where new point entries are carved from (an allocation per
	// entry showed in the point-query profile; entries by value in the map
	// cost a second map probe per read instead).
	slab   []tsEntry
	spans  []*tsSpan
	byEnds map[[2]string]*tsSpan
	max    hlc.Timestamp
}

func newTSGen() *tsGen {
	return newTSGenSized(0)
}

// newTSGenSized makes a generation with room for points entries (a new
// generation is made the size of the one that filled up, rather than
// grown again from empty).
func newTSGenSized(points int) *tsGen {
	return &tsGen{points: make(map[string]*tsEntry, points), byEnds: make(map[[2]string]*tsSpan)}
}

// tsSlabEntries is how many entries a slab holds.
const tsSlabEntries = 256

// newPoint returns a new entry of the generation.
func (g *tsGen) newPoint(e tsEntry) *tsEntry {
	if len(g.slab) == cap(g.slab) {
		g.slab = make([]tsEntry, 0, tsSlabEntries)
	}
	g.slab = append(g.slab, e)
	return &g.slab[len(g.slab)-1]
}

const (
	defaultTSCachePoints = 1 << 16
	defaultTSCacheSpans  = 128
)

func newTSCache(leaseSeq uint64, low hlc.Timestamp) *tsCache {
	return &tsCache{lease: leaseSeq, low: low, cur: newTSGen(), prev: newTSGen(),
		maxPoints: defaultTSCachePoints, maxSpans: defaultTSCacheSpans}
}

// rotateLocked starts a new generation if the current one is full.
func (c *tsCache) rotateLocked() {
	if len(c.cur.points) < c.maxPoints && len(c.cur.spans) < c.maxSpans {
		return
	}
	c.low = c.low.Forward(c.prev.max)
	c.prev, c.cur = c.cur, newTSGenSized(min(len(c.cur.points), c.maxPoints))
}

// addPoint records a read of key at ts by txn.
func (c *tsCache) addPoint(key []byte, ts hlc.Timestamp, txn mvcc.TxnID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts.LessEq(c.low) {
		return
	}
	c.rotateLocked()
	if e := c.cur.points[string(key)]; e != nil {
		e.forward(ts, txn)
	} else {
		c.cur.points[string(key)] = c.cur.newPoint(tsEntry{ts: ts, txn: txn})
	}
	c.cur.max = c.cur.max.Forward(ts)
}

// addPointString is addPoint with the key as a string, which the cache
// keeps as is when the key is new (no copy).
func (c *tsCache) addPointString(key string, ts hlc.Timestamp, txn mvcc.TxnID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts.LessEq(c.low) {
		return
	}
	c.rotateLocked()
	if e := c.cur.points[key]; e != nil {
		e.forward(ts, txn)
	} else {
		c.cur.points[key] = c.cur.newPoint(tsEntry{ts: ts, txn: txn})
	}
	c.cur.max = c.cur.max.Forward(ts)
}

// addSpan records a read of [start, end) at ts by txn; end nil means to the
// end of the partition. An empty span records nothing.
func (c *tsCache) addSpan(start, end []byte, ts hlc.Timestamp, txn mvcc.TxnID) {
	if end != nil && string(end) <= string(start) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts.LessEq(c.low) {
		return
	}
	c.rotateLocked()
	ends := [2]string{string(start), string(end)}
	sp := c.cur.byEnds[ends]
	if sp == nil {
		sp = &tsSpan{start: ends[0], end: ends[1], tsEntry: tsEntry{ts: ts, txn: txn}}
		c.cur.byEnds[ends] = sp
		c.cur.spans = append(c.cur.spans, sp)
	} else {
		sp.forward(ts, txn)
	}
	c.cur.max = c.cur.max.Forward(ts)
}

// maxRead returns the highest timestamp at which key may have been read by
// a transaction other than txn (see tsEntry.limit for from).
func (c *tsCache) maxRead(key []byte, txn mvcc.TxnID, from hlc.Timestamp) hlc.Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.low
	for _, g := range [2]*tsGen{c.cur, c.prev} {
		if e := g.points[string(key)]; e != nil {
			m = m.Forward(e.limit(txn, from))
		}
		for _, sp := range g.spans {
			if sp.contains(string(key)) {
				m = m.Forward(sp.limit(txn, from))
			}
		}
	}
	return m
}

// tsCacheFor returns the partition's timestamp cache, as installed by
// observeLease for the newest lease a request was admitted under.
func (s *Server) tsCacheFor(partitionID uint64) *tsCache {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mu.tsCaches[partitionID]
	if c == nil {
		c = newTSCache(0, s.clock.Now())
		s.mu.tsCaches[partitionID] = c
	}
	return c
}

// maxReadKeys returns the highest maxRead over keys, under one lock: with
// the keys sorted, each remembered span and (when fewer than the keys) each
// remembered point is looked up once among them, rather than every span
// tested against every key — what makes a large prepare cheap.
func (c *tsCache) maxReadKeys(keys [][]byte, txn mvcc.TxnID, from hlc.Timestamp) hlc.Timestamp {
	if !slices.IsSortedFunc(keys, bytes.Compare) {
		keys = slices.Clone(keys)
		slices.SortFunc(keys, bytes.Compare)
	}
	// first returns the index of the first key >= k.
	first := func(k string) int {
		return sort.Search(len(keys), func(i int) bool { return string(keys[i]) >= k })
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.low
	if len(keys) == 0 {
		return m
	}
	for _, g := range [2]*tsGen{c.cur, c.prev} {
		if len(g.points) < len(keys) {
			for k, e := range g.points {
				if i := first(k); i < len(keys) && string(keys[i]) == k {
					m = m.Forward(e.limit(txn, from))
				}
			}
		} else {
			for _, k := range keys {
				if e := g.points[string(k)]; e != nil {
					m = m.Forward(e.limit(txn, from))
				}
			}
		}
		for _, sp := range g.spans {
			if l := sp.limit(txn, from); m.Less(l) {
				if i := first(sp.start); i < len(keys) && sp.contains(string(keys[i])) {
					m = l
				}
			}
		}
	}
	return m
}
