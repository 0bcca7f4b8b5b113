package rowenc

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

func TestKeyOrderMatchesCompare(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 20000; iter++ {
		k := randKind(r)
		a, b := randValue(r, k), randValue(r, k)
		want := sign(sqlCompare(a, b))
		for _, desc := range []bool{false, true} {
			got := sign(bytes.Compare(AppendKey(nil, a, desc), AppendKey(nil, b, desc)))
			w := want
			if desc {
				w = -want
			}
			if got != w {
				t.Fatalf("desc=%v: %s vs %s: bytes compare %d, want %d", desc, describe(a), describe(b), got, w)
			}
		}
	}
}

// TestKeySortedColumn sorts many values of each kind by their encodings and
// checks the result is sorted by SQL order, NULLs first.
func TestKeySortedColumn(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, k := range allKinds {
		for _, desc := range []bool{false, true} {
			vals := make([]types.Value, 500)
			for i := range vals {
				vals[i] = randValue(r, k)
			}
			vals = append(vals, types.NullValue)
			slices.SortFunc(vals, func(a, b types.Value) int {
				return bytes.Compare(AppendKey(nil, a, desc), AppendKey(nil, b, desc))
			})
			for i := 1; i < len(vals); i++ {
				c := sqlCompare(vals[i-1], vals[i])
				if (!desc && c > 0) || (desc && c < 0) {
					t.Fatalf("%v desc=%v: %s sorted before %s", k, desc, describe(vals[i-1]), describe(vals[i]))
				}
			}
			nullAt := 0
			if desc {
				nullAt = len(vals) - 1
			}
			if !vals[nullAt].IsNull() {
				t.Fatalf("%v desc=%v: NULL not at position %d", k, desc, nullAt)
			}
		}
	}
}

func TestKeyRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	suffix := []byte{0x00, 0xff, 0x42}
	for iter := 0; iter < 20000; iter++ {
		v := randValue(r, randKind(r))
		desc := r.IntN(2) == 1
		enc := AppendKey([]byte("prefix"), v, desc)[len("prefix"):]
		buf := append(slices.Clone(enc), suffix...)
		got, rest, err := DecodeKey(buf, desc)
		if err != nil {
			t.Fatalf("%s desc=%v: %v (bytes %x)", describe(v), desc, err, enc)
		}
		if !identical(got, keyCanonical(v)) && !(v.Kind == types.Float64 && v.Float != v.Float && got.Float != got.Float) {
			t.Fatalf("%s desc=%v: decoded %s", describe(v), desc, describe(got))
		}
		if !bytes.Equal(rest, suffix) {
			t.Fatalf("%s desc=%v: rest %x, want %x", describe(v), desc, rest, suffix)
		}
		skipped, err := SkipKey(buf, desc)
		if err != nil || !bytes.Equal(skipped, suffix) {
			t.Fatalf("%s desc=%v: SkipKey = %x, %v", describe(v), desc, skipped, err)
		}
		// Decoding must not alias the input.
		clear(buf)
		if !identical(got, keyCanonical(v)) && !(got.Kind == types.Float64 && got.Float != got.Float) {
			t.Fatalf("%s: decoded value changed when the input was overwritten", describe(v))
		}
	}
}

// TestCompositeKeyOrder checks that concatenated columns with mixed
// directions compare lexicographically, column by column.
func TestCompositeKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for iter := 0; iter < 20000; iter++ {
		n := 1 + r.IntN(3)
		kinds := make([]types.Kind, n)
		desc := make([]bool, n)
		for i := range kinds {
			kinds[i] = randKind(r)
			desc[i] = r.IntN(2) == 1
		}
		a, b := make([]types.Value, n), make([]types.Value, n)
		for i := range a {
			a[i] = randValue(r, kinds[i])
			// Equal leading columns are the interesting case.
			if r.IntN(2) == 0 {
				b[i] = a[i]
			} else {
				b[i] = randValue(r, kinds[i])
			}
		}
		want := 0
		for i := range a {
			if c := sign(sqlCompare(a[i], b[i])); c != 0 {
				if desc[i] {
					c = -c
				}
				want = c
				break
			}
		}
		ea, eb := EncodeKeyValues(nil, a, desc), EncodeKeyValues(nil, b, desc)
		if got := sign(bytes.Compare(ea, eb)); got != want {
			t.Fatalf("desc=%v a=%v b=%v: compare %d, want %d", desc, a, b, got, want)
		}
		dec, rest, err := DecodeKeyValues(ea, n, desc)
		if err != nil || len(rest) != 0 {
			t.Fatalf("DecodeKeyValues(%x) = rest %x, %v", ea, rest, err)
		}
		for i := range a {
			if !keyEqual(dec[i], a[i]) {
				t.Fatalf("column %d: decoded %s, want %s", i, describe(dec[i]), describe(a[i]))
			}
		}
	}
}

func TestKeyFloatCanonical(t *testing.T) {
	for _, desc := range []bool{false, true} {
		posZero := AppendKeyFloat64(nil, 0, desc)
		negZero := AppendKeyFloat64(nil, math.Copysign(0, -1), desc)
		if !bytes.Equal(posZero, negZero) {
			t.Errorf("desc=%v: -0 encodes as %x, +0 as %x", desc, negZero, posZero)
		}
		v, _, err := DecodeKey(negZero, desc)
		if err != nil || math.Signbit(v.Float) || v.Float != 0 {
			t.Errorf("desc=%v: decoding zero gave %s, %v", desc, describe(v), err)
		}
		nan := AppendKeyFloat64(nil, math.NaN(), desc)
		for _, f := range interestingFloats {
			if f != f && !bytes.Equal(AppendKeyFloat64(nil, f, desc), nan) {
				t.Errorf("desc=%v: NaN %016x has its own encoding", desc, math.Float64bits(f))
			}
		}
		negInf := AppendKeyFloat64(nil, math.Inf(-1), desc)
		null := AppendKeyNull(nil, desc)
		if c := bytes.Compare(nan, negInf); (c >= 0) != desc {
			t.Errorf("desc=%v: NaN does not sort before -Inf", desc)
		}
		if c := bytes.Compare(null, nan); (c >= 0) != desc {
			t.Errorf("desc=%v: NULL does not sort before NaN", desc)
		}
	}
}

func TestKeyStringPrefixOrder(t *testing.T) {
	// Each string is a proper prefix of, or differs by a NUL from, the next.
	ordered := []string{"", "\x00", "\x00\x00", "\x00\x01", "\x00\xff", "\x01", "a", "a\x00", "a\x00\x00", "a\x00b", "a\x01", "ab", "b", "\xff", "\xff\xff"}
	for _, desc := range []bool{false, true} {
		for i := 1; i < len(ordered); i++ {
			lo := AppendKeyString(nil, ordered[i-1], desc)
			hi := AppendKeyString(nil, ordered[i], desc)
			// Append a trailing column that would invert the order if
			// the string encodings were not self-delimiting.
			lo = AppendKeyInt64(lo, math.MaxInt64, false)
			hi = AppendKeyInt64(hi, math.MinInt64, false)
			if c := bytes.Compare(lo, hi); (c < 0) == desc {
				t.Errorf("desc=%v: %q vs %q compare %d", desc, ordered[i-1], ordered[i], c)
			}
		}
	}
}

func TestFastPathsMatchAppendKey(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for iter := 0; iter < 2000; iter++ {
		desc := r.IntN(2) == 1
		i, f, s := randInt(r), randFloat(r), randString(r)
		check := func(name string, got, want []byte) {
			t.Helper()
			if !bytes.Equal(got, want) {
				t.Fatalf("%s desc=%v: %x, want %x", name, desc, got, want)
			}
		}
		check("int", AppendKeyInt64(nil, i, desc), AppendKey(nil, types.NewInt(i), desc))
		check("float", AppendKeyFloat64(nil, f, desc), AppendKey(nil, types.NewFloat(f), desc))
		check("string", AppendKeyString(nil, s, desc), AppendKey(nil, types.NewString(s), desc))
		check("bool", AppendKeyBool(nil, true, desc), AppendKey(nil, types.NewBool(true), desc))
		check("null", AppendKeyNull(nil, desc), AppendKey(nil, types.NullValue, desc))
		got, rest, err := DecodeKeyInt64(append(AppendKeyInt64(nil, i, desc), 7), desc)
		if err != nil || got != i || !bytes.Equal(rest, []byte{7}) {
			t.Fatalf("DecodeKeyInt64(%d) = %d, %x, %v", i, got, rest, err)
		}
	}
	if _, _, err := DecodeKeyInt64(AppendKeyString(nil, "x", false), false); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("DecodeKeyInt64 on a string: %v", err)
	}
}

func TestDecodeKeyCorrupt(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		desc bool
	}{
		{"empty", nil, false},
		{"unknown tag", []byte{0x42}, false},
		{"unknown tag desc", []byte{0x42}, true},
		{"short int", []byte{keyTagInt, 1, 2, 3}, false},
		{"short float", []byte{keyTagFloat, 0x80}, false},
		{"float -0", []byte{keyTagFloat, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, false},
		{"float non-canonical NaN", []byte{keyTagFloat, 0xff, 0xf8, 0, 0, 0, 0, 0, 0}, false},
		{"float non-canonical negative NaN", []byte{keyTagFloat, 0, 0, 0, 0, 0, 0, 0, 1}, false},
		{"bool no byte", []byte{keyTagBool}, false},
		{"bool 2", []byte{keyTagBool, 2}, false},
		{"bool desc 0xfd", []byte{^keyTagBool, 0xfd}, true},
		{"string unterminated", []byte{keyTagString, 'a', 'b'}, false},
		{"string lone escape", []byte{keyTagString, 'a', 0x00}, false},
		{"string bad escape", []byte{keyTagString, 'a', 0x00, 0x02, 0x00, 0x01}, false},
		{"string desc unterminated", []byte{^keyTagString, ^byte('a')}, true},
		{"string desc bad escape", []byte{^keyTagString, 0xff, 0x55}, true},
		{"short oid", []byte{keyTagOID, 1, 2, 3}, false},
		{"asc bytes read desc", AppendKeyInt64(nil, 5, false), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if v, _, err := DecodeKey(c.b, c.desc); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeKey(%x) = %s, %v; want ErrCorrupt", c.b, describe(v), err)
			}
		})
	}
}

// TestDecodeKeyTruncated checks that every proper prefix of a valid
// encoding is rejected (the encoding is self-delimiting), by both DecodeKey
// and SkipKey.
func TestDecodeKeyTruncated(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for iter := 0; iter < 2000; iter++ {
		v := randValue(r, randKind(r))
		desc := r.IntN(2) == 1
		enc := AppendKey(nil, v, desc)
		for n := 0; n < len(enc); n++ {
			if _, _, err := DecodeKey(enc[:n], desc); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeKey(%x) of %s: err %v", enc[:n], describe(v), err)
			}
			if _, err := SkipKey(enc[:n], desc); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("SkipKey(%x) of %s: err %v", enc[:n], describe(v), err)
			}
		}
	}
}

func TestDecodeKeyValuesBounds(t *testing.T) {
	enc := EncodeKeyValues(nil, []types.Value{types.NewInt(1), types.NullValue}, nil)
	if _, _, err := DecodeKeyValues(enc, 1<<40, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("huge n: %v", err)
	}
	if n := bytesAllocated(func() { _, _, _ = DecodeKeyValues(enc, 1<<20, nil) }); n > 4096 {
		t.Fatalf("n=1<<20 on a %d-byte key allocated %d bytes", len(enc), n)
	}
	if _, _, err := DecodeKeyValues(enc, -1, nil); err == nil {
		t.Fatal("negative n accepted")
	}
	if _, _, err := DecodeKeyValues(enc, 3, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("one column too many: %v", err)
	}
	vals, rest, err := DecodeKeyValues(enc, 1, nil)
	if err != nil || len(vals) != 1 || vals[0].Int != 1 || !bytes.Equal(rest, []byte{keyTagNull}) {
		t.Fatalf("prefix decode = %v, %x, %v", vals, rest, err)
	}
}

func TestEncodeKeyValuesShortDesc(t *testing.T) {
	vals := []types.Value{types.NewInt(1), types.NewInt(2)}
	got := EncodeKeyValues(nil, vals, []bool{true})
	want := AppendKeyInt64(AppendKeyInt64(nil, 1, true), 2, false)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
}

func TestInvalidValues(t *testing.T) {
	bad := []types.Value{
		{Kind: types.OID, Str: "short"},
		{Kind: types.OID, Str: "thirteen byte"},
		{Kind: types.Kind(42)},
	}
	for _, v := range bad {
		if err := CheckValue(v); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("CheckValue(%#v) = %v", v, err)
		}
		for name, encode := range map[string]func(){
			"AppendKey": func() { AppendKey(nil, v, false) },
			"EncodeRow": func() { EncodeRow(nil, 1, []types.Value{v}) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s(%#v) did not panic", name, v)
					}
				}()
				encode()
			}()
		}
	}
	r := rand.New(rand.NewPCG(13, 14))
	for range 100 {
		if v := randValue(r, randKind(r)); CheckValue(v) != nil {
			t.Fatalf("CheckValue(%s) = %v", describe(v), CheckValue(v))
		}
	}
}
