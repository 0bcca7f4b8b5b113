package exec

import (
	"context"
	"fmt"
	"slices"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// CHECK constraints: CREATE TABLE ... [CONSTRAINT name] CHECK (expr) and
// ALTER TABLE ... ADD [CONSTRAINT name] CHECK (expr). Every write checks
// them (tableWriter.check); adding one validates the existing rows (in the
// statement inside a transaction, by a job in chunks otherwise).

// addCheck compiles def against t (public columns, boolean) and appends
// it to t's checks (state Public), named def.Name or, without one,
// <table>_check[n].
func addCheck(p *plan.Planner, t *catalog.TableDesc, def *ast.CheckDef) (*catalog.CheckDesc, error) {
	if _, err := p.CompileCheck(t, def.Expr); err != nil {
		return nil, err
	}
	name := def.Name
	if name == "" {
		name = t.Name + "_check"
		for n := 1; t.FindCheck(name) != nil; n++ {
			name = fmt.Sprintf("%s_check%d", t.Name, n)
		}
	} else if err := catalog.ValidateName(name); err != nil {
		return nil, err
	}
	if t.FindCheck(name) != nil {
		return nil, errcode.New(errcode.InvalidInput, "constraint %q already exists on table %q", name, t.Name)
	}
	t.Checks = append(t.Checks, catalog.CheckDesc{Name: name, Expr: ast.FormatExpr(def.Expr)})
	return &t.Checks[len(t.Checks)-1], nil
}

// addCheckConstraint adds a CHECK constraint inside a transaction: every
// row is checked in the statement (a violation fails it with CADB0033
// naming the row; nothing is kept).
func addCheckConstraint(ctx context.Context, p *plan.Planner, buf *WriteBuffer, t *catalog.TableDesc, def *ast.CheckDef) error {
	c, err := addCheck(p, t, def)
	if err != nil {
		return err
	}
	x, err := p.CompileCheck(t, def.Expr)
	if err != nil {
		return err
	}
	name := c.Name
	if err := catalog.UpdateTable(ctx, buf, t); err != nil {
		return err
	}
	_, _, err = validateRows(ctx, buf, t, name, x, nil, -1)
	return err
}

// dropConstraint removes the CHECK constraint name (metadata only) or,
// when t has none of that name, the index of that name (a UNIQUE
// constraint).
func dropConstraint(ctx context.Context, buf *WriteBuffer, t *catalog.TableDesc, name string) error {
	if t.FindCheck(name) != nil {
		t.Checks = slices.DeleteFunc(t.Checks, func(c catalog.CheckDesc) bool { return c.Name == name })
		return catalog.UpdateTable(ctx, buf, t)
	}
	if name != catalog.PrimaryIndexName && t.FindIndex(name) != nil {
		return dropIndex(ctx, buf, t, name, false)
	}
	return errcode.New(errcode.UnknownIndex, "constraint %q of table %q does not exist", name, t.Name)
}

// PrepareAddCheck adds the CHECK constraint def describes to t as an ADD
// CONSTRAINT job starts it: WRITE_ONLY, i.e. enforced on every write from
// then on, while the job validates the rows that exist. kv and env are the
// statement's transaction and evaluation environment.
func PrepareAddCheck(ctx context.Context, kv catalog.KV, env *eval.Env, t *catalog.TableDesc, def *ast.CheckDef) (*catalog.CheckDesc, error) {
	p := &plan.Planner{Ctx: ctx, KV: kv, Env: env}
	c, err := addCheck(p, t, def)
	if err != nil {
		return nil, err
	}
	c.State = catalog.IndexWriteOnly
	return c, nil
}

// ValidateCheckChunk checks up to limit rows of t against its CHECK
// constraint name, from row key from (nil: the first row), through kv. A
// row that makes it false is CADB0033 naming the row. It returns the key
// to start the next chunk at (nil when the table is done) and the number
// of rows read.
func ValidateCheckChunk(ctx context.Context, kv catalog.KV, env *eval.Env, t *catalog.TableDesc, name string, from []byte, limit int) (next []byte, rows int64, err error) {
	c := t.FindCheck(name)
	if c == nil {
		return nil, 0, errcode.New(errcode.Internal, "check constraint %q of table %q is gone", name, t.Name)
	}
	e, err := plan.ParseExpr(c.Expr)
	if err != nil {
		return nil, 0, errcode.New(errcode.Corruption, "check constraint %q cannot be parsed: %v", name, err)
	}
	p := &plan.Planner{Ctx: ctx, KV: kv, Env: env}
	x, err := p.CompileCheck(t, e)
	if err != nil {
		return nil, 0, err
	}
	return validateRows(ctx, kv, t, name, x, from, limit)
}

// validateRows evaluates check x on up to limit rows of t (all when
// limit < 0) from row key from.
func validateRows(ctx context.Context, kv catalog.KV, t *catalog.TableDesc, name string, x plan.Expr, from []byte, limit int) (next []byte, rows int64, err error) {
	prefixLen := len(t.RowPrefix())
	return scanRowChunk(ctx, kv, t, from, limit, func(key, value []byte) error {
		row, err := t.DecodeRowValue(value)
		if err != nil {
			return err
		}
		v, err := x.Eval(row)
		if err != nil {
			return err
		}
		if v.Kind == types.Bool && !v.Bool {
			return errcode.New(errcode.CheckViolation, "check constraint %q of table %q is violated by the row with primary key (%s)",
				name, t.Name, pkText(t, key[prefixLen:]))
		}
		return nil
	})
}

// pkText renders an encoded primary key as its values ("1, 'a'").
func pkText(t *catalog.TableDesc, pk []byte) string {
	vals, err := t.DecodePK(pk)
	if err != nil {
		return "?"
	}
	out := ""
	for i, v := range vals {
		if i > 0 {
			out += ", "
		}
		out += v.String()
	}
	return out
}

// checkUsing returns the CHECK constraint of t that names column name, or
// nil: such a column cannot be renamed or dropped (the constraint is
// stored as SQL text).
func checkUsing(t *catalog.TableDesc, name string) error {
	for _, c := range t.Checks {
		if plan.CheckUses(c.Expr, name) {
			return errcode.New(errcode.InvalidInput, "column %q of table %q is used by check constraint %q; drop the constraint first", name, t.Name, c.Name)
		}
	}
	return nil
}
