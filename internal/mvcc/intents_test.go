package mvcc

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
)

// writeLog records the writes made through it.
type writeLog struct{ ops []string }

func (l *writeLog) Set(k, v []byte) error {
	l.ops = append(l.ops, fmt.Sprintf("set %q=%q", k, v))
	return nil
}
func (l *writeLog) Delete(k []byte) error {
	l.ops = append(l.ops, fmt.Sprintf("del %q", k))
	return nil
}
func (l *writeLog) DeleteRange(_, _ []byte) error { return errors.New("no range deletes") }

// TestResolveTxnIntents checks the batched resolution against GetIntent
// and ResolveIntent key by key, with keys that are prefixes of each other
// or hold zero bytes, intents of another transaction, deletions, versions
// without intents, a neighbouring partition, sorted and unsorted keys.
func TestResolveTxnIntents(t *testing.T) {
	e := openEngine(t)
	b := e.NewBatch()
	a, c := TxnID{1}, TxnID{2}
	for i, k := range []string{"a", "a\x00", "ab", "b\x00\x00", "d", "e"} {
		in := &Intent{TxnID: a, TS: ts(int64(i + 1)), Home: 3, CoordNode: 300, CoordEpoch: 1 << 40, Value: []byte("v" + k)}
		switch k {
		case "ab":
			in.TxnID = c
		case "e":
			in.Deleted, in.Value = true, nil
		}
		if err := PutIntent(b, 7, []byte(k), in); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"a", "c", "d"} {
		if err := PutVersion(b, 7, []byte(k), ts(9), []byte("old"), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := PutIntent(b, 8, []byte("c"), &Intent{TxnID: a, TS: ts(1)}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	commitTS := hlc.Timestamp{WallTime: 20, Logical: 3}
	for _, keys := range [][]string{
		{"", "a", "a\x00", "a\x00\x00", "ab", "b", "b\x00\x00", "c", "d", "e", "f"},
		{"e", "d", "a", "c", "b\x00\x00", "a\x00"},
		{"ab"}, {"c"}, {"a"},
	} {
		bs := make([][]byte, len(keys))
		for i, k := range keys {
			bs[i] = []byte(k)
		}
		for _, commit := range []bool{true, false} {
			var want writeLog
			wantN := 0
			for _, k := range bs {
				in, err := GetIntent(e, 7, k)
				if err != nil {
					t.Fatal(err)
				}
				if in == nil || in.TxnID != a {
					continue
				}
				wantN++
				if err := ResolveIntent(&want, 7, k, in, commit, commitTS); err != nil {
					t.Fatal(err)
				}
			}
			var got writeLog
			n, err := ResolveTxnIntents(e, &got, 7, a, bs, commit, commitTS)
			if err != nil || n != wantN || !reflect.DeepEqual(got.ops, want.ops) {
				t.Fatalf("%q commit=%v: %d resolved (%v), want %d\ngot  %q\nwant %q", keys, commit, n, err, wantN, got.ops, want.ops)
			}
			if wantN == 0 && len(keys) > 1 {
				t.Fatalf("%q: nothing to resolve: a useless case", keys)
			}
		}
	}
}
