// Package catalog holds the SQL schema: the databases registry and table
// descriptors (columns, primary key, secondary indexes, schema version),
// stored as KV entries in the system bucket and read and written inside the
// statement's transaction, so DDL is transactional and concurrent DDL
// conflicts like any other write. It also defines the data layout of rows
// and index entries (layout.go) and the slice of the kv layer the SQL layer
// uses (kv.go).
//
// Guarantees:
//   - database and table ids are assigned from counters in the catalog and
//     are never reused, so data keys (which carry ids) of dropped objects can
//     never be confused with live ones;
//   - a table descriptor is one KV entry keyed by (database id, name): a
//     statement resolves a table with one point read;
//   - descriptors are encoded as a format byte + JSON; bytes that cannot be
//     decoded are reported as CADB0014, never a panic;
//   - every change bumps the table's version and its database's schema
//     version (SchemaVersion); rows carry the table version they were
//     written at and decode through the descriptor's row layout history
//     (TableDesc.Layouts), so ADD/DROP COLUMN never need to rewrite rows;
//   - DropTable, DropDatabase and ClearIndexData delete the data of what
//     they drop in the caller's transaction (DropTableDescriptor leaves it
//     to the caller: the session hands it to a background job);
//   - a sequence is a TableDesc with Sequence set (sharing the tables'
//     name space and id counter); its value is a KV entry of its own that
//     AllocateSequence advances in the caller's (allocation) transaction, so
//     two committed allocations never return the same value (sequence.go);
//   - errors carry CADB codes (unknown database 0010, unknown table 0011,
//     exists / reserved 0012 and 0013).
//
// Descriptor caching under schema leases is package lease (below this
// one). Not done here (yet): the schema log and the staged schema changes
// of SPEC §6.1 (index states exist, but indexes go straight to Public;
// docs/schema.md describes the protocol), and chunked background deletion
// of dropped data.
package catalog
