package session

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// CopyStatement is what a front-end needs to run COPY: the data format,
// and for COPY ... TO STDOUT the query whose rows it sends.
type CopyStatement struct {
	// From is COPY ... FROM STDIN: run the statement itself with
	// Request.CopyIn. Otherwise run Query and send its rows.
	From bool
	// Query is the SELECT of COPY ... TO STDOUT, in the dialect without
	// standard strings (Request.StandardStrings false).
	Query string
	// Format is "text", "csv" or "binary".
	Format string
	Header bool
	// Delimiter, Quote and Escape are single bytes; Null is the text of
	// NULL (text: \N, CSV: the empty unquoted field).
	Delimiter, Quote, Escape byte
	Null                     string
}

// ParseCopy reads a COPY statement with the session's literal dialect;
// ok=false when sql is not COPY. Errors are *errcode.Error.
func ParseCopy(sql string, standardStrings bool) (st *CopyStatement, ok bool, err error) {
	stmt, err := parser.ParseWith(sql, parser.Options{StandardStrings: standardStrings})
	if err != nil {
		return nil, false, mapError(err)
	}
	c, ok := stmt.(*ast.Copy)
	if !ok {
		return nil, false, nil
	}
	o := c.Options
	st = &CopyStatement{From: c.From, Format: o.Format, Header: o.Header, Delimiter: '\t', Null: `\N`, Quote: '"', Escape: '"'}
	if st.Format == "" {
		st.Format = "text"
	}
	if st.Format == "csv" {
		st.Delimiter, st.Null = ',', ""
	}
	if o.Delimiter != "" {
		st.Delimiter = o.Delimiter[0]
	}
	if o.Null != nil {
		st.Null = *o.Null
	}
	if o.Quote != "" {
		st.Quote = o.Quote[0]
	}
	if o.Escape != "" {
		st.Escape = o.Escape[0]
	} else if o.Quote != "" {
		st.Escape = st.Quote
	}
	switch {
	case st.Format == "binary" && (o.Delimiter != "" || o.Null != nil || o.Header):
		return nil, true, errcode.New(errcode.InvalidInput, "cannot specify DELIMITER, NULL or HEADER in BINARY mode")
	case st.Format != "csv" && (o.Quote != "" || o.Escape != ""):
		return nil, true, errcode.New(errcode.InvalidInput, "COPY QUOTE and ESCAPE are available only in CSV mode")
	case st.Format == "csv" && st.Delimiter == st.Quote:
		return nil, true, errcode.New(errcode.InvalidInput, "COPY delimiter and quote must be different")
	case st.Delimiter == '\n' || st.Delimiter == '\r' || st.Format == "text" && st.Delimiter == '\\':
		return nil, true, errcode.New(errcode.InvalidInput, "COPY delimiter cannot be newline, carriage return or backslash")
	}
	if !c.From {
		q := c.Query
		if q == nil {
			q = &ast.Select{At: c.At, From: []ast.TableExpr{&ast.TableName{At: c.At, Name: c.Table}}}
			if c.Columns == nil {
				q.Items = []ast.SelectItem{{Star: true}}
			}
			for _, col := range c.Columns {
				q.Items = append(q.Items, ast.SelectItem{Expr: &ast.ColumnRef{At: c.At, Column: col}})
			}
		}
		st.Query = ast.Format(q)
	}
	return st, true, nil
}
