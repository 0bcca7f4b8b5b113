package lease

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestLeaseRowRoundTrip(t *testing.T) {
	desc := []byte("s\x74\x00\x00\x00\x01robots")
	r, err := decodeLease(leaseKey(desc, 7), encodeLease(123, 4))
	if err != nil || string(r.desc) != string(desc) || r.nodeID != 7 || r.expires != 123 || r.version != 4 {
		t.Fatalf("%+v %v", r, err)
	}
	d, until, err := decodeMarker(markerKey(desc), encodeMarker(99))
	if err != nil || string(d) != string(desc) || until != 99 {
		t.Fatalf("%q %d %v", d, until, err)
	}
}

// Bytes that are not a lease row or marker are CADB0014, never a panic.
func FuzzDecodeLease(f *testing.F) {
	f.Add(leaseKey([]byte("s\x64d"), 1), encodeLease(1, 2))
	f.Add(markerKey([]byte("s\x64d")), encodeMarker(5))
	f.Add([]byte("s~L\xff\xff"), []byte{1})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		if r, err := decodeLease(key, value); err != nil {
			if errcode.Of(err) != errcode.Corruption {
				t.Fatalf("lease: %v", err)
			}
		} else if got := leaseKey(r.desc, r.nodeID); string(got) != string(key) {
			t.Fatalf("lease key round trip: %q != %q", got, key)
		}
		if _, _, err := decodeMarker(key, value); err != nil && errcode.Of(err) != errcode.Corruption {
			t.Fatalf("marker: %v", err)
		}
	})
}
