package ast

// CreateView is CREATE [OR REPLACE] VIEW name [(cols)] AS query.
type CreateView struct {
	At        Pos
	Name      string
	Columns   []string
	Query     *Select
	OrReplace bool
}

// DropView is DROP VIEW [IF EXISTS] name[, ...] [CASCADE | RESTRICT].
type DropView struct {
	At       Pos
	Names    []string
	IfExists bool
	Behavior string
}

func (n *CreateView) Position() Pos { return n.At }
func (n *DropView) Position() Pos   { return n.At }
func (*CreateView) stmt()           {}
func (*DropView) stmt()             {}

func (f *formatter) viewStatement(s Statement) bool {
	switch s := s.(type) {
	case *CreateView:
		f.WriteString("CREATE ")
		if s.OrReplace {
			f.WriteString("OR REPLACE ")
		}
		f.WriteString("VIEW ")
		f.ident(s.Name)
		if len(s.Columns) > 0 {
			f.WriteString(" (")
			for i, c := range s.Columns {
				if i > 0 {
					f.WriteString(", ")
				}
				f.ident(c)
			}
			f.WriteByte(')')
		}
		f.WriteString(" AS ")
		if s.Query != nil {
			f.query(s.Query)
		}
	case *DropView:
		f.drop("VIEW", s.IfExists, s.Names, s.Behavior)
	default:
		return false
	}
	return true
}
