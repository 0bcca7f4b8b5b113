package catalog

import (
	"context"
	"encoding/binary"
	"slices"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Schema versions. Every DDL statement that changes a database's tables
// (create, alter, rename, drop) increments the database's schema version,
// stored under
//
//	's' 'v' dbID(u32)            -> u64            (database schema version)
//
// and stamps it into the table descriptors it writes (SchemaVersion), next
// to the per-table Version. The key is read and written only by DDL, so
// DDL statements on one database are serialised by it (they conflict like
// any two transactions writing one key) while DML, which never reads it,
// is not slowed down.
const schemaVersionTag byte = 'v'

func schemaVersionKey(dbID uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{kvpb.SystemTag, schemaVersionTag}, dbID)
}

// SchemaVersion returns the schema version of database dbID: 0 before
// its first DDL.
func SchemaVersion(ctx context.Context, kv KV, dbID uint32) (uint64, error) {
	b, found, err := kv.Get(ctx, schemaVersionKey(dbID))
	if err != nil || !found {
		return 0, err
	}
	if len(b) != 8 {
		return 0, errcode.New(errcode.Corruption, "schema version of database %d has %d bytes", dbID, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// bumpSchemaVersion increments database dbID's schema version and returns
// the new value.
func bumpSchemaVersion(ctx context.Context, kv KV, dbID uint32) (uint64, error) {
	v, err := SchemaVersion(ctx, kv, dbID)
	if err != nil {
		return 0, err
	}
	v++
	return v, kv.Put(schemaVersionKey(dbID), binary.BigEndian.AppendUint64(nil, v))
}

// columnIDs returns the ids of the columns new row payloads hold (all but
// delete-only ones), in schema order.
func (t *TableDesc) columnIDs() []uint32 {
	ids := make([]uint32, 0, len(t.Columns))
	for i := range t.Columns {
		if t.Columns[i].InPayload() {
			ids = append(ids, t.Columns[i].ID)
		}
	}
	return ids
}

// recordLayout appends the current column list to the layout history when
// it differs from the last recorded one. t.Version must already be the
// version rows in the new layout will carry.
func (t *TableDesc) recordLayout() {
	ids := t.columnIDs()
	if n := len(t.Layouts); n > 0 && slices.Equal(t.Layouts[n-1].ColumnIDs, ids) {
		return
	}
	t.Layouts = append(t.Layouts, RowLayout{Version: t.Version, ColumnIDs: ids})
}

// normalize fills in what descriptors written before the layout history
// existed lack: their rows all have the current column list (columns could
// not be added or dropped then), so one layout from version 0 describes
// every row.
func (t *TableDesc) normalize() {
	if len(t.Layouts) == 0 {
		t.Layouts = []RowLayout{{Version: 0, ColumnIDs: t.columnIDs()}}
	}
}

// validateLayouts checks the layout history: versions strictly increase,
// none is newer than the table, and the last one is the current columns.
func (t *TableDesc) validateLayouts() error {
	for i := range t.Layouts {
		if i > 0 && t.Layouts[i].Version <= t.Layouts[i-1].Version {
			return errcode.New(errcode.Internal, "table %q: layout history out of order", t.Name)
		}
		if t.Layouts[i].Version > t.Version {
			return errcode.New(errcode.Internal, "table %q: layout version %d is newer than the table (%d)", t.Name, t.Layouts[i].Version, t.Version)
		}
	}
	if n := len(t.Layouts); n > 0 && !slices.Equal(t.Layouts[n-1].ColumnIDs, t.columnIDs()) {
		return errcode.New(errcode.Internal, "table %q: last layout is not the current column list", t.Name)
	}
	return nil
}

// RenameDatabase changes a database's name in the registry. Its id, and so
// every key of its tables, stays the same. CADB0010 when from does not
// exist, CADB0012 when to exists or either name is reserved.
func RenameDatabase(ctx context.Context, kv KV, from, to string) error {
	if from == ReservedDatabase || to == ReservedDatabase {
		return errcode.New(errcode.DatabaseExists, "database name %q is reserved", ReservedDatabase)
	}
	if err := ValidateDatabaseName(to); err != nil {
		return err
	}
	db, err := lookupDatabase(ctx, kv, from)
	if err != nil {
		return err
	}
	if db == nil {
		return errcode.New(errcode.UnknownDatabase, "database %q does not exist", from)
	}
	existing, err := lookupDatabase(ctx, kv, to)
	if err != nil {
		return err
	}
	if existing != nil {
		return errcode.New(errcode.DatabaseExists, "database %q already exists", to)
	}
	db.Name = to
	b, err := encodeDescriptor(db)
	if err != nil {
		return err
	}
	if err := kv.Delete(databaseKey(from)); err != nil {
		return err
	}
	if err := kv.Put(databaseKey(to), b); err != nil {
		return err
	}
	_, err = bumpSchemaVersion(ctx, kv, db.ID)
	return err
}

// RenameTable renames t (metadata only: keys carry the table id, not its
// name) and stores it with a new version. CADB0013 when the name is taken.
func RenameTable(ctx context.Context, kv KV, t *TableDesc, newName string) error {
	if err := checkNoJob(t); err != nil {
		return err
	}
	if err := ValidateName(newName); err != nil {
		return err
	}
	existing, err := LookupTable(ctx, kv, t.DBID, newName)
	if err != nil {
		return err
	}
	if existing != nil {
		return errcode.New(errcode.TableExists, "table %q already exists", newName)
	}
	if err := kv.Delete(tableKey(t.DBID, t.Name)); err != nil {
		return err
	}
	t.Name = newName
	return UpdateTable(ctx, kv, t)
}

// ClearTableData deletes every row and every index entry of t (all
// indexes, whatever their state) through kv, in the caller's transaction.
func ClearTableData(ctx context.Context, kv KV, t *TableDesc) error {
	if err := clearSpan(ctx, kv, t.RowPrefix()); err != nil {
		return err
	}
	for i := range t.Indexes {
		if err := ClearIndexData(ctx, kv, t, &t.Indexes[i]); err != nil {
			return err
		}
	}
	return nil
}

// ClearIndexData deletes every entry of secondary index idx of t.
func ClearIndexData(ctx context.Context, kv KV, t *TableDesc, idx *IndexDesc) error {
	if idx.ID == PrimaryIndexID {
		return errcode.New(errcode.Internal, "ClearIndexData called on the primary index of %q", t.Name)
	}
	return clearSpan(ctx, kv, t.IndexPrefix(idx))
}

// clearSpan deletes every key with the given prefix (one bucket).
func clearSpan(ctx context.Context, kv KV, prefix []byte) error {
	it := kv.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	defer it.Close()
	for it.Next(ctx) {
		// The iterator may reuse its key buffer.
		if err := kv.Delete(append([]byte(nil), it.Key()...)); err != nil {
			return err
		}
	}
	return it.Err()
}
