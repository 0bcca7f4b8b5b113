package catalog_test

import (
	"context"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func mustCode(t *testing.T, err error, want errcode.Code) {
	t.Helper()
	if got := errcode.Of(err); err == nil || got != want {
		t.Fatalf("got error %v (code %s), want code %s", err, got, want)
	}
}

func begin(t *testing.T, db catalog.DB) catalog.Txn {
	t.Helper()
	txn, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = txn.Rollback(context.Background()) })
	return txn
}

func TestDatabases(t *testing.T) {
	ctx := context.Background()
	db := catalogtest.NewMemDB()
	txn := begin(t, db)
	if created, err := catalog.CreateDatabase(ctx, txn, "b", false); err != nil || !created {
		t.Fatalf("create b: %v %v", created, err)
	}
	if _, err := catalog.CreateDatabase(ctx, txn, "a", false); err != nil {
		t.Fatal(err)
	}
	_, err := catalog.CreateDatabase(ctx, txn, "a", false)
	mustCode(t, err, errcode.DatabaseExists)
	if created, err := catalog.CreateDatabase(ctx, txn, "a", true); err != nil || created {
		t.Fatalf("create a if not exists: %v %v", created, err)
	}
	_, err = catalog.CreateDatabase(ctx, txn, "system", true)
	mustCode(t, err, errcode.DatabaseExists)
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	txn = begin(t, db)
	dbs, err := catalog.ListDatabases(ctx, txn)
	if err != nil {
		t.Fatal(err)
	}
	if len(dbs) != 2 || dbs[0].Name != "a" || dbs[1].Name != "b" || dbs[0].ID != 2 || dbs[1].ID != 1 {
		t.Fatalf("databases: %+v", dbs)
	}
	_, err = catalog.GetDatabase(ctx, txn, "zz")
	mustCode(t, err, errcode.UnknownDatabase)
	if dropped, err := catalog.DropDatabase(ctx, txn, "a", false, nil); err != nil || !dropped {
		t.Fatalf("drop: %v %v", dropped, err)
	}
	_, err = catalog.DropDatabase(ctx, txn, "a", false, nil)
	mustCode(t, err, errcode.UnknownDatabase)
	// Ids are never reused.
	if _, err := catalog.CreateDatabase(ctx, txn, "a", false); err != nil {
		t.Fatal(err)
	}
	a, err := catalog.GetDatabase(ctx, txn, "a")
	if err != nil || a.ID != 3 {
		t.Fatalf("recreated a: %+v %v", a, err)
	}
}

func sampleTable(dbID uint32) *catalog.TableDesc {
	return &catalog.TableDesc{
		DBID: dbID,
		Name: "robots",
		Columns: []catalog.ColumnDesc{
			{ID: 1, Name: "id", Kind: types.Int64, NotNull: true},
			{ID: 2, Name: "name", Kind: types.String, Default: "'x'"},
		},
		PrimaryKey:   catalog.IndexDesc{ID: catalog.PrimaryIndexID, Name: catalog.PrimaryIndexName, Unique: true, Columns: []catalog.IndexColumn{{ColumnID: 1}}},
		Indexes:      []catalog.IndexDesc{{ID: 2, Name: "name_idx", Columns: []catalog.IndexColumn{{ColumnID: 2, Desc: true}}}},
		NextColumnID: 3,
		NextIndexID:  3,
	}
}

func TestTables(t *testing.T) {
	ctx := context.Background()
	db := catalogtest.NewMemDB()
	txn := begin(t, db)
	if _, err := catalog.CreateDatabase(ctx, txn, "d", false); err != nil {
		t.Fatal(err)
	}
	d, err := catalog.GetDatabase(ctx, txn, "d")
	if err != nil {
		t.Fatal(err)
	}
	desc := sampleTable(d.ID)
	if err := catalog.CreateTable(ctx, txn, desc); err != nil {
		t.Fatal(err)
	}
	if desc.ID != 1 || desc.Version != 1 {
		t.Fatalf("id/version: %d %d", desc.ID, desc.Version)
	}
	mustCode(t, catalog.CreateTable(ctx, txn, sampleTable(d.ID)), errcode.TableExists)

	got, err := catalog.GetTable(ctx, txn, d.ID, "robots")
	if err != nil {
		t.Fatal(err)
	}
	if got.Columns[1].Default != "'x'" || got.Indexes[0].Columns[0].Desc != true || got.IndexColumnsText(&got.Indexes[0]) != "name DESC" {
		t.Fatalf("round trip: %+v", got)
	}
	got.Columns = append(got.Columns, catalog.ColumnDesc{ID: 3, Name: "year", Kind: types.Int64})
	if err := catalog.UpdateTable(ctx, txn, got); err != nil {
		t.Fatal(err)
	}
	again, err := catalog.GetTable(ctx, txn, d.ID, "robots")
	if err != nil || again.Version != 2 || len(again.Columns) != 3 {
		t.Fatalf("after update: %+v %v", again, err)
	}
	_, err = catalog.GetTable(ctx, txn, d.ID, "nope")
	mustCode(t, err, errcode.UnknownTable)
	if err := catalog.DropTable(ctx, txn, again); err != nil {
		t.Fatal(err)
	}
	tables, err := catalog.ListTables(ctx, txn, d.ID)
	if err != nil || len(tables) != 0 {
		t.Fatalf("tables after drop: %v %v", tables, err)
	}
	second := sampleTable(d.ID)
	if err := catalog.CreateTable(ctx, txn, second); err != nil || second.ID != 2 {
		t.Fatalf("recreate: id %d err %v", second.ID, err)
	}
}

func TestValidate(t *testing.T) {
	for name, mutate := range map[string]func(*catalog.TableDesc){
		"dup column":     func(d *catalog.TableDesc) { d.Columns[1].Name = "id" },
		"reserved name":  func(d *catalog.TableDesc) { d.Columns[1].Name = "~x" },
		"unknown pk col": func(d *catalog.TableDesc) { d.PrimaryKey.Columns[0].ColumnID = 9 },
		"empty pk":       func(d *catalog.TableDesc) { d.PrimaryKey.Columns = nil },
		"dup index":      func(d *catalog.TableDesc) { d.Indexes = append(d.Indexes, d.Indexes[0]) },
		"bad kind":       func(d *catalog.TableDesc) { d.Columns[0].Kind = types.Null },
		"no columns":     func(d *catalog.TableDesc) { d.Columns = nil },
	} {
		d := sampleTable(1)
		mutate(d)
		if err := d.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := sampleTable(1).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptDescriptor(t *testing.T) {
	ctx := context.Background()
	db := catalogtest.NewMemDB()
	txn := begin(t, db)
	if err := txn.Put([]byte("sdbroken"), []byte{1, '{'}); err != nil {
		t.Fatal(err)
	}
	if err := txn.Put([]byte("sdother"), []byte{9}); err != nil {
		t.Fatal(err)
	}
	_, err := catalog.GetDatabase(ctx, txn, "broken")
	mustCode(t, err, errcode.Corruption)
	_, err = catalog.GetDatabase(ctx, txn, "other")
	mustCode(t, err, errcode.Corruption)
	_, err = catalog.ListDatabases(ctx, txn)
	mustCode(t, err, errcode.Corruption)
}

func TestClone(t *testing.T) {
	d := sampleTable(1)
	c := d.Clone()
	c.Columns[0].Name = "changed"
	c.Indexes[0].Columns[0].Desc = false
	c.PrimaryKey.Columns[0].ColumnID = 7
	if d.Columns[0].Name != "id" || !d.Indexes[0].Columns[0].Desc || d.PrimaryKey.Columns[0].ColumnID != 1 {
		t.Fatal("Clone shares memory with the original")
	}
}

func TestDecodeCacheReturnsPrivateCopies(t *testing.T) {
	ctx := context.Background()
	db := catalogtest.NewMemDB()
	txn := begin(t, db)
	if _, err := catalog.CreateDatabase(ctx, txn, "d", false); err != nil {
		t.Fatal(err)
	}
	if err := catalog.CreateTable(ctx, txn, sampleTable(1)); err != nil {
		t.Fatal(err)
	}
	cache := catalog.NewDecodeCache(2)
	first, err := cache.GetTable(ctx, txn, 1, "robots")
	if err != nil {
		t.Fatal(err)
	}
	first.Columns[0].Name = "mutated"
	first.Indexes[0].Name = "mutated"
	second, err := cache.GetTable(ctx, txn, 1, "robots")
	if err != nil {
		t.Fatal(err)
	}
	if second.Columns[0].Name != "id" || second.Indexes[0].Name != "name_idx" {
		t.Fatal("a caller's change leaked into the cache")
	}
	// A changed descriptor is decoded afresh.
	second.Version = 41
	if err := catalog.UpdateTable(ctx, txn, second); err != nil {
		t.Fatal(err)
	}
	third, err := cache.GetTable(ctx, txn, 1, "robots")
	if err != nil || third.Version != 42 {
		t.Fatalf("after update: version %d, %v", third.Version, err)
	}
	_, err = cache.GetTable(ctx, txn, 1, "nope")
	mustCode(t, err, errcode.UnknownTable)
	d, err := cache.GetDatabase(ctx, txn, "d")
	if err != nil || d.ID != 1 {
		t.Fatalf("database: %+v %v", d, err)
	}
}

func TestValidateDatabaseName(t *testing.T) {
	for _, ok := range []string{"db", "_x", "shop_2024", "café"} {
		if err := catalog.ValidateDatabaseName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "my db", "a-b", "1abc", "a.b", "a`b", "x;drop", "~sys"} {
		if err := catalog.ValidateDatabaseName(bad); errcode.Of(err) != errcode.InvalidInput {
			t.Errorf("%q: want CADB0400, got %v", bad, err)
		}
	}
}
