package hlc

import (
	"testing"
	"time"
)

func TestClockMonotonicAndUpdate(t *testing.T) {
	manual := NewManualClock(100)
	c := NewClock(manual.UnixNano)
	a := c.Now()
	b := c.Now()
	if !a.Less(b) {
		t.Fatalf("clock not strictly increasing: %v then %v", a, b)
	}
	far := Timestamp{WallTime: 1000, Logical: 7}
	c.Update(far)
	if n := c.Now(); !far.Less(n) {
		t.Fatalf("Now() %v not above updated %v", n, far)
	}
	manual.Increment(time.Microsecond)
	if n := c.Now(); n.WallTime != 1100 || n.Logical != 0 {
		t.Fatalf("physical time should win once ahead: %v", n)
	}
}

func TestEncodeOrder(t *testing.T) {
	ts := []Timestamp{{1, 0}, {1, 1}, {2, 0}, {1 << 40, 5}}
	for i := 1; i < len(ts); i++ {
		a, b := ts[i-1].AppendEncode(nil), ts[i].AppendEncode(nil)
		if string(a) >= string(b) {
			t.Fatalf("encoding of %v !< %v", ts[i-1], ts[i])
		}
		d, err := Decode(b)
		if err != nil || d != ts[i] {
			t.Fatalf("round trip %v -> %v, %v", ts[i], d, err)
		}
	}
	if _, err := Decode([]byte{1, 2}); err == nil {
		t.Fatal("short input must fail")
	}
}
