package exec

import (
	"context"
	"errors"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// ResultKind says what a statement produced.
type ResultKind int

const (
	Rows     ResultKind = iota // Columns + Rows
	Affected                   // RowsAffected
	DDL                        // nothing
)

// Result is the outcome of one statement.
type Result struct {
	Kind         ResultKind
	Columns      []plan.Column
	Rows         [][]types.Value
	RowsAffected int64
}

// Env is what a statement runs against.
type Env struct {
	Txn      catalog.Txn
	Database string
	Eval     *eval.Env
	// Descs, when set, skips re-decoding unchanged descriptors.
	Descs *catalog.DecodeCache
}

// StatementError marks an error after which the transaction is still
// usable: the statement failed before any of its writes reached the
// transaction. Execute wraps errors it knows to be such; any other error
// (kv errors, a failed flush) leaves the transaction in an unknown state.
type StatementError struct{ Err error }

func (e *StatementError) Error() string { return e.Err.Error() }
func (e *StatementError) Unwrap() error { return e.Err }

// Execute runs one statement (anything but transaction control and USE)
// inside env.Txn. The statement's writes are buffered and applied to the
// transaction only when it succeeds, so a failed statement leaves nothing
// behind.
func Execute(ctx context.Context, env Env, stmt ast.Statement) (*Result, error) {
	buf := NewWriteBuffer(env.Txn)
	res, err := execute(ctx, env, buf, stmt)
	if err != nil {
		var coded *errcode.Error
		if errors.As(err, &coded) && !kvpb.IsRetryable(err) {
			return nil, &StatementError{Err: err}
		}
		return nil, err
	}
	if err := buf.Flush(); err != nil {
		return nil, err
	}
	return res, nil
}

func execute(ctx context.Context, env Env, buf *WriteBuffer, stmt ast.Statement) (*Result, error) {
	p := &plan.Planner{Ctx: ctx, KV: buf, Database: env.Database, Env: env.Eval, Descs: env.Descs}
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		node, err := p.PlanQuery(s.Select)
		if err != nil {
			return nil, err
		}
		return runQuery(ctx, env.Txn, node)
	case *ast.Explain:
		return explain(p, s)
	case *ast.Insert:
		n, err := p.PlanInsert(s)
		if err != nil {
			return nil, err
		}
		count, err := runInsert(ctx, env.Txn, buf, n)
		return affected(count, err)
	case *ast.Update:
		n, err := p.PlanUpdate(s)
		if err != nil {
			return nil, err
		}
		count, err := runUpdate(ctx, env.Txn, buf, n)
		return affected(count, err)
	case *ast.Delete:
		n, err := p.PlanDelete(s)
		if err != nil {
			return nil, err
		}
		count, err := runDelete(ctx, env.Txn, buf, n)
		return affected(count, err)
	case *ast.Show:
		return show(ctx, p, buf, s)
	case *ast.CreateDatabase, *ast.DropDatabase, *ast.RenameDatabase, *ast.CreateTable,
		*ast.DropTable, *ast.CreateIndex, *ast.DropIndex, *ast.AlterTable:
		return ddl(executeDDL(ctx, p, buf, s)) // ddl.go
	}
	return nil, errcode.New(errcode.Unsupported, "statement %T is not supported here", stmt)
}

func affected(n int64, err error) (*Result, error) {
	if err != nil {
		return nil, err
	}
	return &Result{Kind: Affected, RowsAffected: n}, nil
}

func ddl(err error) (*Result, error) {
	if err != nil {
		return nil, err
	}
	return &Result{Kind: DDL}, nil
}

func runQuery(ctx context.Context, read catalog.KV, node plan.Node) (*Result, error) {
	op, err := Build(read, node)
	if err != nil {
		return nil, err
	}
	defer op.Close()
	rows, err := Drain(ctx, op)
	if err != nil {
		return nil, err
	}
	cols := append([]plan.Column(nil), node.Columns()...)
	// Columns of unknown static kind take the kind of their first value.
	for i := range cols {
		if cols[i].Kind != types.Null {
			continue
		}
		for _, r := range rows {
			if !r[i].IsNull() {
				cols[i].Kind = r[i].Kind
				break
			}
		}
	}
	return &Result{Kind: Rows, Columns: cols, Rows: rows}, nil
}

func explain(p *plan.Planner, s *ast.Explain) (*Result, error) {
	if s.Option == "ANALYZE" {
		return nil, errcode.New(errcode.Unsupported, "EXPLAIN ANALYZE is not supported yet")
	}
	node, err := p.PlanQuery(s.Query)
	if err != nil {
		return nil, err
	}
	res := &Result{Kind: Rows, Columns: []plan.Column{
		{Name: "stage", Kind: types.String},
		{Name: "node", Kind: types.String},
		{Name: "detail", Kind: types.String},
		{Name: "estimated_rows", Kind: types.Int64},
		{Name: "estimated_cost", Kind: types.Float64},
	}}
	for _, r := range plan.Explain(node) {
		res.Rows = append(res.Rows, []types.Value{
			types.NewString(r.Stage), types.NewString(r.Node), types.NewString(r.Detail),
			types.NullValue, types.NullValue,
		})
	}
	return res, nil
}
