package catalog_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/rowenc"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func schemaVersion(t *testing.T, kv catalog.KV, dbID uint32) uint64 {
	t.Helper()
	v, err := catalog.SchemaVersion(context.Background(), kv, dbID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Rows written before an ADD or DROP COLUMN decode through the layout
// history without being rewritten.
func TestDecodeThroughLayoutHistory(t *testing.T) {
	ctx := context.Background()
	txn := begin(t, catalogtest.NewMemDB())
	if _, err := catalog.CreateDatabase(ctx, txn, "d", false); err != nil {
		t.Fatal(err)
	}
	desc := sampleTable(1) // id, name
	if err := catalog.CreateTable(ctx, txn, desc); err != nil {
		t.Fatal(err)
	}
	v1 := desc.EncodeRowValue([]types.Value{types.NewInt(1), types.NewString("a")})

	// v2: ADD COLUMN year.
	desc.Columns = append(desc.Columns, catalog.ColumnDesc{ID: 3, Name: "year", Kind: types.Int64})
	desc.NextColumnID = 4
	if err := catalog.UpdateTable(ctx, txn, desc); err != nil {
		t.Fatal(err)
	}
	v2 := desc.EncodeRowValue([]types.Value{types.NewInt(2), types.NewString("b"), types.NewInt(1999)})

	// v3: a change that keeps the column list records no new layout.
	desc.Indexes = nil
	if err := catalog.UpdateTable(ctx, txn, desc); err != nil {
		t.Fatal(err)
	}
	if len(desc.Layouts) != 2 {
		t.Fatalf("layouts after index-only change: %+v", desc.Layouts)
	}

	// v4: DROP COLUMN name, then ADD COLUMN name again (a new column id).
	desc.Columns = slices.Delete(desc.Columns, 1, 2)
	if err := catalog.UpdateTable(ctx, txn, desc); err != nil {
		t.Fatal(err)
	}
	desc.Columns = append(desc.Columns, catalog.ColumnDesc{ID: 4, Name: "name", Kind: types.String})
	desc.NextColumnID = 5
	if err := catalog.UpdateTable(ctx, txn, desc); err != nil {
		t.Fatal(err)
	}
	v5 := desc.EncodeRowValue([]types.Value{types.NewInt(5), types.NewInt(2024), types.NewString("e")})

	stored, err := catalog.GetTable(ctx, txn, 1, "robots")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Version != 5 || len(stored.Layouts) != 4 {
		t.Fatalf("stored: version %d layouts %+v", stored.Version, stored.Layouts)
	}
	for _, tc := range []struct {
		payload []byte
		want    string
	}{
		// The dropped column's value never resurfaces under the new column.
		{v1, "[1 NULL NULL]"},
		{v2, "[2 1999 NULL]"},
		{v5, "[5 2024 e]"},
	} {
		row, err := stored.DecodeRowValue(tc.payload)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatRow(row); got != tc.want {
			t.Errorf("decoded %s, want %s", got, tc.want)
		}
	}

	// A payload that does not fit its layout, or predates the history, is corruption.
	bad := rowenc.EncodeRow(nil, 2, []types.Value{types.NewInt(1)})
	_, err = stored.DecodeRowValue(bad)
	mustCode(t, err, errcode.Corruption)
	bad = rowenc.EncodeRow(nil, 5, []types.Value{types.NewInt(1)})
	_, err = stored.DecodeRowValue(bad)
	mustCode(t, err, errcode.Corruption)
	stored.Layouts = stored.Layouts[1:]
	_, err = stored.DecodeRowValue(v1)
	mustCode(t, err, errcode.Corruption)
}

func formatRow(row []types.Value) string {
	s := "["
	for i, v := range row {
		if i > 0 {
			s += " "
		}
		s += v.String()
	}
	return s + "]"
}

// Descriptors stored before the layout history existed decode as one
// layout from version 0.
func TestLegacyDescriptorWithoutLayouts(t *testing.T) {
	ctx := context.Background()
	txn := begin(t, catalogtest.NewMemDB())
	if _, err := catalog.CreateDatabase(ctx, txn, "d", false); err != nil {
		t.Fatal(err)
	}
	legacy := sampleTable(1)
	legacy.ID, legacy.Version = 1, 3
	body, err := json.Marshal(legacy)
	if err != nil {
		t.Fatal(err)
	}
	key := append(append([]byte{kvpb.SystemTag, 't'}, 0, 0, 0, 1), "robots"...)
	if err := txn.Put(key, append([]byte{1}, body...)); err != nil {
		t.Fatal(err)
	}
	got, err := catalog.GetTable(ctx, txn, 1, "robots")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Layouts) != 1 || got.Layouts[0].Version != 0 || !slices.Equal(got.Layouts[0].ColumnIDs, []uint32{1, 2}) {
		t.Fatalf("layouts: %+v", got.Layouts)
	}
	row, err := got.DecodeRowValue(rowenc.EncodeRow(nil, 2, []types.Value{types.NewInt(7), types.NewString("x")}))
	if err != nil || formatRow(row) != "[7 x]" {
		t.Fatalf("legacy row: %v %v", row, err)
	}
	// The first layout change keeps the legacy layout for old rows.
	got.Columns = append(got.Columns, catalog.ColumnDesc{ID: 3, Name: "year", Kind: types.Int64})
	got.NextColumnID = 4
	if err := catalog.UpdateTable(ctx, txn, got); err != nil {
		t.Fatal(err)
	}
	row, err = got.DecodeRowValue(rowenc.EncodeRow(nil, 2, []types.Value{types.NewInt(7), types.NewString("x")}))
	if err != nil || formatRow(row) != "[7 x NULL]" {
		t.Fatalf("legacy row after ADD COLUMN: %v %v", row, err)
	}
}

func TestSchemaVersionsAndRenames(t *testing.T) {
	ctx := context.Background()
	txn := begin(t, catalogtest.NewMemDB())
	if _, err := catalog.CreateDatabase(ctx, txn, "d", false); err != nil {
		t.Fatal(err)
	}
	if v := schemaVersion(t, txn, 1); v != 0 {
		t.Fatalf("fresh database schema version %d", v)
	}
	desc := sampleTable(1)
	if err := catalog.CreateTable(ctx, txn, desc); err != nil {
		t.Fatal(err)
	}
	if v := schemaVersion(t, txn, 1); v != 1 || desc.SchemaVersion != 1 {
		t.Fatalf("after CREATE TABLE: db %d table %d", v, desc.SchemaVersion)
	}
	if err := catalog.RenameTable(ctx, txn, desc, "droids"); err != nil {
		t.Fatal(err)
	}
	if v := schemaVersion(t, txn, 1); v != 2 || desc.Version != 2 || desc.SchemaVersion != 2 {
		t.Fatalf("after RENAME: db %d table %d/%d", v, desc.Version, desc.SchemaVersion)
	}
	if old, _ := catalog.LookupTable(ctx, txn, 1, "robots"); old != nil {
		t.Fatal("old name still resolves")
	}
	renamed, err := catalog.GetTable(ctx, txn, 1, "droids")
	if err != nil || renamed.ID != desc.ID {
		t.Fatalf("renamed: %+v %v", renamed, err)
	}
	other := sampleTable(1)
	if err := catalog.CreateTable(ctx, txn, other); err != nil {
		t.Fatal(err)
	}
	mustCode(t, catalog.RenameTable(ctx, txn, other, "droids"), errcode.TableExists)
	mustCode(t, catalog.RenameTable(ctx, txn, other, "~x"), errcode.InvalidInput)

	// Databases: rename keeps the id; reserved and taken names are refused.
	if _, err := catalog.CreateDatabase(ctx, txn, "e", false); err != nil {
		t.Fatal(err)
	}
	mustCode(t, catalog.RenameDatabase(ctx, txn, "d", "e"), errcode.DatabaseExists)
	mustCode(t, catalog.RenameDatabase(ctx, txn, "d", "system"), errcode.DatabaseExists)
	mustCode(t, catalog.RenameDatabase(ctx, txn, "system", "x"), errcode.DatabaseExists)
	mustCode(t, catalog.RenameDatabase(ctx, txn, "nope", "x"), errcode.UnknownDatabase)
	before := schemaVersion(t, txn, 1)
	if err := catalog.RenameDatabase(ctx, txn, "d", "f"); err != nil {
		t.Fatal(err)
	}
	f, err := catalog.GetDatabase(ctx, txn, "f")
	if err != nil || f.ID != 1 {
		t.Fatalf("renamed database: %+v %v", f, err)
	}
	_, err = catalog.GetDatabase(ctx, txn, "d")
	mustCode(t, err, errcode.UnknownDatabase)
	if v := schemaVersion(t, txn, 1); v != before+1 {
		t.Fatalf("RENAME DATABASE did not bump the schema version: %d -> %d", before, v)
	}
	tables, err := catalog.ListTables(ctx, txn, f.ID)
	if err != nil || len(tables) != 2 {
		t.Fatalf("tables follow the database id: %v %v", tables, err)
	}
}

func countPrefix(t *testing.T, kv catalog.KV, prefix []byte) int {
	t.Helper()
	it := kv.Scan(context.Background(), prefix, kvpb.PrefixEnd(prefix), false)
	defer it.Close()
	n := 0
	for it.Next(context.Background()) {
		n++
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDropDeletesData(t *testing.T) {
	ctx := context.Background()
	db := catalogtest.NewMemDB()
	txn := begin(t, db)
	if _, err := catalog.CreateDatabase(ctx, txn, "d", false); err != nil {
		t.Fatal(err)
	}
	keep, drop := sampleTable(1), sampleTable(1)
	drop.Name = "doomed"
	for _, desc := range []*catalog.TableDesc{keep, drop} {
		if err := catalog.CreateTable(ctx, txn, desc); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			row := []types.Value{types.NewInt(int64(i)), types.NewString("n")}
			pk := desc.EncodePK(row)
			if err := txn.Put(desc.RowKey(pk), desc.EncodeRowValue(row)); err != nil {
				t.Fatal(err)
			}
			k, v := desc.IndexEntry(&desc.Indexes[0], row, pk)
			if err := txn.Put(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := catalog.DropTable(ctx, txn, drop); err != nil {
		t.Fatal(err)
	}
	if n := countPrefix(t, txn, drop.RowPrefix()) + countPrefix(t, txn, drop.IndexPrefix(&drop.Indexes[0])); n != 0 {
		t.Fatalf("%d keys of the dropped table remain", n)
	}
	if n := countPrefix(t, txn, keep.RowPrefix()); n != 3 {
		t.Fatalf("other table has %d rows, want 3", n)
	}
	if err := catalog.ClearIndexData(ctx, txn, keep, &keep.PrimaryKey); errcode.Of(err) != errcode.Internal {
		t.Fatalf("clearing the primary index: %v", err)
	}
	if _, err := catalog.DropDatabase(ctx, txn, "d", false, nil); err != nil {
		t.Fatal(err)
	}
	if n := countPrefix(t, txn, keep.RowPrefix()) + countPrefix(t, txn, keep.IndexPrefix(&keep.Indexes[0])); n != 0 {
		t.Fatalf("%d keys of the dropped database remain", n)
	}
	if v := schemaVersion(t, txn, 1); v != 0 {
		t.Fatalf("schema version of a dropped database: %d", v)
	}
}
