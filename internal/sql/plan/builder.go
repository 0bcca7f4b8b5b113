package plan

import (
	"context"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Planner turns statements into physical plans. It reads descriptors
// through KV (one point read per table), compiles every expression once
// with eval, and evaluates constant expressions (index keys, LIMIT) with
// Env, so a plan is valid for one execution.
type Planner struct {
	Ctx context.Context
	KV  catalog.KV
	// Database is the current database ("" when none is selected).
	Database string
	Env      *eval.Env
	// Descs resolves descriptors (nil: read and decode each through KV).
	// Statements that write pass a resolver reading through KV, so their
	// transaction pins the descriptors it used.
	Descs catalog.Resolver
	// Runner executes subqueries that are evaluated per row (nil: such
	// subqueries are CADB0407).
	Runner Runner
	// Stats, when set, supplies table statistics: row estimates for
	// EXPLAIN and the "index range too wide → full scan" rule.
	Stats StatsSource
	// Logical disables the physical choices (index paths, join algorithms,
	// limit pushdown) for EXPLAIN (LOGICAL).
	Logical bool
	// Virtual, when set, resolves pg_catalog and information_schema
	// tables (generated from the catalog for this statement).
	Virtual VirtualTables

	db *catalog.DatabaseDesc
	// outer is the innermost enclosing query block of a subquery.
	outer *outerScope
	// ctes are the WITH names visible here.
	ctes *cteScope
	// viewDepth counts the views being expanded (a view over views).
	viewDepth int
}

// DatabaseDesc resolves the current database (CADB0010 when none or unknown).
func (p *Planner) DatabaseDesc() (*catalog.DatabaseDesc, error) {
	if p.db != nil {
		return p.db, nil
	}
	if p.Database == "" {
		return nil, errcode.New(errcode.UnknownDatabase, "no database selected")
	}
	db, err := p.descs().GetDatabase(p.Ctx, p.KV, p.Database)
	if err != nil {
		return nil, err
	}
	p.db = db
	return db, nil
}

// Table resolves a table of the current database to write or change it:
// a view is CADB0407.
func (p *Planner) Table(name string) (*catalog.TableDesc, error) {
	t, err := p.Relation(name)
	if err == nil && t.View != "" {
		return nil, errcode.New(errcode.Unsupported, "%q is a view: it cannot be written or altered", name)
	}
	if err == nil && t.Sequence != nil {
		return nil, errcode.New(errcode.WrongObjectType, "%q is a sequence: it is read with SELECT and nextval and changed with ALTER SEQUENCE and setval", name)
	}
	return t, err
}

// Relation resolves a table or a view of the current database.
func (p *Planner) Relation(name string) (*catalog.TableDesc, error) {
	db, err := p.DatabaseDesc()
	if err != nil {
		return nil, err
	}
	return p.descs().GetTable(p.Ctx, p.KV, db.ID, name)
}

func (p *Planner) descs() catalog.Resolver {
	if p.Descs == nil {
		return (*catalog.DecodeCache)(nil)
	}
	return p.Descs
}

// compiler compiles expressions of one query block.
type compiler struct {
	p     *Planner
	scope eval.Scope
	// what names the clause for error messages ("WHERE", ...).
	what string
	// agg is set once the block aggregates: compilation then goes through
	// the group keys and aggregate results.
	agg *aggState
	// items are the block's select items, for alias references in HAVING.
	items []selectItem
	// inAlias guards against an alias whose expression refers to itself.
	inAlias map[string]bool
}

func (c *compiler) compile(e ast.Expr) (Expr, error) {
	compiled, err := eval.Compile(e, c.scope, c.p.Env, c.hook)
	if err != nil {
		return Expr{}, err
	}
	return Expr{Compiled: compiled, Text: ast.FormatExpr(e)}, nil
}

func (c *compiler) compilePredicate(e ast.Expr) (func([]types.Value) (bool, error), error) {
	return eval.CompilePredicate(e, c.scope, c.p.Env, c.hook)
}

// hook intercepts the nodes eval does not compile itself.
func (c *compiler) hook(e ast.Expr) (eval.Compiled, bool, error) {
	switch n := e.(type) {
	case *ast.SubqueryExpr:
		return c.scalarSubquery(n)
	case *ast.ExistsExpr:
		return c.existsSubquery(n)
	case *ast.ArrayExpr:
		if n.Subquery != nil {
			return c.arraySubquery(n)
		}
	case *ast.InExpr:
		if n.Subquery != nil {
			return c.inSubquery(n)
		}
	case *ast.ColumnRef:
		if x, ok, err := c.outerColumn(n); ok || err != nil {
			return x, true, err
		}
	case *ast.DefaultExpr:
		return eval.Compiled{}, true, errcode.New(errcode.InvalidInput, "DEFAULT is only allowed as an INSERT value or UPDATE assignment")
	}
	if c.agg != nil {
		return c.agg.hook(c, e)
	}
	if fc, ok := isAggregateCall(e); ok {
		return eval.Compiled{}, true, errcode.New(errcode.InvalidInput, "aggregate function %s is not allowed in %s", fc.Name, c.what)
	}
	return eval.Compiled{}, false, nil
}

// constValue compiles e without columns and evaluates it.
func (p *Planner) constValue(e ast.Expr, what string) (types.Value, error) {
	c := &compiler{p: p, scope: noColumns{what}, what: what}
	x, err := c.compile(e)
	if err != nil {
		return types.Value{}, err
	}
	return x.Eval(nil)
}

// limitValue evaluates a LIMIT or OFFSET expression: a non-negative
// INT64, or NULL (no limit).
func (p *Planner) limitValue(e ast.Expr, what string) (int64, bool, error) {
	if e == nil {
		return 0, false, nil
	}
	v, err := p.constValue(e, what)
	if err != nil {
		return 0, false, err
	}
	if v.Kind == types.String {
		// A quoted number ('5', as pgx's simple protocol sends arguments)
		// is an untyped literal in PostgreSQL: LIMIT types it.
		if n, err := strconv.ParseInt(strings.TrimSpace(v.Str), 10, 64); err == nil {
			v = types.NewInt(n)
		}
	}
	switch {
	case v.IsNull():
		return 0, false, nil
	case v.Kind != types.Int64:
		return 0, false, errcode.New(errcode.InvalidInput, "%s must be an INT64, got %s", what, v.Kind)
	case v.Int < 0:
		return 0, false, errcode.New(errcode.InvalidInput, "%s must not be negative", what)
	}
	return v.Int, true, nil
}
