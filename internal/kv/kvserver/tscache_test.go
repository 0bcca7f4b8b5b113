package kvserver

import (
	"bytes"
	"github.com/camusdb/camusdb-go/internal/replica"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

func wall(n int64) hlc.Timestamp { return hlc.Timestamp{WallTime: n} }

func TestTSCache(t *testing.T) {
	a, b := mvcc.TxnID{1}, mvcc.TxnID{2}
	c := newTSCache(1, wall(10))
	check := func(key string, txn mvcc.TxnID, from hlc.Timestamp, want int64) {
		t.Helper()
		if got := c.maxRead([]byte(key), txn, from); got != wall(want) {
			t.Fatalf("maxRead(%q, %x, %s) = %s, want %d", key, txn[0], from, got, want)
		}
	}
	check("k", a, wall(5), 10) // nothing remembered: the low-water mark
	c.addPoint([]byte("k"), wall(5), a)
	check("k", b, wall(20), 10) // below the low-water mark: not remembered
	c.addPoint([]byte("k"), wall(20), a)
	check("k", b, wall(30), 20) // another transaction's read counts
	check("k", a, wall(20), 10) // its own read at or below its start does not
	check("k", a, wall(15), 20) // ... but one above it does
	c.addPoint([]byte("k"), wall(20), b)
	check("k", a, wall(20), 20) // two readers at 20: neither is exempt

	// Spans cover [start, end); a nil end runs to the end of the partition.
	c.addSpan([]byte("m"), []byte("p"), wall(30), a)
	check("m", b, wall(0), 30)
	check("o", b, wall(0), 30)
	check("p", b, wall(0), 10)
	check("l", b, wall(0), 10)
	c.addSpan([]byte("x"), nil, wall(40), b)
	check("zzz", a, wall(0), 40)
	c.addSpan([]byte("m"), []byte("p"), wall(35), b) // same span, later read
	check("n", a, wall(0), 35)
	c.addSpan([]byte("q"), []byte("q"), wall(50), b) // empty: nothing read
	check("q", a, wall(0), 10)

	// Generations: filling one rotates, and dropping the older one raises
	// the low-water mark to the highest timestamp it held.
	c.maxPoints = 2
	c.addPoint([]byte("r1"), wall(60), a) // cur full (k, r1): next add rotates
	c.addPoint([]byte("r2"), wall(61), a) // rotation 1: cur = {r2}
	check("k", b, wall(0), 20)            // still in the previous generation
	c.addPoint([]byte("r3"), wall(62), a) // cur = {r2, r3}
	c.addPoint([]byte("r4"), wall(63), a) // rotation 2 drops {k, r1, spans}
	check("k", b, wall(0), 60)
	check("r3", b, wall(0), 62)
	check("r3", a, wall(70), 60) // its own entry is exempt, the mark is not
}

func TestTSCacheFollowsLease(t *testing.T) {
	clock := hlc.NewClock(hlc.NewManualClock(100).UnixNano)
	s := New(nil, clock, nil)
	s.observeLease(1, replica.LeaseStatus{Term: 2, Seq: 5})
	c1 := s.tsCacheFor(1)
	c1.addPoint([]byte("k"), wall(500), mvcc.TxnID{})
	s.observeLease(1, replica.LeaseStatus{Term: 2, Seq: 5})
	s.observeLease(1, replica.LeaseStatus{Term: 2, Seq: 4})
	if s.tsCacheFor(1) != c1 {
		t.Fatal("the same or an older lease must keep the cache")
	}
	// A new lease starting above the clock (a transfer from a node whose
	// reads were above it): its start is the low-water mark.
	s.observeLease(1, replica.LeaseStatus{Term: 3, Seq: 6, Start: wall(900)})
	c2 := s.tsCacheFor(1)
	if c2 == c1 {
		t.Fatal("a new lease must start a new cache")
	}
	if got := c2.maxRead([]byte("other"), mvcc.TxnID{}, hlc.Timestamp{}); got.Less(wall(900)) {
		t.Fatalf("low-water mark %s below the lease start", got)
	}
	// A new lease starting below the clock: the clock is the mark (reads
	// forward the clock, so it is above every read served here).
	s.observeLease(1, replica.LeaseStatus{Term: 3, Seq: 7, Start: wall(50)})
	if got := s.tsCacheFor(1).maxRead([]byte("other"), mvcc.TxnID{}, hlc.Timestamp{}); got.Less(wall(100)) {
		t.Fatalf("low-water mark %s below the clock", got)
	}
}

// TestTSCacheMaxReadKeys checks the batched lookup of a prepare against
// the per-key one on random caches and key sets (sorted or not).
func TestTSCacheMaxReadKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	key := func() []byte { return []byte{byte('a' + rng.IntN(20)), byte('a' + rng.IntN(4))} }
	txns := []mvcc.TxnID{{1}, {2}, {3}}
	for round := range 300 {
		c := newTSCache(1, wall(5))
		c.maxPoints, c.maxSpans = 8, 3 // rotate generations often
		for range rng.IntN(30) {
			txn, ts := txns[rng.IntN(len(txns))], wall(int64(rng.IntN(50)))
			if rng.IntN(2) == 0 {
				c.addPoint(key(), ts, txn)
				continue
			}
			start, end := key(), key()
			if rng.IntN(5) == 0 {
				end = nil
			}
			c.addSpan(start, end, ts, txn)
		}
		keys := make([][]byte, 1+rng.IntN(6))
		for i := range keys {
			keys[i] = key()
		}
		if rng.IntN(2) == 0 {
			slices.SortFunc(keys, bytes.Compare)
		}
		txn, from := txns[rng.IntN(len(txns))], wall(int64(rng.IntN(50)))
		var want hlc.Timestamp
		for _, k := range keys {
			want = want.Forward(c.maxRead(k, txn, from))
		}
		if got := c.maxReadKeys(keys, txn, from); got != want {
			t.Fatalf("round %d: maxReadKeys(%q) = %s, want %s", round, keys, got, want)
		}
	}
}
