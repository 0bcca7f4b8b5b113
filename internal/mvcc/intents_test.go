package mvcc

import (
	"bytes"
	"testing"
)

// TestGetIntents checks the batched intent lookup against GetIntent, with
// keys that are prefixes of each other or hold zero bytes, versions
// without intents, a neighbouring partition, sorted and unsorted keys.
func TestGetIntents(t *testing.T) {
	e := openEngine(t)
	b := e.NewBatch()
	a, c := TxnID{1}, TxnID{2}
	for i, k := range []string{"a", "a\x00", "ab", "b\x00\x00", "d"} {
		in := &Intent{TxnID: a, TS: ts(int64(i + 1)), Value: []byte("v" + k)}
		if k == "ab" {
			in.TxnID = c
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
	for _, keys := range [][]string{
		{"", "a", "a\x00", "a\x00\x00", "ab", "b", "b\x00\x00", "c", "d", "e"},
		{"e", "d", "a", "c", "b\x00\x00", "a\x00"},
		{"ab"}, {"c"},
	} {
		bs := make([][]byte, len(keys))
		for i, k := range keys {
			bs[i] = []byte(k)
		}
		calls := 0
		err := GetIntents(e, 7, bs, func(i int, in *Intent) error {
			if i != calls {
				t.Fatalf("call %d for key %d", calls, i)
			}
			calls++
			want, err := GetIntent(e, 7, bs[i])
			if err != nil {
				t.Fatal(err)
			}
			if (in == nil) != (want == nil) || in != nil && (in.TxnID != want.TxnID || in.TS != want.TS || !bytes.Equal(in.Value, want.Value)) {
				t.Fatalf("key %q: got %+v, want %+v", bs[i], in, want)
			}
			return nil
		})
		if err != nil || calls != len(keys) {
			t.Fatalf("%q: %d calls, %v", keys, calls, err)
		}
	}
}
