// Package storage is the node's single Pebble engine and the only importer of
// Pebble in the project.
//
// One Engine per node holds every key space, separated by a one-byte prefix
// (see keys.go): node-local metadata, per-partition Raft state and
// per-partition MVCC data. Because the partition id follows the prefix, one
// partition's data is one contiguous key range: snapshots are bounded
// iterations and dropping a partition is a range delete.
//
// Guarantees: a Batch committed with sync=true is durable when Commit
// returns; a batch committed with sync=false is ordered after every earlier
// batch in the Pebble WAL, so a crash loses a suffix of unsynced batches and
// never a batch that precedes a synced one.
//
// Slices returned by Get are copies owned by the caller. Slices returned by
// Iterator.Key/Value are valid only until the iterator moves.
package storage
