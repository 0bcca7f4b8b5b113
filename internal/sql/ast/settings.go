package ast

import "strings"

// SetVar is SET [SESSION | LOCAL] name {= | TO} value[, ...] | DEFAULT,
// a session setting (PostgreSQL run-time parameter). The parser maps the
// special forms to names: SET TIME ZONE → timezone, SET NAMES →
// client_encoding, SET SCHEMA → search_path, SET TRANSACTION ... →
// transaction_isolation, SET SESSION CHARACTERISTICS AS TRANSACTION ... →
// default_transaction_isolation.
type SetVar struct {
	At    Pos
	Name  string // lower case; custom settings are dotted (app.user)
	Local bool   // SET LOCAL: until the end of the transaction
	// Values are the list items as text: words folded to lower case,
	// strings unquoted, numbers as written (with their sign).
	Values  []string
	Default bool // SET name TO DEFAULT (Values empty)
}

// ResetVar is RESET name | RESET ALL.
type ResetVar struct {
	At   Pos
	Name string // "" with All
	All  bool
}

// ShowVar is SHOW name | SHOW ALL (SHOW TIME ZONE and SHOW TRANSACTION
// ISOLATION LEVEL name timezone and transaction_isolation).
type ShowVar struct {
	At   Pos
	Name string // "" with All
	All  bool
}

// Unsupported is PostgreSQL syntax the database recognises but does not
// implement (LISTEN, NOTIFY, CREATE VIEW, ...); executing it is CADB0407
// (SQLSTATE 0A000) naming Feature. The rest of the statement is not kept:
// Format writes only the feature's words, which parse back to it.
type Unsupported struct {
	At      Pos
	Feature string // upper case, e.g. "LISTEN", "CREATE VIEW"
}

// Truncate is TRUNCATE [TABLE] t[, ...] [CASCADE | RESTRICT]: every row
// of every named table is deleted, in one statement.
type Truncate struct {
	At       Pos
	Tables   []string
	Behavior string // "", "CASCADE" or "RESTRICT" (nothing depends on a table)
	// RestartIdentity restarts the sequences the tables' columns own.
	RestartIdentity bool
}

func (n *Truncate) Position() Pos    { return n.At }
func (*Truncate) stmt()              {}
func (n *SetVar) Position() Pos      { return n.At }
func (n *ResetVar) Position() Pos    { return n.At }
func (n *ShowVar) Position() Pos     { return n.At }
func (n *Unsupported) Position() Pos { return n.At }
func (*SetVar) stmt()                {}
func (*ResetVar) stmt()              {}
func (*ShowVar) stmt()               {}
func (*Unsupported) stmt()           {}

// settingName writes a possibly dotted setting name. A first word that
// SET, RESET or SHOW would read as part of their own syntax (SET LOCAL,
// SHOW TABLES, ...) is written in backticks.
func (f *formatter) settingName(name string) {
	for i, part := range strings.Split(name, ".") {
		if i > 0 {
			f.WriteByte('.')
		}
		if i == 0 && settingSyntaxWord(part) {
			f.WriteByte('`')
			f.WriteString(part)
			f.WriteByte('`')
			continue
		}
		f.ident(part)
	}
}

func settingSyntaxWord(w string) bool {
	switch w {
	case "local", "session", "time", "names", "schema", "transaction", "role", "session_authorization",
		"constraints", "characteristics", "all", "tables", "databases", "database", "columns", "fields",
		"index", "indexes", "keys", "create":
		return true
	}
	return false
}

// otherStatement formats the statements kept out of the main switch; it
// reports false for a node it does not know.
func (f *formatter) otherStatement(s Statement) bool {
	switch s := s.(type) {
	case *Copy:
		f.copyStatement(s)
	case *SetVar:
		f.WriteString("SET ")
		if s.Local {
			f.WriteString("LOCAL ")
		}
		f.settingName(s.Name)
		f.WriteString(" = ")
		if s.Default {
			f.WriteString("DEFAULT")
			return true
		}
		for i, v := range s.Values {
			if i > 0 {
				f.WriteString(", ")
			}
			f.quoteString(v)
		}
	case *ResetVar:
		f.WriteString("RESET ")
		if s.All {
			f.WriteString("ALL")
		} else {
			f.settingName(s.Name)
		}
	case *ShowVar:
		f.WriteString("SHOW ")
		if s.All {
			f.WriteString("ALL")
		} else {
			f.settingName(s.Name)
		}
	case *Unsupported:
		f.WriteString(s.Feature)
	case *Truncate:
		f.WriteString("TRUNCATE TABLE ")
		f.identList(s.Tables)
		if s.RestartIdentity {
			f.WriteString(" RESTART IDENTITY")
		}
		f.behavior(s.Behavior)
	default:
		return false
	}
	return true
}

func (f *formatter) identList(names []string) {
	for i, n := range names {
		if i > 0 {
			f.WriteString(", ")
		}
		f.ident(n)
	}
}

// drop writes DROP <kind> [IF EXISTS] a, b [CASCADE | RESTRICT].
func (f *formatter) drop(kind string, ifExists bool, names []string, behavior string) {
	f.WriteString("DROP " + kind + " ")
	if ifExists {
		f.WriteString("IF EXISTS ")
	}
	f.identList(names)
	f.behavior(behavior)
}

func (f *formatter) behavior(b string) {
	if b != "" {
		f.WriteByte(' ')
		f.WriteString(b)
	}
}

func (f *formatter) returning(items []SelectItem) {
	if items != nil {
		f.WriteString(" RETURNING ")
		f.selectItems(items)
	}
}

// OnConflict is INSERT's ON CONFLICT [target] DO NOTHING | DO UPDATE SET
// ... [WHERE cond]. The target is (Columns) or ON CONSTRAINT Constraint;
// without one (DO NOTHING only) any unique conflict counts. In Set and
// Where, "excluded.c" is the row proposed for insertion and unqualified
// columns are the existing row's.
type OnConflict struct {
	Columns    []string
	Constraint string
	DoNothing  bool
	Set        []Assignment
	Where      Expr
}

// insertTail writes what follows an INSERT's rows.
func (f *formatter) insertTail(s *Insert) {
	if oc := s.OnConflict; oc != nil {
		f.WriteString(" ON CONFLICT")
		switch {
		case oc.Columns != nil:
			f.WriteString(" (")
			f.identList(oc.Columns)
			f.WriteByte(')')
		case oc.Constraint != "":
			f.WriteString(" ON CONSTRAINT ")
			f.ident(oc.Constraint)
		}
		if oc.DoNothing {
			f.WriteString(" DO NOTHING")
		} else {
			f.WriteString(" DO UPDATE SET ")
			for i, a := range oc.Set {
				if i > 0 {
					f.WriteString(", ")
				}
				f.ident(a.Column)
				f.WriteString(" = ")
				f.expr(a.Value, 0)
			}
			if oc.Where != nil {
				f.WriteString(" WHERE ")
				f.expr(oc.Where, 0)
			}
		}
	}
	f.returning(s.Returning)
}
