package mvcc

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/storage"
)

func TestCollectGarbage(t *testing.T) {
	e := openEngine(t)
	b := e.NewBatch()
	// a: versions at 10, 20, 30 → GC at 25 keeps 20 and 30.
	_ = PutVersion(b, 1, []byte("a"), ts(10), []byte("a10"), false)
	_ = PutVersion(b, 1, []byte("a"), ts(20), []byte("a20"), false)
	_ = PutVersion(b, 1, []byte("a"), ts(30), []byte("a30"), false)
	// b: deleted at 15 → everything goes.
	_ = PutVersion(b, 1, []byte("b"), ts(5), []byte("b5"), false)
	_ = PutVersion(b, 1, []byte("b"), ts(15), nil, true)
	// c: only a new version → untouched; an intent is never collected.
	_ = PutVersion(b, 1, []byte("c"), ts(40), []byte("c40"), false)
	_ = PutIntent(b, 1, []byte("c"), &Intent{TS: ts(41), Value: []byte("x")})
	_ = b.Commit(false)

	for _, max := range []int{1, 100} {
		var from []byte
		for {
			gb := e.NewBatch()
			_, resume, err := CollectGarbage(e, gb, 1, ts(25), from, max)
			if err != nil {
				t.Fatal(err)
			}
			_ = gb.Commit(false)
			if resume == nil {
				break
			}
			from = resume
		}
	}
	count := func(key string) int {
		p := keyPrefix(1, []byte(key))
		it, _ := e.NewIter(p, storage.PrefixEnd(p))
		defer it.Close()
		n := 0
		for ok := it.First(); ok; ok = it.Next() {
			n++
		}
		return n
	}
	if n := count("a"); n != 2 {
		t.Fatalf("a keeps %d entries, want 2 (versions 20 and 30)", n)
	}
	if n := count("b"); n != 0 {
		t.Fatalf("b keeps %d entries, want 0", n)
	}
	if n := count("c"); n != 2 {
		t.Fatalf("c keeps %d entries, want intent + version", n)
	}
	for _, at := range []int64{25, 35} {
		if v, ok, _ := Get(e, 1, []byte("a"), ts(at), ReadOptions{}); !ok || string(v) != map[int64]string{25: "a20", 35: "a30"}[at] {
			t.Fatalf("read at %d after GC = %q", at, v)
		}
	}
}
