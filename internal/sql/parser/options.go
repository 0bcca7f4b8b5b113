package parser

import "github.com/camusdb/camusdb-go/internal/sql/ast"

// Options select the lexical dialect of one parse. The zero value is the
// dialect of the HTTP API (SPEC §2).
type Options struct {
	// StandardStrings reads string literals as PostgreSQL does with
	// standard_conforming_strings = on (the pgwire default): in '...' and
	// "..." a backslash is an ordinary character and only a doubled quote
	// is an escape. Without it a backslash escapes the next character
	// (\n \t \r \0 \\ \' \"; any other \x is x).
	//
	// In both modes E'...' takes C-style escapes (\b \f \n \r \t \\ \'
	// \ooo \xHH \uXXXX \UXXXXXXXX) and U&'...' Unicode escapes (\XXXX,
	// \+XXXXXX, optional UESCAPE 'c').
	StandardStrings bool
}

// ParseWith is Parse in the dialect opts selects.
func ParseWith(sql string, opts Options) (ast.Statement, error) {
	return parse(sql, opts)
}

// ParseMultiWith is ParseMulti in the dialect opts selects.
func ParseMultiWith(sql string, opts Options) ([]ast.Statement, error) {
	return parseMulti(sql, opts)
}
