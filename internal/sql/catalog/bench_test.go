package catalog_test

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/rowenc"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// benchTable is a table at version 3 whose column list changed at version
// 2 (column 3 added) and 3 (column 2 dropped).
func benchTable() *catalog.TableDesc {
	t := sampleTable(1)
	t.Indexes = nil
	t.Columns = []catalog.ColumnDesc{
		{ID: 1, Name: "id", Kind: types.Int64, NotNull: true},
		{ID: 3, Name: "year", Kind: types.Int64},
		{ID: 4, Name: "note", Kind: types.String},
	}
	t.Version = 3
	t.Layouts = []catalog.RowLayout{
		{Version: 1, ColumnIDs: []uint32{1, 2}},
		{Version: 2, ColumnIDs: []uint32{1, 2, 3}},
		{Version: 3, ColumnIDs: []uint32{1, 3, 4}},
	}
	return t
}

// The hot path: rows written at the current layout.
func BenchmarkDecodeRowValueCurrentLayout(b *testing.B) {
	t := benchTable()
	payload := rowenc.EncodeRow(nil, 3, []types.Value{types.NewInt(7), types.NewInt(2024), types.NewString("hello")})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.DecodeRowValue(payload); err != nil {
			b.Fatal(err)
		}
	}
}

// Rows written before an ADD/DROP COLUMN, mapped through the history.
func BenchmarkDecodeRowValueOldLayout(b *testing.B) {
	t := benchTable()
	payload := rowenc.EncodeRow(nil, 2, []types.Value{types.NewInt(7), types.NewString("gone"), types.NewInt(2024)})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.DecodeRowValue(payload); err != nil {
			b.Fatal(err)
		}
	}
}
