package catalog

import (
	"context"
	"encoding/binary"
	"sort"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// KV is the part of a transaction the catalog reads and writes through.
// Txn satisfies it; so does a statement's write buffer.
type KV interface {
	Get(ctx context.Context, key []byte) (value []byte, found bool, err error)
	Scan(ctx context.Context, start, end []byte, reverse bool) Iterator
	Put(key, value []byte) error
	Delete(key []byte) error
}

// Catalog keys, all in the system bucket:
//
//	's' 'd' name                 -> DatabaseDesc   (databases registry)
//	's' 't' dbID(u32) name       -> TableDesc      (tables of a database)
//	's' 'n' 'd'                  -> u64            (last database id)
//	's' 'n' 't' dbID(u32)        -> u64            (last table id of a database)
//	's' 'q' dbID(u32) id(u32)    -> SequenceState  (a sequence's value, sequence.go)
const (
	databaseTag byte = 'd'
	tableTag    byte = 't'
	counterTag  byte = 'n'
)

func databaseKey(name string) []byte {
	return append([]byte{kvpb.SystemTag, databaseTag}, name...)
}

func tablesPrefix(dbID uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{kvpb.SystemTag, tableTag}, dbID)
}

func tableKey(dbID uint32, name string) []byte {
	return append(tablesPrefix(dbID), name...)
}

// DatabaseKey is the catalog key of database name's descriptor.
func DatabaseKey(name string) []byte { return databaseKey(name) }

// AppendDatabaseKey appends DatabaseKey(name) to b: a caller that only
// looks the key up passes a buffer of its own and allocates nothing.
func AppendDatabaseKey(b []byte, name string) []byte {
	return append(append(b, kvpb.SystemTag, databaseTag), name...)
}

// AppendTableKey appends TableKey(dbID, name) to b (see AppendDatabaseKey).
func AppendTableKey(b []byte, dbID uint32, name string) []byte {
	b = binary.BigEndian.AppendUint32(append(b, kvpb.SystemTag, tableTag), dbID)
	return append(b, name...)
}

// TableKey is the catalog key of the descriptor of table name of database
// dbID.
func TableKey(dbID uint32, name string) []byte { return tableKey(dbID, name) }

// IsDescriptorKey reports whether key is the key of a database or table
// descriptor (what schema leases cache).
func IsDescriptorKey(key []byte) bool {
	return len(key) >= 2 && key[0] == kvpb.SystemTag && (key[1] == databaseTag || key[1] == tableTag)
}

func databaseCounterKey() []byte { return []byte{kvpb.SystemTag, counterTag, databaseTag} }

func tableCounterKey(dbID uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{kvpb.SystemTag, counterTag, tableTag}, dbID)
}

// nextID increments the counter at key and returns the new value. Ids
// start at 1 and are never reused, even after drops.
func nextID(ctx context.Context, kv KV, key []byte) (uint32, error) {
	b, found, err := kv.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	var last uint64
	if found {
		if len(b) != 8 {
			return 0, errcode.New(errcode.Corruption, "id counter %q has %d bytes", key, len(b))
		}
		last = binary.BigEndian.Uint64(b)
	}
	if last >= 1<<32-1 {
		return 0, errcode.New(errcode.InvalidInput, "id space exhausted for counter %q", key)
	}
	if err := kv.Put(key, binary.BigEndian.AppendUint64(nil, last+1)); err != nil {
		return 0, err
	}
	return uint32(last + 1), nil
}

// GetDatabase reads a database descriptor; CADB0010 when it does not exist.
func GetDatabase(ctx context.Context, kv KV, name string) (*DatabaseDesc, error) {
	return (*DecodeCache)(nil).GetDatabase(ctx, kv, name)
}

func lookupDatabase(ctx context.Context, kv KV, name string) (*DatabaseDesc, error) {
	if name == "" {
		return nil, errcode.New(errcode.UnknownDatabase, "no database selected")
	}
	b, found, err := kv.Get(ctx, databaseKey(name))
	if err != nil || !found {
		return nil, err
	}
	var db DatabaseDesc
	if err := decodeDescriptor(b, "database", &db); err != nil {
		return nil, err
	}
	return &db, nil
}

// CreateDatabase registers a database with a fresh id. It returns
// created=false (and no error) when it exists and ifNotExists is set;
// CADB0012 when it exists otherwise or when name is reserved.
func CreateDatabase(ctx context.Context, kv KV, name string, ifNotExists bool) (created bool, err error) {
	if err := ValidateDatabaseName(name); err != nil {
		return false, err
	}
	if name == ReservedDatabase {
		return false, errcode.New(errcode.DatabaseExists, "database name %q is reserved", name)
	}
	existing, err := lookupDatabase(ctx, kv, name)
	if err != nil {
		return false, err
	}
	if existing != nil {
		if ifNotExists {
			return false, nil
		}
		return false, errcode.New(errcode.DatabaseExists, "database %q already exists", name)
	}
	id, err := nextID(ctx, kv, databaseCounterKey())
	if err != nil {
		return false, err
	}
	b, err := encodeDescriptor(&DatabaseDesc{ID: id, Name: name})
	if err != nil {
		return false, err
	}
	return true, kv.Put(databaseKey(name), b)
}

// DropDatabase removes a database, its tables' descriptors, their rows and
// index entries, and its schema version. clearData deletes a dropped
// table's rows and index entries (the session hands them to a background
// job, as for DROP TABLE); nil deletes them in kv's transaction
// (ClearTableData).
func DropDatabase(ctx context.Context, kv KV, name string, ifExists bool, clearData func(context.Context, KV, *TableDesc) error) (dropped bool, err error) {
	if name == ReservedDatabase {
		return false, errcode.New(errcode.InvalidInput, "database %q cannot be dropped", name)
	}
	db, err := lookupDatabase(ctx, kv, name)
	if err != nil {
		return false, err
	}
	if db == nil {
		if ifExists {
			return false, nil
		}
		return false, errcode.New(errcode.UnknownDatabase, "database %q does not exist", name)
	}
	tables, err := ListTables(ctx, kv, db.ID)
	if err != nil {
		return false, err
	}
	for _, t := range tables {
		if err := checkNoJob(t); err != nil {
			return false, err
		}
		switch {
		case t.View != "" || t.Sequence != nil: // no rows
		case clearData != nil:
			err = clearData(ctx, kv, t)
		default:
			err = ClearTableData(ctx, kv, t)
		}
		if err != nil {
			return false, err
		}
		if err := kv.Delete(tableKey(db.ID, t.Name)); err != nil {
			return false, err
		}
		if t.Sequence != nil {
			if err := kv.Delete(SequenceStateKey(db.ID, t.ID)); err != nil {
				return false, err
			}
		}
	}
	if err := kv.Delete(schemaVersionKey(db.ID)); err != nil {
		return false, err
	}
	return true, kv.Delete(databaseKey(name))
}

// NewTableData points t at empty spans: it takes a fresh id from the
// table id counter as t's DataID and stores t (UpdateTable: a new
// version, refused while a schema-change job runs). The rows and index
// entries stay under the prefixes t had, returned for the caller to have
// them cleared once nothing can read them (TRUNCATE: a background job).
// A transaction that planned with the old descriptor has it in its read
// set and cannot commit above the change; one that read below it still
// finds the old rows, which are not cleared before it is gone.
func NewTableData(ctx context.Context, kv KV, t *TableDesc) (old [][]byte, err error) {
	if err := checkNoJob(t); err != nil {
		return nil, err
	}
	old = TableDataPrefixes(t)
	if t.DataID, err = NextDataID(ctx, kv, t); err != nil {
		return nil, err
	}
	if err := UpdateTable(ctx, kv, t); err != nil {
		return nil, err
	}
	return old, nil
}

// NextDataID takes a fresh id from the table id counter for t's DataID,
// for a caller that changes t further before storing it (a primary key
// change rewrites every row and index entry into the new spans).
func NextDataID(ctx context.Context, kv KV, t *TableDesc) (uint32, error) {
	return nextID(ctx, kv, tableCounterKey(t.DBID))
}

// TableDataPrefixes returns the key prefixes of t's rows and of each of its
// indexes' entries (what ClearTableData deletes).
func TableDataPrefixes(t *TableDesc) [][]byte {
	out := [][]byte{t.RowPrefix()}
	for i := range t.Indexes {
		out = append(out, t.IndexPrefix(&t.Indexes[i]))
	}
	return out
}

// ListDatabases returns every database, sorted by name.
func ListDatabases(ctx context.Context, kv KV) ([]DatabaseDesc, error) {
	start := []byte{kvpb.SystemTag, databaseTag}
	it := kv.Scan(ctx, start, kvpb.PrefixEnd(start), false)
	defer it.Close()
	var out []DatabaseDesc
	for it.Next(ctx) {
		var db DatabaseDesc
		if err := decodeDescriptor(it.Value(), "database", &db); err != nil {
			return nil, err
		}
		out = append(out, db)
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// GetTable reads a table descriptor with one point read; CADB0011 when the
// table does not exist. The returned descriptor is the caller's to modify.
func GetTable(ctx context.Context, kv KV, dbID uint32, name string) (*TableDesc, error) {
	return (*DecodeCache)(nil).GetTable(ctx, kv, dbID, name)
}

// LookupTable is GetTable returning (nil, nil) when the table does not exist.
func LookupTable(ctx context.Context, kv KV, dbID uint32, name string) (*TableDesc, error) {
	return (*DecodeCache)(nil).LookupTable(ctx, kv, dbID, name)
}

// ListTables returns the tables of a database, sorted by name.
func ListTables(ctx context.Context, kv KV, dbID uint32) ([]*TableDesc, error) {
	start := tablesPrefix(dbID)
	it := kv.Scan(ctx, start, kvpb.PrefixEnd(start), false)
	defer it.Close()
	var out []*TableDesc
	for it.Next(ctx) {
		var t TableDesc
		if err := decodeDescriptor(it.Value(), "table", &t); err != nil {
			return nil, err
		}
		t.normalize()
		out = append(out, &t)
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CreateTable assigns t a fresh table id, sets its version to 1, starts
// its layout history, bumps the database schema version and stores it.
// CADB0013 when a table of that name exists. t.DBID must be set.
func CreateTable(ctx context.Context, kv KV, t *TableDesc) error {
	if err := t.Validate(); err != nil {
		return err
	}
	existing, err := LookupTable(ctx, kv, t.DBID, t.Name)
	if err != nil {
		return err
	}
	if existing != nil {
		return errcode.New(errcode.TableExists, "table %q already exists", t.Name)
	}
	id, err := nextID(ctx, kv, tableCounterKey(t.DBID))
	if err != nil {
		return err
	}
	t.ID = id
	t.Version = 1
	t.Layouts = nil
	t.recordLayout()
	if t.SchemaVersion, err = bumpSchemaVersion(ctx, kv, t.DBID); err != nil {
		return err
	}
	return putTable(kv, t)
}

// UpdateTable stores a modified descriptor (same id; a renamed table goes
// through RenameTable), bumping its version and the database schema
// version and recording its column list in the layout history when it
// changed. Rows encoded with t after the call carry the new version, so a
// DDL that rewrites rows calls UpdateTable first.
func UpdateTable(ctx context.Context, kv KV, t *TableDesc) error {
	if err := checkNoJob(t); err != nil {
		return err
	}
	return updateTable(ctx, kv, t)
}

// UpdateTableAsJob is UpdateTable for schema-change job jobID, the one
// writer allowed while t.SchemaJob names it (or, to start it, when the
// caller sets t.SchemaJob = jobID on a table that had none).
func UpdateTableAsJob(ctx context.Context, kv KV, t *TableDesc, jobID uint64) error {
	if t.SchemaJob != jobID {
		if err := checkNoJob(t); err != nil {
			return err
		}
	}
	return updateTable(ctx, kv, t)
}

// checkNoJob refuses DDL on a table a schema-change job is changing.
func checkNoJob(t *TableDesc) error {
	if t.SchemaJob != 0 {
		return errcode.New(errcode.SchemaChangeInProgress,
			"schema change in progress on table %q (job %d); wait for it to finish (SHOW JOB %d) or cancel it (CANCEL JOB %d)", t.Name, t.SchemaJob, t.SchemaJob, t.SchemaJob)
	}
	return nil
}

func updateTable(ctx context.Context, kv KV, t *TableDesc) error {
	t.Version++
	t.normalize()
	t.recordLayout()
	if err := t.Validate(); err != nil {
		return err
	}
	var err error
	if t.SchemaVersion, err = bumpSchemaVersion(ctx, kv, t.DBID); err != nil {
		return err
	}
	return putTable(kv, t)
}

func putTable(kv KV, t *TableDesc) error {
	b, err := encodeDescriptor(t)
	if err != nil {
		return err
	}
	return kv.Put(tableKey(t.DBID, t.Name), b)
}

// DropTable removes a table's descriptor and deletes its rows and index
// entries in the caller's transaction (ClearTableData), so nothing of it
// remains once the transaction commits. The cost is one delete per key,
// buffered in the transaction; a chunked background cleanup for very large
// tables is a later goal.
func DropTable(ctx context.Context, kv KV, t *TableDesc) error {
	if err := checkNoJob(t); err != nil {
		return err
	}
	if err := ClearTableData(ctx, kv, t); err != nil {
		return err
	}
	return DropTableDescriptor(ctx, kv, t)
}

// DropTableDescriptor removes t's descriptor (and bumps the schema
// version) but leaves its rows and index entries: the caller has them
// deleted later (a background job). Table ids are never reused, so the
// leftover keys can never be read as another table's.
func DropTableDescriptor(ctx context.Context, kv KV, t *TableDesc) error {
	if err := checkNoJob(t); err != nil {
		return err
	}
	if _, err := bumpSchemaVersion(ctx, kv, t.DBID); err != nil {
		return err
	}
	return kv.Delete(tableKey(t.DBID, t.Name))
}
