package eval

import (
	"fmt"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
)

// parseWithSQLParser parses text with the real SQL parser as the single
// item of SELECT <expr>.
func parseWithSQLParser(text string) (ast.Expr, error) {
	stmt, err := parser.Parse("SELECT " + text)
	if err != nil {
		return nil, err
	}
	sel, ok := stmt.(*ast.SelectStmt)
	if !ok || sel.Select == nil || len(sel.Select.Items) != 1 || sel.Select.Items[0].Expr == nil {
		return nil, fmt.Errorf("%q is not a single-expression SELECT", text)
	}
	return sel.Select.Items[0].Expr, nil
}
