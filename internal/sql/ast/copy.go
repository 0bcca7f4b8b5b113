package ast

import "strings"

// Copy is COPY t [(cols)] FROM STDIN | COPY {t [(cols)] | (query)} TO
// STDOUT, with options. The rows travel in the protocol (pgwire's
// CopyIn/CopyOut), never through files of the server.
type Copy struct {
	At      Pos
	Table   string   // "" when Query is set
	Columns []string // nil: every visible column
	Query   *Select  // COPY (query) TO STDOUT
	From    bool     // FROM STDIN; else TO STDOUT
	Options CopyOptions
}

// CopyOptions are COPY's WITH options. Empty strings mean the format's
// default.
type CopyOptions struct {
	Format    string // "text" (default), "csv" or "binary"
	Header    bool
	Delimiter string
	Null      *string // nil: the format's default
	Quote     string
	Escape    string
}

func (n *Copy) Position() Pos { return n.At }
func (*Copy) stmt()           {}

func (f *formatter) copyStatement(s *Copy) {
	f.WriteString("COPY ")
	if s.Query != nil {
		f.WriteByte('(')
		f.query(s.Query)
		f.WriteByte(')')
	} else {
		f.ident(s.Table)
		if s.Columns != nil {
			f.WriteString(" (")
			for i, c := range s.Columns {
				if i > 0 {
					f.WriteString(", ")
				}
				f.ident(c)
			}
			f.WriteByte(')')
		}
	}
	if s.From {
		f.WriteString(" FROM STDIN")
	} else {
		f.WriteString(" TO STDOUT")
	}
	o := s.Options
	var opts []string
	if o.Format != "" {
		opts = append(opts, "FORMAT "+o.Format)
	}
	if o.Header {
		opts = append(opts, "HEADER true")
	}
	lit := func(name, v string) {
		var b formatter
		b.quoteString(v)
		opts = append(opts, name+" "+b.String())
	}
	if o.Delimiter != "" {
		lit("DELIMITER", o.Delimiter)
	}
	if o.Null != nil {
		lit("NULL", *o.Null)
	}
	if o.Quote != "" {
		lit("QUOTE", o.Quote)
	}
	if o.Escape != "" {
		lit("ESCAPE", o.Escape)
	}
	if len(opts) > 0 {
		f.WriteString(" WITH (" + strings.Join(opts, ", ") + ")")
	}
}
