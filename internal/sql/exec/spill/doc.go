// Package spill is the temporary store of queries that outgrow their
// memory budget: run files of rows that sql/exec's sort, hash aggregation,
// DISTINCT and hash join write when their query's mon.Account says no
// more fits, and read back.
//
// # Layout
//
// A node keeps one temp directory (data_dir/sql-temp), emptied by
// ResetDir when the node starts. Each statement that spills gets a Store:
// a subdirectory created on the first file and removed, with every file in
// it, by Store.Close when the statement ends. Nothing in it outlives the
// statement, so a crash leaves at most files that the next start removes.
//
// # Format
//
// A run file is a sequence of records: a uvarint record length, then
// the record: a uvarint column count, then per column a kind byte
// (types.Kind) and its payload: nothing for NULL, a zig-zag varint for
// INT64, 8 little-endian bytes of the IEEE bits for FLOAT64, one byte for
// BOOL, a uvarint length and the bytes for STRING and OID. DecodeRow
// rejects anything else with ErrCorrupt (it is fuzzed: FuzzDecodeRow);
// the files are private to the node but a torn or damaged file must fail
// the query, never crash the node.
//
// Writers and Readers are used by one goroutine; a Run may be opened by
// several Readers one after another or at once (reads use ReadAt).
package spill
