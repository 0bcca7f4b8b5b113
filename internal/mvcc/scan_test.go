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
		// A valid key just before it shares its first escaped bytes.
		_ = PutVersion(b, 1, []byte("a\x00"), ts(1), []byte("v"), false)
		_ = b.Set(key, encodeVersion([]byte("v"), false))
		if err := b.Commit(false); err != nil {
			t.Fatal(err)
		}
		if kvs, _, err := Scan(e, 1, nil, nil, ts(10), ScanOptions{}); !errors.Is(err, ErrBadKey) {
			t.Fatalf("raw %x: got %q, %v; want ErrBadKey", raw, kvs, err)
		}
	}
}

// A scan rebuilds each user key from the part it shares with the previous
// one: keys with zero bytes (escaped as two bytes) around the point where
// they differ must come back exactly.
func TestScanKeysWithZeroBytes(t *testing.T) {
	keys := []string{"", "\x00", "\x00\x00", "\x00\x00\x00", "\x00\x01", "\x00\xff", "\x00\xff\x00",
		"a", "a\x00", "a\x00\x00b", "a\x00\x01", "a\x00\xff", "a\x01", "ab\x00", "ab\x00\x00", "b"}
	e := openEngine(t)
	b := e.NewBatch()
	for _, k := range keys {
		_ = PutVersion(b, 1, []byte(k), ts(1), []byte("v"), false)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{0, 1, 3} {
		var got []string
		var start []byte
		for {
			kvs, resume, err := Scan(e, 1, start, nil, ts(5), ScanOptions{MaxKeys: limit})
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range kvs {
				got = append(got, string(kv.Key))
			}
			if resume == nil {
				break
			}
			start = resume
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", keys) {
			t.Fatalf("limit %d: scanned %q, want %q", limit, got, keys)
		}
	}
}

// ValuesOnly leaves the keys out of a forward scan but still says where to
// resume.
func TestScanValuesOnly(t *testing.T) {
	e := openEngine(t)
	b := e.NewBatch()
	for i := 0; i < 5; i++ {
		_ = PutVersion(b, 1, []byte{'k', byte(i)}, ts(1), []byte{'v', byte(i)}, false)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	kvs, resume, err := Scan(e, 1, nil, nil, ts(5), ScanOptions{MaxKeys: 3, ValuesOnly: true})
	if err != nil || len(kvs) != 3 || string(resume) != "k\x03" {
		t.Fatalf("got %d keys, resume %q, %v", len(kvs), resume, err)
	}
	for i, kv := range kvs {
		if kv.Key != nil || string(kv.Value) != string([]byte{'v', byte(i)}) {
			t.Fatalf("row %d = %q=%q", i, kv.Key, kv.Value)
		}
	}
}
