package rowenc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

func randRow(r *rand.Rand) []types.Value {
	row := make([]types.Value, r.IntN(10))
	for i := range row {
		row[i] = randValue(r, randKind(r))
	}
	return row
}

func TestRowRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for iter := 0; iter < 5000; iter++ {
		row := randRow(r)
		version := r.Uint32()
		enc := EncodeRow([]byte("pre"), version, row)[len("pre"):]
		input := bytes.Clone(enc)
		gotVersion, got, err := DecodeRow(input)
		if err != nil {
			t.Fatalf("DecodeRow(%x): %v", enc, err)
		}
		if gotVersion != version || len(got) != len(row) {
			t.Fatalf("version %d, %d columns; want %d, %d", gotVersion, len(got), version, len(row))
		}
		clear(input) // decoded values must not alias the input
		for i := range row {
			// Row payloads keep exact float bits, -0 and NaN payloads included.
			if !identical(got[i], row[i]) {
				t.Fatalf("column %d: %s, want %s", i, describe(got[i]), describe(row[i]))
			}
		}
		if v, err := RowSchemaVersion(enc); err != nil || v != version {
			t.Fatalf("RowSchemaVersion = %d, %v", v, err)
		}
		// Re-encoding the decoded row reproduces the bytes.
		if again := EncodeRow(nil, gotVersion, got); !bytes.Equal(again, enc) {
			t.Fatalf("re-encoded %x, want %x", again, enc)
		}
	}
}

func TestRowTruncatedAndTrailing(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for iter := 0; iter < 1000; iter++ {
		enc := EncodeRow(nil, r.Uint32(), randRow(r))
		for n := 0; n < len(enc); n++ {
			if _, _, err := DecodeRow(enc[:n]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeRow(%x), a prefix of %x: %v", enc[:n], enc, err)
			}
		}
		if _, _, err := DecodeRow(append(bytes.Clone(enc), 0)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("trailing byte accepted: %v", err)
		}
	}
}

func TestRowCorrupt(t *testing.T) {
	header := func(version, count uint64) []byte {
		return binary.AppendUvarint(binary.AppendUvarint(nil, version), count)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version only", header(1, 0)[:1]},
		{"version over 32 bits", header(math.MaxUint32+1, 0)},
		{"version non-minimal", []byte{0x81, 0x00, 0x00}},
		{"version overflow", bytes.Repeat([]byte{0xff}, 11)},
		{"count exceeds bytes", header(1, 3)},
		{"huge count", header(1, math.MaxUint64)},
		{"unknown tag", cat(header(1, 1), []byte{9})},
		{"bool 2", cat(header(1, 1), []byte{rowTagBool, 2})},
		{"int non-minimal", cat(header(1, 1), []byte{rowTagInt, 0x80, 0x00})},
		{"int truncated", cat(header(1, 1), []byte{rowTagInt, 0x80})},
		{"float truncated", cat(header(1, 1), []byte{rowTagFloat, 1, 2, 3})},
		{"string length past end", cat(header(1, 1), []byte{rowTagString, 5, 'a'})},
		{"string huge length", cat(header(1, 1), []byte{rowTagString}, binary.AppendUvarint(nil, 1<<62))},
		{"oid truncated", cat(header(1, 1), []byte{rowTagOID, 1, 2})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, vals, err := DecodeRow(c.b); !errors.Is(err, ErrCorrupt) || vals != nil {
				t.Fatalf("DecodeRow(%x) = %v, %v; want ErrCorrupt", c.b, vals, err)
			}
		})
	}
}

// TestRowBogusLengthsAllocateLittle checks that length fields claiming far
// more data than the payload holds are rejected before allocating.
func TestRowBogusLengthsAllocateLittle(t *testing.T) {
	bogus := [][]byte{
		binary.AppendUvarint([]byte{1}, 1<<40),
		append([]byte{1, 1, rowTagString}, binary.AppendUvarint(nil, 1<<40)...),
	}
	for _, b := range bogus {
		if n := bytesAllocated(func() { _, _, _ = DecodeRow(b) }); n > 4096 {
			t.Errorf("DecodeRow(%x) allocated %d bytes", b, n)
		}
	}
}

func TestDecodeRowAppendReuse(t *testing.T) {
	row1 := []types.Value{types.NewInt(1), types.NewString("a")}
	row2 := []types.Value{types.NewBool(true)}
	dst := []types.Value{types.NewInt(99)}
	_, dst, err := DecodeRowAppend(dst, EncodeRow(nil, 3, row1))
	if err != nil || len(dst) != 3 || dst[0].Int != 99 || dst[2].Str != "a" {
		t.Fatalf("append: %v, %v", dst, err)
	}
	_, dst, err = DecodeRowAppend(dst[:0], EncodeRow(nil, 3, row2))
	if err != nil || len(dst) != 1 || !dst[0].Bool {
		t.Fatalf("reuse: %v, %v", dst, err)
	}
	// On error dst keeps its length.
	_, dst, err = DecodeRowAppend(dst, []byte{1, 2, rowTagNull, 9})
	if !errors.Is(err, ErrCorrupt) || len(dst) != 1 {
		t.Fatalf("error: %v, %v", dst, err)
	}
}

func TestDecodeRowAllocations(t *testing.T) {
	enc := EncodeRow(nil, 1, typicalRow)
	dst := make([]types.Value, 0, len(typicalRow))
	allocs := testing.AllocsPerRun(100, func() {
		_, _, err := DecodeRowAppend(dst[:0], enc)
		if err != nil {
			t.Fatal(err)
		}
	})
	// One shared copy of the payload for both strings.
	if allocs != 1 {
		t.Fatalf("DecodeRowAppend with a reused slice: %v allocations, want 1", allocs)
	}
}
