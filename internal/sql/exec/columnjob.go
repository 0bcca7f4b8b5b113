package exec

import (
	"context"
	"errors"
	"slices"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// The pieces of the ADD COLUMN and DROP COLUMN jobs that need the planner
// or the row writer (the jobs themselves live in the session package).

// AddColumnNeedsJob reports whether ADD COLUMN def changes existing rows
// (a DEFAULT to fill in, an inline UNIQUE index to back-fill), which an
// autocommit statement does as a job; without either the column is
// metadata only (old rows read NULL through the layout history).
func AddColumnNeedsJob(def *ast.ColumnDef) bool {
	// SERIAL and identity columns create and own a sequence: they keep the
	// in-statement path, which does that (and numbers the existing rows).
	return def != nil && (def.Default != nil || def.Unique) && !def.PrimaryKey && !def.Serial && def.Identity == ""
}

// PrepareAddColumn adds the column def describes to t as an ADD COLUMN job
// starts it: DELETE_ONLY and Adding (no payload holds it, no reader sees
// it), with its inline UNIQUE index (if any) DELETE_ONLY too. It returns
// the column and the index (nil when none). kv and env are the statement's
// transaction and evaluation environment (the DEFAULT is checked).
func PrepareAddColumn(ctx context.Context, kv catalog.KV, env *eval.Env, t *catalog.TableDesc, def *ast.ColumnDef) (*catalog.ColumnDesc, *catalog.IndexDesc, error) {
	if err := catalog.ValidateName(def.Name); err != nil {
		return nil, nil, err
	}
	if t.ColumnOrdinal(def.Name) >= 0 {
		return nil, nil, errcode.New(errcode.DuplicateColumn, "column %q of table %q already exists", def.Name, t.Name)
	}
	p := &plan.Planner{Ctx: ctx, KV: kv, Env: env}
	col, err := columnFromAST(p, t, def)
	if err != nil {
		return nil, nil, err
	}
	t.Columns = append(t.Columns, col)
	var idx *catalog.IndexDesc
	if def.Unique {
		if idx, err = addIndex(t, ast.IndexDef{At: def.At, Unique: true, Columns: []ast.IndexColumn{{Column: col.Name}}}); err != nil {
			return nil, nil, err
		}
		idx.State = catalog.IndexDeleteOnly
	}
	added := &t.Columns[len(t.Columns)-1]
	added.State, added.Adding = catalog.ColumnDeleteOnly, true
	return added, idx, nil
}

// PrepareDropColumn makes column name of t WRITE_ONLY as a DROP COLUMN
// job starts (readers stop seeing it, writers still write it), together
// with the secondary indexes that use it (the job drops them with it), and
// returns it and those indexes' ids. A primary key column is refused
// (CADB0400).
func PrepareDropColumn(t *catalog.TableDesc, name string) (*catalog.ColumnDesc, []uint32, error) {
	ord, err := visibleColumn(t, name)
	if err != nil {
		return nil, nil, err
	}
	id := t.Columns[ord].ID
	if usesColumn(&t.PrimaryKey, id) {
		return nil, nil, errcode.New(errcode.InvalidInput, "column %q is part of the primary key of table %q", name, t.Name)
	}
	if len(t.VisibleColumns()) == 1 {
		return nil, nil, errcode.New(errcode.InvalidInput, "column %q is the only column of table %q", name, t.Name)
	}
	if err := checkUsing(t, name); err != nil {
		return nil, nil, err
	}
	var indexes []uint32
	for i := range t.Indexes {
		if usesColumn(&t.Indexes[i], id) {
			t.Indexes[i].State = catalog.IndexWriteOnly
			indexes = append(indexes, t.Indexes[i].ID)
		}
	}
	t.Columns[ord].State = catalog.ColumnWriteOnly
	return &t.Columns[ord], indexes, nil
}

func usesColumn(idx *catalog.IndexDesc, id uint32) bool {
	return slices.ContainsFunc(idx.Columns, func(c catalog.IndexColumn) bool { return c.ColumnID == id })
}

// checkDroppable refuses to drop a primary key column or one an index
// uses (CADB0400): a DROP COLUMN inside a transaction.
func checkDroppable(t *catalog.TableDesc, ord int) error {
	id, name := t.Columns[ord].ID, t.Columns[ord].Name
	if usesColumn(&t.PrimaryKey, id) {
		return errcode.New(errcode.InvalidInput, "column %q is part of the primary key of table %q", name, t.Name)
	}
	for i := range t.Indexes {
		if usesColumn(&t.Indexes[i], id) {
			return errcode.New(errcode.InvalidInput, "column %q is used by index %q of table %q; drop the index first", name, t.Indexes[i].Name, t.Name)
		}
	}
	return nil
}

// BackfillColumnChunk fills column colID of t (write-only, being added)
// into up to limit rows, starting at row key from (nil: the first row),
// through kv (the chunk's own transaction). Only rows whose payload lacks
// the column are written: rows a statement wrote since the column became
// write-only already hold it and are left alone. The DEFAULT is evaluated
// per row (volatile defaults differ between rows); the row is checked like
// any write (types, NOT NULL: CADB0301), and the write-only indexes on the
// column get their entries (a duplicate in a unique one: CADB0300 naming
// the key). It returns the key to start the next chunk at (nil when the
// table is done) and the number of rows read.
func BackfillColumnChunk(ctx context.Context, kv catalog.KV, env *eval.Env, t *catalog.TableDesc, colID uint32, from []byte, limit int) (next []byte, rows int64, err error) {
	ord := t.ColumnOrdinalByID(colID)
	if ord < 0 || t.Columns[ord].State != catalog.ColumnWriteOnly {
		return nil, 0, errcode.New(errcode.Internal, "column %d of table %q is not write-only", colID, t.Name)
	}
	col := &t.Columns[ord]
	var def *plan.Expr
	if col.Default != "" {
		e, err := plan.ParseExpr(col.Default)
		if err != nil {
			return nil, 0, errcode.New(errcode.Corruption, "default of column %q cannot be parsed: %v", col.Name, err)
		}
		p := &plan.Planner{Ctx: ctx, KV: kv, Env: env}
		x, err := p.CompileConst(e, "DEFAULT")
		if err != nil {
			return nil, 0, err
		}
		def = &x
	}
	var indexes []*catalog.IndexDesc
	for i := range t.Indexes {
		idx := &t.Indexes[i]
		if idx.State == catalog.IndexWriteOnly && slices.ContainsFunc(idx.Columns, func(c catalog.IndexColumn) bool { return c.ColumnID == colID }) {
			indexes = append(indexes, idx)
		}
	}
	w := &tableWriter{t: t}
	prefixLen := len(t.RowPrefix())
	return scanRowChunk(ctx, kv, t, from, limit, func(k, value []byte) error {
		has, err := t.PayloadHasColumn(value, colID)
		if err != nil || has {
			return err
		}
		row, err := t.DecodeRowValue(value)
		if err != nil {
			return err
		}
		key := slices.Clone(k)
		pk := key[prefixLen:]
		row[ord] = types.NullValue
		if def != nil {
			if row[ord], err = def.Eval(nil); err != nil {
				return err
			}
		}
		if err := w.prepare(row); err != nil {
			return rowError(t, err, pk)
		}
		for _, idx := range indexes {
			if probe, ok := t.UniqueProbeKey(idx, row); ok {
				held, found, err := kv.Get(ctx, probe)
				if err != nil {
					return err
				}
				if found && string(held) != string(pk) {
					return duplicateKey(t, idx, row)
				}
			}
		}
		if err := kv.Put(key, t.EncodeRowValue(row)); err != nil {
			return err
		}
		for _, idx := range indexes {
			k, v := t.IndexEntry(idx, row, pk)
			if err := kv.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// rowError adds the primary key of the row a backfill failed on to err's
// message (its code unchanged).
func rowError(t *catalog.TableDesc, err error, pk []byte) error {
	code := errcode.Of(err)
	if code == "" {
		return err
	}
	msg := err.Error()
	var e *errcode.Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	return errcode.New(code, "%s (row with primary key (%s))", msg, pkText(t, pk))
}

// RemoveColumnChunk rewrites up to limit rows of t from row key from (nil:
// the first row) so that their payloads no longer hold column colID (which
// must be delete-only, hence not in the current layout). Rows that do not
// hold it are left alone. It returns the key to start the next chunk at
// (nil when the table is done) and the number of rows read.
func RemoveColumnChunk(ctx context.Context, kv catalog.KV, t *catalog.TableDesc, colID uint32, from []byte, limit int) (next []byte, rows int64, err error) {
	if ord := t.ColumnOrdinalByID(colID); ord >= 0 && t.Columns[ord].InPayload() {
		return nil, 0, errcode.New(errcode.Internal, "column %d of table %q is not delete-only", colID, t.Name)
	}
	return scanRowChunk(ctx, kv, t, from, limit, func(key, value []byte) error {
		has, err := t.PayloadHasColumn(value, colID)
		if err != nil || !has {
			return err
		}
		row, err := t.DecodeRowValue(value)
		if err != nil {
			return err
		}
		return kv.Put(slices.Clone(key), t.EncodeRowValue(row))
	})
}
