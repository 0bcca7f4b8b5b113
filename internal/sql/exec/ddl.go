package exec

import (
	"context"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// TableFromAST builds the descriptor of CREATE TABLE (ids, version and
// database id are left for catalog.CreateTable). DEFAULT expressions are
// compiled to validate them and stored as text.
func TableFromAST(p *plan.Planner, s *ast.CreateTable) (*catalog.TableDesc, error) {
	t := &catalog.TableDesc{Name: s.Name, NextColumnID: 1, NextIndexID: catalog.PrimaryIndexID + 1}
	if err := catalog.ValidateName(s.Name); err != nil {
		return nil, err
	}
	var pk *ast.IndexDef
	setPK := func(def *ast.IndexDef) error {
		if pk != nil {
			return errcode.New(errcode.InvalidInput, "multiple primary keys for table %q are not allowed", s.Name)
		}
		pk = def
		return nil
	}
	var indexDefs []ast.IndexDef
	seqNames := map[string]bool{}
	for i := range s.Columns {
		c := &s.Columns[i]
		col, err := columnFromAST(p, t, c)
		if err != nil {
			return nil, err
		}
		if c.Serial || c.Identity != "" {
			if err := serialColumn(p, s.Name, &col, c, seqNames); err != nil { // sequence.go
				return nil, err
			}
		}
		t.Columns = append(t.Columns, col)
		if c.PrimaryKey {
			if err := setPK(&ast.IndexDef{At: c.At, Primary: true, Columns: []ast.IndexColumn{{Column: c.Name}}}); err != nil {
				return nil, err
			}
		}
		if c.Unique {
			indexDefs = append(indexDefs, ast.IndexDef{At: c.At, Unique: true, Columns: []ast.IndexColumn{{Column: c.Name}}})
		}
	}
	for i := range s.Indexes {
		def := &s.Indexes[i]
		if def.Primary {
			if err := setPK(def); err != nil {
				return nil, err
			}
			continue
		}
		indexDefs = append(indexDefs, *def)
	}
	// Column names are checked before index columns are resolved.
	if err := checkColumnNames(t); err != nil {
		return nil, err
	}
	if pk == nil {
		t.HiddenRowID = true
		t.Columns = append(t.Columns, catalog.ColumnDesc{
			ID: t.NextColumnID, Name: catalog.HiddenRowIDColumn, Kind: types.OID,
			NotNull: true, Hidden: true, Default: "GEN_ID()",
		})
		t.NextColumnID++
		pk = &ast.IndexDef{Primary: true, Columns: []ast.IndexColumn{{Column: catalog.HiddenRowIDColumn}}}
	}
	cols, err := indexColumns(t, pk.Columns)
	if err != nil {
		return nil, err
	}
	t.PrimaryKey = catalog.IndexDesc{ID: catalog.PrimaryIndexID, Name: catalog.PrimaryIndexName, Unique: true, Columns: cols}
	for _, c := range cols {
		t.Columns[t.ColumnOrdinalByID(c.ColumnID)].NotNull = true
	}
	for _, def := range indexDefs {
		if _, err := addIndex(t, def); err != nil {
			return nil, err
		}
	}
	for i := range s.Columns {
		for j := range s.Columns[i].Checks {
			if _, err := addCheck(p, t, &s.Columns[i].Checks[j]); err != nil {
				return nil, err
			}
		}
	}
	for i := range s.Checks {
		if _, err := addCheck(p, t, &s.Checks[i]); err != nil {
			return nil, err
		}
	}
	return t, t.Validate()
}

// columnFromAST builds the descriptor of a column definition with the
// next column id of t (consumed).
func columnFromAST(p *plan.Planner, t *catalog.TableDesc, c *ast.ColumnDef) (catalog.ColumnDesc, error) {
	col := catalog.ColumnDesc{ID: t.NextColumnID, Name: c.Name, Kind: c.Type.Kind, Mod: c.Type.Mod, NotNull: c.NotNull}
	if len(c.Checks) > 0 && t.ID != 0 {
		return col, errcode.New(errcode.Unsupported, "ADD COLUMN %s cannot declare a CHECK constraint; add the column, then ALTER TABLE %s ADD CHECK (...)", c.Name, t.Name)
	}
	t.NextColumnID++
	if c.NotNull && c.Null {
		return col, errcode.New(errcode.InvalidInput, "column %q is declared both NULL and NOT NULL", c.Name)
	}
	if !c.Type.Valid() {
		return col, errcode.New(errcode.UnknownType, "column %q has unknown type %q", c.Name, c.TypeText)
	}
	if c.Default != nil {
		text, err := checkDefault(p, &col, c.Default)
		if err != nil {
			return col, err
		}
		col.Default = text
	}
	return col, nil
}

func checkColumnNames(t *catalog.TableDesc) error {
	seen := map[string]bool{}
	for _, c := range t.Columns {
		if err := catalog.ValidateName(c.Name); err != nil {
			return err
		}
		if seen[c.Name] {
			return errcode.New(errcode.DuplicateColumn, "column %q specified more than once", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// checkDefault validates a DEFAULT expression for col and returns its text.
func checkDefault(p *plan.Planner, col *catalog.ColumnDesc, e ast.Expr) (string, error) {
	x, err := p.CompileConst(e, "DEFAULT")
	if err != nil {
		return "", err
	}
	if !assignable(x.Kind, col.Kind) {
		return "", errcode.New(errcode.InvalidInput, "default for column %q is %s, column is %s", col.Name, x.Kind, col.Kind)
	}
	if x.Const {
		v, err := x.Eval(nil)
		if err != nil {
			return "", err
		}
		if _, err := coerce(v, col); err != nil {
			return "", err
		}
	}
	return ast.FormatExpr(e), nil
}

func indexColumns(t *catalog.TableDesc, cols []ast.IndexColumn) ([]catalog.IndexColumn, error) {
	out := make([]catalog.IndexColumn, 0, len(cols))
	for _, c := range cols {
		ord := t.ColumnOrdinal(c.Column)
		if ord < 0 || (t.Columns[ord].Hidden && c.Column != catalog.HiddenRowIDColumn) || !t.Columns[ord].Public() {
			return nil, errcode.New(errcode.UnknownColumn, "column %q of table %q does not exist", c.Column, t.Name)
		}
		out = append(out, catalog.IndexColumn{ColumnID: t.Columns[ord].ID, Desc: c.Desc})
	}
	return out, nil
}

// addIndex appends a Public index built from def to t and returns it.
func addIndex(t *catalog.TableDesc, def ast.IndexDef) (*catalog.IndexDesc, error) {
	cols, err := indexColumns(t, def.Columns)
	if err != nil {
		return nil, err
	}
	name := def.Name
	if name == "" {
		name = generatedIndexName(t, def)
	} else if err := catalog.ValidateName(name); err != nil {
		return nil, err
	}
	if t.FindIndex(name) != nil {
		return nil, errcode.New(errcode.InvalidInput, "index %q already exists on table %q", name, t.Name)
	}
	t.Indexes = append(t.Indexes, catalog.IndexDesc{ID: t.NextIndexID, Name: name, Unique: def.Unique, Columns: cols})
	t.NextIndexID++
	return &t.Indexes[len(t.Indexes)-1], nil
}

// generatedIndexName names an unnamed index PostgreSQL-style:
// table_col1_col2_key for UNIQUE, table_col1_col2_idx otherwise, with a
// numeric suffix when taken.
func generatedIndexName(t *catalog.TableDesc, def ast.IndexDef) string {
	parts := []string{t.Name}
	for _, c := range def.Columns {
		parts = append(parts, c.Column)
	}
	suffix := "idx"
	if def.Unique {
		suffix = "key"
	}
	base := strings.Join(parts, "_") + "_" + suffix
	name := base
	for i := 1; t.FindIndex(name) != nil; i++ {
		name = base + strconv.Itoa(i)
	}
	return name
}

// executeDDL runs a DDL statement, buffering its writes in buf. Every DDL
// that changes a table bumps the table's version and its database's schema
// version (catalog.UpdateTable). On a single node every change, index
// back-fill included, happens inside the statement's transaction, so a
// failure leaves nothing behind; see docs/schema.md for the staged
// protocol a cluster will use.
func executeDDL(ctx context.Context, p *plan.Planner, buf *WriteBuffer, stmt ast.Statement,
	dropData func(context.Context, catalog.KV, *catalog.TableDesc) error) error {
	switch s := stmt.(type) {
	case *ast.CreateDatabase:
		_, err := catalog.CreateDatabase(ctx, buf, s.Name, s.IfNotExists)
		return err
	case *ast.DropDatabase:
		_, err := catalog.DropDatabase(ctx, buf, s.Name, s.IfExists, dropData)
		return err
	case *ast.RenameDatabase:
		return catalog.RenameDatabase(ctx, buf, s.Old, s.New)
	case *ast.CreateTable:
		return createTable(p, buf, s)
	case *ast.DropTable:
		return dropTable(p, buf, s, dropData)
	case *ast.CreateIndex:
		t, err := p.Table(s.Table)
		if err != nil {
			return err
		}
		return createIndex(ctx, buf, t, s.Index, s.IfNotExists)
	case *ast.DropIndex:
		t, err := p.Table(s.Table)
		if err != nil {
			return err
		}
		return dropIndex(ctx, buf, t, s.Name, s.IfExists)
	case *ast.AlterTable:
		return alterTable(ctx, p, buf, s, dropData)
	}
	return errcode.New(errcode.Unsupported, "statement %T is not DDL", stmt)
}

func createTable(p *plan.Planner, buf *WriteBuffer, s *ast.CreateTable) error {
	db, err := p.DatabaseDesc()
	if err != nil {
		return err
	}
	t, err := TableFromAST(p, s)
	if err != nil {
		return err
	}
	t.DBID = db.ID
	if s.IfNotExists {
		existing, err := catalog.LookupTable(p.Ctx, buf, db.ID, s.Name)
		if err != nil || existing != nil {
			return err
		}
	}
	if err := catalog.CreateTable(p.Ctx, buf, t); err != nil {
		return err
	}
	return createOwnedSequences(p.Ctx, buf, t, s.Columns) // sequence.go
}

// dropTable removes the tables and deletes their rows and index entries
// in the same transaction; a missing table (without IF EXISTS) fails the
// whole statement, so none is dropped.
func dropTable(p *plan.Planner, buf *WriteBuffer, s *ast.DropTable, dropData func(context.Context, catalog.KV, *catalog.TableDesc) error) error {
	db, err := p.DatabaseDesc()
	if err != nil {
		return err
	}
	for _, name := range s.Names {
		t, err := catalog.LookupTable(p.Ctx, buf, db.ID, name)
		if err != nil {
			return err
		}
		if t == nil {
			if s.IfExists {
				continue
			}
			return errcode.New(errcode.UnknownTable, "table %q does not exist", name)
		}
		if t.View != "" {
			return errcode.New(errcode.InvalidInput, "%q is a view: use DROP VIEW", name)
		}
		if t.Sequence != nil {
			return errcode.New(errcode.WrongObjectType, "%q is a sequence: use DROP SEQUENCE", name)
		}
		if err := dropOwnedSequences(p.Ctx, buf, t, 0); err != nil { // sequence.go
			return err
		}
		if dropData == nil {
			if err := catalog.DropTable(p.Ctx, buf, t); err != nil {
				return err
			}
			continue
		}
		if err := catalog.DropTableDescriptor(p.Ctx, buf, t); err != nil {
			return err
		}
		if err := dropData(p.Ctx, buf, t); err != nil {
			return err
		}
	}
	return nil
}

// createIndex adds an index and back-fills it from the table's rows in the
// same statement. A uniqueness violation fails the statement, whose writes
// (descriptor and entries) are then discarded: no half-built index remains.
// On a single node the index goes straight to Public.
func createIndex(ctx context.Context, buf *WriteBuffer, t *catalog.TableDesc, def ast.IndexDef, ifNotExists bool) error {
	if def.Name != "" && t.FindIndex(def.Name) != nil && ifNotExists {
		return nil
	}
	old := t.Clone()
	if _, err := addIndex(t, def); err != nil {
		return err
	}
	if err := catalog.UpdateTable(ctx, buf, t); err != nil {
		return err
	}
	return rewriteRows(ctx, buf, old, t, false, nil)
}

// dropIndex removes an index from the descriptor and deletes its entries
// in the same transaction.
func dropIndex(ctx context.Context, buf *WriteBuffer, t *catalog.TableDesc, name string, ifExists bool) error {
	if name == catalog.PrimaryIndexName {
		return errcode.New(errcode.InvalidInput, "the primary key cannot be dropped with DROP INDEX; use ALTER TABLE %s DROP PRIMARY KEY", t.Name)
	}
	for i := range t.Indexes {
		if t.Indexes[i].Name != name {
			continue
		}
		if err := catalog.ClearIndexData(ctx, buf, t, &t.Indexes[i]); err != nil {
			return err
		}
		t.Indexes = append(t.Indexes[:i], t.Indexes[i+1:]...)
		return catalog.UpdateTable(ctx, buf, t)
	}
	if ifExists {
		return nil
	}
	return errcode.New(errcode.UnknownIndex, "index %q does not exist on table %q", name, t.Name)
}

// createTableAs runs CREATE TABLE t [(cols)] AS query [WITH NO DATA]: the
// table gets the query's column names (or cols) and kinds (a column whose
// kind the plan leaves open takes its first value's, else STRING), no
// primary key (a hidden row id, as in PostgreSQL where it has none), and
// the query's rows, in the statement's transaction.
func createTableAs(ctx context.Context, p *plan.Planner, b *builder, buf *WriteBuffer, s *ast.CreateTable) (int64, error) {
	db, err := p.DatabaseDesc()
	if err != nil {
		return 0, err
	}
	if existing, err := catalog.LookupTable(ctx, buf, db.ID, s.Name); err != nil {
		return 0, err
	} else if existing != nil {
		if s.IfNotExists {
			return 0, nil
		}
		return 0, errcode.New(errcode.TableExists, "table %q already exists", s.Name)
	}
	node, err := p.PlanQuery(s.AsQuery)
	if err != nil {
		return 0, err
	}
	cols := append([]plan.Column(nil), node.Columns()...)
	var rows [][]types.Value
	if !s.NoData {
		res, err := runQuery(ctx, b, node)
		if err != nil {
			return 0, err
		}
		rows, cols = res.Rows, res.Columns
	}
	if len(s.AsColumns) > len(cols) {
		return 0, errcode.New(errcode.InvalidInput, "CREATE TABLE AS specifies %d column names, but the query has %d columns", len(s.AsColumns), len(cols))
	}
	def := &ast.CreateTable{At: s.At, Name: s.Name}
	for i, c := range cols {
		name := c.Name
		if i < len(s.AsColumns) {
			name = s.AsColumns[i]
		}
		kind := c.Kind
		if kind == types.Null {
			kind = types.String
		}
		def.Columns = append(def.Columns, ast.ColumnDef{At: s.At, Name: name, Type: types.T{Kind: kind}, TypeText: kind.String()})
	}
	if err := createTable(p, buf, def); err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	n, err := p.PlanInsert(&ast.Insert{At: s.At, Table: s.Name, Rows: [][]ast.Expr{}})
	if err != nil {
		return 0, err
	}
	vcols := make([]plan.Column, len(cols))
	copy(vcols, cols)
	n.Query = &plan.VirtualScan{Table: &plan.VirtualTable{Name: s.Name, Cols: vcols, Rows: rows}, Cols: vcols}
	return runInsert(ctx, b, buf, n, newReturned(nil))
}

// createView stores a view: its query (as text) and the columns the query
// has now (names from the column list or the query, kinds from the plan,
// STRING when open). OR REPLACE replaces a view, never a table.
func createView(ctx context.Context, p *plan.Planner, buf *WriteBuffer, s *ast.CreateView) error {
	db, err := p.DatabaseDesc()
	if err != nil {
		return err
	}
	existing, err := catalog.LookupTable(ctx, buf, db.ID, s.Name)
	if err != nil {
		return err
	}
	if existing != nil {
		if existing.View == "" {
			return errcode.New(errcode.TableExists, "%q is a table", s.Name)
		}
		if !s.OrReplace {
			return errcode.New(errcode.TableExists, "view %q already exists", s.Name)
		}
	}
	node, err := p.PlanQuery(s.Query)
	if err != nil {
		return err
	}
	cols := node.Columns()
	if len(s.Columns) > len(cols) {
		return errcode.New(errcode.InvalidInput, "CREATE VIEW specifies %d column names, but the query has %d columns", len(s.Columns), len(cols))
	}
	def := &ast.CreateTable{At: s.At, Name: s.Name}
	for i, c := range cols {
		name := c.Name
		if i < len(s.Columns) {
			name = s.Columns[i]
		}
		kind := c.Kind
		if kind == types.Null {
			kind = types.String
		}
		def.Columns = append(def.Columns, ast.ColumnDef{At: s.At, Name: name, Type: types.T{Kind: kind}, TypeText: kind.String()})
	}
	t, err := TableFromAST(p, def)
	if err != nil {
		return err
	}
	t.DBID, t.View = db.ID, ast.Format(s.Query)
	if existing != nil {
		if err := catalog.DropTable(ctx, buf, existing); err != nil {
			return err
		}
	}
	return catalog.CreateTable(ctx, buf, t)
}

// dropView drops views (all or, on an error, none); a table is refused.
func dropView(ctx context.Context, p *plan.Planner, buf *WriteBuffer, s *ast.DropView) error {
	db, err := p.DatabaseDesc()
	if err != nil {
		return err
	}
	for _, name := range s.Names {
		t, err := catalog.LookupTable(ctx, buf, db.ID, name)
		if err != nil {
			return err
		}
		switch {
		case t == nil && s.IfExists:
			continue
		case t == nil:
			return errcode.New(errcode.UnknownTable, "view %q does not exist", name)
		case t.View == "":
			return errcode.New(errcode.InvalidInput, "%q is not a view: use DROP TABLE", name)
		}
		if err := catalog.DropTable(ctx, buf, t); err != nil {
			return err
		}
	}
	return nil
}
