package ast

import "strings"

// Prepare is PREPARE name [(type, ...)] AS statement: a statement kept in
// the session under name, its $n parameters typed by Types (upper-case
// type names as written; missing ones are untyped).
type Prepare struct {
	At    Pos
	Name  string
	Types []string
	Stmt  Statement
}

// Execute is EXECUTE name [(arg, ...)]: run a prepared statement with
// the arguments as its $1, $2, ....
type Execute struct {
	At   Pos
	Name string
	Args []Expr
}

// Deallocate is DEALLOCATE [PREPARE] {name | ALL}; All when Name is "".
type Deallocate struct {
	At   Pos
	Name string
	All  bool
}

// Discard is DISCARD {ALL | PLANS | SEQUENCES | TEMP}; What is upper case.
type Discard struct {
	At   Pos
	What string
}

// Comment is COMMENT ON {TABLE t | COLUMN t.c} IS 'text' | NULL. Column
// is "" for a table comment; Text nil removes the comment.
type Comment struct {
	At     Pos
	Table  string
	Column string
	Text   *string
}

// CreateSchema is CREATE SCHEMA [IF NOT EXISTS] name: only public exists.
type CreateSchema struct {
	At          Pos
	Name        string
	IfNotExists bool
}

// Vacuum is VACUUM [options] [tables]: there is nothing to vacuum (old
// row versions are garbage-collected automatically); it succeeds.
type Vacuum struct{ At Pos }

func (n *Vacuum) Position() Pos { return n.At }
func (*Vacuum) stmt()           {}

func (n *CreateSchema) Position() Pos { return n.At }
func (*CreateSchema) stmt()           {}

func (n *Prepare) Position() Pos    { return n.At }
func (n *Execute) Position() Pos    { return n.At }
func (n *Deallocate) Position() Pos { return n.At }
func (n *Discard) Position() Pos    { return n.At }
func (n *Comment) Position() Pos    { return n.At }
func (*Prepare) stmt()              {}
func (*Execute) stmt()              {}
func (*Deallocate) stmt()           {}
func (*Discard) stmt()              {}
func (*Comment) stmt()              {}

// sessionStatement formats the statements of this file; false for others.
func (f *formatter) sessionStatement(s Statement) bool {
	switch s := s.(type) {
	case *Prepare:
		f.WriteString("PREPARE ")
		f.ident(s.Name)
		if len(s.Types) > 0 {
			f.WriteString(" (" + strings.Join(s.Types, ", ") + ")")
		}
		f.WriteString(" AS ")
		f.statement(s.Stmt)
	case *Execute:
		f.WriteString("EXECUTE ")
		f.ident(s.Name)
		if len(s.Args) > 0 {
			f.WriteString(" (")
			f.exprList(s.Args)
			f.WriteByte(')')
		}
	case *Deallocate:
		f.WriteString("DEALLOCATE ")
		if s.All {
			f.WriteString("ALL")
		} else {
			f.ident(s.Name)
		}
	case *Discard:
		f.WriteString("DISCARD " + s.What)
	case *Vacuum:
		f.WriteString("VACUUM")
	case *CreateSchema:
		f.WriteString("CREATE SCHEMA ")
		if s.IfNotExists {
			f.WriteString("IF NOT EXISTS ")
		}
		f.ident(s.Name)
	case *Comment:
		f.WriteString("COMMENT ON ")
		if s.Column != "" {
			f.WriteString("COLUMN ")
			f.ident(s.Table)
			f.WriteByte('.')
			f.ident(s.Column)
		} else {
			f.WriteString("TABLE ")
			f.ident(s.Table)
		}
		f.WriteString(" IS ")
		if s.Text == nil {
			f.WriteString("NULL")
		} else {
			f.quoteString(*s.Text)
		}
	default:
		return false
	}
	return true
}
