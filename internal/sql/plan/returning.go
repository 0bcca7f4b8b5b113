package plan

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Returning is a write's RETURNING list: expressions over a full table
// row (the new row for INSERT and UPDATE, the old one for DELETE) and the
// columns they produce.
type Returning struct {
	Exprs   []Expr
	Columns []Column
}

// planReturning compiles RETURNING items over t's rows, where the table is
// known as alias; nil items give nil.
func (p *Planner) planReturning(t *catalog.TableDesc, alias string, items []ast.SelectItem) (*Returning, error) {
	if items == nil {
		return nil, nil
	}
	cols := tableColumns(t, alias)
	expanded, err := expandItems(items, cols)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.Expr != nil && containsAggregate(it.Expr) {
			return nil, errcode.New(errcode.InvalidInput, "aggregate functions are not allowed in RETURNING")
		}
	}
	c := &compiler{p: p, scope: &scope{cols: cols}, what: "RETURNING"}
	r := &Returning{}
	for _, it := range expanded {
		x, err := c.compile(it.expr)
		if err != nil {
			return nil, err
		}
		r.Exprs = append(r.Exprs, x)
		r.Columns = append(r.Columns, Column{Name: it.name, Kind: x.Kind})
	}
	return r, nil
}
