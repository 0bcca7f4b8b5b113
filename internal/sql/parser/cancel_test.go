package parser

import (
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestShowQueriesAndCancelQuery(t *testing.T) {
	stmt, err := Parse("show QUERIES")
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := stmt.(*ast.Show); !ok || s.What != "QUERIES" {
		t.Fatalf("SHOW QUERIES parsed as %#v", stmt)
	}
	for _, sql := range []string{"CANCEL QUERY '1-42'", "cancel query @id", "CANCEL QUERY $1"} {
		stmt, err := Parse(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if _, ok := stmt.(*ast.CancelQuery); !ok {
			t.Fatalf("%s parsed as %T", sql, stmt)
		}
		again, err := Parse(ast.Format(stmt))
		if err != nil || ast.Format(again) != ast.Format(stmt) {
			t.Fatalf("%s: format round trip: %q, %v", sql, ast.Format(stmt), err)
		}
	}
	for _, sql := range []string{"CANCEL QUERY", "CANCEL QUERY 42", "CANCEL '1-2'", "CANCEL QUERY a"} {
		if _, err := Parse(sql); errcode.Of(err) != errcode.SyntaxError {
			t.Fatalf("%s: want a syntax error, got %v", sql, err)
		}
	}
	// cancel and queries stay usable as names.
	if _, err := Parse("SELECT cancel, queries FROM query"); err != nil {
		t.Fatal(err)
	}
}

func TestIdentifierLengthLimit(t *testing.T) {
	ok := strings.Repeat("a", MaxIdentifierLength)
	long := ok + "b"
	for _, sql := range []string{"SELECT " + ok + " FROM t", "CREATE TABLE `" + ok + "` (id INT64)"} {
		if _, err := Parse(sql); err != nil {
			t.Fatalf("%d-byte identifier refused: %v", len(ok), err)
		}
	}
	for _, sql := range []string{"SELECT " + long + " FROM t", "CREATE TABLE `" + long + "` (id INT64)", "CREATE DATABASE " + long} {
		_, err := Parse(sql)
		if errcode.Of(err) != errcode.InvalidInput || !strings.Contains(err.Error(), "63") {
			t.Fatalf("%s: want CADB0400 naming the limit, got %v", sql, err)
		}
	}
	// String literals are not identifiers.
	if _, err := Parse("SELECT '" + long + long + "'"); err != nil {
		t.Fatal(err)
	}
}
