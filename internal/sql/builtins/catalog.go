package builtins

import (
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Catalog answers PostgreSQL's catalog functions (format_type,
// pg_get_indexdef, regclass...) from the descriptors of the statement's
// database. The SQL layer supplies it per statement (package pgcatalog).
type Catalog interface {
	// CatalogFunc evaluates the catalog function name on non-NULL args.
	CatalogFunc(name string, args []types.Value) (types.Value, error)
}

// catalogFunc describes one catalog function for the registry.
type catalogFunc struct {
	name     string
	min, max int
	result   types.Kind
}

// catalogFuncList is every function Catalog answers. Arguments are oids
// (INT64), names or flags; they are checked by the implementation.
var catalogFuncList = []catalogFunc{
	{"format_type", 2, 2, types.String},
	{"pg_get_userbyid", 1, 1, types.String},
	{"pg_table_is_visible", 1, 1, types.Bool},
	{"pg_type_is_visible", 1, 1, types.Bool},
	{"pg_get_indexdef", 1, 3, types.String},
	{"pg_get_constraintdef", 1, 2, types.String},
	{"pg_get_expr", 2, 3, types.String},
	{"obj_description", 1, 2, types.String},
	{"col_description", 2, 2, types.String},
	{"shobj_description", 2, 2, types.String},
	{"pg_relation_is_publishable", 1, 1, types.Bool},
	{"pg_get_statisticsobjdef_columns", 1, 1, types.String},
	// regclass of a name is the relation's oid, of an oid its name: the
	// result kind is known only per value.
	{"regclass", 1, 1, types.Null},
	{"regtype", 1, 1, types.String},
	{"regnamespace", 1, 1, types.String},
	{"regproc", 1, 1, types.String},
	{"regprocedure", 1, 1, types.String},
	{"regrole", 1, 1, types.String},
	{"to_regclass", 1, 1, types.Int64},
	{"has_table_privilege", 2, 3, types.Bool},
	{"has_schema_privilege", 2, 3, types.Bool},
	{"has_database_privilege", 2, 3, types.Bool},
	{"pg_get_viewdef", 1, 2, types.String},
	{"pg_total_relation_size", 1, 1, types.Int64},
	{"pg_relation_size", 1, 2, types.Int64},
	{"pg_table_size", 1, 1, types.Int64},
	{"pg_indexes_size", 1, 1, types.Int64},
	{"pg_database_size", 1, 1, types.Int64},
	{"pg_get_serial_sequence", 2, 2, types.String},
}

func catalogFuncs() []*Func {
	out := make([]*Func, 0, len(catalogFuncList))
	for _, cf := range catalogFuncList {
		name := cf.name
		out = append(out, &Func{Name: name, MinArgs: cf.min, MaxArgs: cf.max, Result: cf.result,
			// format_type(oid, NULL) is how psql asks for a type's name.
			CallOnNull: name == "format_type",
			// Volatile: the answer depends on the statement's catalog,
			// known only when the statement runs.
			Volatile: true, StatementStable: true,
			Impl: func(ctx *Context, a []types.Value) (types.Value, error) {
				if name == "format_type" && (a[0].Kind == types.Null || ctx.Catalog == nil && a[1].Kind == types.Null) {
					return types.NullValue, nil // only the typmod may be NULL
				}
				if ctx.Catalog == nil {
					return types.Value{}, errcode.New(errcode.Unsupported, "%s(): catalog functions need a statement context", name)
				}
				return ctx.Catalog.CatalogFunc(name, a)
			}})
	}
	return out
}
