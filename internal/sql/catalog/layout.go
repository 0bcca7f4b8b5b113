package catalog

import (
	"errors"

	"bytes"
	"slices"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/rowenc"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Data layout of a table (SPEC §5):
//
//	row:                 RowPrefix(db, table) | pk          -> EncodeRow(version, all columns)
//	unique index entry:  IndexPrefix(db, table, index) | k  -> pk
//	other index entry:   IndexPrefix(db, table, index) | k | pk -> ""
//
// where table is the table's id (its DataID once TRUNCATE or a primary key
// change gave it one),
// pk is the primary key columns encoded with rowenc.AppendKey in
// their directions, and k the index columns likewise. A unique index entry
// whose key has a NULL column is stored in the non-unique form, so NULLs
// never collide. A reader tells the forms apart by the value: a unique
// entry's value is the (never empty) pk, a non-unique entry's is empty.

// RowPrefix is the key prefix of t's rows.
func (t *TableDesc) RowPrefix() []byte { return kvpb.RowPrefix(t.DBID, t.DataSpanID()) }

// IndexPrefix is the key prefix of idx's entries.
func (t *TableDesc) IndexPrefix(idx *IndexDesc) []byte {
	return kvpb.IndexPrefix(t.DBID, t.DataSpanID(), idx.ID)
}

// DataSpanID is the table id t's keys are under: its DataID, or its ID
// while it has none.
func (t *TableDesc) DataSpanID() uint32 {
	if t.DataID != 0 {
		return t.DataID
	}
	return t.ID
}

// AppendKeyColumns appends the key encoding of row's values at the
// columns of idx (row is a full row in schema order).
func (t *TableDesc) AppendKeyColumns(b []byte, idx *IndexDesc, row []types.Value) []byte {
	for _, c := range idx.Columns {
		b = rowenc.AppendKey(b, row[t.ColumnOrdinalByID(c.ColumnID)], c.Desc)
	}
	return b
}

// EncodePK returns the encoded primary key of a full row (without prefix).
func (t *TableDesc) EncodePK(row []types.Value) []byte {
	return t.AppendKeyColumns(nil, &t.PrimaryKey, row)
}

// RowKey returns the key of the row whose encoded primary key is pk.
func (t *TableDesc) RowKey(pk []byte) []byte {
	return append(t.RowPrefix(), pk...)
}

// EncodeRowValue encodes a full row as a row payload at t's version.
// Values of delete-only columns are left out (the current layout does not
// hold them).
func (t *TableDesc) EncodeRowValue(row []types.Value) []byte {
	return t.AppendRowValue(nil, row)
}

// AppendRowValue appends EncodeRowValue's payload to dst.
func (t *TableDesc) AppendRowValue(dst []byte, row []types.Value) []byte {
	if n := len(t.Layouts); n > 0 && len(t.Layouts[n-1].ColumnIDs) != len(t.Columns) {
		kept := make([]types.Value, 0, len(t.Layouts[n-1].ColumnIDs))
		for i := range t.Columns {
			if t.Columns[i].InPayload() {
				kept = append(kept, row[i])
			}
		}
		row = kept
	}
	return rowenc.EncodeRow(dst, t.Version, row)
}

// PayloadHasColumn reports whether the row payload b holds a value of
// column id (its layout has the column): an ADD COLUMN backfill fills only
// rows that lack it, a DROP COLUMN rewrite only rows that have it.
func (t *TableDesc) PayloadHasColumn(b []byte, id uint32) (bool, error) {
	version, _, err := rowenc.DecodeRow(b)
	if err != nil {
		return false, errcode.Wrap(errcode.Corruption, err)
	}
	i := len(t.Layouts) - 1
	for i >= 0 && t.Layouts[i].Version > version {
		i--
	}
	if i < 0 {
		return false, errcode.New(errcode.Corruption, "row of table %q has version %d, older than its schema history", t.Name, version)
	}
	return slices.Contains(t.Layouts[i].ColumnIDs, id), nil
}

// DecodeRowValue decodes a row payload into a full row in t's schema
// order. A row written at an older table version decodes through the
// layout history (Layouts): values of dropped columns are skipped and
// columns added since are NULL. Undecodable payloads, and payloads whose
// length does not match their layout, are CADB0014.
func (t *TableDesc) DecodeRowValue(b []byte) ([]types.Value, error) {
	version, values, err := rowenc.DecodeRow(b)
	if err != nil {
		return nil, errcode.Wrap(errcode.Corruption, err)
	}
	if t.currentLayout(version) {
		if len(values) != len(t.Columns) {
			return nil, errcode.New(errcode.Corruption, "row of table %q has %d columns, schema has %d", t.Name, len(values), len(t.Columns))
		}
		return values, nil
	}
	return t.decodeOldLayout(version, values)
}

// DecodeRowValueAppend decodes a row payload like DecodeRowValue and
// appends the row's values to dst: the row is the returned slice's last
// len(t.Columns) values. A scan decodes a batch of rows into one slice
// this way instead of allocating each row.
func (t *TableDesc) DecodeRowValueAppend(dst []types.Value, b []byte) ([]types.Value, error) {
	start := len(dst)
	version, values, err := rowenc.DecodeRowAppend(dst, b)
	if err != nil {
		return dst, errcode.Wrap(errcode.Corruption, err)
	}
	if t.currentLayout(version) {
		if got := len(values) - start; got != len(t.Columns) {
			clear(values[start:])
			return dst, errcode.New(errcode.Corruption, "row of table %q has %d columns, schema has %d", t.Name, got, len(t.Columns))
		}
		return values, nil
	}
	row, err := t.decodeOldLayout(version, values[start:])
	clear(values[start:])
	if err != nil {
		return dst, err
	}
	return append(values[:start], row...), nil
}

// DecodeRowColumns decodes the columns need marks of a row payload into
// row (len(t.Columns) values in schema order), leaving the others as they
// were, and returns row. A row written at an older layout is decoded in
// full instead, into scratch, which is returned as the row to read. It
// returns scratch (grown or not) for the next call.
func (t *TableDesc) DecodeRowColumns(row []types.Value, b []byte, need []bool, scratch []types.Value) (cur, scratchOut []types.Value, err error) {
	version, err := rowenc.DecodeRowColumns(row, b, need)
	current := t.currentLayout(version)
	switch {
	case err == nil && current:
		return row, scratch, nil
	case err == nil || errors.Is(err, rowenc.ErrColumnCount):
		// Another layout (the same number of columns is no proof of the
		// same columns): the whole row, through the history.
		clear(scratch)
		scratch, err = t.DecodeRowValueAppend(scratch[:0], b)
		return scratch, scratch, err
	}
	return nil, scratch, errcode.Wrap(errcode.Corruption, err)
}

// currentLayout reports whether a payload written at version holds every
// column of t in schema order: written at the latest layout, and that
// layout is all of t's columns (a delete-only column, being dropped, is in
// Columns but in no new payload).
func (t *TableDesc) currentLayout(version uint32) bool {
	n := len(t.Layouts)
	return n == 0 || (version >= t.Layouts[n-1].Version && len(t.Layouts[n-1].ColumnIDs) == len(t.Columns))
}

// decodeOldLayout maps the values of a row written at an older version
// with a different column list onto the current columns.
func (t *TableDesc) decodeOldLayout(version uint32, values []types.Value) ([]types.Value, error) {
	i := len(t.Layouts) - 1
	for i >= 0 && t.Layouts[i].Version > version {
		i--
	}
	if i < 0 {
		return nil, errcode.New(errcode.Corruption, "row of table %q has version %d, older than its schema history", t.Name, version)
	}
	layout := &t.Layouts[i]
	if len(values) != len(layout.ColumnIDs) {
		return nil, errcode.New(errcode.Corruption, "row of table %q at version %d has %d columns, its layout has %d", t.Name, version, len(values), len(layout.ColumnIDs))
	}
	out := make([]types.Value, len(t.Columns))
	for j, id := range layout.ColumnIDs {
		if o := t.ColumnOrdinalByID(id); o >= 0 {
			out[o] = values[j]
		}
	}
	return out, nil
}

// IndexEntry returns the key and value of idx's entry for a row whose
// encoded primary key is pk.
func (t *TableDesc) IndexEntry(idx *IndexDesc, row []types.Value, pk []byte) (key, value []byte) {
	key = t.AppendKeyColumns(t.IndexPrefix(idx), idx, row)
	if idx.Unique && !t.hasNullKey(idx, row) {
		return key, pk
	}
	return append(key, pk...), nil
}

// UniqueProbeKey returns the key whose presence means a row with the same
// values in idx's columns exists, and ok=false when the row cannot
// conflict (idx is not unique or a key column is NULL).
func (t *TableDesc) UniqueProbeKey(idx *IndexDesc, row []types.Value) (key []byte, ok bool) {
	if !idx.Unique || t.hasNullKey(idx, row) {
		return nil, false
	}
	return t.AppendKeyColumns(t.IndexPrefix(idx), idx, row), true
}

func (t *TableDesc) hasNullKey(idx *IndexDesc, row []types.Value) bool {
	for _, c := range idx.Columns {
		if row[t.ColumnOrdinalByID(c.ColumnID)].IsNull() {
			return true
		}
	}
	return false
}

// DecodeIndexEntry splits an index entry (key with prefix, value) into
// the index column values and the encoded primary key of its row.
func (t *TableDesc) DecodeIndexEntry(idx *IndexDesc, key, value []byte) (cols []types.Value, pk []byte, err error) {
	prefix := t.IndexPrefix(idx)
	if !bytes.HasPrefix(key, prefix) {
		return nil, nil, errcode.New(errcode.Corruption, "index entry outside index %q", idx.Name)
	}
	rest := key[len(prefix):]
	cols = make([]types.Value, len(idx.Columns))
	for i, c := range idx.Columns {
		cols[i], rest, err = rowenc.DecodeKey(rest, c.Desc)
		if err != nil {
			return nil, nil, errcode.Wrap(errcode.Corruption, err)
		}
	}
	if len(value) > 0 {
		return cols, value, nil
	}
	if len(rest) == 0 {
		return nil, nil, errcode.New(errcode.Corruption, "index %q entry has no primary key", idx.Name)
	}
	return cols, rest, nil
}

// DecodePK decodes an encoded primary key into its column values.
func (t *TableDesc) DecodePK(pk []byte) ([]types.Value, error) {
	out := make([]types.Value, len(t.PrimaryKey.Columns))
	rest := pk
	var err error
	for i, c := range t.PrimaryKey.Columns {
		out[i], rest, err = rowenc.DecodeKey(rest, c.Desc)
		if err != nil {
			return nil, errcode.Wrap(errcode.Corruption, err)
		}
	}
	if len(rest) != 0 {
		return nil, errcode.New(errcode.Corruption, "primary key of table %q has trailing bytes", t.Name)
	}
	return out, nil
}
