package exec

import (
	"context"
	"slices"
	"strings"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// AddIndex adds the index def describes to t (validated, named, with the
// next index id; state Public) and returns it, as CREATE INDEX does.
func AddIndex(t *catalog.TableDesc, def ast.IndexDef) (*catalog.IndexDesc, error) {
	return addIndex(t, def)
}

// BackfillIndexChunk writes the entries of index idx of t for up to limit
// rows, starting at row key from (nil: the first row), through kv (the
// chunk's own transaction, which reads its own writes). It returns the key
// to start the next chunk at (nil when the table is done) and the number
// of rows read. A row whose entry in a unique index is held by another row
// fails with CADB0300 naming the duplicate key. Rows that statements
// wrote since the index became write-only already have their entry; it is
// written again, identically.
func BackfillIndexChunk(ctx context.Context, kv catalog.KV, t *catalog.TableDesc, idx *catalog.IndexDesc, from []byte, limit int) (next []byte, rows int64, err error) {
	prefixLen := len(t.RowPrefix())
	return scanRowChunk(ctx, kv, t, from, limit, func(key, value []byte) error {
		row, err := t.DecodeRowValue(value)
		if err != nil {
			return err
		}
		pk := append([]byte(nil), key[prefixLen:]...)
		if probe, ok := t.UniqueProbeKey(idx, row); ok {
			held, found, err := kv.Get(ctx, probe)
			if err != nil {
				return err
			}
			if found && string(held) != string(pk) {
				return duplicateKey(t, idx, row)
			}
		}
		k, v := t.IndexEntry(idx, row, pk)
		return kv.Put(k, v)
	})
}

// scanRowChunk calls fn with the key and payload of each of up to limit
// rows of t (all of them when limit < 0), starting at row key from (nil:
// the first row), in key order, through kv. It returns the key to start
// the next chunk at (nil when the table is done) and the number of rows
// read. fn may write through kv; the slices it gets are only valid during
// the call.
func scanRowChunk(ctx context.Context, kv catalog.KV, t *catalog.TableDesc, from []byte, limit int, fn func(key, value []byte) error) (next []byte, rows int64, err error) {
	prefix := t.RowPrefix()
	if from == nil {
		from = prefix
	}
	it := kv.Scan(ctx, from, kvpb.PrefixEnd(prefix), false)
	defer it.Close()
	for it.Next(ctx) {
		if limit >= 0 && rows == int64(limit) {
			return slices.Clone(it.Key()), rows, nil
		}
		rows++
		if err := fn(it.Key(), it.Value()); err != nil {
			return nil, rows, err
		}
	}
	return nil, rows, it.Err()
}

// duplicateKey names the duplicate key a unique index backfill found,
// PostgreSQL-style: Key (a, b)=(1, 'x').
func duplicateKey(t *catalog.TableDesc, idx *catalog.IndexDesc, row []types.Value) error {
	names := make([]string, len(idx.Columns))
	values := make([]string, len(idx.Columns))
	for i, c := range idx.Columns {
		o := t.ColumnOrdinalByID(c.ColumnID)
		names[i] = t.Columns[o].Name
		values[i] = row[o].String()
	}
	return errcode.New(errcode.UniqueViolation, "could not create unique index %q of table %q: key (%s)=(%s) is duplicated",
		idx.Name, t.Name, strings.Join(names, ", "), strings.Join(values, ", "))
}
