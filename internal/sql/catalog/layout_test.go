package catalog_test

import (
	"reflect"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/rowenc"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// DecodeRowValueAppend gives the rows DecodeRowValue gives, one after the
// other in one slice, across current and old layouts; a corrupt row leaves
// the slice as it was.
func TestDecodeRowValueAppend(t *testing.T) {
	tbl := benchTable()
	payloads := [][]byte{
		rowenc.EncodeRow(nil, 3, []types.Value{types.NewInt(1), types.NewInt(2024), types.NewString("a")}),
		rowenc.EncodeRow(nil, 1, []types.Value{types.NewInt(2), types.NewString("dropped")}),
		rowenc.EncodeRow(nil, 2, []types.Value{types.NewInt(3), types.NewString("dropped"), types.NewInt(1999)}),
		rowenc.EncodeRow(nil, 3, []types.Value{types.NewInt(4), types.NullValue, types.NewString("d")}),
	}
	var flat, want []types.Value
	for _, p := range payloads {
		row, err := tbl.DecodeRowValue(p)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, row...)
		if flat, err = tbl.DecodeRowValueAppend(flat, p); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(flat, want) {
		t.Fatalf("appended rows %v, want %v", flat, want)
	}
	bad := rowenc.EncodeRow(nil, 3, []types.Value{types.NewInt(5)}) // one column short
	got, err := tbl.DecodeRowValueAppend(flat, bad)
	if errcode.Of(err) != errcode.Corruption || len(got) != len(flat) {
		t.Fatalf("short row: %d values, %v; want the slice unchanged and CADB0014", len(got), err)
	}
}
