package plan

import (
	"slices"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// PrimaryArbiter in OnConflict.Arbiters names the primary key.
const PrimaryArbiter = -1

// OnConflict is the plan of INSERT ... ON CONFLICT.
type OnConflict struct {
	// Arbiters are the unique constraints a proposed row is checked
	// against: PrimaryArbiter or an index of Table.Indexes.
	Arbiters  []int
	DoNothing bool
	// Set and Where read the existing row followed by the proposed one
	// (excluded): row = existing ++ proposed.
	Set   []Assignment
	Where func([]types.Value) (bool, error) // nil: always
}

// conflictScope resolves excluded.c to the proposed row (after the
// existing one) and every other reference to the existing row, as
// PostgreSQL does in ON CONFLICT DO UPDATE.
type conflictScope struct {
	existing, excluded *scope
}

func (s conflictScope) Resolve(table, column string) (int, types.Kind, error) {
	if table == "excluded" {
		i, k, err := s.excluded.Resolve(table, column)
		return i + len(s.existing.cols), k, err
	}
	return s.existing.Resolve(table, column)
}

func (p *Planner) planOnConflict(t *catalog.TableDesc, oc *ast.OnConflict) (*OnConflict, error) {
	out := &OnConflict{DoNothing: oc.DoNothing}
	switch {
	case oc.Columns != nil:
		var ords []int
		for _, name := range oc.Columns {
			ord := t.ColumnOrdinal(name)
			if ord < 0 || t.Columns[ord].Hidden || !t.Columns[ord].Public() {
				return nil, errcode.New(errcode.UnknownColumn, "column %q of table %q does not exist", name, t.Name)
			}
			ords = append(ords, ord)
		}
		slices.Sort(ords)
		sameSet := func(idxOrds []int) bool {
			sorted := slices.Sorted(slices.Values(idxOrds))
			return slices.Equal(slices.Compact(sorted), slices.Compact(slices.Clone(ords)))
		}
		if sameSet(t.IndexOrdinals(&t.PrimaryKey)) {
			out.Arbiters = []int{PrimaryArbiter}
		}
		for i := range t.Indexes {
			idx := &t.Indexes[i]
			if idx.Unique && idx.State != catalog.IndexDeleteOnly && sameSet(t.IndexOrdinals(idx)) {
				out.Arbiters = append(out.Arbiters, i)
			}
		}
		if len(out.Arbiters) == 0 {
			return nil, errcode.New(errcode.InvalidInput, "there is no unique constraint on (%s) of table %q matching the ON CONFLICT specification",
				strings.Join(oc.Columns, ", "), t.Name)
		}
	case oc.Constraint != "":
		if oc.Constraint == catalog.PrimaryIndexName {
			out.Arbiters = []int{PrimaryArbiter}
			break
		}
		for i := range t.Indexes {
			if t.Indexes[i].Name == oc.Constraint {
				if !t.Indexes[i].Unique {
					return nil, errcode.New(errcode.InvalidInput, "index %q of table %q is not unique: it cannot be an ON CONFLICT target", oc.Constraint, t.Name)
				}
				out.Arbiters = []int{i}
			}
		}
		if len(out.Arbiters) == 0 {
			return nil, errcode.New(errcode.UnknownIndex, "constraint %q of table %q does not exist", oc.Constraint, t.Name)
		}
	default: // DO NOTHING on any unique conflict
		out.Arbiters = []int{PrimaryArbiter}
		for i := range t.Indexes {
			if t.Indexes[i].Unique && t.Indexes[i].State != catalog.IndexDeleteOnly {
				out.Arbiters = append(out.Arbiters, i)
			}
		}
	}
	if oc.DoNothing {
		return out, nil
	}
	sc := conflictScope{existing: &scope{cols: tableColumns(t, t.Name)}, excluded: &scope{cols: tableColumns(t, "excluded")}}
	c := &compiler{p: p, scope: sc, what: "ON CONFLICT DO UPDATE"}
	seen := map[int]bool{}
	for _, a := range oc.Set {
		ord := t.ColumnOrdinal(a.Column)
		if ord < 0 || t.Columns[ord].Hidden || !t.Columns[ord].Public() {
			return nil, errcode.New(errcode.UnknownColumn, "column %q of table %q does not exist", a.Column, t.Name)
		}
		if seen[ord] {
			return nil, errcode.New(errcode.DuplicateColumn, "column %q assigned more than once", a.Column)
		}
		seen[ord] = true
		if containsAggregate(a.Value) {
			return nil, errcode.New(errcode.InvalidInput, "aggregate functions are not allowed in ON CONFLICT DO UPDATE")
		}
		x, err := c.compile(a.Value)
		if err != nil {
			return nil, err
		}
		out.Set = append(out.Set, Assignment{Column: ord, Expr: x})
	}
	defaults, err := p.DefaultExprs(t)
	if err != nil {
		return nil, err
	}
	if out.Set, err = p.setAddingColumns(t, out.Set, defaults); err != nil {
		return nil, err
	}
	if oc.Where != nil {
		if containsAggregate(oc.Where) {
			return nil, errcode.New(errcode.InvalidInput, "aggregate functions are not allowed in ON CONFLICT DO UPDATE")
		}
		pred, err := c.compilePredicate(oc.Where)
		if err != nil {
			return nil, err
		}
		out.Where = pred
	}
	return out, nil
}
