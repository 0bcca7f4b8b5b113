package exec

import (
	"context"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// lockRows applies SELECT ... FOR UPDATE / FOR NO KEY UPDATE: every row
// the query selects is written back unchanged in the statement's
// transaction, so it joins the write set and a concurrent writer of the
// same row conflicts with it (one of the two fails with 40001 at commit,
// whichever commits second). Rows are not locked before commit: nobody
// waits. FOR SHARE / KEY SHARE need nothing more than the read itself,
// which serializable validation already protects.
func lockRows(ctx context.Context, p *plan.Planner, b *builder, buf *WriteBuffer, s *ast.SelectStmt) error {
	l, q := s.Locking, s.Select
	switch {
	case q.SetOp != "":
		return errcode.New(errcode.Unsupported, "FOR %s is not allowed with UNION/INTERSECT/EXCEPT", l.Strength)
	case q.Distinct:
		return errcode.New(errcode.Unsupported, "FOR %s is not allowed with DISTINCT clause", l.Strength)
	case len(q.GroupBy) > 0 || q.Having != nil:
		return errcode.New(errcode.Unsupported, "FOR %s is not allowed with GROUP BY clause", l.Strength)
	}
	for _, it := range q.Items {
		if fc, ok := it.Expr.(*ast.FuncCall); ok && eval.IsAggregate(fc.Name) {
			return errcode.New(errcode.Unsupported, "FOR %s is not allowed with aggregate functions", l.Strength)
		}
	}
	if l.Strength == "SHARE" || l.Strength == "KEY SHARE" {
		return nil
	}
	var tn *ast.TableName
	if len(q.From) == 1 {
		tn, _ = q.From[0].(*ast.TableName)
	}
	if tn == nil {
		return errcode.New(errcode.Unsupported, "FOR %s is supported on a query over one table (not joins, subqueries in FROM or no table)", l.Strength)
	}
	alias := tn.Alias
	if alias == "" {
		alias = tn.Name
	}
	for _, of := range l.Of {
		if of != alias {
			return errcode.New(errcode.InvalidInput, "relation %q in FOR %s clause not found in FROM clause", of, l.Strength)
		}
	}
	t, err := p.Table(tn.Name)
	if err != nil {
		return err
	}
	// The rows the query returns: all their columns (hidden ones too),
	// same FROM, WHERE, ORDER BY and LIMIT.
	lockQ := &ast.Select{At: q.At, With: q.With, From: q.From, Where: q.Where, OrderBy: q.OrderBy, Limit: q.Limit, Offset: q.Offset}
	for i := range t.Columns {
		lockQ.Items = append(lockQ.Items, ast.SelectItem{Expr: &ast.ColumnRef{At: q.At, Table: alias, Column: plan.ScopeName(&t.Columns[i])}})
	}
	node, err := p.PlanQuery(lockQ)
	if err != nil {
		// ORDER BY an output alias of the original list: lock every row
		// WHERE selects (a superset).
		lockQ.OrderBy, lockQ.Limit, lockQ.Offset = nil, nil, nil
		if node, err = p.PlanQuery(lockQ); err != nil {
			return err
		}
	}
	res, err := runQuery(ctx, b, node)
	if err != nil {
		return err
	}
	adding := t.HasAddingColumn()
	for _, row := range res.Rows {
		key := t.RowKey(t.EncodePK(row))
		value := t.EncodeRowValue(row)
		if adding {
			// Re-encoding a row that lacks a column being added would
			// store it as NULL, and the backfill would then skip the row:
			// write the stored payload back unchanged instead.
			stored, found, err := buf.Get(ctx, key)
			if err != nil {
				return err
			}
			if !found {
				continue
			}
			value = stored
		}
		if err := buf.Put(key, value); err != nil {
			return err
		}
	}
	return nil
}
