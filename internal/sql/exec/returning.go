package exec

import (
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// returned collects a write's RETURNING rows; a nil *returned (no
// RETURNING) ignores them.
type returned struct {
	plan *plan.Returning
	rows [][]types.Value
}

func newReturned(r *plan.Returning) *returned {
	if r == nil {
		return nil
	}
	return &returned{plan: r, rows: [][]types.Value{}}
}

// add evaluates the RETURNING expressions on a written (or deleted) full
// table row.
func (r *returned) add(row []types.Value) error {
	if r == nil {
		return nil
	}
	out := make([]types.Value, len(r.plan.Exprs))
	for i, e := range r.plan.Exprs {
		v, err := e.Eval(row)
		if err != nil {
			return err
		}
		out[i] = v
	}
	r.rows = append(r.rows, out)
	return nil
}

// result is the statement's result: rows with RETURNING, else the count.
func (r *returned) result(count int64, err error) (*Result, error) {
	if err != nil || r == nil {
		return affected(count, err)
	}
	cols := append([]plan.Column(nil), r.plan.Columns...)
	// Columns of unknown static kind take the kind of their first value.
	for i := range cols {
		for _, row := range r.rows {
			if cols[i].Kind != types.Null {
				break
			}
			cols[i].Kind = row[i].Kind
		}
	}
	return &Result{Kind: Rows, Columns: cols, Rows: r.rows, RowsAffected: count}, nil
}
