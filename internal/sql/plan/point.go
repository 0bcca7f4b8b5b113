package plan

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// PointTemplate is the parameter-independent plan of a query that reads
// at most one row by its complete primary key, such as
//
//	SELECT v FROM kv WHERE k = $1
//
// Planned once, it runs again for other parameter values of the same
// kinds without the planner: the key is built from the parameters and
// the row read with one Get (the point-select fast path of exec). It is
// valid for one version of one table; the executor checks both (through
// the schema lease, which also pins the descriptor in the transaction's
// read set) before using it.
type PointTemplate struct {
	// Table is the name as written in FROM; DBID, TableID and Version
	// the descriptor the template was made from (table ids are unique
	// only within a database).
	Table   string
	DBID    uint32
	TableID uint32
	Version uint32
	// Params names, per primary-key column in key order, the parameter
	// compared with it; Kinds the kind the parameter must have (the
	// column's, exactly) and Desc the column's key direction.
	Params []string
	Kinds  []types.Kind
	Desc   []bool
	// Ordinals maps output column i to the row's column Ordinals[i].
	Ordinals []int
	// Cols are the output columns.
	Cols []Column
}

// Matches reports whether t is the descriptor the template was made from.
func (tpl *PointTemplate) Matches(t *catalog.TableDesc) bool {
	return t.DBID == tpl.DBID && t.ID == tpl.TableID && t.Version == tpl.Version && t.View == ""
}

// PointCandidate reports whether stmt has the shape of a point query:
// one table, a select list of plain columns, a WHERE clause that is a
// conjunction of column = parameter, and nothing else (no locking, CTE,
// DISTINCT, grouping, ordering or limit). It looks at the syntax only and
// is cheap; PointTemplateOf decides with the plan.
func PointCandidate(stmt *ast.SelectStmt) bool {
	sel := stmt.Select
	if stmt.Locking != nil || sel == nil || sel.SetOp != "" || len(sel.With) > 0 || sel.Distinct ||
		len(sel.GroupBy) > 0 || sel.Having != nil || len(sel.OrderBy) > 0 || sel.Limit != nil ||
		sel.Offset != nil || len(sel.From) != 1 || sel.Where == nil || len(sel.Items) == 0 {
		return false
	}
	if tn, ok := sel.From[0].(*ast.TableName); !ok || tn.ForceIndex != "" {
		return false
	}
	for _, it := range sel.Items {
		if it.Star {
			continue
		}
		if _, ok := it.Expr.(*ast.ColumnRef); !ok {
			return false
		}
	}
	for _, e := range conjuncts(sel.Where, nil) {
		if _, _, ok := columnEqualsParam(e); !ok {
			return false
		}
	}
	return true
}

// columnEqualsParam matches col = $p and $p = col.
func columnEqualsParam(e ast.Expr) (*ast.ColumnRef, *ast.Param, bool) {
	b, ok := e.(*ast.BinaryExpr)
	if !ok || b.Op != "=" {
		return nil, nil, false
	}
	if c, ok := b.L.(*ast.ColumnRef); ok {
		if p, ok := b.R.(*ast.Param); ok {
			return c, p, true
		}
	}
	if c, ok := b.R.(*ast.ColumnRef); ok {
		if p, ok := b.L.(*ast.Param); ok {
			return c, p, true
		}
	}
	return nil, nil, false
}

// PointTemplateOf returns the template of stmt, a PointCandidate just
// planned into node, when node reads one row by its complete primary key
// with no residual filter, so that the same plan holds for any parameter
// values of the kinds the columns have; nil otherwise.
func PointTemplateOf(stmt *ast.SelectStmt, node Node) *PointTemplate {
	proj, ok := node.(*Project)
	if !ok {
		return nil
	}
	scan, ok := proj.Input.(*Scan)
	if !ok || scan.Kind != ScanLookup || len(scan.Keys) != 1 || scan.Reverse || scan.LimitHint != 0 {
		return nil
	}
	t := scan.Table
	if scan.Index != &t.PrimaryKey || t.View != "" || t.Sequence != nil || len(scan.Cols) != len(t.Columns) {
		return nil
	}
	for i := range t.Columns {
		if scan.Cols[i].Name != t.Columns[i].Name {
			return nil
		}
	}
	sel := stmt.Select
	sc := &scope{cols: scan.Cols}
	// Every conjunct binds one primary-key column, each exactly once.
	pk := t.PrimaryKey.Columns
	tpl := &PointTemplate{
		Table: sel.From[0].(*ast.TableName).Name, DBID: t.DBID, TableID: t.ID, Version: t.Version,
		Params: make([]string, len(pk)), Kinds: make([]types.Kind, len(pk)), Desc: make([]bool, len(pk)),
	}
	conj := conjuncts(sel.Where, nil)
	if len(conj) != len(pk) {
		return nil
	}
	for _, e := range conj {
		ref, param, _ := columnEqualsParam(e)
		ord, _, err := sc.Resolve(ref.Table, ref.Column)
		if err != nil {
			return nil
		}
		j := -1
		for k, ic := range pk {
			if t.ColumnOrdinalByID(ic.ColumnID) == ord {
				j = k
			}
		}
		if j < 0 || tpl.Params[j] != "" {
			return nil
		}
		kind := t.Columns[ord].Kind
		switch kind {
		case types.Int64, types.String, types.Bool, types.Bytes, types.OID, types.UUID,
			types.Date, types.Timestamp, types.TimestampTZ:
		default:
			// Kinds whose constants the planner converts (NUMERIC scale,
			// floats) or whose keys depend on more than the value stay on
			// the planner.
			return nil
		}
		tpl.Params[j], tpl.Kinds[j], tpl.Desc[j] = param.Name, kind, pk[j].Desc
	}
	items, err := expandItems(sel.Items, scan.Cols)
	if err != nil || len(items) != len(proj.Exprs) {
		return nil
	}
	for _, it := range items {
		ref, ok := it.expr.(*ast.ColumnRef)
		if !ok {
			return nil
		}
		ord, _, err := sc.Resolve(ref.Table, ref.Column)
		if err != nil {
			return nil
		}
		tpl.Ordinals = append(tpl.Ordinals, ord)
	}
	tpl.Cols = append([]Column(nil), proj.Cols...)
	return tpl
}
