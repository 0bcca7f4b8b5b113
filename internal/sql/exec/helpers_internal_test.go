package exec

import (
	"context"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
)

// parseAndBegin parses sql and opens a transaction on db to run it in
// (the caller ends it).
func parseAndBegin(t testing.TB, db catalog.DB, sql string) (context.Context, ast.Statement, catalog.Txn) {
	t.Helper()
	ctx := context.Background()
	stmt, err := parser.Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, stmt, txn
}
