package session

import (
	"context"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// SQL-level prepared statements (PREPARE, EXECUTE, DEALLOCATE) and
// DISCARD. They live in the session's Settings, so they exist only where
// there is a session (pgwire); over the HTTP API they are CADB0407.

// maxPrepared bounds the prepared statements of one session.
const maxPrepared = 10_000

// executePrepared handles PREPARE, EXECUTE, DEALLOCATE and DISCARD;
// handled=false for other statements.
func (s *Server) executePrepared(ctx context.Context, req Request, stmt ast.Statement) (*Result, bool, error) {
	if _, ok := stmt.(*ast.Vacuum); ok {
		if req.Txn != nil {
			return nil, true, errcode.New(errcode.InvalidInput, "VACUUM cannot run inside a transaction block")
		}
		return &Result{Kind: ResultDDL, Database: req.Database}, true, nil
	}
	if cs, ok := stmt.(*ast.CreateSchema); ok {
		// One schema, public, holds every table (docs/postgresql.md).
		switch {
		case cs.Name != "public":
			return nil, true, errcode.New(errcode.Unsupported, "CREATE SCHEMA %q is not supported: the only schema is public", cs.Name)
		case !cs.IfNotExists:
			return nil, true, errcode.New(errcode.SchemaExists, "schema \"public\" already exists")
		}
		return &Result{Kind: ResultDDL, Database: req.Database, Notices: []string{`schema "public" already exists, skipping`}}, true, nil
	}
	switch st := stmt.(type) {
	case *ast.Prepare, *ast.Execute, *ast.Deallocate, *ast.Discard:
		if req.Settings == nil {
			return nil, true, errcode.New(errcode.Unsupported, "%s needs a session (the PostgreSQL wire protocol); the HTTP API is stateless", verbOf(stmt))
		}
		_ = st
	default:
		return nil, false, nil
	}
	set := req.Settings
	done := &Result{Kind: ResultDDL, Database: req.Database}
	switch st := stmt.(type) {
	case *ast.Prepare:
		if _, exists := set.prepared[st.Name]; exists {
			return nil, true, &errcode.Error{Code: errcode.InvalidInput, Message: "prepared statement \"" + st.Name + "\" already exists"}
		}
		if len(set.prepared) >= maxPrepared {
			return nil, true, errcode.New(errcode.InvalidInput, "a session may hold at most %d prepared statements", maxPrepared)
		}
		for _, t := range st.Types {
			if _, ok := paramKind(t); !ok {
				return nil, true, errcode.New(errcode.UnknownType, "unknown type %q", t)
			}
		}
		if set.prepared == nil {
			set.prepared = map[string]*ast.Prepare{}
		}
		set.prepared[st.Name] = st
		return done, true, nil
	case *ast.Deallocate:
		if st.All {
			clear(set.prepared)
			return done, true, nil
		}
		if _, ok := set.prepared[st.Name]; !ok {
			return nil, true, errcode.New(errcode.InvalidInput, "prepared statement %q does not exist", st.Name)
		}
		delete(set.prepared, st.Name)
		return done, true, nil
	case *ast.Discard:
		if st.What == "ALL" {
			if req.Txn != nil {
				return nil, true, errcode.New(errcode.InvalidInput, "DISCARD ALL cannot run inside a transaction block")
			}
			clear(set.prepared)
			set.ResetAll()
		}
		if st.What == "ALL" || st.What == "SEQUENCES" {
			set.sequences.forget() // currval and lastval are undefined again
		}
		// PLANS, TEMP: there are no session plans or temporary tables to
		// drop.
		return done, true, nil
	}
	ex := stmt.(*ast.Execute)
	prep, ok := set.prepared[ex.Name]
	if !ok {
		return nil, true, errcode.New(errcode.InvalidInput, "prepared statement %q does not exist", ex.Name)
	}
	if len(prep.Types) > 0 && len(ex.Args) != len(prep.Types) {
		return nil, true, errcode.New(errcode.InvalidInput, "wrong number of parameters for prepared statement %q: expected %d, got %d", ex.Name, len(prep.Types), len(ex.Args))
	}
	params := make(map[string]types.Value, len(ex.Args))
	env := &eval.Env{Params: req.Params, Now: s.cfg.Clock(), Database: req.Database, Settings: req.Settings}
	for i, a := range ex.Args {
		c, err := eval.Compile(a, nil, env, nil)
		if err != nil {
			return nil, true, err
		}
		v, err := c.Eval(nil)
		if err != nil {
			return nil, true, err
		}
		if i < len(prep.Types) {
			kind, _ := paramKind(prep.Types[i])
			if v, err = builtins.Cast(v, kind); err != nil {
				return nil, true, errcode.New(errcode.InvalidInput, "parameter $%d of %q: %v", i+1, ex.Name, err)
			}
		}
		params[strconv.Itoa(i+1)] = v
	}
	inner := req
	inner.Params = params
	res, err := s.executeStmt(ctx, inner, prep.Stmt)
	if res != nil {
		res.Verb = verbOf(prep.Stmt)
	}
	return res, true, err
}

// paramKind reads a PREPARE parameter type as written ("INT", "TEXT",
// "VARCHAR(20)").
func paramKind(text string) (types.Kind, bool) {
	name, _, _ := strings.Cut(strings.ToLower(text), "(")
	switch name {
	case "int2", "int4", "int8":
		return types.Int64, true
	case "float4", "float8", "double precision", "numeric", "decimal":
		return types.Float64, true
	case "character varying", "character", "bpchar":
		return types.String, true
	}
	return types.ParseKind(name)
}

// verbOf is a statement's command word for protocol tags.
func verbOf(stmt ast.Statement) string {
	switch stmt.(type) {
	case *ast.Insert:
		return "INSERT"
	case *ast.Update:
		return "UPDATE"
	case *ast.Delete:
		return "DELETE"
	case *ast.SelectStmt:
		return "SELECT"
	case *ast.Prepare:
		return "PREPARE"
	case *ast.Execute:
		return "EXECUTE"
	case *ast.Deallocate:
		return "DEALLOCATE"
	case *ast.Discard:
		return "DISCARD"
	}
	return ""
}
