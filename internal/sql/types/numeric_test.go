package types

import (
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestNumericText(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		code    errcode.Code
	}{
		{"0.1", "0.1", ""},
		{" -1.50 ", "-1.50", ""},
		{"+7", "7", ""},
		{"-0.00", "0.00", ""},
		{"1e3", "1000", ""},
		{"1.5e-3", "0.0015", ""},
		{".5", "0.5", ""},
		{"5.", "5", ""},
		{"abc", "", errcode.InvalidTextRepresentation},
		{"NaN", "", errcode.InvalidTextRepresentation},
		{"Infinity", "", errcode.InvalidTextRepresentation},
		{"1e", "", errcode.InvalidTextRepresentation},
		{"0x10", "", errcode.InvalidTextRepresentation},
		{"1e1001", "", errcode.NumericOutOfRange},
		{"1e-1001", "", errcode.NumericOutOfRange},
		{strings.Repeat("9", 1001), "", errcode.NumericOutOfRange},
	} {
		v, err := ParseNumeric(tc.in)
		if tc.code != "" {
			if errcode.Of(err) != tc.code {
				t.Errorf("%q: %v %v, want %s", tc.in, v, err, tc.code)
			}
			continue
		}
		if err != nil || v.String() != tc.out {
			t.Errorf("%q: %q %v, want %q", tc.in, v.String(), err, tc.out)
		}
	}
}

func TestNumericConform(t *testing.T) {
	n52, err := T{Kind: Numeric}.WithPrecision(5, 2)
	if err != nil || n52.String() != "NUMERIC(5,2)" || n52.PGFormat() != "numeric(5,2)" || n52.PGTypmod() != 5<<16|2+4 {
		t.Fatalf("%v %v", n52, err)
	}
	for _, tc := range []struct{ in, out string }{
		{"123.456", "123.46"}, {"-0.005", "-0.01"}, {"999.994", "999.99"}, {"1", "1.00"}, {"0.004", "0.00"},
	} {
		v, _ := ParseNumeric(tc.in)
		got, err := n52.Conform(v, false)
		if err != nil || got.Str != tc.out {
			t.Errorf("%s → %q %v, want %q", tc.in, got.Str, err, tc.out)
		}
	}
	for _, in := range []string{"999.995", "1000", "-12345"} {
		v, _ := ParseNumeric(in)
		if _, err := n52.Conform(v, false); errcode.Of(err) != errcode.NumericOutOfRange || !strings.Contains(err.Error(), in) {
			t.Errorf("%s: %v", in, err)
		}
	}
	for _, ps := range [][2]int64{{0, 0}, {1001, 0}, {3, 4}, {5, -1}} {
		if _, err := (T{Kind: Numeric}).WithPrecision(ps[0], ps[1]); err == nil {
			t.Errorf("NUMERIC(%d,%d) accepted", ps[0], ps[1])
		}
	}
}

func TestNumericOrder(t *testing.T) {
	sorted := []string{"-10", "-1.5", "-1.50", "-0.001", "0", "0.0", "0.001", "1", "1.0", "1.5", "2", "1000"}
	for i := range sorted {
		for j := range sorted {
			a, _ := ParseNumeric(sorted[i])
			b, _ := ParseNumeric(sorted[j])
			want := compareInt(int64(i), int64(j))
			// Equal numbers of different scales order by scale; -1.5 and
			// -1.50 are listed scale-ascending too.
			if got, _ := Compare(a, b); got != want {
				t.Errorf("%s vs %s: %d, want %d", a.Str, b.Str, got, want)
			}
		}
	}
	one, _ := ParseNumeric("1.0")
	if c, ok := Compare(one, NewInt(1)); !ok || c != 0 {
		t.Errorf("1.0 vs INT64 1: %d %v", c, ok)
	}
	if c, ok := Compare(NewFloat(0.5), one); !ok || c != -1 {
		t.Errorf("0.5 vs 1.0: %d %v", c, ok)
	}
}

// FuzzParseNumeric: never panics, fails with 22P02/22003 only, and the
// canonical text reads back as itself.
func FuzzParseNumeric(f *testing.F) {
	for _, s := range []string{"0.1", "-1.50", "1e3", "NaN", "1e-1001", ".5e+2", "00012.3400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseNumeric(s)
		if err != nil {
			if c := errcode.Of(err); c != errcode.InvalidTextRepresentation && c != errcode.NumericOutOfRange {
				t.Fatalf("%q: code %s: %v", s, c, err)
			}
			return
		}
		again, err := ParseNumeric(v.Str)
		if err != nil || again != v {
			t.Fatalf("%q → %q does not read back: %q %v", s, v.Str, again.Str, err)
		}
		if !NumericCanonical(v.Str) {
			t.Fatalf("%q → %q fails NumericCanonical", s, v.Str)
		}
		if NumericCanonical(s) && v.Str != s {
			t.Fatalf("%q passes NumericCanonical but reads as %q", s, v.Str)
		}
	})
}

func TestNumericCanonical(t *testing.T) {
	for _, s := range []string{"0", "0.00", "-1.50", "10", "0.001", "-0.5"} {
		if !NumericCanonical(s) {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range []string{"", "-", "-0", "-0.00", "01", "1.", ".5", "+1", "1e3", "1.2.3", "a"} {
		if NumericCanonical(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
