package privilege

import (
	"reflect"
	"slices"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
)

// Need is one privilege a statement requires of its user.
type Need struct {
	// Table names a table of the current database; "" for a database need.
	Table string
	// Database names the database of a database need; "" is the current one.
	Database string
	// Priv are the privileges required (all of them) on the object; with
	// Any, one privilege of any kind on the table is enough (SHOW COLUMNS).
	Priv Priv
	Any  bool
	// Admin marks statements only admins may run.
	Admin bool
}

// Needs lists what stmt requires: SELECT on every table it reads (FROM,
// joins, subqueries anywhere, CTEs, INSERT ... SELECT, EXPLAIN), the write
// privilege on the table it writes, CREATE on the database for CREATE
// TABLE, ownership for DDL on an existing table or DROP DATABASE, and
// admin for statements it does not know (fail closed). Statements that
// need nothing (USE, transaction control, SHOW TABLES, which is filtered)
// return nil. User and grant statements are checked by the session.
func Needs(stmt ast.Statement) []Need {
	w := &needWalker{}
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		w.query(s.Select, nil)
		if l := s.Locking; l != nil && (l.Strength == "UPDATE" || l.Strength == "NO KEY UPDATE") && len(s.Select.From) == 1 {
			if tn, ok := s.Select.From[0].(*ast.TableName); ok {
				w.add(Need{Table: tn.Name, Priv: PrivUpdate}) // as in PostgreSQL
			}
		}
	case *ast.Explain:
		w.query(s.Query, nil)
	case *ast.Insert:
		w.add(Need{Table: s.Table, Priv: PrivInsert})
		if s.OnConflict != nil {
			// DO UPDATE reads the conflicting row and rewrites it.
			w.add(Need{Table: s.Table, Priv: PrivSelect | PrivUpdate})
			w.subqueries(s.OnConflict, nil)
		}
		if s.Returning != nil {
			w.add(Need{Table: s.Table, Priv: PrivSelect})
			w.subqueries(s.Returning, nil)
		}
		w.query(s.Select, nil)
		w.subqueries(s.Rows, nil)
	case *ast.Update:
		w.add(Need{Table: s.Table, Priv: PrivUpdate | PrivSelect})
		w.subqueries(s.Set, nil)
		w.subqueries(s.Where, nil)
		w.subqueries(s.Returning, nil)
	case *ast.Delete:
		w.add(Need{Table: s.Table, Priv: PrivDelete | PrivSelect})
		w.subqueries(s.Where, nil)
		w.subqueries(s.Returning, nil)
	case *ast.Copy:
		switch {
		case s.From:
			w.add(Need{Table: s.Table, Priv: PrivInsert})
		case s.Query != nil:
			w.query(s.Query, nil)
		default:
			w.add(Need{Table: s.Table, Priv: PrivSelect})
		}
	case *ast.CreateTable:
		w.add(Need{Priv: PrivCreate})
		w.query(s.AsQuery, nil)
	case *ast.DropTable:
		for _, name := range s.Names {
			w.add(Need{Table: name, Priv: PrivOwner})
		}
	case *ast.Truncate:
		for _, name := range s.Tables {
			w.add(Need{Table: name, Priv: PrivDelete})
		}
	case *ast.AlterTable:
		w.add(Need{Table: s.Table, Priv: PrivOwner})
	case *ast.Comment:
		w.add(Need{Table: s.Table, Priv: PrivOwner})
	case *ast.CreateView:
		w.add(Need{Priv: PrivCreate})
		w.query(s.Query, nil)
	case *ast.DropView:
		for _, name := range s.Names {
			w.add(Need{Table: name, Priv: PrivOwner})
		}
	case *ast.CreateSequence:
		w.add(Need{Priv: PrivCreate})
	case *ast.AlterSequence:
		w.add(Need{Table: s.Name, Priv: PrivOwner})
	case *ast.DropSequence:
		for _, name := range s.Names {
			w.add(Need{Table: name, Priv: PrivOwner})
		}
	case *ast.CreateIndex:
		w.add(Need{Table: s.Table, Priv: PrivOwner})
	case *ast.DropIndex:
		w.add(Need{Table: s.Table, Priv: PrivOwner})
	case *ast.DropDatabase:
		w.add(Need{Database: s.Name, Priv: PrivOwner})
	case *ast.Show:
		switch s.What {
		case "TABLES", "DATABASES", "DATABASE", "SEQUENCES":
		default:
			w.add(Need{Table: s.Table, Any: true})
		}
	case *ast.Use, *ast.Begin, *ast.Commit, *ast.Rollback:
	default:
		w.add(Need{Admin: true})
	}
	return w.needs
}

type needWalker struct {
	needs []Need
}

func (w *needWalker) add(n Need) {
	for i, have := range w.needs {
		if have.Table == n.Table && have.Database == n.Database && have.Admin == n.Admin && have.Any == n.Any {
			w.needs[i].Priv |= n.Priv
			return
		}
	}
	w.needs = append(w.needs, n)
}

// query adds SELECT on every table q reads. ctes are the WITH names in
// scope, which shadow tables.
func (w *needWalker) query(q *ast.Select, ctes []string) {
	if q == nil {
		return
	}
	ctes = slices.Clip(ctes)
	for _, c := range q.With {
		w.query(c.Query, ctes)
		ctes = append(ctes, c.Name)
	}
	w.query(q.Left, ctes)
	w.query(q.Right, ctes)
	for _, te := range q.From {
		w.tableExpr(te, ctes)
	}
	w.subqueries(q.Items, ctes)
	w.subqueries(q.Where, ctes)
	w.subqueries(q.GroupBy, ctes)
	w.subqueries(q.Having, ctes)
	w.subqueries(q.OrderBy, ctes)
	w.subqueries(q.Limit, ctes)
	w.subqueries(q.Offset, ctes)
}

func (w *needWalker) tableExpr(te ast.TableExpr, ctes []string) {
	switch t := te.(type) {
	case *ast.TableName:
		if !slices.Contains(ctes, t.Name) {
			w.add(Need{Table: t.Name, Priv: PrivSelect})
		}
	case *ast.DerivedTable:
		w.query(t.Subquery, ctes)
	case *ast.FuncTable:
		w.subqueries(t.Args, ctes)
	case *ast.Join:
		w.tableExpr(t.Left, ctes)
		w.tableExpr(t.Right, ctes)
		w.subqueries(t.On, ctes)
	default:
		// A FROM source this walker does not know: only admins may run it.
		w.add(Need{Admin: true})
	}
}

var selectType = reflect.TypeFor[*ast.Select]()

// subqueries finds every query nested in node (an expression, a list of
// them, select items...) by walking its exported fields, so expression
// kinds added later are covered without changes here, and walks each.
func (w *needWalker) subqueries(node any, ctes []string) {
	w.walkValue(reflect.ValueOf(node), ctes, 0)
}

// maxWalkDepth bounds the reflective walk (the parser bounds nesting far
// below it).
const maxWalkDepth = 10_000

func (w *needWalker) walkValue(v reflect.Value, ctes []string, depth int) {
	if depth > maxWalkDepth {
		w.add(Need{Admin: true})
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Type() == selectType {
			w.query(v.Interface().(*ast.Select), ctes)
			return
		}
		w.walkValue(v.Elem(), ctes, depth+1)
	case reflect.Interface:
		if !v.IsNil() {
			w.walkValue(v.Elem(), ctes, depth+1)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				w.walkValue(v.Field(i), ctes, depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			w.walkValue(v.Index(i), ctes, depth+1)
		}
	}
}
