package pgcatalog

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/privilege"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Config is what a statement's catalogs are built from.
type Config struct {
	Ctx   context.Context
	KV    catalog.KV
	Descs catalog.Resolver
	// Database is the statement's database ("" when none: no relations).
	Database string
	// Checker decides what the user sees; nil means everything (root).
	Checker *privilege.Checker
	// TypeOID maps a column kind to its PostgreSQL type oid (pgwire's
	// mapping); nil shows every column as text.
	TypeOID func(types.Kind) uint32
	// Settings lists the session's settings (name, value, description)
	// for pg_settings; nil leaves it empty.
	Settings func() [][3]string
}

// Catalog answers one statement's catalog tables and functions. It reads
// the descriptors once, on first use. Not safe for concurrent use.
type Catalog struct {
	cfg  Config
	snap *snapshot
}

// New returns the catalogs of one statement.
func New(cfg Config) *Catalog { return &Catalog{cfg: cfg} }

// Fixed object ids.
const (
	nsPgCatalog         int64 = 11
	nsPublic            int64 = 2200
	nsInformationSchema int64 = 13000
	rootRoleOID         int64 = 10
	classOIDPgClass     int64 = 1259
	amHeap              int64 = 2
	amBtree             int64 = 403
	encodingUTF8        int64 = 6
)

func tableOID(t *catalog.TableDesc) int64 { return int64(t.ID) << 16 }

func indexOID(t *catalog.TableDesc, idx *catalog.IndexDesc) int64 {
	return tableOID(t) | int64(idx.ID&0x7fff)
}

func constraintOID(t *catalog.TableDesc, idx *catalog.IndexDesc) int64 {
	return indexOID(t, idx) | 0x8000
}

// checkOID is the pg_constraint oid of t's i-th CHECK constraint (index
// constraint oids keep bit 0x4000 clear: index ids stay far below it).
func checkOID(t *catalog.TableDesc, i int) int64 {
	return tableOID(t) | 0xC000 | int64(i&0x3fff)
}

func databaseOID(db catalog.DatabaseDesc) int64 { return 16384 + int64(db.ID) }

func roleOID(name string) int64 {
	if name == privilege.RootUser {
		return rootRoleOID
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return 16384 + int64(h.Sum32()%(1<<30))
}

// relation is a table or an index as pg_class sees it.
type relation struct {
	oid   int64
	name  string
	kind  string // "r" or "i"
	table *catalog.TableDesc
	index *catalog.IndexDesc // for kind "i"
}

// snapshot is what the statement's user may see.
type snapshot struct {
	db        *catalog.DatabaseDesc // nil when none
	tables    []*catalog.TableDesc  // tables and views
	sequences []*catalog.TableDesc
	relations []relation
	byOID     map[int64]*relation
	databases []catalog.DatabaseDesc
	users     []*privilege.User
}

// indexName is the name an index has in the catalogs: the primary key is
// <table>_pkey, as PostgreSQL names it.
func indexName(t *catalog.TableDesc, idx *catalog.IndexDesc) string {
	if idx.ID == catalog.PrimaryIndexID {
		return t.Name + "_pkey"
	}
	return idx.Name
}

// indexes lists a table's indexes as the catalogs show them: the primary
// key first (not for a table keyed by its hidden row id), then the public
// secondary indexes.
func indexes(t *catalog.TableDesc) []*catalog.IndexDesc {
	if t.View != "" || t.Sequence != nil {
		return nil
	}
	var out []*catalog.IndexDesc
	if !t.HiddenRowID {
		out = append(out, &t.PrimaryKey)
	}
	for i := range t.Indexes {
		if t.Indexes[i].State == catalog.IndexPublic { // not one a job adds or drops
			out = append(out, &t.Indexes[i])
		}
	}
	return out
}

func (c *Catalog) load() (*snapshot, error) {
	if c.snap != nil {
		return c.snap, nil
	}
	ctx, kv := c.cfg.Ctx, c.cfg.KV
	s := &snapshot{byOID: map[int64]*relation{}}
	dbs, err := catalog.ListDatabases(ctx, kv)
	if err != nil {
		return nil, err
	}
	visible, all := map[uint32]bool(nil), true
	if c.cfg.Checker != nil {
		if visible, all, err = c.cfg.Checker.VisibleDatabases(ctx); err != nil {
			return nil, err
		}
	}
	for _, db := range dbs {
		if all || visible[db.ID] || db.Name == c.cfg.Database {
			s.databases = append(s.databases, db)
		}
		if db.Name == c.cfg.Database {
			d := db
			s.db = &d
		}
	}
	if s.db != nil {
		tables, err := catalog.ListTables(ctx, kv, s.db.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range tables {
			if c.cfg.Checker != nil {
				p, err := c.cfg.Checker.TablePriv(ctx, s.db.ID, t.ID)
				if err != nil {
					return nil, err
				}
				if p == 0 {
					continue
				}
			}
			if t.Sequence != nil {
				s.sequences = append(s.sequences, t)
				s.relations = append(s.relations, relation{oid: tableOID(t), name: t.Name, kind: "S", table: t})
				continue
			}
			s.tables = append(s.tables, t)
			if t.View != "" {
				s.relations = append(s.relations, relation{oid: tableOID(t), name: t.Name, kind: "v", table: t})
				continue
			}
			s.relations = append(s.relations, relation{oid: tableOID(t), name: t.Name, kind: "r", table: t})
			for _, idx := range indexes(t) {
				s.relations = append(s.relations, relation{oid: indexOID(t, idx), name: indexName(t, idx), kind: "i", table: t, index: idx})
			}
		}
	}
	for i := range s.relations {
		s.byOID[s.relations[i].oid] = &s.relations[i]
	}
	if s.users, err = privilege.ListUsers(ctx, kv); err != nil {
		return nil, err
	}
	c.snap = s
	return s, nil
}

// VirtualTable implements plan.VirtualTables.
func (c *Catalog) VirtualTable(name string) (*plan.VirtualTable, bool, error) {
	schema, table, qualified := strings.Cut(name, ".")
	if !qualified {
		schema, table = "pg_catalog", name
	}
	var def *tableDef
	switch schema {
	case "pg_catalog":
		def = pgCatalogTables[table]
	case "information_schema":
		def = informationSchemaTables[table]
	}
	if def == nil {
		if qualified && (schema == "pg_catalog" || schema == "information_schema") {
			return nil, false, errcode.New(errcode.Unsupported, "%s is not supported (the catalogs are described in docs/postgresql.md)", name)
		}
		return nil, false, nil
	}
	s, err := c.load()
	if err != nil {
		return nil, false, err
	}
	vt := &plan.VirtualTable{Name: schema + "." + table}
	for _, col := range def.cols {
		vt.Cols = append(vt.Cols, plan.Column{Name: col.name, Kind: col.kind})
	}
	if def.rows != nil {
		for _, r := range def.rows(c, s) {
			row := make([]types.Value, len(def.cols))
			for i, col := range def.cols {
				if v, ok := r[col.name]; ok {
					row[i] = v
				}
			}
			vt.Rows = append(vt.Rows, row)
		}
	}
	return vt, true, nil
}

// ---------------------------------------------------------------- functions

func argInt(a types.Value) (int64, bool) {
	switch a.Kind {
	case types.Int64:
		return a.Int, true
	case types.Float64:
		return int64(a.Float), true
	case types.String:
		var n int64
		if _, err := fmt.Sscan(strings.TrimSpace(a.Str), &n); err == nil {
			return n, true
		}
	}
	return 0, false
}

// CatalogFunc implements builtins.Catalog.
func (c *Catalog) CatalogFunc(name string, a []types.Value) (types.Value, error) {
	s, err := c.load()
	if err != nil {
		return types.Value{}, err
	}
	str := types.NewString
	rel := func(v types.Value) *relation {
		if oid, ok := argInt(v); ok {
			return s.byOID[oid]
		}
		return nil
	}
	switch name {
	case "format_type":
		oid, ok := argInt(a[0])
		if !ok {
			return types.NullValue, nil
		}
		if t, ok := typeByOID(oid); ok {
			typmod, ok := argInt(a[1])
			if !ok {
				typmod = -1
			}
			return str(formatType(t, typmod)), nil
		}
		return str("???"), nil
	case "pg_get_userbyid", "regrole":
		oid, _ := argInt(a[0])
		for _, u := range s.users {
			if roleOID(u.Name) == oid {
				return str(u.Name), nil
			}
		}
		return str(fmt.Sprintf("unknown (OID=%d)", oid)), nil
	case "pg_table_is_visible":
		return types.NewBool(rel(a[0]) != nil), nil
	case "pg_type_is_visible", "has_schema_privilege", "has_database_privilege":
		return types.NewBool(true), nil
	case "has_table_privilege":
		target := a[0]
		if len(a) == 3 {
			target = a[1]
		}
		if target.Kind == types.String {
			if _, ok := argInt(target); !ok {
				name := strings.TrimPrefix(target.Str, "public.")
				for _, t := range s.tables {
					if t.Name == name {
						return types.NewBool(true), nil
					}
				}
				return types.NewBool(false), nil
			}
		}
		return types.NewBool(rel(target) != nil), nil
	case "pg_get_indexdef":
		r := rel(a[0])
		if r == nil || r.kind != "i" {
			return types.NullValue, nil
		}
		if len(a) >= 2 {
			if col, _ := argInt(a[1]); col > 0 {
				if int(col) > len(r.index.Columns) {
					return str(""), nil
				}
				o := r.table.ColumnOrdinalByID(r.index.Columns[col-1].ColumnID)
				return str(quoteIdent(r.table.Columns[o].Name)), nil
			}
		}
		return str(indexDef(r.table, r.index)), nil
	case "pg_get_constraintdef":
		oid, _ := argInt(a[0])
		for _, t := range s.tables {
			if !t.HiddenRowID && constraintOID(t, &t.PrimaryKey) == oid {
				return str("PRIMARY KEY (" + indexColumnList(t, &t.PrimaryKey, false) + ")"), nil
			}
			for i, c := range t.Checks {
				if checkOID(t, i) == oid {
					return str("CHECK (" + c.Expr + ")"), nil
				}
			}
		}
		return types.NullValue, nil
	case "pg_get_expr":
		return a[0], nil // adbin holds the default's SQL text
	case "obj_description":
		if r := rel(a[0]); r != nil && r.kind == "r" && r.table.Comment != "" {
			if len(a) == 1 || a[1].Str == "pg_class" {
				return str(r.table.Comment), nil
			}
		}
		return types.NullValue, nil
	case "col_description":
		r := rel(a[0])
		num, _ := argInt(a[1])
		if r == nil || r.kind != "r" {
			return types.NullValue, nil
		}
		for i, o := range r.table.VisibleColumns() {
			if int64(i+1) == num && r.table.Columns[o].Comment != "" {
				return str(r.table.Columns[o].Comment), nil
			}
		}
		return types.NullValue, nil
	case "pg_get_serial_sequence":
		// The sequence a column owns (SERIAL, identity, OWNED BY).
		table, column := strings.TrimPrefix(a[0].String(), "public."), a[1].String()
		for _, t := range s.tables {
			if t.Name != strings.Trim(table, `"`) || t.View != "" {
				continue
			}
			ord := t.ColumnOrdinal(strings.Trim(column, `"`))
			if ord < 0 {
				return types.Value{}, errcode.New(errcode.UnknownColumn, "column %q of relation %q does not exist", column, table)
			}
			for _, seq := range catalog.OwnedSequences(s.sequences, t, t.Columns[ord].ID) {
				return str("public." + seq.Name), nil
			}
			return types.NullValue, nil
		}
		return types.Value{}, errcode.New(errcode.UnknownTable, "relation %q does not exist", table)
	case "pg_get_viewdef":
		if r := rel(a[0]); r != nil && r.kind == "v" {
			return str(r.table.View), nil
		}
		return types.NullValue, nil
	case "shobj_description", "pg_get_statisticsobjdef_columns":
		return types.NullValue, nil
	case "pg_relation_is_publishable":
		return types.NewBool(false), nil
	case "regclass", "to_regclass":
		if a[0].Kind == types.String {
			if _, isNum := argInt(a[0]); !isNum {
				n := strings.Trim(strings.TrimPrefix(strings.TrimPrefix(a[0].Str, "public."), "pg_catalog."), `"`)
				if n == "pg_class" {
					return types.NewInt(classOIDPgClass), nil // pg_depend's classid
				}
				for _, r := range s.relations {
					if r.name == n {
						return types.NewInt(r.oid), nil
					}
				}
				if name == "to_regclass" {
					return types.NullValue, nil
				}
				return types.Value{}, errcode.New(errcode.UnknownTable, "relation %q does not exist", a[0].Str)
			}
		}
		if name == "to_regclass" {
			return a[0], nil
		}
		if r := rel(a[0]); r != nil {
			return str(r.name), nil
		}
		return str(a[0].String()), nil
	case "regtype":
		if oid, ok := argInt(a[0]); ok {
			if t, ok := typeByOID(oid); ok {
				return str(t.display), nil
			}
		}
		return str(a[0].String()), nil
	case "regnamespace":
		oid, _ := argInt(a[0])
		for _, n := range namespaces {
			if n.oid == oid {
				return str(n.name), nil
			}
		}
		return str(a[0].String()), nil
	case "regproc", "regprocedure":
		return str(a[0].String()), nil
	case "pg_database_size":
		return types.NewInt(0), nil
	case "pg_total_relation_size", "pg_relation_size", "pg_table_size", "pg_indexes_size":
		if rel(a[0]) == nil {
			return types.NullValue, nil
		}
		return types.NewInt(0), nil
	}
	return types.Value{}, errcode.New(errcode.Unsupported, "%s() is not supported", name)
}

// quoteIdent quotes a name as PostgreSQL does when it is not a plain
// lower-case identifier.
func quoteIdent(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			plain = false
		}
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func indexColumnList(t *catalog.TableDesc, idx *catalog.IndexDesc, withDir bool) string {
	parts := make([]string, 0, len(idx.Columns))
	for _, ic := range idx.Columns {
		name := "?"
		if o := t.ColumnOrdinalByID(ic.ColumnID); o >= 0 {
			name = quoteIdent(t.Columns[o].Name)
		}
		if withDir && ic.Desc {
			name += " DESC"
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, ", ")
}

// indexDef is pg_get_indexdef's text: CREATE [UNIQUE] INDEX name ON
// public.t USING btree (cols).
func indexDef(t *catalog.TableDesc, idx *catalog.IndexDesc) string {
	unique := ""
	if idx.Unique {
		unique = "UNIQUE "
	}
	return fmt.Sprintf("CREATE %sINDEX %s ON public.%s USING btree (%s)", unique,
		quoteIdent(indexName(t, idx)), quoteIdent(t.Name), indexColumnList(t, idx, true))
}

func sortedSettings(rows [][3]string) [][3]string {
	out := append([][3]string(nil), rows...)
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i][0]) < strings.ToLower(out[j][0]) })
	return out
}
