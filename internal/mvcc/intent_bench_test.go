package mvcc

import (
	"fmt"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// BenchmarkIntentLookup compares the intent check a prepare or commit makes
// per written key (GetIntent: an engine point Get) with a versioned read
// (Get: a bounded iterator) on a memtable holding many keys whose intents
// were laid and resolved a few times each — the state of a partition after
// a while of two-phase commits.
func BenchmarkIntentLookup(b *testing.B) {
	e, err := storage.Open(storage.Options{InMemory: true, Dir: "mem"})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	const keys = 20000
	key := func(i int) []byte { return []byte(fmt.Sprintf("key%06d", i)) }
	ts := hlc.Timestamp{WallTime: 1}
	for round := 0; round < 4; round++ {
		batch := e.NewBatch()
		for i := 0; i < keys; i++ {
			ts = ts.Next()
			in := &Intent{TS: ts, Value: []byte("v")}
			if err := PutIntent(batch, 1, key(i), in); err != nil {
				b.Fatal(err)
			}
		}
		if err := batch.Commit(false); err != nil {
			b.Fatal(err)
		}
		batch = e.NewBatch()
		for i := 0; i < keys; i++ {
			ts = ts.Next()
			if err := ResolveIntent(batch, 1, key(i), &Intent{TS: ts, Value: []byte("v")}, true, ts); err != nil {
				b.Fatal(err)
			}
		}
		if err := batch.Commit(false); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("GetIntent", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if in, err := GetIntent(e, 1, key(i%keys)); err != nil || in != nil {
				b.Fatal(in, err)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, ok, err := Get(e, 1, key(i%keys), ts, ReadOptions{}); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
}
