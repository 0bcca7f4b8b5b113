package plan

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// VirtualTables supplies the tables that are not stored but generated
// from the catalog for one statement: pg_catalog.* and
// information_schema.* (package pgcatalog implements it). The planner asks
// it before resolving a name as a stored table.
type VirtualTables interface {
	// VirtualTable returns the columns and rows of the virtual table
	// called name (as written: "pg_catalog.pg_class", "pg_class",
	// "information_schema.tables"); ok=false when there is none.
	VirtualTable(name string) (t *VirtualTable, ok bool, err error)
}

// VirtualTable is a generated table: its rows are computed when the
// statement is planned, from what its user may see.
type VirtualTable struct {
	Name string
	Cols []Column
	Rows [][]types.Value
}

// VirtualScan produces the rows of a virtual table.
type VirtualScan struct {
	Table *VirtualTable
	Cols  []Column
}

func (n *VirtualScan) Name() string      { return "virtual-table-scan" }
func (n *VirtualScan) Detail() string    { return n.Table.Name }
func (n *VirtualScan) Children() []Node  { return nil }
func (n *VirtualScan) Columns() []Column { return n.Cols }

// FuncScan produces the rows of a set-returning function in FROM
// (generate_series, unnest). Args are evaluated once per execution of the
// node (against no row; a correlated argument reads its outer row).
type FuncScan struct {
	Func string
	Args []Expr
	Cols []Column
}

func (n *FuncScan) Name() string      { return "function-scan" }
func (n *FuncScan) Detail() string    { return n.Func + "(" + exprList(n.Args) + ")" }
func (n *FuncScan) Children() []Node  { return nil }
func (n *FuncScan) Columns() []Column { return n.Cols }

// virtualLeaf resolves name as a virtual table; nil when it is not one.
func (p *Planner) virtualLeaf(f *ast.TableName) (*leaf, error) {
	if p.Virtual == nil {
		return nil, nil
	}
	vt, ok, err := p.Virtual.VirtualTable(f.Name)
	if err != nil || !ok {
		return nil, err
	}
	alias := f.Alias
	if alias == "" {
		alias = f.Name
		if i := lastDot(alias); i >= 0 {
			alias = alias[i+1:]
		}
	}
	cols := make([]Column, len(vt.Cols))
	for i, c := range vt.Cols {
		cols[i] = Column{Name: c.Name, Kind: c.Kind, Table: alias}
	}
	n := &VirtualScan{Table: vt, Cols: cols}
	return &leaf{node: n, cols: cols}, nil
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

// SetReturningKind is the output kind of the set-returning function name
// for arguments of kinds args; ok=false for an unknown function.
func SetReturningKind(name string, args []types.Kind) (types.Kind, bool) {
	switch name {
	case "generate_series":
		for _, k := range args {
			if k == types.Float64 {
				return types.Float64, true
			}
		}
		return types.Int64, true
	case "unnest":
		return types.String, true
	}
	return types.Null, false
}

// funcLeaf plans a set-returning function in FROM.
func (p *Planner) funcLeaf(f *ast.FuncTable) (*leaf, error) {
	// No columns of its own FROM clause (no LATERAL), but a correlated
	// subquery's function may read the enclosing query's row.
	c := &compiler{p: p, scope: &scope{}, what: "a function in FROM"}
	args := make([]Expr, len(f.Args))
	kinds := make([]types.Kind, len(f.Args))
	for i, a := range f.Args {
		x, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		args[i], kinds[i] = x, x.Kind
	}
	kind, ok := SetReturningKind(f.Name, kinds)
	if !ok {
		if _, scalar := builtins.Lookup(f.Name); scalar {
			return nil, errcode.New(errcode.Unsupported, "function %s() in FROM is not supported; only generate_series and unnest", f.Name)
		}
		return nil, errcode.New(errcode.InvalidInput, "unknown function %s()", f.Name)
	}
	switch f.Name {
	case "generate_series":
		if len(args) < 2 || len(args) > 3 {
			return nil, errcode.New(errcode.InvalidInput, "generate_series() takes 2 or 3 arguments, got %d", len(args))
		}
		for i, k := range kinds {
			if k != types.Null && !isNumericKind(k) {
				return nil, errcode.New(errcode.InvalidInput, "generate_series(): argument %d must be INT64 or FLOAT64, not %s", i+1, k)
			}
		}
	case "unnest":
		if len(args) != 1 {
			return nil, errcode.New(errcode.InvalidInput, "unnest() takes 1 argument, got %d", len(args))
		}
	}
	alias := f.Alias
	if alias == "" {
		alias = f.Name
	}
	name := f.Column
	if name == "" {
		name = alias
	}
	cols := []Column{{Name: name, Kind: kind, Table: alias}}
	n := &FuncScan{Func: f.Name, Args: args, Cols: cols}
	return &leaf{node: n, cols: cols}, nil
}

func isNumericKind(k types.Kind) bool { return k == types.Int64 || k == types.Float64 }

// arraySubquery compiles ARRAY(SELECT ...): the subquery's one column as an
// array's text form (an empty array when it returns no row).
func (c *compiler) arraySubquery(n *ast.ArrayExpr) (eval.Compiled, bool, error) {
	sq, err := c.planSubquery(n.Subquery)
	if err != nil {
		return eval.Compiled{}, true, err
	}
	if _, err := oneColumn(sq.node); err != nil {
		return eval.Compiled{}, true, err
	}
	return eval.Compiled{Kind: types.String, Eval: func(row []types.Value) (types.Value, error) {
		rows, err := sq.run(row, -1)
		if err != nil {
			return types.Value{}, err
		}
		vals := make([]types.Value, len(rows))
		for i, r := range rows {
			vals[i] = r[0]
		}
		return types.NewString(builtins.FormatArray(vals)), nil
	}}, true, nil
}

// maxViewDepth bounds views defined over views (and a view that came to
// refer to itself through CREATE OR REPLACE).
const maxViewDepth = 32

// viewLeaf plans a view as a derived table under alias, its columns named
// as the view's.
func (p *Planner) viewLeaf(desc *catalog.TableDesc, alias string) (*leaf, error) {
	if p.viewDepth >= maxViewDepth {
		return nil, errcode.New(errcode.InvalidInput, "views nested more than %d deep (or a view refers to itself): %q", maxViewDepth, desc.Name)
	}
	stmt, err := parser.Parse(desc.View)
	if err != nil {
		return nil, errcode.New(errcode.Corruption, "view %q: its stored query does not parse: %v", desc.Name, err)
	}
	sel, ok := stmt.(*ast.SelectStmt)
	if !ok {
		return nil, errcode.New(errcode.Corruption, "view %q: its stored query is not a query", desc.Name)
	}
	child := *p
	child.viewDepth++
	l, err := child.derived(sel.Select, alias, &cteScope{})
	if err != nil {
		return nil, err
	}
	names := desc.VisibleColumns()
	if len(names) == len(l.cols) {
		for i, o := range names {
			l.cols[i].Name = desc.Columns[o].Name
		}
	}
	return l, nil
}

// sequenceLeaf reads a sequence as PostgreSQL shows one: a single row of
// last_value, log_cnt (always 0) and is_called, from its state as the
// statement's transaction sees it (nextval runs in transactions of its
// own, so this is the value at the statement's snapshot).
func (p *Planner) sequenceLeaf(desc *catalog.TableDesc, alias string) (*leaf, error) {
	st, found, err := catalog.GetSequenceState(p.Ctx, p.KV, desc.DBID, desc.ID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errcode.New(errcode.Corruption, "sequence %q has no state", desc.Name)
	}
	cols := []Column{{Name: "last_value", Kind: types.Int64, Table: alias}, {Name: "log_cnt", Kind: types.Int64, Table: alias},
		{Name: "is_called", Kind: types.Bool, Table: alias}}
	vt := &VirtualTable{Name: desc.Name, Cols: cols,
		Rows: [][]types.Value{{types.NewInt(st.Last), types.NewInt(0), types.NewBool(st.Called)}}}
	return &leaf{node: &VirtualScan{Table: vt, Cols: cols}, cols: cols}, nil
}
