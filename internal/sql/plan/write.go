package plan

import (
	"fmt"
	"github.com/camusdb/camusdb-go/internal/sql/types"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Insert writes new rows. Rows come from Values (VALUES lists; a nil
// entry means DEFAULT) or from Query; the i-th source value goes to table
// column Targets[i]. Columns not targeted take Defaults (nil: NULL).
type Insert struct {
	Table    *catalog.TableDesc
	Targets  []int
	Values   [][]*Expr
	Query    Node
	Defaults []*Expr
	// Checks are the table's CHECK constraints (t.Checks order).
	Checks []Expr
	// OnConflict is nil without ON CONFLICT.
	OnConflict *OnConflict
	// Returning is nil without RETURNING.
	Returning *Returning
}

// Update rewrites the rows Source produces (full table rows).
type Update struct {
	Table     *catalog.TableDesc
	Source    Node
	Set       []Assignment
	Returning *Returning // nil without RETURNING
	// Checks are the table's CHECK constraints (t.Checks order).
	Checks []Expr
}

// Assignment sets table column Column to Expr (evaluated on the old row).
type Assignment struct {
	Column int
	Expr   Expr
}

// Delete removes the rows Source produces (full table rows).
type Delete struct {
	Table     *catalog.TableDesc
	Source    Node
	Returning *Returning // nil without RETURNING
}

func (n *Insert) Name() string { return "insert" }
func (n *Update) Name() string { return "update" }
func (n *Delete) Name() string { return "delete" }
func (n *Insert) Detail() string {
	if n.Query != nil {
		return n.Table.Name
	}
	return fmt.Sprintf("%s %d row(s)", n.Table.Name, len(n.Values))
}
func (n *Update) Detail() string { return n.Table.Name }
func (n *Delete) Detail() string { return n.Table.Name }
func (n *Insert) Children() []Node {
	if n.Query != nil {
		return []Node{n.Query}
	}
	return nil
}
func (n *Update) Children() []Node  { return []Node{n.Source} }
func (n *Delete) Children() []Node  { return []Node{n.Source} }
func (n *Insert) Columns() []Column { return nil }
func (n *Update) Columns() []Column { return nil }
func (n *Delete) Columns() []Column { return nil }

// DefaultExprs compiles the DEFAULT expressions of t's columns (nil for
// columns without one).
func (p *Planner) DefaultExprs(t *catalog.TableDesc) ([]*Expr, error) {
	out := make([]*Expr, len(t.Columns))
	for i, c := range t.Columns {
		if c.Default == "" {
			continue
		}
		e, err := ParseExpr(c.Default)
		if err != nil {
			return nil, errcode.New(errcode.Corruption, "default of column %q cannot be parsed: %v", c.Name, err)
		}
		x, err := p.CompileConst(e, "DEFAULT")
		if err != nil {
			return nil, err
		}
		out[i] = &x
	}
	return out, nil
}

// CheckExprs compiles t's CHECK constraints (nil when it has none), each
// evaluated on a full row of t.
func (p *Planner) CheckExprs(t *catalog.TableDesc) ([]Expr, error) {
	if len(t.Checks) == 0 {
		return nil, nil
	}
	out := make([]Expr, len(t.Checks))
	for i, c := range t.Checks {
		e, err := ParseExpr(c.Expr)
		if err != nil {
			return nil, errcode.New(errcode.Corruption, "check constraint %q cannot be parsed: %v", c.Name, err)
		}
		if out[i], err = p.CompileCheck(t, e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CompileCheck compiles the expression of a CHECK constraint of t: it
// reads t's (public) columns and is boolean; aggregates are CADB0400.
func (p *Planner) CompileCheck(t *catalog.TableDesc, e ast.Expr) (Expr, error) {
	if containsAggregate(e) {
		return Expr{}, errcode.New(errcode.InvalidInput, "aggregate functions are not allowed in CHECK constraints")
	}
	// Columns are named unqualified (a CHECK survives RENAME TO).
	c := &compiler{p: p, scope: &scope{cols: tableColumns(t, "")}, what: "CHECK"}
	x, err := c.compile(e)
	if err != nil {
		return Expr{}, err
	}
	if x.Kind != types.Bool && x.Kind != types.Null {
		return Expr{}, errcode.New(errcode.InvalidInput, "CHECK expression must be boolean, not %s", x.Kind)
	}
	return x, nil
}

// CheckUses reports whether the CHECK expression text names column.
func CheckUses(text, column string) bool {
	e, err := ParseExpr(text)
	if err != nil {
		return true // cannot tell: keep the column
	}
	uses := false
	walkExpr(e, func(x ast.Expr) bool {
		if ref, ok := x.(*ast.ColumnRef); ok && ref.Column == column {
			uses = true
		}
		return !uses
	})
	return uses
}

// CompileConst compiles an expression that may not read columns.
func (p *Planner) CompileConst(e ast.Expr, what string) (Expr, error) {
	c := &compiler{p: p, scope: noColumns{what}, what: what}
	return c.compile(e)
}

// ParseExpr parses the text of one expression (a stored DEFAULT).
func ParseExpr(text string) (ast.Expr, error) {
	st, err := parser.Parse("SELECT " + text)
	if err != nil {
		return nil, err
	}
	sel, ok := st.(*ast.SelectStmt)
	if !ok || len(sel.Select.Items) != 1 || sel.Select.Items[0].Expr == nil || len(sel.Select.From) != 0 {
		return nil, fmt.Errorf("not a single expression: %q", text)
	}
	return sel.Select.Items[0].Expr, nil
}

// PlanInsert plans INSERT ... VALUES / INSERT ... SELECT.
func (p *Planner) PlanInsert(ins *ast.Insert) (*Insert, error) {
	t, err := p.Table(ins.Table)
	if err != nil {
		return nil, err
	}
	n := &Insert{Table: t}
	if ins.Columns == nil {
		n.Targets = t.VisibleColumns()
	} else {
		seen := map[int]bool{}
		for _, name := range ins.Columns {
			ord := t.ColumnOrdinal(name)
			if ord < 0 || t.Columns[ord].Hidden || !t.Columns[ord].Public() {
				return nil, errcode.New(errcode.UnknownColumn, "column %q of table %q does not exist", name, t.Name)
			}
			if seen[ord] {
				return nil, errcode.New(errcode.DuplicateColumn, "column %q specified more than once", name)
			}
			seen[ord] = true
			n.Targets = append(n.Targets, ord)
		}
	}
	if n.Defaults, err = p.DefaultExprs(t); err != nil {
		return nil, err
	}
	if err := checkIdentityTargets(t, n.Targets, ins); err != nil {
		return nil, err
	}
	if n.Checks, err = p.CheckExprs(t); err != nil {
		return nil, err
	}
	if n.Returning, err = p.planReturning(t, t.Name, ins.Returning); err != nil {
		return nil, err
	}
	if ins.OnConflict != nil {
		if n.OnConflict, err = p.planOnConflict(t, ins.OnConflict); err != nil {
			return nil, err
		}
	}
	if ins.Select != nil {
		q, err := p.PlanQuery(ins.Select)
		if err != nil {
			return nil, err
		}
		if len(q.Columns()) != len(n.Targets) {
			return nil, errcode.New(errcode.InvalidInput, "INSERT has %d target columns but the query returns %d", len(n.Targets), len(q.Columns()))
		}
		n.Query = q
		return n, nil
	}
	c := &compiler{p: p, scope: noColumns{"VALUES"}, what: "VALUES"}
	n.Values = make([][]*Expr, len(ins.Rows))
	for r, row := range ins.Rows {
		if len(row) != len(n.Targets) {
			return nil, errcode.New(errcode.InvalidInput, "INSERT row %d has %d values for %d columns", r+1, len(row), len(n.Targets))
		}
		exprs := make([]*Expr, len(row))
		for i, e := range row {
			if _, isDefault := e.(*ast.DefaultExpr); isDefault {
				continue
			}
			if ins.Overriding == "USER" && t.Columns[n.Targets[i]].Identity != "" {
				continue // OVERRIDING USER VALUE: the identity's own value
			}
			// What eval compiles a literal or a bound parameter to,
			// without a compiler per value (a bulk INSERT has thousands,
			// an autocommit one pays it every time); no hook of c handles
			// either.
			var v types.Value
			isConst := false
			switch x := e.(type) {
			case *ast.Literal:
				v, isConst = x.Value, true
			case *ast.Param:
				v, isConst = eval.ParamValue(p.Env, x)
			}
			if isConst {
				// No Text: nothing renders an INSERT's values (EXPLAIN
				// shows their count), and formatting each one was ~3%
				// of a bulk load's CPU.
				exprs[i] = &Expr{Compiled: eval.Compiled{Eval: func([]types.Value) (types.Value, error) { return v, nil }, Kind: v.Kind, Const: true}}
				continue
			}
			x, err := c.compile(e)
			if err != nil {
				return nil, err
			}
			exprs[i] = &x
		}
		n.Values[r] = exprs
	}
	return n, nil
}

// source plans the rows an UPDATE or DELETE touches.
func (p *Planner) writeSource(tableName, alias string, where ast.Expr, verb string) (*catalog.TableDesc, *scope, Node, error) {
	if where == nil {
		return nil, nil, nil, errcode.New(errcode.InvalidInput, "%s requires a WHERE clause", verb)
	}
	t, err := p.Table(tableName)
	if err != nil {
		return nil, nil, nil, err
	}
	if alias == "" {
		alias = tableName
	}
	cols := tableColumns(t, alias)
	sc := &scope{cols: cols}
	if containsAggregate(where) {
		return nil, nil, nil, errcode.New(errcode.InvalidInput, "aggregate functions are not allowed in WHERE")
	}
	src := &source{cols: cols, table: &tableRef{desc: t, alias: alias}}
	acc, err := p.chooseAccess(src, sc, conjuncts(where, nil), nil, false)
	if err != nil {
		return nil, nil, nil, err
	}
	var node Node = acc.scan
	if len(acc.residual) > 0 {
		if node, err = p.filter(node, sc, andAll(acc.residual), "WHERE"); err != nil {
			return nil, nil, nil, err
		}
	}
	return t, sc, node, nil
}

// PlanUpdate plans UPDATE ... SET ... WHERE (WHERE required: CADB0400).
func (p *Planner) PlanUpdate(up *ast.Update) (*Update, error) {
	t, sc, src, err := p.writeSource(up.Table, up.Alias, up.Where, "UPDATE")
	if err != nil {
		return nil, err
	}
	n := &Update{Table: t, Source: src}
	defaults, err := p.DefaultExprs(t)
	if err != nil {
		return nil, err
	}
	if n.Checks, err = p.CheckExprs(t); err != nil {
		return nil, err
	}
	c := &compiler{p: p, scope: sc, what: "UPDATE SET"}
	seen := map[int]bool{}
	for _, a := range up.Set {
		ord := t.ColumnOrdinal(a.Column)
		if ord < 0 || t.Columns[ord].Hidden || !t.Columns[ord].Public() {
			return nil, errcode.New(errcode.UnknownColumn, "column %q of table %q does not exist", a.Column, t.Name)
		}
		if seen[ord] {
			return nil, errcode.New(errcode.DuplicateColumn, "column %q assigned more than once", a.Column)
		}
		seen[ord] = true
		var x Expr
		_, isDefault := a.Value.(*ast.DefaultExpr)
		if !isDefault && t.Columns[ord].Identity == "ALWAYS" {
			return nil, errcode.New(errcode.GeneratedAlways, "column %q can only be updated to DEFAULT: it is an identity column defined as GENERATED ALWAYS", a.Column)
		}
		if isDefault {
			if defaults[ord] != nil {
				x = *defaults[ord]
			} else {
				x, err = p.CompileConst(&ast.Literal{}, "DEFAULT")
			}
		} else {
			x, err = c.compile(a.Value)
		}
		if err != nil {
			return nil, err
		}
		n.Set = append(n.Set, Assignment{Column: ord, Expr: x})
	}
	if n.Set, err = p.setAddingColumns(t, n.Set, defaults); err != nil {
		return nil, err
	}
	alias := up.Alias
	if alias == "" {
		alias = up.Table
	}
	if n.Returning, err = p.planReturning(t, alias, up.Returning); err != nil {
		return nil, err
	}
	return n, nil
}

// setAddingColumns appends to set an assignment of its default (NULL
// when it has none) to every write-only column an ADD COLUMN job adds: a
// row an UPDATE writes then holds the column's value, so the backfill,
// which fills only rows that lack it, leaves the row alone. Readers never
// saw the value, so evaluating a volatile default again is invisible.
func (p *Planner) setAddingColumns(t *catalog.TableDesc, set []Assignment, defaults []*Expr) ([]Assignment, error) {
	for ord := range t.Columns {
		c := &t.Columns[ord]
		if !c.Adding || c.State != catalog.ColumnWriteOnly {
			continue
		}
		if defaults[ord] != nil {
			set = append(set, Assignment{Column: ord, Expr: *defaults[ord]})
			continue
		}
		x, err := p.CompileConst(&ast.Literal{}, "DEFAULT")
		if err != nil {
			return nil, err
		}
		set = append(set, Assignment{Column: ord, Expr: x})
	}
	return set, nil
}

// PlanDelete plans DELETE FROM ... WHERE (WHERE required: CADB0400).
func (p *Planner) PlanDelete(del *ast.Delete) (*Delete, error) {
	t, _, src, err := p.writeSource(del.Table, del.Alias, del.Where, "DELETE")
	if err != nil {
		return nil, err
	}
	alias := del.Alias
	if alias == "" {
		alias = del.Table
	}
	ret, err := p.planReturning(t, alias, del.Returning)
	if err != nil {
		return nil, err
	}
	return &Delete{Table: t, Source: src, Returning: ret}, nil
}

// checkIdentityTargets refuses a value for a GENERATED ALWAYS identity
// column unless the INSERT says OVERRIDING SYSTEM VALUE (DEFAULT is
// allowed); OVERRIDING USER VALUE of a query is not supported.
func checkIdentityTargets(t *catalog.TableDesc, targets []int, ins *ast.Insert) error {
	for i, ord := range targets {
		c := &t.Columns[ord]
		if c.Identity == "" {
			continue
		}
		if ins.Overriding == "USER" && ins.Select != nil {
			return errcode.New(errcode.Unsupported, "OVERRIDING USER VALUE with INSERT ... SELECT is not supported: leave the identity column %q out of the column list", c.Name)
		}
		if c.Identity != "ALWAYS" || ins.Overriding != "" {
			continue
		}
		explicit := ins.Select != nil
		for _, row := range ins.Rows {
			if i < len(row) {
				if _, isDefault := row[i].(*ast.DefaultExpr); !isDefault {
					explicit = true
				}
			}
		}
		if explicit {
			return errcode.New(errcode.GeneratedAlways, "cannot insert a non-DEFAULT value into column %q: it is an identity column defined as GENERATED ALWAYS (use OVERRIDING SYSTEM VALUE to override)", c.Name)
		}
	}
	return nil
}
