package mvcc

import (
	"errors"
	"fmt"
	"testing"
)

// A scan hands out keys and values carved from shared chunks: appending to
// one must not overwrite the next.
func TestScanResultsDoNotAlias(t *testing.T) {
	e := openEngine(t)
	b := e.NewBatch()
	for i := 0; i < 10; i++ {
		_ = PutVersion(b, 1, []byte{'k', byte(i), 0}, ts(5), []byte(fmt.Sprint("v", i)), false)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	kvs, _, err := Scan(e, 1, nil, nil, ts(10), ScanOptions{})
	if err != nil || len(kvs) != 10 {
		t.Fatalf("scan: %d keys, %v", len(kvs), err)
	}
	for i := range kvs {
		_ = append(kvs[i].Key, "XXXX"...)
		_ = append(kvs[i].Value, "XXXX"...)
	}
	for i, kv := range kvs {
		if string(kv.Key) != string([]byte{'k', byte(i), 0}) || string(kv.Value) != fmt.Sprint("v", i) {
			t.Fatalf("row %d changed to %q=%q", i, kv.Key, kv.Value)
		}
	}
}

// A forward scan steps over a few older versions of a key with Next and
// seeks past longer histories: both must land on the next key.
func TestScanSkipsVersionHistories(t *testing.T) {
	e := openEngine(t)
	b := e.NewBatch()
	for i, versions := range []int{1, 2, nextsBeforeSeek, nextsBeforeSeek + 1, 40, 1} {
		key := []byte{'a' + byte(i)}
		for v := 1; v <= versions; v++ {
			_ = PutVersion(b, 1, key, ts(int64(v)), []byte(fmt.Sprint(key[0], "@", v)), false)
		}
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	kvs, _, err := Scan(e, 1, nil, nil, ts(100), ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"97@1", "98@2", fmt.Sprint("99@", nextsBeforeSeek), fmt.Sprint("100@", nextsBeforeSeek+1), "101@40", "102@1"}
	if len(kvs) != len(want) {
		t.Fatalf("got %d keys, want %d", len(kvs), len(want))
	}
	for i, kv := range kvs {
		if string(kv.Value) != want[i] {
			t.Fatalf("key %q = %q, want %q", kv.Key, kv.Value, want[i])
		}
	}
}

// An engine key whose escaped user key is malformed fails the scan with
// ErrBadKey instead of returning a wrong key.
func TestScanRejectsMalformedKey(t *testing.T) {
	for _, raw := range [][]byte{
		{'a', 0x00, 0x02, 0x00, 0x01}, // zero byte not followed by 0xff
		{'a', 0x00},                   // no terminator
	} {
		e := openEngine(t)
		key := append(keyPrefix(1, nil)[:10], raw...)
		key = appendInvertedTS(key, ts(1))
		b := e.NewBatch()
		_ = b.Set(key, encodeVersion([]byte("v"), false))
		if err := b.Commit(false); err != nil {
			t.Fatal(err)
		}
		if kvs, _, err := Scan(e, 1, nil, nil, ts(10), ScanOptions{}); !errors.Is(err, ErrBadKey) {
			t.Fatalf("raw %x: got %q, %v; want ErrBadKey", raw, kvs, err)
		}
	}
}
