package mvcc

import (
	"bytes"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// getBoth reads key through the engine (read cache) twice, the second
// read a cache hit when the first stored, and through a snapshot taken
// now (no cache): all three must agree.
func getBoth(t *testing.T, e *storage.Engine, p uint64, key []byte, at hlc.Timestamp, opts ReadOptions) {
	t.Helper()
	snap := e.NewSnapshot()
	defer snap.Close()
	show := func(v []byte, found bool, err error) string { return fmt.Sprintf("%q %v %v", v, found, err) }
	want := show(Get(snap, p, key, at, opts))
	for i := 0; i < 2; i++ {
		if got := show(Get(e, p, key, at, opts)); got != want {
			t.Fatalf("Get(%q) at %v opts %+v, read %d through the cache = %s, engine without cache = %s", key, at, opts, i+1, got, want)
		}
	}
}

// writeCheckBoth runs WriteCheck over keys through the engine (read
// cache) and through a snapshot (none): the same intents and versions.
func writeCheckBoth(t *testing.T, e *storage.Engine, p uint64, keys [][]byte) {
	t.Helper()
	snap := e.NewSnapshot()
	defer snap.Close()
	collect := func(r storage.Reader) string {
		var out []string
		err := WriteCheck(r, p, keys, func(i int, in *Intent, newest hlc.Timestamp, live bool) error {
			intent := "-"
			if in != nil {
				intent = fmt.Sprintf("%x@%v", in.TxnID[:1], in.TS)
			}
			out = append(out, fmt.Sprintf("%d:%s:%v:%v", i, intent, newest, live))
			return nil
		})
		return fmt.Sprint(out, err)
	}
	want := collect(snap)
	if got := collect(e); got != want {
		t.Fatalf("WriteCheck through the cache = %s, engine without cache = %s", got, want)
	}
}

// TestReadCacheMatchesEngine applies random MVCC writes (versions,
// deletions, intents and their resolution, garbage collection, clearing
// the partition) and after each one compares every key's Get at random
// timestamps, uncertainty limits and owners, and WriteCheck over all keys,
// with reads that bypass the cache; with and without write-through.
func TestReadCacheMatchesEngine(t *testing.T) {
	for _, wt := range []bool{false, true} {
		t.Run(fmt.Sprintf("writeThrough=%v", wt), func(t *testing.T) { testReadCacheMatchesEngine(t, wt) })
	}
}

func testReadCacheMatchesEngine(t *testing.T, writeThrough bool) {
	opts := storage.Options{InMemory: true, Dir: "mem", CacheGroup: CacheGroup}
	if writeThrough {
		opts.CacheWriteThrough = CacheWriteThrough
	}
	e, err := storage.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rng := rand.New(rand.NewSource(7))
	keys := [][]byte{[]byte(""), []byte("a"), []byte("a\x00"), []byte("a\x00b"), []byte("b")}
	txns := []TxnID{{1}, {2}}
	intents := map[string]*Intent{}
	clock := int64(10)
	write := func(fn func(b storage.Batch) error) {
		b := e.NewBatch()
		defer b.Close()
		if err := fn(b); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(false); err != nil {
			t.Fatal(err)
		}
	}
	at := func(tick int64) hlc.Timestamp { return ts(tick) }
	for step := 0; step < 2000; step++ {
		k := keys[rng.Intn(len(keys))]
		clock += int64(rng.Intn(3))
		switch op := rng.Intn(12); {
		case op < 4: // a committed version (or deletion)
			if intents[string(k)] != nil {
				continue // versions arrive only through resolution then
			}
			clock++
			write(func(b storage.Batch) error {
				return PutVersion(b, 1, k, at(clock), []byte(fmt.Sprint("v", step)), rng.Intn(4) == 0)
			})
		case op == 10: // versions of two keys in one batch, maybe both the same key
			k2 := keys[rng.Intn(len(keys))]
			if intents[string(k)] != nil || intents[string(k2)] != nil {
				continue
			}
			clock++
			t1, t2 := at(clock), at(clock+int64(rng.Intn(2)))
			if rng.Intn(2) == 0 {
				t1, t2 = t2, t1
			}
			write(func(b storage.Batch) error {
				if err := PutVersion(b, 1, k, t1, []byte(fmt.Sprint("a", step)), false); err != nil {
					return err
				}
				return PutVersion(b, 1, k2, t2, []byte(fmt.Sprint("b", step)), rng.Intn(4) == 0)
			})
			clock++
			if rng.Intn(3) == 0 { // and an intent on top, in the same batch
				in := &Intent{TxnID: txns[rng.Intn(2)], TS: at(clock + int64(rng.Intn(3))), Home: 1, Value: []byte(fmt.Sprint("j", step))}
				intents[string(k)] = in
				write(func(b storage.Batch) error {
					if err := PutVersion(b, 1, k, at(clock), []byte(fmt.Sprint("c", step)), false); err != nil {
						return err
					}
					return PutIntent(b, 1, k, in)
				})
			}
		case op == 11: // a version below the newest (not what a commit writes, but a replay could)
			if intents[string(k)] != nil {
				continue
			}
			write(func(b storage.Batch) error {
				return PutVersion(b, 1, k, at(clock-int64(rng.Intn(6))), []byte(fmt.Sprint("o", step)), false)
			})
		case op < 6: // an intent
			if intents[string(k)] != nil {
				continue
			}
			in := &Intent{TxnID: txns[rng.Intn(2)], TS: at(clock + int64(rng.Intn(5))), Home: 1, Value: []byte(fmt.Sprint("i", step)), Deleted: rng.Intn(5) == 0}
			intents[string(k)] = in
			write(func(b storage.Batch) error { return PutIntent(b, 1, k, in) })
		case op < 8: // resolve an intent
			in := intents[string(k)]
			if in == nil {
				continue
			}
			delete(intents, string(k))
			commit := rng.Intn(3) > 0
			clock++
			write(func(b storage.Batch) error { return ResolveIntent(b, 1, k, in, commit, in.TS.Forward(at(clock))) })
		case op == 8: // garbage collection below a recent timestamp
			write(func(b storage.Batch) error {
				_, _, err := CollectGarbage(e, b, 1, at(clock-int64(rng.Intn(10))), nil, 0)
				return err
			})
		default: // rarely: clear the partition's data (a snapshot's apply)
			if rng.Intn(10) > 0 {
				continue
			}
			intents = map[string]*Intent{}
			write(func(b storage.Batch) error {
				lo := storage.PartitionPrefix(storage.PrefixData, 1)
				return b.DeleteRange(lo, storage.PartitionPrefix(storage.PrefixData, 2))
			})
		}
		for _, key := range keys {
			readTS := at(clock - 3 + int64(rng.Intn(8)))
			opts := ReadOptions{}
			if rng.Intn(3) == 0 {
				opts.Uncertainty = readTS.Forward(at(clock - 3 + int64(rng.Intn(12))))
			}
			if rng.Intn(3) == 0 {
				opts.Own = &txns[rng.Intn(2)]
			}
			getBoth(t, e, 1, key, readTS, opts)
		}
		writeCheckBoth(t, e, 1, keys)
	}
	st := e.ReadCacheStats()
	if st.Hits < 1000 {
		t.Fatalf("the cache served too few reads to test it: %+v", st)
	}
	if writeThrough != (st.Refreshes > 100) {
		t.Fatalf("write-through %v, stats %+v", writeThrough, st)
	}
}

// TestReadCacheConcurrentWriters runs writers and readers of overlapping
// keys at once, with a per-key lock standing in for the kv layer's
// latches, in a cache small enough that keys share slots and generation
// buckets: a read through the cache must equal a read that bypasses it.
func TestReadCacheConcurrentWriters(t *testing.T) {
	e, err := storage.Open(storage.Options{InMemory: true, Dir: "mem", CacheGroup: CacheGroup, CacheWriteThrough: CacheWriteThrough, ReadCacheBytes: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const nkeys = 300
	var latches [nkeys]sync.Mutex
	var clock atomic.Int64
	clock.Store(1)
	key := func(i int) []byte { return []byte(fmt.Sprintf("key%03d", i)) }
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for i := 0; i < 3000; i++ {
				// Several keys per batch, like a multi-row write.
				ks := []int{rng.Intn(nkeys), rng.Intn(nkeys)}
				if ks[0] == ks[1] {
					continue
				}
				if ks[0] > ks[1] {
					ks[0], ks[1] = ks[1], ks[0]
				}
				latches[ks[0]].Lock()
				latches[ks[1]].Lock()
				b := e.NewBatch()
				for _, k := range ks {
					_ = PutVersion(b, 1, key(k), ts(clock.Add(1)), []byte(fmt.Sprint(seed, i)), rng.Intn(5) == 0)
				}
				err := b.Commit(false)
				_ = b.Close()
				latches[ks[1]].Unlock()
				latches[ks[0]].Unlock()
				if err != nil {
					errs <- err
					return
				}
			}
		}(int64(w))
	}
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(100 + seed))
			for i := 0; i < 6000; i++ {
				k := rng.Intn(nkeys)
				at := ts(clock.Load())
				latches[k].Lock()
				snap := e.NewSnapshot()
				want, wfound, werr := Get(snap, 1, key(k), at, ReadOptions{})
				got, found, err := Get(e, 1, key(k), at, ReadOptions{})
				_ = snap.Close()
				latches[k].Unlock()
				if werr != nil || err != nil || found != wfound || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("key %d at %v: cache %q %v %v, engine %q %v %v", k, at, got, found, err, want, wfound, werr)
					return
				}
			}
		}(int64(r))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if st := e.ReadCacheStats(); st.Hits == 0 || st.Evictions == 0 {
		t.Fatalf("want hits and evictions in a small cache: %+v", st)
	}
}

// CacheGroup names a user key's intent and versions by one prefix, the
// intent key, and nothing else.
func FuzzCacheGroup(f *testing.F) {
	f.Add([]byte("a"), uint64(1), int64(5))
	f.Add([]byte("a\x00\x01b"), uint64(7), int64(1))
	f.Add([]byte{0, 0, 0xff}, uint64(0), int64(0))
	f.Fuzz(func(t *testing.T, key []byte, p uint64, wall int64) {
		intent := IntentKey(p, key)
		if n := CacheGroup(intent); n != len(intent) {
			t.Fatalf("CacheGroup(intent of %q) = %d, want %d", key, n, len(intent))
		}
		if n := CacheGroup(VersionKey(p, key, hlc.Timestamp{WallTime: wall})); n != len(intent) {
			t.Fatalf("CacheGroup(version of %q) = %d, want %d", key, n, len(intent))
		}
		if CacheGroup(LeaseKey(p)) != 0 || CacheGroup(TxnRecordKey(p, TxnID{1})) != 0 {
			t.Fatal("a non-user key was given a group")
		}
		_ = CacheGroup(key) // arbitrary bytes: no panic
	})
}
