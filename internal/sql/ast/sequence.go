package ast

import "strconv"

// SequenceOption is one option of CREATE/ALTER SEQUENCE or of an identity
// column's (seq options). Kind says which:
//
//	"AS"            TypeText, Width (16, 32 or 64)
//	"INCREMENT"     Value
//	"MINVALUE"      Value; "NO MINVALUE"
//	"MAXVALUE"      Value; "NO MAXVALUE"
//	"START"         Value
//	"RESTART"       Value when HasValue (ALTER SEQUENCE only)
//	"CACHE"         Value
//	"CYCLE"; "NO CYCLE"
//	"OWNED BY"      Table and Column; both "" for OWNED BY NONE
//	"SEQUENCE NAME" Name (identity columns only)
type SequenceOption struct {
	Kind     string
	Value    int64
	HasValue bool
	TypeText string
	Width    uint8
	Table    string
	Column   string
	Name     string
}

// CreateSequence is CREATE SEQUENCE [IF NOT EXISTS] name [options].
type CreateSequence struct {
	At          Pos
	Name        string
	IfNotExists bool
	Options     []SequenceOption
}

// AlterSequence is ALTER SEQUENCE [IF EXISTS] name options.
type AlterSequence struct {
	At       Pos
	Name     string
	IfExists bool
	Options  []SequenceOption
}

// DropSequence is DROP SEQUENCE [IF EXISTS] name[, ...] [CASCADE | RESTRICT].
type DropSequence struct {
	At       Pos
	Names    []string
	IfExists bool
	Behavior string
}

func (n *CreateSequence) Position() Pos { return n.At }
func (n *AlterSequence) Position() Pos  { return n.At }
func (n *DropSequence) Position() Pos   { return n.At }
func (*CreateSequence) stmt()           {}
func (*AlterSequence) stmt()            {}
func (*DropSequence) stmt()             {}

// FormatSequenceOptions writes options as SQL (each preceded by a blank).
func FormatSequenceOptions(opts []SequenceOption) string {
	f := &formatter{}
	f.sequenceOptions(opts)
	return f.String()
}

func (f *formatter) sequenceOptions(opts []SequenceOption) {
	for _, o := range opts {
		f.WriteByte(' ')
		switch o.Kind {
		case "AS":
			f.WriteString("AS " + o.TypeText)
		case "INCREMENT", "MINVALUE", "MAXVALUE", "CACHE":
			f.WriteString(o.Kind + " " + strconv.FormatInt(o.Value, 10))
		case "START":
			f.WriteString("START WITH " + strconv.FormatInt(o.Value, 10))
		case "RESTART":
			f.WriteString("RESTART")
			if o.HasValue {
				f.WriteString(" WITH " + strconv.FormatInt(o.Value, 10))
			}
		case "OWNED BY":
			f.WriteString("OWNED BY ")
			if o.Table == "" {
				f.WriteString("NONE")
			} else {
				f.ident(o.Table)
				f.WriteByte('.')
				f.ident(o.Column)
			}
		case "SEQUENCE NAME":
			f.WriteString("SEQUENCE NAME ")
			f.ident(o.Name)
		default: // NO MINVALUE, NO MAXVALUE, CYCLE, NO CYCLE
			f.WriteString(o.Kind)
		}
	}
}

func (f *formatter) sequenceStatement(s Statement) bool {
	switch s := s.(type) {
	case *CreateSequence:
		f.WriteString("CREATE SEQUENCE ")
		if s.IfNotExists {
			f.WriteString("IF NOT EXISTS ")
		}
		f.ident(s.Name)
		f.sequenceOptions(s.Options)
	case *AlterSequence:
		f.WriteString("ALTER SEQUENCE ")
		if s.IfExists {
			f.WriteString("IF EXISTS ")
		}
		f.ident(s.Name)
		f.sequenceOptions(s.Options)
	case *DropSequence:
		f.drop("SEQUENCE", s.IfExists, s.Names, s.Behavior)
	default:
		return false
	}
	return true
}

// FormatIdent renders an identifier as Format does (quoted when needed).
func FormatIdent(s string) string {
	var f formatter
	f.ident(s)
	return f.String()
}
