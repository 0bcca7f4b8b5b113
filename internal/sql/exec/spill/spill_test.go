package spill

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

func sampleRows() [][]types.Value {
	return [][]types.Value{
		{types.NewInt(1), types.NewString("a"), types.NullValue},
		{types.NewInt(-1 << 63), types.NewFloat(math.Inf(-1)), types.NewBool(true), types.NewBool(false)},
		{types.NewString(""), types.NewFloat(-0.5), types.Value{Kind: types.OID, Str: "0123456789ab"}},
		{},
	}
}

func TestRunRoundTrip(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "sql-temp")
	s := NewStore(parent)
	w, err := s.Create(4096)
	if err != nil {
		t.Fatal(err)
	}
	rows := sampleRows()
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	run, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	// A run can be read twice (a nested loop re-reads its inner side).
	for range 2 {
		rd := run.Open(4096)
		for i, want := range rows {
			got, err := rd.Next()
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 && len(got) == 0 {
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("row %d = %v, want %v", i, got, want)
			}
		}
		if got, err := rd.Next(); got != nil || err != nil {
			t.Fatalf("after the last row: %v, %v", got, err)
		}
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Fatalf("want one statement directory, got %v", entries)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("Close left %v", entries)
	}
}

func TestResetDirRemovesLeftovers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sql-temp")
	if err := os.MkdirAll(filepath.Join(dir, "query-1"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "query-1", "run-1"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ResetDir(dir); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("after ResetDir: %v, %v", entries, err)
	}
}

func TestDecodeRejectsCorruption(t *testing.T) {
	good := AppendRow(nil, []types.Value{types.NewString("hello"), types.NewInt(7)})
	for name, buf := range map[string][]byte{
		"empty":        {},
		"truncated":    good[:len(good)-1],
		"trailing":     append(append([]byte{}, good...), 0),
		"unknown kind": {1, 99},
		"bad bool":     {1, byte(types.Bool), 2},
		"long string":  {1, byte(types.String), 100, 'a'},
		"huge count":   {0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if _, err := DecodeRow(buf); err == nil {
			t.Errorf("%s: decoded %x", name, buf)
		}
	}
	rd := NewReader(bytes.NewReader([]byte{5, 1, 2}))
	if _, err := rd.Next(); err == nil {
		t.Error("a truncated record read without error")
	}
	// A damaged length near the limit (found by the fuzzer: it made the
	// reader allocate 1 GB) fails on the missing bytes, cheaply.
	rd = NewReader(bytes.NewReader([]byte("\xed\xed\xed\xe8\x03\x00\x00\xed\xed\xdc")))
	if _, err := rd.Next(); err == nil {
		t.Error("a record with a huge length read without error")
	}
	// A large record that is all there reads back.
	long := AppendRow(nil, []types.Value{types.NewString(strings.Repeat("x", 200<<10))})
	framed := append(binary.AppendUvarint(nil, uint64(len(long))), long...)
	if row, err := NewReader(bytes.NewReader(framed)).Next(); err != nil || len(row) != 1 || len(row[0].Str) != 200<<10 {
		t.Errorf("a 200 KiB record: %v", err)
	}
}

// FuzzDecodeRow: no input panics the decoder, and whatever decodes
// re-encodes to the same bytes.
func FuzzDecodeRow(f *testing.F) {
	for _, r := range sampleRows() {
		f.Add(AppendRow(nil, r))
	}
	f.Add([]byte{1, 99})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, buf []byte) {
		row, err := DecodeRow(buf)
		if err == nil {
			if again := AppendRow(nil, row); !bytes.Equal(again, buf) {
				// Varints have one canonical form only when minimal; accept
				// a different encoding that decodes to the same row.
				row2, err := DecodeRow(again)
				if err != nil || !reflect.DeepEqual(row, row2) {
					t.Fatalf("%x decodes to %v which re-encodes to %x (%v)", buf, row, again, err)
				}
			}
		}
		// The framed reader must not panic either.
		rd := NewReader(bytes.NewReader(buf))
		for range 4 {
			if r, err := rd.Next(); err != nil || r == nil {
				break
			}
		}
	})
}
