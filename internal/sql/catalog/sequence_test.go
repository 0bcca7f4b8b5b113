package catalog

import (
	"math"
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestSequenceStateRoundTrip(t *testing.T) {
	for _, s := range []SequenceState{
		{Last: math.MinInt64, Increment: -1, Min: math.MinInt64, Max: -1, Called: true},
		{Last: 42, Increment: 7, Min: 1, Max: math.MaxInt64, Cycle: true},
	} {
		got, err := decodeSequenceState(s.encode())
		if err != nil || got != s {
			t.Errorf("round trip of %+v: %+v, %v", s, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {1}, make([]byte, 34)} {
		if _, err := decodeSequenceState(bad); errcode.Of(err) != errcode.Corruption {
			t.Errorf("decode %v: %v, want CADB0014", bad, err)
		}
	}
}

// next takes n values from s; the error of the first failing call stops it.
func next(s *SequenceState, n int) ([]int64, error) {
	var out []int64
	for range n {
		v, err := s.Next("s")
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func TestSequenceNextAtTheEdges(t *testing.T) {
	// The first value is Last itself; then Last+Increment.
	s := SequenceState{Last: 5, Increment: 10, Min: 1, Max: 30}
	got, err := next(&s, 4)
	if err == nil || errcode.Of(err) != errcode.SequenceExhausted || len(got) != 3 || got[2] != 25 {
		t.Fatalf("5 by 10 to 30: %v %v", got, err)
	}
	if s.Last != 25 {
		t.Fatalf("a failed nextval changed the state: %+v", s)
	}
	// Overflow of int64 is exhaustion, never a wrap.
	s = SequenceState{Last: math.MaxInt64 - 1, Increment: 5, Min: 1, Max: math.MaxInt64, Called: true}
	if _, err := s.Next("s"); errcode.Of(err) != errcode.SequenceExhausted {
		t.Fatalf("past MaxInt64: %v", err)
	}
	s.Cycle = true
	if v, err := s.Next("s"); err != nil || v != 1 {
		t.Fatalf("cycling past MaxInt64: %d %v", v, err)
	}
	s = SequenceState{Last: math.MinInt64 + 1, Increment: -3, Min: math.MinInt64, Max: -1, Called: true, Cycle: true}
	if v, err := s.Next("s"); err != nil || v != -1 {
		t.Fatalf("cycling below MinInt64: %d %v", v, err)
	}
}

func TestApplySequenceOptions(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	w := func(v uint8) *uint8 { return &v }
	d, err := ApplySequenceOptions(nil, SequenceOptions{Increment: i(-1)})
	if err != nil || d.Min != math.MinInt64 || d.Max != -1 || d.Start != -1 {
		t.Fatalf("descending defaults: %+v %v", d, err)
	}
	d, err = ApplySequenceOptions(nil, SequenceOptions{Width: w(16)})
	if err != nil || d.Min != 1 || d.Max != math.MaxInt16 || d.Start != 1 || d.Cache != 1 {
		t.Fatalf("SMALLINT defaults: %+v %v", d, err)
	}
	// ALTER ... AS INTEGER moves a default bound with the type.
	d, err = ApplySequenceOptions(d, SequenceOptions{Width: w(32)})
	if err != nil || d.Max != math.MaxInt32 {
		t.Fatalf("AS INTEGER after SMALLINT: %+v %v", d, err)
	}
	// An explicit bound stays.
	d, _ = ApplySequenceOptions(nil, SequenceOptions{Max: i(100)})
	if d, err = ApplySequenceOptions(d, SequenceOptions{Width: w(16)}); err != nil || d.Max != 100 {
		t.Fatalf("explicit MAXVALUE across AS: %+v %v", d, err)
	}
	for _, o := range []SequenceOptions{
		{Increment: i(0)},
		{Min: i(5), Max: i(5)},
		{Start: i(0)},
		{Width: w(16), Max: i(1 << 20)},
		{Cache: i(0)},
		{Cache: i(MaxSequenceCache + 1)},
	} {
		if _, err := ApplySequenceOptions(nil, o); errcode.Of(err) != errcode.InvalidSequence {
			t.Errorf("%+v: %v, want CADB0435", o, err)
		}
	}
}
