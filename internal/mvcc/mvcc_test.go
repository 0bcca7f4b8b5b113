package mvcc

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// openEngine opens an in-memory engine with the read cache, as the server
// runs it: every Get test also reads through the cache.
func openEngine(t *testing.T) *storage.Engine {
	t.Helper()
	e, err := storage.Open(storage.Options{InMemory: true, Dir: "mem", CacheGroup: CacheGroup, CacheWriteThrough: CacheWriteThrough})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func ts(w int64) hlc.Timestamp { return hlc.Timestamp{WallTime: w} }

type version struct {
	ts      int64
	value   string
	deleted bool
}

// TestAgainstModel writes random versions of random keys (including keys
// with zero bytes and prefixes of each other) and checks Get, forward and
// reverse Scan with limits against a simple model at random timestamps.
func TestAgainstModel(t *testing.T) {
	e := openEngine(t)
	rng := rand.New(rand.NewSource(1))
	keys := []string{"", "a", "a\x00", "a\x00b", "ab", "b", "\x00", "\xff", "b\xff\x00"}
	model := map[string][]version{}
	b := e.NewBatch()
	for i := 0; i < 300; i++ {
		k := keys[rng.Intn(len(keys))]
		v := version{ts: int64(rng.Intn(50) + 1), value: fmt.Sprint(i), deleted: rng.Intn(5) == 0}
		dup := false
		for _, old := range model[k] {
			dup = dup || old.ts == v.ts
		}
		if dup {
			continue
		}
		model[k] = append(model[k], v)
		if err := PutVersion(b, 7, []byte(k), ts(v.ts), []byte(v.value), v.deleted); err != nil {
			t.Fatal(err)
		}
	}
	// A neighbouring partition must stay invisible.
	_ = PutVersion(b, 8, []byte("a"), ts(1), []byte("other"), false)
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	visibleAt := func(k string, at int64) (string, bool) {
		best := version{ts: -1}
		for _, v := range model[k] {
			if v.ts <= at && v.ts > best.ts {
				best = v
			}
		}
		if best.ts < 0 || best.deleted {
			return "", false
		}
		return best.value, true
	}
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	for at := int64(0); at <= 52; at += 3 {
		var want []KeyValue
		for _, k := range sorted {
			v, ok := visibleAt(k, at)
			got, found, err := Get(e, 7, []byte(k), ts(at), ReadOptions{})
			if err != nil || found != ok || string(got) != v {
				t.Fatalf("Get(%q)@%d = %q,%v,%v want %q,%v", k, at, got, found, err, v, ok)
			}
			if ok {
				want = append(want, KeyValue{Key: []byte(k), Value: []byte(v)})
			}
		}
		for _, limit := range []int{0, 1, 2, 5} {
			for _, reverse := range []bool{false, true} {
				var got []KeyValue
				start, end := []byte(""), []byte(nil)
				for {
					kvs, resume, err := Scan(e, 7, start, end, ts(at), ScanOptions{MaxKeys: limit, Reverse: reverse})
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, kvs...)
					if resume == nil {
						break
					}
					if reverse {
						end = resume
					} else {
						start = resume
					}
				}
				w := want
				if reverse {
					w = nil
					for i := len(want) - 1; i >= 0; i-- {
						w = append(w, want[i])
					}
				}
				if len(got) != len(w) {
					t.Fatalf("scan@%d limit %d reverse %v: got %d keys, want %d", at, limit, reverse, len(got), len(w))
				}
				for i := range got {
					if !bytes.Equal(got[i].Key, w[i].Key) || !bytes.Equal(got[i].Value, w[i].Value) {
						t.Fatalf("scan@%d: row %d = %q=%q want %q=%q", at, i, got[i].Key, got[i].Value, w[i].Key, w[i].Value)
					}
				}
			}
		}
	}
}

func TestIntentsAndConflicts(t *testing.T) {
	e := openEngine(t)
	b := e.NewBatch()
	_ = PutVersion(b, 1, []byte("k1"), ts(10), []byte("old"), false)
	_ = PutVersion(b, 1, []byte("k2"), ts(20), []byte("v2"), false)
	in := &Intent{TxnID: TxnID{1}, TS: ts(30), Home: 1, CoordNode: 1, CoordEpoch: 2, WriteWall: 99, Value: []byte("new")}
	_ = PutIntent(b, 1, []byte("k1"), in)
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	// Below the intent: invisible; at or above: blocks.
	if v, ok, err := Get(e, 1, []byte("k1"), ts(25), ReadOptions{}); err != nil || !ok || string(v) != "old" {
		t.Fatalf("read below intent = %q %v %v", v, ok, err)
	}
	var ie *IntentError
	if _, _, err := Get(e, 1, []byte("k1"), ts(30), ReadOptions{}); !errors.As(err, &ie) || ie.Intent.CoordEpoch != 2 || string(ie.Intent.Value) != "new" {
		t.Fatalf("read above intent: %v", err)
	}
	own := TxnID{1}
	if _, _, err := Get(e, 1, []byte("k1"), ts(40), ReadOptions{Own: &own}); err != nil {
		t.Fatalf("own intent must not block: %v", err)
	}
	if _, _, err := Scan(e, 1, []byte("k"), []byte("l"), ts(35), ScanOptions{}); !errors.As(err, &ie) {
		t.Fatalf("scan over intent: %v", err)
	}
	// Conflicts: a version in (after, upTo].
	if k, err := CheckNoWrites(e, 1, []byte("k2"), nil, ts(15), ts(25), nil); err != nil || string(k) != "k2" {
		t.Fatalf("conflict not found: %q %v", k, err)
	}
	if k, err := CheckNoWrites(e, 1, []byte("k2"), nil, ts(20), ts(25), nil); err != nil || k != nil {
		t.Fatalf("false conflict: %q %v", k, err)
	}
	if _, err := CheckNoWrites(e, 1, []byte("a"), []byte("z"), ts(25), ts(29), nil); err != nil {
		t.Fatalf("intent above upTo must not matter: %v", err)
	}
	if _, err := CheckNoWrites(e, 1, []byte("a"), []byte("z"), ts(25), ts(31), nil); !errors.As(err, &ie) {
		t.Fatalf("intent in range must be reported: %v", err)
	}
	// For keys about to be written: the intent (any timestamp) and the
	// newest committed version of each, through one iterator.
	var seen []string
	err := WriteCheck(e, 1, [][]byte{[]byte("a"), []byte("k1"), []byte("k2")}, func(i int, in *Intent, newest hlc.Timestamp, live bool) error {
		seen = append(seen, fmt.Sprintf("%d:%v:%s", i, in != nil, newest))
		return nil
	})
	if got := strings.Join(seen, " "); err != nil || got != "0:false:0.0 1:true:10.0 2:false:20.0" {
		t.Fatalf("WriteCheck: %q %v", got, err)
	}
	// Resolve as committed at 33.
	b = e.NewBatch()
	if err := ResolveIntent(b, 1, []byte("k1"), in, true, ts(33)); err != nil {
		t.Fatal(err)
	}
	_ = b.Commit(false)
	if v, ok, err := Get(e, 1, []byte("k1"), ts(40), ReadOptions{}); err != nil || !ok || string(v) != "new" {
		t.Fatalf("after resolve = %q %v %v", v, ok, err)
	}
	if v, _, _ := Get(e, 1, []byte("k1"), ts(32), ReadOptions{}); string(v) != "old" {
		t.Fatalf("commit timestamp not respected: %q", v)
	}
	// Records round trip.
	rec := &TxnRecord{Status: TxnCommitted, CommitTS: ts(33), Participants: []uint64{1, 4}}
	b = e.NewBatch()
	_ = PutTxnRecord(b, 1, in.TxnID, rec)
	_ = b.Commit(false)
	got, err := GetTxnRecord(e, 1, in.TxnID)
	if err != nil || got.Status != TxnCommitted || got.CommitTS != ts(33) || len(got.Participants) != 2 {
		t.Fatalf("record = %+v %v", got, err)
	}
	for _, r := range []*TxnRecord{{Status: TxnAborted, StartWall: 1234567}, {Status: TxnAborted, StartWall: -1}, {Status: TxnAborted}} {
		got, err := DecodeTxnRecord(EncodeTxnRecord(r))
		if err != nil || got.Status != r.Status || got.StartWall != r.StartWall {
			t.Fatalf("record %+v round trip: %+v %v", r, got, err)
		}
	}
	if _, err := DecodeTxnRecord(append(EncodeTxnRecord(&TxnRecord{StartWall: 5}), 0)); err == nil {
		t.Fatal("trailing bytes after StartWall accepted")
	}
	withLocks := &TxnRecord{Status: TxnCommitted, CommitTS: ts(40), Participants: []uint64{1, 2, 3},
		Locks: map[uint64][][]byte{2: {[]byte("a"), []byte("b\x00")}, 3: {[]byte("c")}}}
	got, err = DecodeTxnRecord(EncodeTxnRecord(withLocks))
	if err != nil || !reflect.DeepEqual(got, withLocks) {
		t.Fatalf("record with locks round trip: %+v %v", got, err)
	}
	if _, err := DecodeTxnRecord(append(EncodeTxnRecord(withLocks), 0)); err == nil {
		t.Fatal("trailing bytes after Locks accepted")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0, 1, 'k', 'a', 0, 1})
	f.Add(encodeIntent(&Intent{Value: []byte("x")}))
	f.Add(EncodeTxnRecord(&TxnRecord{Participants: []uint64{1}}))
	f.Add(EncodeTxnRecord(&TxnRecord{Status: TxnAborted, StartWall: 99}))
	f.Add(EncodeTxnRecord(&TxnRecord{Status: TxnCommitted, Locks: map[uint64][][]byte{2: {[]byte("k")}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeKey(b)
		_, _ = decodeIntent(b)
		_, _ = DecodeTxnRecord(b)
		_, _, _ = decodeVersion(b)
	})
}

func TestUncertaintyInterval(t *testing.T) {
	e := openEngine(t)
	b := e.NewBatch()
	_ = PutVersion(b, 1, []byte("a"), ts(10), []byte("a10"), false)
	_ = PutVersion(b, 1, []byte("a"), ts(30), []byte("a30"), false)
	_ = PutVersion(b, 1, []byte("b"), ts(10), []byte("b10"), false)
	_ = PutIntent(b, 1, []byte("c"), &Intent{TxnID: TxnID{9}, TS: ts(28), Home: 1, Value: []byte("c28")})
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	var ue *UncertaintyError
	var ie *IntentError
	// A version in (readTS, limit] is uncertain; beyond the limit it is not.
	if _, _, err := Get(e, 1, []byte("a"), ts(20), ReadOptions{Uncertainty: ts(30)}); !errors.As(err, &ue) || ue.ExistingTS != ts(30) || ue.ReadTS != ts(20) {
		t.Fatalf("version inside the interval: %v", err)
	}
	if v, ok, err := Get(e, 1, []byte("a"), ts(20), ReadOptions{Uncertainty: ts(29)}); err != nil || !ok || string(v) != "a10" {
		t.Fatalf("version beyond the limit: %q %v %v", v, ok, err)
	}
	// A limit at or below the read timestamp means no uncertainty.
	if v, _, err := Get(e, 1, []byte("a"), ts(20), ReadOptions{Uncertainty: ts(5)}); err != nil || string(v) != "a10" {
		t.Fatalf("empty interval: %q %v", v, err)
	}
	// An intent in the interval must be resolved first.
	if _, _, err := Get(e, 1, []byte("c"), ts(20), ReadOptions{Uncertainty: ts(30)}); !errors.As(err, &ie) {
		t.Fatalf("intent inside the interval: %v", err)
	}
	// Scans, both directions: the uncertain key fails the scan.
	for _, reverse := range []bool{false, true} {
		_, _, err := Scan(e, 1, []byte("a"), []byte("c"), ts(20), ScanOptions{Reverse: reverse, Uncertainty: ts(30)})
		if !errors.As(err, &ue) || string(ue.Key) != "a" {
			t.Fatalf("scan reverse=%v: %v", reverse, err)
		}
		kvs, _, err := Scan(e, 1, []byte("a"), []byte("c"), ts(20), ScanOptions{Reverse: reverse, Uncertainty: ts(29)})
		if err != nil || len(kvs) != 2 {
			t.Fatalf("scan reverse=%v beyond the limit: %v %v", reverse, kvs, err)
		}
	}
}

// TestKeyBounds: a point read's iterator bounds are the key's prefix and
// its PrefixEnd, with room for a timestamp after the prefix that does not
// overwrite the end.
func TestKeyBounds(t *testing.T) {
	for _, key := range [][]byte{nil, []byte("a"), {0, 1, 0}, []byte("row\x00\xff")} {
		prefix, end := keyBounds(7, key)
		if !bytes.Equal(prefix, keyPrefix(7, key)) {
			t.Fatalf("%q: prefix %x, want %x", key, prefix, keyPrefix(7, key))
		}
		wantEnd := storage.PrefixEnd(keyPrefix(7, key))
		if !bytes.Equal(end, wantEnd) {
			t.Fatalf("%q: end %x, want %x", key, end, wantEnd)
		}
		_ = appendInvertedTS(prefix, hlc.Timestamp{WallTime: -1, Logical: -1})
		if !bytes.Equal(end, wantEnd) {
			t.Fatalf("%q: a timestamp appended to the prefix changed the end to %x", key, end)
		}
	}
}
