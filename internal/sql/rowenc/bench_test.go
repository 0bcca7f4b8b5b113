package rowenc

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// typicalRow is a 5-column row: id, name, email, balance, active.
var typicalRow = []types.Value{
	types.NewInt(123456),
	types.NewString("Ada Lovelace"),
	types.NewString("ada@example.com"),
	types.NewFloat(1024.5),
	types.NewBool(true),
}

func BenchmarkEncodeRow(b *testing.B) {
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = EncodeRow(buf[:0], 7, typicalRow)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeRow(b *testing.B) {
	enc := EncodeRow(nil, 7, typicalRow)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeRow(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRowAppend(b *testing.B) {
	enc := EncodeRow(nil, 7, typicalRow)
	dst := make([]types.Value, 0, len(typicalRow))
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if _, dst, err = DecodeRowAppend(dst[:0], enc); err != nil {
			b.Fatal(err)
		}
	}
}

// The scan aggregate's case: one INT column of a two-INT row (the
// benchmark tool's scan table), and the balance of typicalRow.
func BenchmarkDecodeRowColumns(b *testing.B) {
	for _, c := range []struct {
		name string
		row  []types.Value
		need []bool
	}{
		{"int-of-2", []types.Value{types.NewInt(777123), types.NewInt(42)}, []bool{false, true}},
		{"float-of-5", typicalRow, []bool{false, false, false, true, false}},
	} {
		b.Run(c.name, func(b *testing.B) {
			enc := EncodeRow(nil, 7, c.row)
			dst := make([]types.Value, len(c.row))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeRowColumns(dst, enc, c.need); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var benchKeys = []struct {
	name string
	vals []types.Value
	desc []bool
}{
	{"int", []types.Value{types.NewInt(123456)}, nil},
	{"string", []types.Value{types.NewString("ada@example.com")}, nil},
	{"string-desc", []types.Value{types.NewString("ada@example.com")}, []bool{true}},
	{"composite", []types.Value{types.NewString("Lovelace"), types.NewInt(1815), types.NewFloat(1.5)}, []bool{false, true, false}},
}

func BenchmarkEncodeKey(b *testing.B) {
	for _, k := range benchKeys {
		b.Run(k.name, func(b *testing.B) {
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			for b.Loop() {
				buf = EncodeKeyValues(buf[:0], k.vals, k.desc)
			}
		})
	}
}

func BenchmarkDecodeKey(b *testing.B) {
	for _, k := range benchKeys {
		b.Run(k.name, func(b *testing.B) {
			enc := EncodeKeyValues(nil, k.vals, k.desc)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := DecodeKeyValues(enc, len(k.vals), k.desc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSkipKey(b *testing.B) {
	enc := EncodeKeyValues(nil, benchKeys[3].vals, benchKeys[3].desc)
	b.ReportAllocs()
	for b.Loop() {
		rest := enc
		for _, desc := range benchKeys[3].desc {
			var err error
			if rest, err = SkipKey(rest, desc); err != nil {
				b.Fatal(err)
			}
		}
	}
}
