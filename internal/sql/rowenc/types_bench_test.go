package rowenc

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// typeSamples is one typical value of each kind added after the first
// five, for the encode/decode benchmarks.
var typeSamples = []struct {
	name string
	v    types.Value
}{
	{"bytea", types.NewBytes("\x00\x01\x02\x03binary\x00payload\xff\xfe")},
	{"date", types.NewDate(19876)},
	{"timestamp", types.NewTimestamp(1717171717123456)},
	{"timestamptz", types.NewTimestampTZ(1717171717123456)},
	{"numeric", types.Value{Kind: types.Numeric, Str: "-12345678901234567890.123456"}},
	{"uuid", types.NewUUID([16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8})},
	{"jsonb", types.Value{Kind: types.JSONB, Str: `{"id": 42, "name": "Ada", "tags": ["a", "b"]}`}},
	{"interval", types.NewInterval(types.IntervalParts{Months: 14, Days: 3, Micros: 4*types.MicrosPerHour + 5})},
}

func BenchmarkTypesRow(b *testing.B) {
	for _, s := range typeSamples {
		row := []types.Value{types.NewInt(1), s.v}
		b.Run(s.name+"/encode", func(b *testing.B) {
			buf := make([]byte, 0, 128)
			b.ReportAllocs()
			for b.Loop() {
				buf = EncodeRow(buf[:0], 1, row)
			}
		})
		b.Run(s.name+"/decode", func(b *testing.B) {
			enc := EncodeRow(nil, 1, row)
			dst := make([]types.Value, 0, 2)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if _, dst, err = DecodeRowAppend(dst[:0], enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTypesKey(b *testing.B) {
	for _, s := range typeSamples {
		for _, desc := range []bool{false, true} {
			name := s.name
			if desc {
				name += "-desc"
			}
			b.Run(name+"/encode", func(b *testing.B) {
				buf := make([]byte, 0, 64)
				b.ReportAllocs()
				for b.Loop() {
					buf = AppendKey(buf[:0], s.v, desc)
				}
			})
			b.Run(name+"/decode", func(b *testing.B) {
				enc := AppendKey(nil, s.v, desc)
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := DecodeKey(enc, desc); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
