// Package catalogtest provides an in-memory implementation of catalog.DB for
// tests and benchmarks of the SQL layer.
//
// MemDB is a multi-version sorted map with optimistic serializable
// transactions: a transaction reads the snapshot of its start, buffers its
// writes, and at Commit fails with *kvpb.ConflictError when a transaction
// that committed after its start wrote a key it read or a key inside a span
// it scanned. That is enough to exercise the session's retry and error
// mapping paths; it is not a model of the real kv layer's timing.
//
// It does not persist anything, does not route by bucket (although Scan
// checks that a span stays within one bucket, as the contract demands) and
// keeps every version forever.
package catalogtest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
)

type version struct {
	seq     uint64
	value   []byte
	deleted bool
}

type committedWrite struct {
	seq  uint64
	keys []string
}

// MemDB is an in-memory catalog.DB. The zero value is not usable; call NewMemDB.
//
// Transactions carry hybrid-logical timestamps from the MemDB's clock (a
// read timestamp taken at Begin, a commit timestamp taken at Commit, both
// under the database lock so they order like the commit sequence), and
// honour SetMinCommitTimestamp and SetDeadline like the real kv layer:
// schema leases run on it.
type MemDB struct {
	clock *hlc.Clock
	mu    struct {
		sync.Mutex
		seq uint64 // sequence number of the last commit
		// versions holds every key's versions in ascending seq order.
		versions map[string][]version
		// sorted holds the keys of versions in order; unsorted holds keys
		// added since the last sort (merged lazily on the next Scan).
		sorted   []string
		unsorted []string
		// log holds the write sets of commits, for conflict detection.
		log []committedWrite
		// open counts started, unfinished transactions by start seq, so the
		// log can be trimmed.
		open map[uint64]int
	}
	// failCommits, when > 0, makes that many commits fail with failErr
	// (nil: a *kvpb.ConflictError), for retry tests. Guarded by mu.
	failCommits int
	failErr     error
	// SerialScans makes ScanValuesParallel decline (set before use): the
	// serial path, to compare with.
	SerialScans bool
}

// NewMemDB returns an empty database on the system clock.
func NewMemDB() *MemDB { return NewMemDBWithClock(nil) }

// NewMemDBWithClock returns an empty database whose timestamps come from
// wall (nil: the system clock); tests move time with it.
func NewMemDBWithClock(wall hlc.WallClock) *MemDB {
	db := &MemDB{clock: hlc.NewClock(wall)}
	db.mu.versions = make(map[string][]version)
	db.mu.open = make(map[uint64]int)
	return db
}

// FailCommits makes the next n commits fail with a retryable conflict.
func (db *MemDB) FailCommits(n int) { db.FailCommitsWith(n, nil) }

// FailCommitsWith makes the next n commits fail with err (nil: a
// retryable conflict).
func (db *MemDB) FailCommitsWith(n int, err error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.failCommits, db.failErr = n, err
}

// FailuresLeft is how many of the commits FailCommits asked to fail have
// not failed yet.
func (db *MemDB) FailuresLeft() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.failCommits
}

// Begin implements catalog.DB.
func (db *MemDB) Begin(ctx context.Context) (catalog.Txn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	t := &memTxn{db: db, readSeq: db.mu.seq, readTS: db.clock.Now(), writes: make(map[string]*version)}
	db.mu.open[t.readSeq]++
	return t, nil
}

// Now returns the current time of the database's clock (catalog.ClockedDB).
func (db *MemDB) Now() hlc.Timestamp { return db.clock.Now() }

// Keys returns the number of live keys (for tests asserting that nothing
// was written).
func (db *MemDB) Keys() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	n := 0
	for _, vs := range db.mu.versions {
		if !vs[len(vs)-1].deleted {
			n++
		}
	}
	return n
}

// LiveKeys returns, in order, the keys starting with prefix whose newest
// version is not a deletion. Tests that check a statement left no writes
// compare table data ("t" prefix) only: system keys such as schema lease
// records are written by background work at any time.
func (db *MemDB) LiveKeys(prefix string) []string {
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []string
	for k, vs := range db.mu.versions {
		if strings.HasPrefix(k, prefix) && !vs[len(vs)-1].deleted {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// getLocked returns the value of key as of seq.
func (db *MemDB) getLocked(key string, seq uint64) ([]byte, bool) {
	vs := db.mu.versions[key]
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].seq <= seq {
			if vs[i].deleted {
				return nil, false
			}
			return vs[i].value, true
		}
	}
	return nil, false
}

// sortLocked merges unsorted keys into sorted.
func (db *MemDB) sortLocked() {
	if len(db.mu.unsorted) == 0 {
		return
	}
	sort.Strings(db.mu.unsorted)
	merged := make([]string, 0, len(db.mu.sorted)+len(db.mu.unsorted))
	a, b := db.mu.sorted, db.mu.unsorted
	for len(a) > 0 && len(b) > 0 {
		if a[0] < b[0] {
			merged = append(merged, a[0])
			a = a[1:]
		} else {
			merged = append(merged, b[0])
			b = b[1:]
		}
	}
	merged = append(merged, a...)
	merged = append(merged, b...)
	db.mu.sorted = merged
	db.mu.unsorted = db.mu.unsorted[:0]
}

type span struct{ start, end string }

type memTxn struct {
	db      *MemDB
	readSeq uint64
	readTS  hlc.Timestamp
	done    bool

	minCommit, deadline hlc.Timestamp

	mu      sync.Mutex // guards the fields below (iterators may run concurrently with Put)
	writes  map[string]*version
	reads   []string
	spans   []span
	written []string // keys of writes in first-write order
}

var _ catalog.TimestampedTxn = (*memTxn)(nil)

// ReadTimestamp implements catalog.TimestampedTxn.
func (t *memTxn) ReadTimestamp() hlc.Timestamp { return t.readTS }

// SetMinCommitTimestamp implements catalog.TimestampedTxn.
func (t *memTxn) SetMinCommitTimestamp(ts hlc.Timestamp) {
	t.mu.Lock()
	t.minCommit = t.minCommit.Forward(ts)
	t.mu.Unlock()
}

// RecordRead implements catalog.TimestampedTxn.
func (t *memTxn) RecordRead(key string) error {
	t.mu.Lock()
	t.reads = append(t.reads, key)
	t.mu.Unlock()
	return nil
}

// SetDeadline implements catalog.TimestampedTxn.
func (t *memTxn) SetDeadline(ts hlc.Timestamp) {
	t.mu.Lock()
	if t.deadline.IsEmpty() || ts.Less(t.deadline) {
		t.deadline = ts
	}
	t.mu.Unlock()
}

func (t *memTxn) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, false, kvpb.ErrTxnClosed
	}
	k := string(key)
	if w, ok := t.writes[k]; ok {
		if w.deleted {
			return nil, false, nil
		}
		return slices.Clone(w.value), true, nil
	}
	t.reads = append(t.reads, k)
	t.db.mu.Lock()
	v, ok := t.db.getLocked(k, t.readSeq)
	t.db.mu.Unlock()
	return slices.Clone(v), ok, nil
}

func (t *memTxn) Put(key, value []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return kvpb.ErrTxnClosed
	}
	if _, err := kvpb.BucketOf(key); err != nil {
		return err
	}
	k := string(key)
	if _, ok := t.writes[k]; !ok {
		t.written = append(t.written, k)
	}
	t.writes[k] = &version{value: slices.Clone(value)}
	return nil
}

func (t *memTxn) Delete(key []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return kvpb.ErrTxnClosed
	}
	k := string(key)
	if _, ok := t.writes[k]; !ok {
		t.written = append(t.written, k)
	}
	t.writes[k] = &version{deleted: true}
	return nil
}

func (t *memTxn) Rollback(context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.finishLocked()
	return nil
}

func (t *memTxn) finishLocked() {
	if t.done {
		return
	}
	t.done = true
	t.db.mu.Lock()
	defer t.db.mu.Unlock()
	t.db.mu.open[t.readSeq]--
	if t.db.mu.open[t.readSeq] == 0 {
		delete(t.db.mu.open, t.readSeq)
	}
	// Trim the log behind the oldest open transaction.
	oldest := t.db.mu.seq
	for s := range t.db.mu.open {
		oldest = min(oldest, s)
	}
	i := 0
	for i < len(t.db.mu.log) && t.db.mu.log[i].seq <= oldest {
		i++
	}
	t.db.mu.log = t.db.mu.log[i:]
}

func (t *memTxn) Commit(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return kvpb.ErrTxnClosed
	}
	defer t.finishLocked()
	if err := ctx.Err(); err != nil {
		return err
	}
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.failCommits > 0 {
		db.failCommits--
		if db.failErr != nil {
			return db.failErr
		}
		return &kvpb.ConflictError{Reason: "injected by MemDB.FailCommits"}
	}
	if len(t.writes) == 0 {
		return nil
	}
	// Validate: no commit after our snapshot wrote anything we read.
	if len(t.reads) > 0 || len(t.spans) > 0 {
		readSet := make(map[string]struct{}, len(t.reads))
		for _, k := range t.reads {
			readSet[k] = struct{}{}
		}
		for _, c := range db.mu.log {
			if c.seq <= t.readSeq {
				continue
			}
			for _, k := range c.keys {
				if _, ok := readSet[k]; ok {
					return &kvpb.ConflictError{Reason: fmt.Sprintf("key %q written after read", k)}
				}
				for _, s := range t.spans {
					if k >= s.start && (s.end == "" || k < s.end) {
						return &kvpb.ConflictError{Reason: fmt.Sprintf("key %q written into scanned span", k)}
					}
				}
			}
		}
	}
	db.clock.Update(t.minCommit)
	if commitTS := db.clock.Now(); !t.deadline.IsEmpty() && !commitTS.Less(t.deadline) {
		return &kvpb.RetryError{Reason: fmt.Sprintf("commit timestamp %s reached the transaction's deadline %s", commitTS, t.deadline)}
	}
	db.mu.seq++
	seq := db.mu.seq
	keys := make([]string, 0, len(t.written))
	for _, k := range t.written {
		w := t.writes[k]
		vs, existed := db.mu.versions[k]
		if !existed {
			if w.deleted {
				continue
			}
			db.mu.unsorted = append(db.mu.unsorted, k)
		}
		db.mu.versions[k] = append(vs, version{seq: seq, value: w.value, deleted: w.deleted})
		keys = append(keys, k)
	}
	db.mu.log = append(db.mu.log, committedWrite{seq: seq, keys: keys})
	return nil
}

// Scan implements catalog.Txn. The transaction's own writes inside the span
// are those made before Scan was called.
func (t *memTxn) Scan(ctx context.Context, start, end []byte, reverse bool) catalog.Iterator {
	it := &memIter{reverse: reverse}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		it.err = kvpb.ErrTxnClosed
		return it
	}
	if err := checkSpan(start, end); err != nil {
		it.err = err
		return it
	}
	s, e := string(start), string(end)
	t.spans = append(t.spans, span{s, e})
	t.db.mu.Lock()
	t.db.sortLocked()
	keys := t.db.mu.sorted // never mutated in place: sortLocked builds a new slice
	t.db.mu.Unlock()
	lo := sort.SearchStrings(keys, s)
	hi := len(keys)
	if e != "" {
		hi = sort.SearchStrings(keys, e)
	}
	it.db, it.readSeq = t.db, t.readSeq
	it.keys = keys[lo:max(lo, hi)]
	it.own = make(map[string]*version)
	for k, w := range t.writes {
		if k >= s && (e == "" || k < e) {
			it.own[k] = w
			it.ownKeys = append(it.ownKeys, k)
		}
	}
	sort.Strings(it.ownKeys)
	return it
}
func checkSpan(start, end []byte) error {
	if end != nil && bytes.Compare(start, end) > 0 {
		return fmt.Errorf("catalogtest: scan start %x after end %x", start, end)
	}
	bs, err := kvpb.BucketOf(start)
	if err != nil {
		return fmt.Errorf("catalogtest: scan start: %w", err)
	}
	if end == nil {
		return nil
	}
	// end may be the bucket's PrefixEnd: check that the last key before it
	// belongs to the same bucket by comparing with the bucket bounds.
	if bytes.HasPrefix(end, bs) || bytes.Equal(end, kvpb.PrefixEnd(bs)) {
		return nil
	}
	return fmt.Errorf("catalogtest: scan [%x, %x) crosses a bucket boundary", start, end)
}

// memIter merges the committed keys of the span (read at the
// transaction's snapshot) with the transaction's own writes.
type memIter struct {
	db      *MemDB
	readSeq uint64
	reverse bool
	keys    []string // committed keys of the span, ascending
	own     map[string]*version
	ownKeys []string // ascending

	key   string
	value []byte
	err   error
}

func (it *memIter) Next(ctx context.Context) bool {
	if it.err != nil {
		return false
	}
	if err := ctx.Err(); err != nil {
		it.err = err
		return false
	}
	for {
		k, fromOwn, ok := it.peek()
		if !ok {
			return false
		}
		it.advance(k, fromOwn)
		if w, mine := it.own[k]; mine {
			if w.deleted {
				continue
			}
			it.key, it.value = k, w.value
			return true
		}
		it.db.mu.Lock()
		v, found := it.db.getLocked(k, it.readSeq)
		it.db.mu.Unlock()
		if !found {
			continue
		}
		it.key, it.value = k, v
		return true
	}
}

// peek returns the next key in iteration order from either source.
func (it *memIter) peek() (key string, fromOwn, ok bool) {
	var ck, ok2 string
	hasC, hasO := len(it.keys) > 0, len(it.ownKeys) > 0
	if hasC {
		if it.reverse {
			ck = it.keys[len(it.keys)-1]
		} else {
			ck = it.keys[0]
		}
	}
	if hasO {
		if it.reverse {
			ok2 = it.ownKeys[len(it.ownKeys)-1]
		} else {
			ok2 = it.ownKeys[0]
		}
	}
	switch {
	case !hasC && !hasO:
		return "", false, false
	case !hasC:
		return ok2, true, true
	case !hasO:
		return ck, false, true
	case ck == ok2:
		return ck, true, true
	case (ck < ok2) != it.reverse:
		return ck, false, true
	default:
		return ok2, true, true
	}
}

// advance consumes key from the source(s) it came from.
func (it *memIter) advance(key string, fromOwn bool) {
	pop := func(s []string) []string {
		if len(s) == 0 {
			return s
		}
		if it.reverse {
			if s[len(s)-1] == key {
				return s[:len(s)-1]
			}
			return s
		}
		if s[0] == key {
			return s[1:]
		}
		return s
	}
	it.keys = pop(it.keys)
	if fromOwn {
		it.ownKeys = pop(it.ownKeys)
	}
}

func (it *memIter) Key() []byte   { return []byte(it.key) }
func (it *memIter) Value() []byte { return it.value }
func (it *memIter) Err() error    { return it.err }
func (it *memIter) Close()        { it.keys, it.ownKeys = nil, nil }

var _ catalog.ParallelScanner = (*memTxn)(nil)

// parallelFirst is how many values the first piece of ScanValuesParallel
// holds, like the first round trip of the kv layer's.
const parallelFirst = 256

// ScanValuesParallel implements catalog.ParallelScanner: the span is read
// as Scan reads it (and recorded the same), then its values are visited in
// opts.Pieces pieces (after a first one of parallelFirst values) by
// opts.Workers goroutines. It declines with own writes in the span, as
// the kv layer does.
func (t *memTxn) ScanValuesParallel(ctx context.Context, start, end []byte, opts catalog.ParallelScan, visit func(piece int, value []byte) error) (bool, error) {
	if t.db.SerialScans || opts.Workers < 2 {
		return false, nil
	}
	t.mu.Lock()
	own := false
	for k := range t.writes {
		if k >= string(start) && (end == nil || k < string(end)) {
			own = true
		}
	}
	t.mu.Unlock()
	if own {
		return false, nil
	}
	it := t.Scan(ctx, start, end, false)
	var values [][]byte
	for it.Next(ctx) {
		values = append(values, it.Value())
	}
	if err := it.Err(); err != nil {
		return false, err
	}
	first := min(len(values), parallelFirst)
	for _, v := range values[:first] {
		if err := visit(0, v); err != nil {
			return false, err
		}
	}
	rest := values[first:]
	pieces := max(opts.Pieces, 1)
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errMu   sync.Mutex
		errSeen error
	)
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= pieces {
					return
				}
				errMu.Lock()
				stop := errSeen != nil
				errMu.Unlock()
				if stop {
					return
				}
				lo, hi := len(rest)*i/pieces, len(rest)*(i+1)/pieces
				for _, v := range rest[lo:hi] {
					if err := visit(i+1, v); err != nil {
						errMu.Lock()
						if errSeen == nil {
							errSeen = err
						}
						errMu.Unlock()
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	return errSeen == nil, errSeen
}
