package kvtest

import (
	"fmt"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// DBID is the database id of the keys Key builds.
const DBID = 1

// Key returns the user key of row in table (database DBID). All rows of a
// table live in one partition; tables spread over partitions by hash.
func Key(table uint32, row string) []byte {
	return append(kvpb.RowPrefix(DBID, table), row...)
}

// Table returns the table id of a key built by Key and its row part.
func Table(key []byte) (table uint32, row string, err error) {
	prefix := kvpb.RowPrefix(DBID, 0)
	if len(key) < len(prefix) {
		return 0, "", fmt.Errorf("kvtest: %x is not a row key", key)
	}
	b := key[len(prefix)-5 : len(prefix)-1]
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), string(key[len(prefix):]), nil
}

// PartitionOfTable returns the partition holding table's rows.
func PartitionOfTable(table uint32, partitions int) uint64 {
	return kvpb.PartitionOfBucket(kvpb.RowPrefix(DBID, table), partitions)
}

// TablesOn returns n table ids (from 1 up) whose rows live in partition.
func TablesOn(partition uint64, partitions, n int) []uint32 {
	var out []uint32
	for tbl := uint32(1); len(out) < n; tbl++ {
		if PartitionOfTable(tbl, partitions) == partition {
			out = append(out, tbl)
		}
	}
	return out
}

// Intents returns the intents left on every partition of the node.
func (n *Node) Intents() []mvcc.Entry {
	n.t.Helper()
	var out []mvcc.Entry
	for _, p := range n.PartitionIDs() {
		for _, e := range n.Dump(p) {
			if e.Kind == mvcc.EntryIntent {
				out = append(out, e)
			}
		}
	}
	return out
}
