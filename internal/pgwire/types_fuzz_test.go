package pgwire

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// typeOIDs are the parameter type OIDs with a decoder.
var typeOIDs = []uint32{oidBool, oidBytea, oidInt8, oidInt2, oidInt4, oidText, oidFloat4, oidFloat8,
	oidVarchar, oidBPChar, oidDate, oidTimestamp, oidTimestampTZ, oidInterval, oidNumeric, oidUUID, oidJSON, oidJSONB}

// FuzzDecodeParam feeds arbitrary bytes as a text and a binary parameter
// of every type: decoding never panics, fails with a coded error, and a
// decoded date/time/bytea value encodes back to the same binary bytes.
func FuzzDecodeParam(f *testing.F) {
	for _, s := range []string{"", "\x00\x00\x00\x01", "\x00\x00\x00\x00\x00\x00\x00\x01", `\x0102`, "2024-02-29",
		"2024-02-29 13:14:15.5+01", "1 year 2 mons -00:00:01", "\x7f\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x01\x00\x00\x00\x02",
		"\x00\x02\x00\x00\x40\x00\x00\x05\x00\x01\x13\x88", "-12.50"} {
		for i := range typeOIDs {
			f.Add(uint8(i), true, []byte(s))
			f.Add(uint8(i), false, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, binary bool, raw []byte) {
		oid := typeOIDs[int(which)%len(typeOIDs)]
		format := formatText
		if binary {
			format = formatBinary
		}
		ps, err := decodeParams([]uint32{oid}, []int16{format}, [][]byte{raw})
		if err != nil {
			if errcode.Of(err) == errcode.Internal {
				t.Fatalf("oid %d %x: uncoded error %v", oid, raw, err)
			}
			return
		}
		v := ps.values["1"]
		if !binary || v.Kind < types.Bytes {
			return
		}
		out, err := appendValue(nil, v.Kind, formatBinary, v, 1)
		if v.Kind == types.Numeric || v.Kind == types.JSONB {
			// Binary numerics have several spellings; ours reads back.
			again, err2 := decodeBinary(types.T{Kind: v.Kind}.PG().OID, out)
			if err != nil || err2 != nil || again != v {
				t.Fatalf("numeric %q encodes as %x, which decodes to %q (%v %v)", v.Str, out, again.Str, err, err2)
			}
			return
		}
		if err != nil || string(out) != string(raw) {
			t.Fatalf("oid %d: %x decodes to %v, which encodes as %x (%v)", oid, raw, v, out, err)
		}
	})
}

func TestNumericBinary(t *testing.T) {
	for _, s := range []string{"0", "0.00", "1", "-1.5", "10000", "12345.6789", "0.00001", "-99999999.000000001", "100000000"} {
		v, err := types.ParseNumeric(s)
		if err != nil {
			t.Fatal(err)
		}
		b := appendNumericBinary(nil, v.Str)
		got, err := decodeNumericBinary(b)
		if err != nil || got != v {
			t.Errorf("%s → %x → %q %v", s, b, got.Str, err)
		}
	}
	// 1.5 as PostgreSQL writes it: ndigits 2, weight 0, dscale 1, 1 5000.
	got, err := decodeNumericBinary([]byte{0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88})
	if err != nil || got.Str != "1.5" {
		t.Errorf("PostgreSQL's 1.5: %q %v", got.Str, err)
	}
	if b := appendNumericBinary(nil, "1.5"); string(b) != string([]byte{0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88}) {
		t.Errorf("1.5 encodes as %x", b)
	}
	for _, bad := range [][]byte{{0, 1}, {0, 1, 0, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0xC0, 0, 0, 0, 0, 1}, {0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10}} {
		if _, err := decodeNumericBinary(bad); err == nil || errcode.Of(err) == errcode.Internal {
			t.Errorf("%x: %v", bad, err)
		}
	}
}
