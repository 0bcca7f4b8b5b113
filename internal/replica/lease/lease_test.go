package lease

import (
	"errors"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
)

func ts(wall int64) hlc.Timestamp { return hlc.Timestamp{WallTime: wall} }

func TestApply(t *testing.T) {
	held := Lease{Holder: 1, Incarnation: 7, Seq: 3, Start: ts(100), Expiration: ts(200)}
	transferred := Lease{Holder: 2, Seq: 4, Start: ts(150), Expiration: ts(250)}
	for _, tc := range []struct {
		name     string
		cur      Lease
		proposer uint64
		req      Request
		want     Lease // zero: rejected
	}{
		{"first acquisition", Lease{}, 1, Request{Acquire, Lease{Holder: 1, Incarnation: 7, Seq: 1, Start: ts(10), Expiration: ts(20)}},
			Lease{Holder: 1, Incarnation: 7, Seq: 1, Start: ts(10), Expiration: ts(20)}},
		{"acquisition after expiry", held, 2, Request{Acquire, Lease{Holder: 2, Incarnation: 9, Seq: 4, Start: ts(201), Expiration: ts(300)}},
			Lease{Holder: 2, Incarnation: 9, Seq: 4, Start: ts(201), Expiration: ts(300)}},
		{"acquisition overlapping the lease", held, 2, Request{Acquire, Lease{Holder: 2, Incarnation: 9, Seq: 4, Start: ts(200), Expiration: ts(300)}}, Lease{}},
		{"acquisition for another node", held, 3, Request{Acquire, Lease{Holder: 2, Incarnation: 9, Seq: 4, Start: ts(201), Expiration: ts(300)}}, Lease{}},
		{"acquisition skipping a sequence", held, 2, Request{Acquire, Lease{Holder: 2, Incarnation: 9, Seq: 5, Start: ts(201), Expiration: ts(300)}}, Lease{}},
		{"acquisition without incarnation", held, 2, Request{Acquire, Lease{Holder: 2, Seq: 4, Start: ts(201), Expiration: ts(300)}}, Lease{}},
		{"restarted holder re-acquires only after expiry", held, 1, Request{Acquire, Lease{Holder: 1, Incarnation: 8, Seq: 4, Start: ts(150), Expiration: ts(300)}}, Lease{}},
		{"extension", held, 1, Request{Extend, Lease{Holder: 1, Incarnation: 7, Seq: 3, Start: ts(100), Expiration: ts(400)}},
			Lease{Holder: 1, Incarnation: 7, Seq: 3, Start: ts(100), Expiration: ts(400)}},
		{"extension never shortens", held, 1, Request{Extend, Lease{Holder: 1, Incarnation: 7, Seq: 3, Start: ts(100), Expiration: ts(150)}}, held},
		{"extension by another incarnation", held, 1, Request{Extend, Lease{Holder: 1, Incarnation: 8, Seq: 3, Start: ts(100), Expiration: ts(400)}}, Lease{}},
		{"extension by a non-holder", held, 2, Request{Extend, Lease{Holder: 1, Incarnation: 7, Seq: 3, Start: ts(100), Expiration: ts(400)}}, Lease{}},
		{"extension of an older lease", held, 1, Request{Extend, Lease{Holder: 1, Incarnation: 7, Seq: 2, Start: ts(100), Expiration: ts(400)}}, Lease{}},
		{"transfer", held, 1, Request{Transfer, transferred}, transferred},
		{"transfer by a non-holder", held, 2, Request{Transfer, transferred}, Lease{}},
		{"transfer naming an incarnation", held, 1, Request{Transfer, Lease{Holder: 2, Incarnation: 1, Seq: 4, Start: ts(150), Expiration: ts(250)}}, Lease{}},
		{"transfer before the lease's start", held, 1, Request{Transfer, Lease{Holder: 2, Seq: 4, Start: ts(99), Expiration: ts(250)}}, Lease{}},
		{"binding a transferred lease", transferred, 2, Request{Extend, Lease{Holder: 2, Incarnation: 5, Seq: 4, Start: ts(150), Expiration: ts(350)}},
			Lease{Holder: 2, Incarnation: 5, Seq: 4, Start: ts(150), Expiration: ts(350)}},
		{"empty interval", held, 2, Request{Acquire, Lease{Holder: 2, Incarnation: 9, Seq: 4, Start: ts(300), Expiration: ts(300)}}, Lease{}},
		{"unknown kind", held, 1, Request{Kind(9), held}, Lease{}},
		{"zero start", Lease{}, 1, Request{Acquire, Lease{Holder: 1, Incarnation: 7, Seq: 1, Start: ts(0), Expiration: ts(20)}}, Lease{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Apply(tc.cur, tc.proposer, tc.req)
			if tc.want == (Lease{}) {
				if !errors.Is(err, ErrRejected) || got != tc.cur {
					t.Fatalf("want rejection keeping %v, got %v, %v", tc.cur, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// No sequence of requests, in any order, can produce two leases of
// different holders that overlap in time unless the earlier holder handed
// its lease over (a transfer).
func TestApplyNeverOverlapsAcquisitions(t *testing.T) {
	var cur Lease
	var history []Lease
	reqs := []struct {
		proposer uint64
		req      Request
	}{
		{1, Request{Acquire, Lease{Holder: 1, Incarnation: 1, Seq: 1, Start: ts(1), Expiration: ts(100)}}},
		{2, Request{Acquire, Lease{Holder: 2, Incarnation: 2, Seq: 2, Start: ts(50), Expiration: ts(150)}}},  // overlaps: refused
		{1, Request{Extend, Lease{Holder: 1, Incarnation: 1, Seq: 1, Start: ts(1), Expiration: ts(180)}}},    // extended
		{2, Request{Acquire, Lease{Holder: 2, Incarnation: 2, Seq: 2, Start: ts(120), Expiration: ts(220)}}}, // still overlaps
		{2, Request{Acquire, Lease{Holder: 2, Incarnation: 2, Seq: 2, Start: ts(181), Expiration: ts(281)}}},
		{1, Request{Extend, Lease{Holder: 1, Incarnation: 1, Seq: 1, Start: ts(1), Expiration: ts(400)}}}, // stale: refused
	}
	for _, r := range reqs {
		next, err := Apply(cur, r.proposer, r.req)
		if err == nil {
			history = append(history, next)
		}
		cur = next
	}
	for i := 1; i < len(history); i++ {
		a, b := history[i-1], history[i]
		if a.Holder != b.Holder && !a.Expiration.Less(b.Start) {
			t.Fatalf("leases overlap: %v then %v", a, b)
		}
	}
	if cur.Holder != 2 || cur.Seq != 2 {
		t.Fatalf("final lease %v", cur)
	}
}

func TestServes(t *testing.T) {
	l := Lease{Holder: 1, Incarnation: 7, Seq: 3, Start: ts(0), Expiration: ts(int64(2 * time.Second))}
	offset := 500 * time.Millisecond
	if !l.Serves(1, 7, ts(int64(time.Second)), offset) {
		t.Fatal("holder must serve with 1 s left")
	}
	if l.Serves(1, 7, ts(int64(1500*time.Millisecond)), offset) {
		t.Fatal("holder must stop serving max offset before expiration")
	}
	if l.Serves(1, 8, ts(0), offset) {
		t.Fatal("another incarnation of the holder must not serve")
	}
	if l.Serves(2, 7, ts(0), offset) {
		t.Fatal("another node must not serve")
	}
	if (Lease{Holder: 1, Expiration: ts(int64(time.Hour))}).Serves(1, 0, ts(0), offset) {
		t.Fatal("an unbound lease serves nobody")
	}
}

func TestEncoding(t *testing.T) {
	l := Lease{Holder: 3, Incarnation: 1 << 60, Seq: 42, Start: hlc.Timestamp{WallTime: 5, Logical: 2}, Expiration: ts(1 << 50)}
	got, err := Decode(l.Encode())
	if err != nil || got != l {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	req := Request{Kind: Transfer, Lease: l}
	gotReq, err := DecodeRequest(AppendRequest(nil, req))
	if err != nil || gotReq != req {
		t.Fatalf("request round trip: %v, %v", gotReq, err)
	}
	for _, bad := range [][]byte{nil, {1}, l.Encode()[:10], append(l.Encode(), 0), {9, 1, 2}} {
		if _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decode(%x) = %v", bad, err)
		}
		if _, err := DecodeRequest(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeRequest(%x) = %v", bad, err)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(AppendRequest(nil, Request{Kind: Acquire, Lease: Lease{Holder: 1, Incarnation: 2, Seq: 3, Start: ts(4), Expiration: ts(5)}}))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		if err != nil {
			return
		}
		again, err := DecodeRequest(AppendRequest(nil, req))
		if err != nil || again != req {
			t.Fatalf("re-encoding %v: %v, %v", req, again, err)
		}
		// Apply must never panic on any decoded request.
		_, _ = Apply(Lease{Holder: 1, Incarnation: 2, Seq: 3, Start: ts(4), Expiration: ts(5)}, 1, req)
	})
}
