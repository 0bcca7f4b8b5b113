package exec

import (
	"context"
	"slices"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// alterTable runs one ALTER TABLE action. Each action reads the
// descriptor once, changes it and stores it with catalog.UpdateTable
// (new table version, new database schema version); actions that change
// row contents or keys then rewrite the rows in the same statement.
// dropData, when set, is the session's background deletion job: a primary
// key change then writes the table into fresh spans and leaves the old
// ones to it (see rewriteRows).
func alterTable(ctx context.Context, p *plan.Planner, buf *WriteBuffer, s *ast.AlterTable,
	dropData func(context.Context, catalog.KV, *catalog.TableDesc) error) error {
	t, err := p.Table(s.Table)
	if err != nil {
		return err
	}
	switch s.Action {
	case "ADD COLUMN":
		if s.Column != nil {
			return addColumn(ctx, p, buf, t, s.Column)
		}
	case "DROP COLUMN":
		return dropColumn(ctx, buf, t, s.Name)
	case "RENAME TO":
		return catalog.RenameTable(ctx, buf, t, s.NewName)
	case "RENAME COLUMN":
		return renameColumn(ctx, buf, t, s.Name, s.NewName)
	case "ADD PRIMARY KEY":
		if s.Index != nil {
			return addPrimaryKey(ctx, buf, t, s.Index.Columns, dropData)
		}
	case "DROP PRIMARY KEY":
		return dropPrimaryKey(ctx, p, buf, t, dropData)
	case "ADD INDEX":
		if s.Index != nil {
			return createIndex(ctx, buf, t, *s.Index, false)
		}
	case "DROP INDEX":
		return dropIndex(ctx, buf, t, s.Name, false)
	case "ADD CHECK":
		if s.Check != nil {
			return addCheckConstraint(ctx, p, buf, t, s.Check)
		}
	case "DROP CONSTRAINT":
		return dropConstraint(ctx, buf, t, s.Name)
	case "SET DEFAULT", "DROP DEFAULT", "SET NOT NULL", "DROP NOT NULL", "ALTER TYPE":
		return alterColumn(ctx, p, buf, t, s) // ddl_altercolumn.go
	}
	return errcode.New(errcode.Unsupported, "ALTER TABLE ... %s is not supported", s.Action)
}

// visibleColumn returns the position of the user column name, CADB0404
// when there is none (hidden columns are not user columns).
func visibleColumn(t *catalog.TableDesc, name string) (int, error) {
	ord := t.ColumnOrdinal(name)
	if ord < 0 || t.Columns[ord].Hidden || !t.Columns[ord].Public() {
		return -1, errcode.New(errcode.UnknownColumn, "column %q of table %q does not exist", name, t.Name)
	}
	return ord, nil
}

// addColumn appends a column. Existing rows get the column's DEFAULT
// (evaluated per row, so volatile defaults differ between rows) by being
// rewritten in this statement; without a default the column is NULL in
// every existing row and nothing is rewritten (rows decode through the
// layout history), except that NOT NULL without a default is refused on a
// non-empty table (CADB0301). An inline UNIQUE adds a unique index,
// back-filled in the same pass.
func addColumn(ctx context.Context, p *plan.Planner, buf *WriteBuffer, t *catalog.TableDesc, def *ast.ColumnDef) error {
	if def.PrimaryKey {
		return errcode.New(errcode.InvalidInput, "ADD COLUMN cannot declare a primary key; use ALTER TABLE %s ADD PRIMARY KEY", t.Name)
	}
	if err := catalog.ValidateName(def.Name); err != nil {
		return err
	}
	if t.ColumnOrdinal(def.Name) >= 0 {
		return errcode.New(errcode.DuplicateColumn, "column %q of table %q already exists", def.Name, t.Name)
	}
	old := t.Clone()
	col, err := columnFromAST(p, t, def)
	if err != nil {
		return err
	}
	if def.Serial || def.Identity != "" {
		if err := serialColumn(p, t.Name, &col, def, map[string]bool{}); err != nil { // sequence.go
			return err
		}
	}
	t.Columns = append(t.Columns, col)
	if def.Unique {
		if _, err := addIndex(t, ast.IndexDef{At: def.At, Unique: true, Columns: []ast.IndexColumn{{Column: col.Name}}}); err != nil {
			return err
		}
	}
	if err := catalog.UpdateTable(ctx, buf, t); err != nil {
		return err
	}
	// The sequence exists before the rows are back-filled with its values.
	if err := createOwnedSequences(ctx, buf, t, []ast.ColumnDef{*def}); err != nil {
		return err
	}
	if col.Default == "" {
		if col.NotNull {
			empty, err := tableEmpty(ctx, buf, t)
			if err != nil {
				return err
			}
			if !empty {
				return errcode.New(errcode.NotNullViolation, "column %q of table %q is NOT NULL without a default, and the table has rows", col.Name, t.Name)
			}
		}
		if !def.Unique {
			return nil
		}
		return rewriteRows(ctx, buf, old, t, false, nil)
	}
	e, err := plan.ParseExpr(col.Default)
	if err != nil {
		return errcode.New(errcode.Internal, "default of column %q cannot be parsed: %v", col.Name, err)
	}
	x, err := p.CompileConst(e, "DEFAULT")
	if err != nil {
		return err
	}
	ord := len(t.Columns) - 1
	return rewriteRows(ctx, buf, old, t, false, func(row []types.Value) (err error) {
		row[ord], err = x.Eval(nil)
		return err
	})
}

// tableEmpty reports whether t has no rows.
func tableEmpty(ctx context.Context, kv catalog.KV, t *catalog.TableDesc) (bool, error) {
	prefix := t.RowPrefix()
	it := kv.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	defer it.Close()
	if it.Next(ctx) {
		return false, nil
	}
	if err := it.Err(); err != nil {
		return false, err
	}
	return true, nil
}

// dropColumn removes a column from the schema. Rows are not rewritten:
// they keep the dropped value until they are next written, and decode
// through the layout history, which skips it. Primary key and indexed
// columns cannot be dropped (CADB0400): drop the index first.
func dropColumn(ctx context.Context, buf *WriteBuffer, t *catalog.TableDesc, name string) error {
	ord, err := visibleColumn(t, name)
	if err != nil {
		return err
	}
	if err := checkDroppable(t, ord); err != nil {
		return err
	}
	if err := checkUsing(t, name); err != nil {
		return err
	}
	id := t.Columns[ord].ID
	t.Columns = slices.Delete(t.Columns, ord, ord+1)
	if err := catalog.UpdateTable(ctx, buf, t); err != nil {
		return err
	}
	return dropOwnedSequences(ctx, buf, t, id) // sequence.go
}

// renameColumn renames a column; metadata only (indexes and rows refer to
// columns by id and position, never by name).
func renameColumn(ctx context.Context, buf *WriteBuffer, t *catalog.TableDesc, from, to string) error {
	ord, err := visibleColumn(t, from)
	if err != nil {
		return err
	}
	if err := checkUsing(t, from); err != nil {
		return err
	}
	if err := catalog.ValidateName(to); err != nil {
		return err
	}
	if t.ColumnOrdinal(to) >= 0 {
		return errcode.New(errcode.DuplicateColumn, "column %q of table %q already exists", to, t.Name)
	}
	t.Columns[ord].Name = to
	return catalog.UpdateTable(ctx, buf, t)
}

// addPrimaryKey gives a table that has a hidden row id a primary key on
// cols: the row id column goes away, the key columns become NOT NULL, and
// every row and index entry is rewritten under the new key. Duplicate keys
// are CADB0300, NULL key values CADB0301, a table that already has a
// primary key CADB0400.
func addPrimaryKey(ctx context.Context, buf *WriteBuffer, t *catalog.TableDesc, cols []ast.IndexColumn,
	dropData func(context.Context, catalog.KV, *catalog.TableDesc) error) error {
	if !t.HiddenRowID {
		return errcode.New(errcode.InvalidInput, "table %q already has a primary key", t.Name)
	}
	for _, c := range cols {
		if _, err := visibleColumn(t, c.Column); err != nil {
			return err
		}
	}
	key, err := indexColumns(t, cols)
	if err != nil {
		return err
	}
	old := t.Clone()
	if ord := t.ColumnOrdinal(catalog.HiddenRowIDColumn); ord >= 0 {
		t.Columns = slices.Delete(t.Columns, ord, ord+1)
	}
	t.HiddenRowID = false
	t.PrimaryKey.Columns = key
	for _, c := range key {
		t.Columns[t.ColumnOrdinalByID(c.ColumnID)].NotNull = true
	}
	if err := freshSpans(ctx, buf, t, dropData); err != nil {
		return err
	}
	if err := catalog.UpdateTable(ctx, buf, t); err != nil {
		return err
	}
	return rewriteKeys(ctx, buf, old, t, nil, dropData)
}

// freshSpans gives t, whose every row and index entry a primary key
// change rewrites, a fresh data id when the old spans can go to the
// background deletion job: the rewrite then only writes, where in place it
// also writes a tombstone for every old row and index entry.
func freshSpans(ctx context.Context, buf *WriteBuffer, t *catalog.TableDesc,
	dropData func(context.Context, catalog.KV, *catalog.TableDesc) error) error {
	if dropData == nil {
		return nil
	}
	id, err := catalog.NextDataID(ctx, buf, t)
	t.DataID = id
	return err
}

// rewriteKeys is rewriteRows for a primary key change; the old spans, if
// t moved to fresh ones, go to dropData once the rows are rewritten.
func rewriteKeys(ctx context.Context, buf *WriteBuffer, old, t *catalog.TableDesc, fill func(row []types.Value) error,
	dropData func(context.Context, catalog.KV, *catalog.TableDesc) error) error {
	if err := rewriteRows(ctx, buf, old, t, true, fill); err != nil {
		return err
	}
	if dropData == nil || old.DataSpanID() == t.DataSpanID() {
		return nil
	}
	return dropData(ctx, buf, old)
}

// dropPrimaryKey turns the table back into one keyed by a fresh hidden row
// id (one GEN_ID() per row); the former key columns stay NOT NULL. Every
// row and index entry is rewritten.
func dropPrimaryKey(ctx context.Context, p *plan.Planner, buf *WriteBuffer, t *catalog.TableDesc,
	dropData func(context.Context, catalog.KV, *catalog.TableDesc) error) error {
	if t.HiddenRowID {
		return errcode.New(errcode.InvalidInput, "table %q has no primary key", t.Name)
	}
	old := t.Clone()
	rowID := catalog.ColumnDesc{
		ID: t.NextColumnID, Name: catalog.HiddenRowIDColumn, Kind: types.OID,
		NotNull: true, Hidden: true, Default: "GEN_ID()",
	}
	t.NextColumnID++
	t.Columns = append(t.Columns, rowID)
	t.HiddenRowID = true
	t.PrimaryKey.Columns = []catalog.IndexColumn{{ColumnID: rowID.ID}}
	if err := freshSpans(ctx, buf, t, dropData); err != nil {
		return err
	}
	if err := catalog.UpdateTable(ctx, buf, t); err != nil {
		return err
	}
	defaults, err := p.DefaultExprs(t)
	if err != nil {
		return err
	}
	ord := len(t.Columns) - 1
	gen := defaults[ord]
	return rewriteKeys(ctx, buf, old, t, func(row []types.Value) (err error) {
		row[ord], err = gen.Eval(nil)
		return err
	}, dropData)
}

// rewriteRows rewrites every row of a table whose descriptor changed from
// old to t (t already stored with its new version): each row is decoded
// with t (rows of older versions through the layout history), passed to
// fill (may be nil) to set new values, checked (types, NOT NULL) and
// written back at t's version.
//
// When keysChange is false the row keys and the old indexes' entries stay
// as they are; only indexes that t has and old had not are back-filled.
// When keysChange is true (the primary key changed) the rows and all index
// entries are written under the new keys, checking uniqueness against what
// the rewrite wrote; if t still has old's spans (no fresh data id), a
// first pass deletes every old row key and old index entry. Everything
// goes through buf, so an error discards the whole statement.
func rewriteRows(ctx context.Context, buf *WriteBuffer, old, t *catalog.TableDesc, keysChange bool, fill func(row []types.Value) error) error {
	prefix := old.RowPrefix() // where the rows are; t's too unless keysChange moved them
	if keysChange && old.DataSpanID() == t.DataSpanID() {
		err := scanRows(ctx, buf, prefix, func(key, value []byte) error {
			row, err := old.DecodeRowValue(value)
			if err != nil {
				return err
			}
			pk := key[len(prefix):]
			if err := buf.Delete(key); err != nil {
				return err
			}
			for i := range old.Indexes {
				k, _ := old.IndexEntry(&old.Indexes[i], row, pk)
				if err := buf.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	w := newTableWriter(t, buf)
	var added []*catalog.IndexDesc
	for i := range t.Indexes {
		if !slices.ContainsFunc(old.Indexes, func(o catalog.IndexDesc) bool { return o.ID == t.Indexes[i].ID }) {
			added = append(added, &t.Indexes[i])
		}
	}
	if !keysChange && fill == nil && len(added) == 0 {
		return nil
	}
	// Rows under a new key are inserted a batch at a time (one scan checks
	// a batch's keys, as COPY does).
	var batch [][]types.Value
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := w.insertBatch(ctx, batch, nil)
		batch = batch[:0]
		return err
	}
	err := scanRows(ctx, buf, prefix, func(key, value []byte) error {
		row, err := t.DecodeRowValue(value)
		if err != nil {
			return err
		}
		if fill != nil {
			if err := fill(row); err != nil {
				return err
			}
		}
		if err := w.prepare(row); err != nil {
			return err
		}
		if keysChange {
			if batch = append(batch, row); len(batch) >= rewriteBatchRows {
				return flush()
			}
			return nil
		}
		if fill != nil {
			if err := buf.Put(key, t.EncodeRowValue(row)); err != nil {
				return err
			}
		}
		pk := key[len(prefix):]
		for _, idx := range added {
			if err := w.checkUnique(ctx, idx, row); err != nil {
				return err
			}
			k, v := t.IndexEntry(idx, row, pk)
			if err := buf.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// rewriteBatchRows is how many rows a key-changing rewrite inserts at once.
const rewriteBatchRows = 16384

// scanRows calls fn with a private copy of every row key and value under
// prefix, as the transaction saw them before this statement.
func scanRows(ctx context.Context, kv catalog.KV, prefix []byte, fn func(key, value []byte) error) error {
	it := kv.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	defer it.Close()
	for it.Next(ctx) {
		if err := fn(slices.Clone(it.Key()), slices.Clone(it.Value())); err != nil {
			return err
		}
	}
	return it.Err()
}

// commentOn sets or removes (Text nil) the comment of a table or of one of
// its columns: COMMENT ON. The catalogs show it (pg_description,
// obj_description, col_description, psql's \d+).
func commentOn(ctx context.Context, p *plan.Planner, buf *WriteBuffer, s *ast.Comment) error {
	t, err := p.Table(s.Table)
	if err != nil {
		return err
	}
	text := ""
	if s.Text != nil {
		text = *s.Text
	}
	if s.Column == "" {
		t.Comment = text
	} else {
		ord, err := visibleColumn(t, s.Column)
		if err != nil {
			return err
		}
		t.Columns[ord].Comment = text
	}
	return catalog.UpdateTable(ctx, buf, t)
}
