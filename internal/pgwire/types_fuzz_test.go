package pgwire

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// typeOIDs are the parameter type OIDs with a decoder.
var typeOIDs = []uint32{oidBool, oidBytea, oidInt8, oidInt2, oidInt4, oidText, oidFloat4, oidFloat8,
	oidVarchar, oidBPChar, oidDate, oidTimestamp, oidTimestampTZ, oidInterval, oidNumeric}

// FuzzDecodeParam feeds arbitrary bytes as a text and a binary parameter
// of every type: decoding never panics, fails with a coded error, and a
// decoded date/time/bytea value encodes back to the same binary bytes.
func FuzzDecodeParam(f *testing.F) {
	for _, s := range []string{"", "\x00\x00\x00\x01", "\x00\x00\x00\x00\x00\x00\x00\x01", `\x0102`, "2024-02-29",
		"2024-02-29 13:14:15.5+01", "1 year 2 mons -00:00:01", "\x7f\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x01\x00\x00\x00\x02"} {
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
		if err != nil || string(out) != string(raw) {
			t.Fatalf("oid %d: %x decodes to %v, which encodes as %x (%v)", oid, raw, v, out, err)
		}
	})
}
