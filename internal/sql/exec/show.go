package exec

import (
	"context"
	"sort"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func stringColumns(names ...string) []plan.Column {
	cols := make([]plan.Column, len(names))
	for i, n := range names {
		cols[i] = plan.Column{Name: n, Kind: types.String}
	}
	return cols
}

func show(ctx context.Context, p *plan.Planner, kv catalog.KV, s *ast.Show) (*Result, error) {
	switch s.What {
	case "DATABASES":
		dbs, err := catalog.ListDatabases(ctx, kv)
		if err != nil {
			return nil, err
		}
		res := &Result{Kind: Rows, Columns: stringColumns("database")}
		for _, db := range dbs {
			res.Rows = append(res.Rows, []types.Value{types.NewString(db.Name)})
		}
		return res, nil
	case "DATABASE":
		v := types.NullValue
		if p.Database != "" {
			v = types.NewString(p.Database)
		}
		return &Result{Kind: Rows, Columns: stringColumns("database"), Rows: [][]types.Value{{v}}}, nil
	case "SEQUENCES":
		return showSequences(ctx, p, kv) // sequence.go
	case "TABLES":
		db, err := p.DatabaseDesc()
		if err != nil {
			return nil, err
		}
		tables, err := catalog.ListTables(ctx, kv, db.ID)
		if err != nil {
			return nil, err
		}
		res := &Result{Kind: Rows, Columns: stringColumns("table")}
		for _, t := range tables {
			if t.Sequence != nil {
				continue // SHOW SEQUENCES
			}
			res.Rows = append(res.Rows, []types.Value{types.NewString(t.Name)})
		}
		return res, nil
	case "COLUMNS":
		t, err := p.Table(s.Table)
		if err != nil {
			return nil, err
		}
		return showColumns(t), nil
	case "INDEXES":
		t, err := p.Table(s.Table)
		if err != nil {
			return nil, err
		}
		return showIndexes(t), nil
	case "CREATE TABLE":
		t, err := p.Relation(s.Table)
		if err != nil {
			return nil, err
		}
		view := &ast.CreateView{Name: t.Name}
		for _, o := range t.VisibleColumns() {
			view.Columns = append(view.Columns, t.Columns[o].Name)
		}
		text := ast.Format(view) + t.View // the stored query follows AS
		if t.Sequence != nil {
			text = "CREATE SEQUENCE " + ast.FormatIdent(t.Name) + SequenceOptionsText(t.Sequence)
		} else if t.View == "" {
			if text, err = CreateTableText(t); err != nil {
				return nil, err
			}
		}
		return &Result{Kind: Rows, Columns: stringColumns("table", "create_table"),
			Rows: [][]types.Value{{types.NewString(t.Name), types.NewString(text)}}}, nil
	}
	return nil, errcode.New(errcode.Unsupported, "SHOW %s is not supported", s.What)
}

func showColumns(t *catalog.TableDesc) *Result {
	res := &Result{Kind: Rows, Columns: []plan.Column{
		{Name: "field", Kind: types.String},
		{Name: "type", Kind: types.String},
		{Name: "null", Kind: types.Bool},
		{Name: "key", Kind: types.String},
		{Name: "default", Kind: types.String},
	}}
	key := map[uint32]string{}
	for i := range t.Indexes {
		idx := &t.Indexes[i]
		first := idx.Columns[0].ColumnID
		if _, set := key[first]; set {
			continue
		}
		if idx.Unique && len(idx.Columns) == 1 {
			key[first] = "UNI"
		} else {
			key[first] = "MUL"
		}
	}
	for _, c := range t.PrimaryKey.Columns {
		key[c.ColumnID] = "PRI"
	}
	for _, c := range t.Columns {
		if c.Hidden || !c.Public() {
			continue
		}
		def := types.NullValue
		if c.Default != "" {
			def = types.NewString(c.Default)
		}
		res.Rows = append(res.Rows, []types.Value{
			types.NewString(c.Name), types.NewString(c.Type().String()), types.NewBool(!c.NotNull),
			types.NewString(key[c.ID]), def,
		})
	}
	return res
}

func showIndexes(t *catalog.TableDesc) *Result {
	res := &Result{Kind: Rows, Columns: []plan.Column{
		{Name: "table", Kind: types.String},
		{Name: "index", Kind: types.String},
		{Name: "unique", Kind: types.Bool},
		{Name: "columns", Kind: types.String},
		{Name: "state", Kind: types.String},
	}}
	indexes := []*catalog.IndexDesc{&t.PrimaryKey}
	for i := range t.Indexes {
		indexes = append(indexes, &t.Indexes[i])
	}
	sort.SliceStable(indexes, func(i, j int) bool { return indexes[i].Name < indexes[j].Name })
	for _, idx := range indexes {
		res.Rows = append(res.Rows, []types.Value{
			types.NewString(t.Name), types.NewString(idx.Name), types.NewBool(idx.Unique),
			types.NewString(t.IndexColumnsText(idx)), types.NewString(idx.State.String()),
		})
	}
	return res
}

// CreateTableText renders a CREATE TABLE statement that re-creates t with
// its columns, primary key and indexes.
func CreateTableText(t *catalog.TableDesc) (string, error) {
	s := &ast.CreateTable{Name: t.Name}
	for _, c := range t.Columns {
		if c.Hidden || !c.Public() {
			continue
		}
		def := ast.ColumnDef{Name: c.Name, Type: c.Type(), NotNull: c.NotNull}
		if c.Identity != "" {
			// The identity creates its sequence again on restore
			// (camus-dump sets its options and value afterwards).
			def.Identity, def.IdentityOptions = c.Identity, identitySequenceOption(t, &c)
			def.NotNull = false
		} else if c.Default != "" {
			e, err := plan.ParseExpr(c.Default)
			if err != nil {
				return "", errcode.New(errcode.Corruption, "default of column %q cannot be parsed: %v", c.Name, err)
			}
			def.Default = e
		}
		s.Columns = append(s.Columns, def)
	}
	indexCols := func(idx *catalog.IndexDesc) []ast.IndexColumn {
		out := make([]ast.IndexColumn, len(idx.Columns))
		for i, c := range idx.Columns {
			out[i] = ast.IndexColumn{Column: t.Columns[t.ColumnOrdinalByID(c.ColumnID)].Name, Desc: c.Desc}
		}
		return out
	}
	if !t.HiddenRowID {
		s.Indexes = append(s.Indexes, ast.IndexDef{Primary: true, Columns: indexCols(&t.PrimaryKey)})
	}
	for i := range t.Indexes {
		idx := &t.Indexes[i]
		if idx.State != catalog.IndexPublic {
			continue // being added or dropped by a job (SHOW INDEXES shows it)
		}
		s.Indexes = append(s.Indexes, ast.IndexDef{Name: idx.Name, Unique: idx.Unique, Columns: indexCols(idx)})
	}
	for _, c := range t.Checks {
		if c.State != catalog.IndexPublic {
			continue // being validated by a job
		}
		e, err := plan.ParseExpr(c.Expr)
		if err != nil {
			return "", errcode.New(errcode.Corruption, "check constraint %q cannot be parsed: %v", c.Name, err)
		}
		s.Checks = append(s.Checks, ast.CheckDef{Name: c.Name, Expr: e})
	}
	return ast.Format(s), nil
}
