package rowenc

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// Run one with, e.g.: go test ./internal/sql/rowenc -run '^$' -fuzz FuzzDecodeKey -fuzztime 30s
// Crashers land in testdata/fuzz/<Name>/ and become regression seeds.

func FuzzDecodeKey(f *testing.F) {
	for _, v := range []types.Value{
		types.NullValue, types.NewInt(-1), types.NewFloat(math.Inf(-1)), types.NewFloat(math.NaN()),
		types.NewBool(true), types.NewString("a\x00b"), types.NewOID([12]byte{1, 2, 3}),
		types.NewBytes("\x00\xff\x01"), types.NewDate(-1), types.NewTimestamp(1), types.NewTimestampTZ(math.MinInt64),
		types.NewInterval(types.IntervalParts{Months: -1, Days: 30, Micros: math.MinInt64}),
		types.NumericFromInt(-120), types.NewUUID([16]byte{1, 0xff}), {Kind: types.JSONB, Str: `{"a": [1, "x"]}`}, {Kind: types.Numeric, Str: "0.00"}, {Kind: types.Numeric, Str: "12.3450"},
	} {
		f.Add(AppendKey(nil, v, false), false)
		f.Add(AppendKey(nil, v, true), true)
	}
	f.Add([]byte{keyTagString, 0x00, 0x02}, false)
	f.Fuzz(func(t *testing.T, data []byte, desc bool) {
		v, rest, err := DecodeKey(data, desc)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		consumed := data[:len(data)-len(rest)]
		if again := AppendKey(nil, v, desc); !bytes.Equal(again, consumed) {
			t.Fatalf("decoded %s from %x, which re-encodes as %x", describe(v), consumed, again)
		}
		skipped, err := SkipKey(data, desc)
		if err != nil || len(skipped) != len(rest) {
			t.Fatalf("SkipKey disagrees with DecodeKey: rest %x, %v; want %x", skipped, err, rest)
		}
	})
}

func FuzzDecodeRow(f *testing.F) {
	f.Add(EncodeRow(nil, 1, typicalRow))
	f.Add(EncodeRow(nil, math.MaxUint32, []types.Value{types.NullValue, types.NewOID([12]byte{9}), types.NewFloat(math.Copysign(0, -1))}))
	f.Add([]byte{0x01, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(EncodeRow(nil, 3, []types.Value{types.NewBytes("\x00\x01\xfe")}))
	f.Add(EncodeRow(nil, 4, []types.Value{types.NewDate(19000), types.NewTimestamp(-5), types.NewTimestampTZ(7),
		types.NewInterval(types.IntervalParts{Months: 14, Days: -3, Micros: 1}), {Kind: types.Numeric, Str: "-0.5"}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, n := range []int{1, 3} { // never panics, whatever the row
			_, _ = DecodeRowColumns(make([]types.Value, n), data, make([]bool, n))
		}
		version, vals, err := DecodeRow(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if again := EncodeRow(nil, version, vals); !bytes.Equal(again, data) {
			t.Fatalf("decoded %v from %x, which re-encodes as %x", vals, data, again)
		}
		// Decoding some columns gives those columns of the full decode.
		for _, every := range []int{1, 2} {
			need := make([]bool, len(vals))
			for i := range need {
				need[i] = i%every == 0
			}
			got := make([]types.Value, len(vals))
			v, err := DecodeRowColumns(got, data, need)
			if err != nil || v != version {
				t.Fatalf("DecodeRowColumns(%x): version %d, %v", data, v, err)
			}
			for i := range got {
				same := bytes.Equal(EncodeRow(nil, 0, got[i:i+1]), EncodeRow(nil, 0, vals[i:i+1])) // NaN too
				if need[i] && !same || !need[i] && got[i] != (types.Value{}) {
					t.Fatalf("DecodeRowColumns(%x) column %d = %v, want %v", data, i, got[i], vals[i])
				}
			}
		}
	})
}

// fuzzValue builds a value of one of the kinds from fuzz inputs.
func fuzzValue(kind uint8, isNull bool, i int64, fl float64, s string) types.Value {
	if isNull {
		return types.NullValue
	}
	switch allKinds[int(kind)%len(allKinds)] {
	case types.Int64:
		return types.NewInt(i)
	case types.Float64:
		return types.NewFloat(fl)
	case types.Bool:
		return types.NewBool(i&1 == 1)
	case types.String:
		return types.NewString(s)
	}
	var raw [types.OIDLen]byte
	copy(raw[:], s)
	return types.NewOID(raw)
}

func FuzzKeyOrder(f *testing.F) {
	f.Add(uint8(0), false, false, int64(1), int64(2), 0.0, -0.0, "a", "a\x00", false)
	f.Add(uint8(1), false, true, int64(-1), int64(0), math.Inf(1), math.NaN(), "", "\xff", true)
	f.Add(uint8(2), true, false, int64(math.MinInt64), int64(math.MaxInt64), -1.5, 1.5, "ab", "a", false)
	f.Add(uint8(4), false, false, int64(0), int64(0), math.Copysign(0, -1), 0.0, "x", "x", true)
	f.Fuzz(func(t *testing.T, kind uint8, nullA, nullB bool, i1, i2 int64, f1, f2 float64, s1, s2 string, desc bool) {
		a := fuzzValue(kind, nullA, i1, f1, s1)
		b := fuzzValue(kind, nullB, i2, f2, s2)
		want := sign(sqlCompare(a, b))
		if desc {
			want = -want
		}
		// A second column after each value: if the first columns are not
		// self-delimiting it would leak into the comparison.
		ea := AppendKeyString(AppendKey(nil, a, desc), s2, false)
		eb := AppendKeyString(AppendKey(nil, b, desc), s1, false)
		got := sign(bytes.Compare(ea, eb))
		if want != 0 && got != want {
			t.Fatalf("%s vs %s (desc=%v): bytes compare %d, want %d", describe(a), describe(b), desc, got, want)
		}
		if want == 0 && got != sign(bytes.Compare([]byte(s2), []byte(s1))) {
			t.Fatalf("%s == %s (desc=%v) but encodings differ: %x vs %x", describe(a), describe(b), desc, ea, eb)
		}
		for _, c := range []struct {
			v   types.Value
			enc []byte
		}{{a, ea}, {b, eb}} {
			vals, rest, err := DecodeKeyValues(c.enc, 2, []bool{desc, false})
			if err != nil || len(rest) != 0 || !keyEqual(vals[0], c.v) {
				t.Fatalf("round trip of %s: %v, rest %x, %v", describe(c.v), vals, rest, err)
			}
		}
	})
}
