package exec

import (
	"context"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// alterColumn runs ALTER TABLE t ALTER [COLUMN] c ...: changes of one
// column's metadata. None rewrites a row: SET/DROP DEFAULT affect later
// inserts, DROP NOT NULL relaxes, SET NOT NULL first checks that no row
// holds NULL (a read of the table in this statement), and TYPE accepts
// only changes under which every stored value stays valid and encoded the
// same way (a wider integer, a longer or unlimited VARCHAR, a NUMERIC of
// the same scale and more digits). A type change that would rewrite
// values is CADB0407.
func alterColumn(ctx context.Context, p *plan.Planner, buf *WriteBuffer, t *catalog.TableDesc, s *ast.AlterTable) error {
	ord, err := visibleColumn(t, s.Name)
	if err != nil {
		return err
	}
	col := &t.Columns[ord]
	switch s.Action {
	case "SET DEFAULT":
		if col.Identity != "" {
			return errcode.New(errcode.InvalidInput, "column %q of table %q is an identity column: its values come from its sequence", col.Name, t.Name)
		}
		text, err := checkDefault(p, col, s.Default)
		if err != nil {
			return err
		}
		col.Default = text
	case "DROP DEFAULT":
		if col.Identity != "" {
			return errcode.New(errcode.InvalidInput, "column %q of table %q is an identity column: drop its identity instead", col.Name, t.Name)
		}
		col.Default = ""
	case "DROP NOT NULL":
		if isKeyColumn(&t.PrimaryKey, col.ID) {
			return errcode.New(errcode.InvalidInput, "column %q is in the primary key of table %q", col.Name, t.Name)
		}
		col.NotNull = false
	case "SET NOT NULL":
		if !col.NotNull {
			if err := checkNoNulls(ctx, buf, t, ord); err != nil {
				return err
			}
			col.NotNull = true
		}
	case "ALTER TYPE":
		to := s.Column.Type
		if !widens(col.Type(), to) {
			return errcode.New(errcode.Unsupported,
				"ALTER COLUMN %s TYPE %s: changing a column of type %s to %s would rewrite its values, which is not supported; add a column of the new type, fill it with UPDATE, then drop the old one and rename the new one",
				col.Name, s.Column.TypeText, col.Type(), to)
		}
		col.Mod = to.Mod
	}
	return catalog.UpdateTable(ctx, buf, t)
}

// widens reports whether every value a column of type from holds is a
// valid value of type to with the same encoding (keys and payloads), so
// that the change is metadata only.
func widens(from, to types.T) bool {
	if from.Kind != to.Kind {
		return false
	}
	switch from.Kind {
	case types.Int64:
		return to.Width == 0 || (from.Width != 0 && to.Width >= from.Width)
	case types.String:
		if from.Fixed || to.Fixed {
			return from.Mod == to.Mod // CHAR(n) pads on store: a change rewrites values
		}
		return to.Length == 0 || (from.Length != 0 && to.Length >= from.Length)
	case types.Numeric:
		if to.Precision == 0 {
			return true
		}
		return from.Precision != 0 && to.Scale == from.Scale && to.Precision >= from.Precision
	}
	return from.Mod == to.Mod
}

func isKeyColumn(idx *catalog.IndexDesc, id uint32) bool {
	for _, c := range idx.Columns {
		if c.ColumnID == id {
			return true
		}
	}
	return false
}

// checkNoNulls fails with CADB0301 naming a row when column ord of t is
// NULL in any row.
func checkNoNulls(ctx context.Context, kv catalog.KV, t *catalog.TableDesc, ord int) error {
	prefix := t.RowPrefix()
	it := kv.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	defer it.Close()
	var cc cancelCheck
	for it.Next(ctx) {
		if err := cc.tick(ctx); err != nil {
			return err
		}
		row, err := t.DecodeRowValue(it.Value())
		if err != nil {
			return err
		}
		if row[ord].IsNull() {
			return errcode.New(errcode.NotNullViolation, "column %q of table %q contains NULL values (the row with key (%s)): SET NOT NULL refused", t.Columns[ord].Name, t.Name, pkText(t, t.EncodePK(row)))
		}
	}
	return it.Err()
}
