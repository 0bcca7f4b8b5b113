package kv

import (
	"bytes"
	"context"
	"sort"

	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// A scan's first round trip fetches scanBatchFirst keys (a LIMIT or a
// short range reads little more than it needs, and the server latches only
// what it read: kvserver.Server.Scan). Each further round trip doubles
// that, up to scanBatchMax keys and about scanBatchBytes of keys and values
// (estimated from the rows fetched so far), so a long scan pays the
// per-request cost (latches, iterator, timestamp cache) rarely and holds a
// bounded batch in memory.
const (
	scanBatchFirst = 256
	scanBatchMax   = 16384
	scanBatchBytes = 2 << 20
	scanBatchMin   = 16 // however large the rows
)

// Iterator streams a span of a transaction's snapshot merged with its own
// buffered writes (as they were when the iterator was created, so a
// statement that writes the rows it scans does not see its own writes: no
// Halloween problem).
type Iterator struct {
	txn        *Txn
	partition  uint64
	start, end []byte // remaining span to fetch from the server
	reverse    bool
	exhausted  bool // the server has no more keys

	remote []mvcc.KeyValue // fetched, not yet merged
	local  []string        // own write keys within the span, in scan order
	lw     map[string]bufferedWrite

	batch      int  // keys to ask for in the next fetch
	valuesOnly bool // the caller reads no keys (ValuesOnly)
	// fetchedKeys and fetchedBytes size the next batch (nextBatch).
	fetchedKeys, fetchedBytes int64

	key, value []byte
	err        error
	closed     bool
}

// Scan returns an iterator over [start, end) (end nil = to the end of the
// start key's bucket). The span must lie within one bucket.
func (t *Txn) Scan(ctx context.Context, start, end []byte, reverse bool) *Iterator {
	it := &Iterator{txn: t, reverse: reverse, batch: scanBatchFirst}
	if t.done {
		it.err = kvpb.ErrTxnClosed
		return it
	}
	if err := t.checkAge(); err != nil {
		it.err = err
		return it
	}
	if end == nil {
		bucket, err := kvpb.BucketOf(start)
		if err != nil {
			it.err = err
			return it
		}
		end = kvpb.PrefixEnd(bucket)
	}
	it.start, it.end = append([]byte(nil), start...), append([]byte(nil), end...)
	it.partition, it.err = t.db.spanPartition(start, end)
	// Snapshot the own writes in the span.
	keys := t.sortedWriteKeys()
	lo := sort.SearchStrings(keys, string(start))
	hi := sort.SearchStrings(keys, string(end))
	if lo < hi {
		it.local = append([]string(nil), keys[lo:hi]...)
		it.lw = make(map[string]bufferedWrite, hi-lo)
		for _, k := range it.local {
			it.lw[k] = t.writes[k]
		}
		if reverse {
			for i, j := 0, len(it.local)-1; i < j; i, j = i+1, j-1 {
				it.local[i], it.local[j] = it.local[j], it.local[i]
			}
		}
	}
	return it
}

func (it *Iterator) fetch(ctx context.Context) {
	t := it.txn
	var kvs []mvcc.KeyValue
	var resume []byte
	err := t.readUncertain(ctx, func() error {
		return t.db.withIntentRetry(ctx, it.partition, nil, func() error {
			var err error
			kvs, resume, err = t.db.sender.Scan(ctx, it.partition, it.start, it.end, t.readTS,
				mvcc.ScanOptions{Reverse: it.reverse, MaxKeys: it.batch, Own: &t.id, Uncertainty: t.uncertainty, NonBlocking: t.nonBlocking,
					// Merging own writes compares keys.
					ValuesOnly: it.valuesOnly && len(it.local) == 0})
			return err
		})
	})
	if err != nil {
		it.err = err
		return
	}
	// Record the part of the span this fetch covered as read.
	read := kvserver.Span{Key: it.start, EndKey: it.end}
	switch {
	case resume == nil:
		it.exhausted = true
	case it.reverse:
		read.Key = resume
		it.end = resume
	default:
		read.EndKey = resume
		it.start = resume
	}
	it.recordRead(read)
	it.remote = kvs
	it.nextBatch(kvs)
}

// recordRead adds a fetched part of the span to the read set, extending
// the last span when they are contiguous (the fetches of one iterator
// are): a long scan is one span of the read set, not one per round trip.
func (it *Iterator) recordRead(read kvserver.Span) {
	rs := it.txn.readSetFor(it.partition)
	if n := len(rs.spans); n > 0 {
		last := &rs.spans[n-1]
		switch {
		case !it.reverse && bytes.Equal(last.EndKey, read.Key):
			last.EndKey = append([]byte(nil), read.EndKey...)
			return
		case it.reverse && bytes.Equal(last.Key, read.EndKey):
			last.Key = append([]byte(nil), read.Key...)
			return
		}
	}
	rs.spans = append(rs.spans, kvserver.Span{Key: append([]byte(nil), read.Key...), EndKey: append([]byte(nil), read.EndKey...)})
}

// nextBatch doubles the batch size, within scanBatchMax keys and
// scanBatchBytes at the average size of the rows fetched so far.
func (it *Iterator) nextBatch(kvs []mvcc.KeyValue) {
	for _, kv := range kvs {
		it.fetchedBytes += int64(len(kv.Key) + len(kv.Value))
	}
	it.fetchedKeys += int64(len(kvs))
	next := min(it.batch*2, scanBatchMax)
	if it.fetchedKeys > 0 {
		perKey := max(it.fetchedBytes/it.fetchedKeys, 1)
		next = int(min(int64(next), max(scanBatchBytes/perKey, scanBatchMin)))
	}
	it.batch = next
}

// before reports whether key a comes before b in scan order.
func (it *Iterator) before(a, b []byte) bool {
	if it.reverse {
		return bytes.Compare(a, b) > 0
	}
	return bytes.Compare(a, b) < 0
}

// Next advances to the next visible key.
func (it *Iterator) Next(ctx context.Context) bool {
	for {
		if it.err != nil || it.closed {
			return false
		}
		if len(it.remote) == 0 && !it.exhausted {
			it.fetch(ctx)
			continue
		}
		haveRemote, haveLocal := len(it.remote) > 0, len(it.local) > 0
		if !haveRemote && !haveLocal {
			return false
		}
		var useLocal bool
		switch {
		case haveRemote && haveLocal:
			r, l := it.remote[0].Key, []byte(it.local[0])
			if bytes.Equal(r, l) {
				it.remote = it.remote[1:] // own write shadows the snapshot
				useLocal = true
			} else {
				useLocal = it.before(l, r)
			}
		case haveLocal:
			// Local keys beyond what the server has returned so far must wait
			// until the remote side is exhausted or passes them.
			useLocal = it.exhausted
			if !useLocal {
				it.fetch(ctx)
				continue
			}
		}
		if useLocal {
			k := it.local[0]
			it.local = it.local[1:]
			w := it.lw[k]
			if w.deleted {
				continue
			}
			it.key, it.value = []byte(k), w.value
			return true
		}
		kv := it.remote[0]
		it.remote = it.remote[1:]
		it.key, it.value = kv.Key, kv.Value
		return true
	}
}

// ValuesOnly tells the iterator that its caller reads only Value, never
// Key, so a local server need not build the keys (Key may then return
// nil). Call it before the first Next.
func (it *Iterator) ValuesOnly() { it.valuesOnly = true }

// Key returns the current key.
func (it *Iterator) Key() []byte { return it.key }

// Value returns the current value.
func (it *Iterator) Value() []byte { return it.value }

// Err returns the error that stopped the iteration, if any.
func (it *Iterator) Err() error { return it.err }

// Close releases the iterator.
func (it *Iterator) Close() { it.closed = true }
