// Package sessiontest runs the SQL conformance corpus (datadriven files)
// against any session.Executor: the in-memory fake kv here, the real kv
// from the server packages.
//
// File format (github.com/cockroachdb/datadriven):
//
//	exec
//	CREATE DATABASE d; USE d;
//	----
//	ok
//	ok
//
// Every directive's input is split into statements
// (parser.SplitStatements) executed in order, each printing one block:
// "ok" (DDL, USE), "begin"/"commit"/"rollback", "affected: N", "error:
// CADBxxxx" (the code only: tests compare error kinds, not messages), or a
// header line of column names followed by one line per row, values
// separated by " | " (strings raw, NULL as NULL). The directive "query"
// additionally prints column kinds in the header (name:KIND). Arguments:
// "db=name" sets the current database before the block. The harness keeps
// the current database (changed by USE) and the open transaction handle
// (set by BEGIN, cleared by COMMIT/ROLLBACK) across directives of a file.
package sessiontest

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// TestdataDir is the directory of the shared SQL corpus.
func TestdataDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// NewMemServer returns a session server over a fresh in-memory kv, closed
// when the test ends.
func NewMemServer(t testing.TB) (*session.Server, *catalogtest.MemDB) {
	return NewMemServerWith(t, session.Config{})
}

// NewMemServerWith is NewMemServer with a configuration.
func NewMemServerWith(t testing.TB, cfg session.Config) (*session.Server, *catalogtest.MemDB) {
	db := catalogtest.NewMemDB()
	s := session.NewServer(db, cfg)
	t.Cleanup(s.Close)
	return s, db
}

// RunFiles runs every datadriven file matching glob, each against a fresh
// executor from newExecutor.
func RunFiles(t *testing.T, glob string, newExecutor func(t *testing.T) session.Executor) {
	files, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no files match %s", glob)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			h := &Harness{Exec: newExecutor(t)}
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				return h.Run(t, d)
			})
		})
	}
}

// Harness is the session state of one datadriven file.
type Harness struct {
	Exec     session.Executor
	Database string
	Txn      *session.TxnHandle
	// Settings is the session state of a pgwire session (SET, currval);
	// nil, as over HTTP, until a directive carries the "session" argument.
	Settings *session.Settings
}

// Run executes one directive.
func (h *Harness) Run(t *testing.T, d *datadriven.TestData) string {
	withTypes := false
	switch d.Cmd {
	case "exec":
	case "query":
		withTypes = true
	default:
		t.Fatalf("%s: unknown directive %q", d.Pos, d.Cmd)
	}
	for _, arg := range d.CmdArgs {
		if arg.Key == "db" && len(arg.Vals) == 1 {
			h.Database = arg.Vals[0]
		}
		if arg.Key == "session" && h.Settings == nil {
			settings, err := session.NewSettings(session.SettingsConfig{})
			if err != nil {
				t.Fatal(err)
			}
			h.Settings = settings
		}
	}
	var out strings.Builder
	for _, sql := range parser.SplitStatements(d.Input) {
		if strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sql), ";")) == "" {
			continue
		}
		out.WriteString(h.Statement(sql, withTypes))
	}
	return out.String()
}

// Statement executes one statement and renders its outcome.
func (h *Harness) Statement(sql string, withTypes bool) string {
	res, err := h.Exec.Execute(context.Background(), session.Request{Database: h.Database, SQL: sql, Txn: h.Txn, Settings: h.Settings})
	if err != nil {
		return fmt.Sprintf("error: %s\n", errcode.Of(err))
	}
	h.Database = res.Database
	switch res.Kind {
	case session.ResultBegin:
		h.Txn = res.Txn
		return "begin\n"
	case session.ResultCommit:
		h.Txn = nil
		return "commit\n"
	case session.ResultRollback:
		h.Txn = nil
		return "rollback\n"
	case session.ResultAffected:
		return fmt.Sprintf("affected: %d\n", res.RowsAffected)
	case session.ResultDDL:
		return "ok\n"
	}
	var b strings.Builder
	names := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		names[i] = c.Name
		if withTypes {
			names[i] += ":" + c.Type.String()
		}
	}
	b.WriteString(strings.Join(names, " | "))
	b.WriteByte('\n')
	for _, row := range res.Rows {
		vals := make([]string, len(row))
		for i, v := range row {
			vals[i] = v.String()
		}
		b.WriteString(strings.Join(vals, " | "))
		b.WriteByte('\n')
	}
	return b.String()
}
