package exec

import (
	"context"
	"errors"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/pgcatalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/privilege"
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
	// Descs, when set, resolves descriptors (a decode cache, or the schema
	// lease cache for read-only statements); nil reads and decodes each.
	Descs catalog.Resolver
	// Stats, when set, gives the planner table statistics and is told
	// which tables statements write.
	Stats *Stats
	// Memory is the statement's account with the node's memory monitor
	// (the session opens one per statement; SHOW QUERIES reads its Used).
	// Nil: Execute opens one on a monitor of its own, with MemoryLimit as
	// the query budget, and closes it before returning.
	Memory *mon.Account
	// MemoryLimit is the query budget when Memory is nil (0:
	// DefaultMemoryLimit).
	MemoryLimit int64
	// Checker limits what the pg_catalog and information_schema tables
	// show to what the statement's user may see (nil: root, everything).
	Checker *privilege.Checker
	// PGTypeOID maps column kinds to PostgreSQL type oids for the
	// catalogs (nil: text).
	PGTypeOID func(types.Kind) uint32
	// Settings lists the session's settings for pg_settings (nil: none).
	Settings func() [][3]string
	// CopyIn supplies the rows of COPY ... FROM STDIN (nil: no COPY input,
	// e.g. the HTTP API).
	CopyIn CopySource
	// DescribeOnly plans a query and returns its columns without running
	// it; other statements are CADB0407.
	DescribeOnly bool
	// TempDir is the directory under which a statement over its memory
	// budget creates its spill directory (removed when the statement
	// ends). Empty: nothing spills, and operators past the query budget
	// fail with CADB0511.
	TempDir string
	// DropData, when set, takes over deleting the data of a table DROP
	// TABLE drops, and of the spans TRUNCATE leaves (called with the
	// descriptor before the TRUNCATE): the session hands it to a
	// background job created in the statement's transaction. nil: deleted
	// in the statement.
	DropData func(ctx context.Context, kv catalog.KV, t *catalog.TableDesc) error
	// Sequences, when set, gives the statement its sequence functions
	// (nextval...), reading through kv, the statement's view of the
	// catalog; nil: they fail with CADB0407.
	Sequences func(kv catalog.KV) builtins.Sequences
	// Plans, when set, keeps the plans of point queries by primary key so
	// that repeated ones skip the planner (point.go); nil plans each.
	Plans *PlanCache
	// Autocommit: Txn commits right after this statement, with no other
	// statement in it, so a check may wait for the commit and still fail
	// this statement: an INSERT's primary-key check is then made by the
	// commit itself, without reading the key first.
	Autocommit bool
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
	if env.Memory == nil {
		env.Memory = mon.NewMonitor(0).NewAccount(env.MemoryLimit)
		defer env.Memory.Close()
	}
	if s, isQuery := stmt.(*ast.SelectStmt); isQuery {
		if res, ok, err := env.Plans.runPoint(ctx, env, s); ok { // point.go: a cached point query
			return res, statementError(err)
		}
	}
	buf := NewWriteBuffer(env.Txn)
	buf.deferAbsenceChecks(env.Autocommit)
	res, err := execute(ctx, env, buf, stmt)
	if err != nil {
		return nil, statementError(err)
	}
	if err := buf.Flush(); err != nil {
		return nil, err
	}
	return res, nil
}

// statementError marks a coded, non-retryable error as a StatementError.
func statementError(err error) error {
	if err == nil {
		return nil
	}
	err = budgetError(err)
	var coded *errcode.Error
	if errors.As(err, &coded) && !kvpb.IsRetryable(err) {
		return &StatementError{Err: err}
	}
	return err
}

func execute(ctx context.Context, env Env, buf *WriteBuffer, stmt ast.Statement) (*Result, error) {
	b := newBuilder(env.Txn, env.Memory)
	b.spill = &spiller{dir: env.TempDir}
	defer b.spill.close()
	p := &plan.Planner{Ctx: ctx, KV: buf, Database: env.Database, Env: env.Eval, Descs: env.Descs,
		Runner: &runner{ctx: ctx, b: b}}
	if env.Stats != nil {
		p.Stats = env.Stats
	}
	cat := pgcatalog.New(pgcatalog.Config{Ctx: ctx, KV: buf, Descs: env.Descs, Database: env.Database,
		Checker: env.Checker, TypeOID: env.PGTypeOID, Settings: env.Settings})
	p.Virtual = cat
	if env.Eval != nil {
		env.Eval.Catalog = cat
		if env.Sequences != nil {
			env.Eval.Sequences = env.Sequences(buf)
		}
	}
	if _, isQuery := stmt.(*ast.SelectStmt); env.DescribeOnly && !isQuery {
		return nil, errcode.New(errcode.Unsupported, "only queries can be described without running them")
	}
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		node, err := p.PlanQuery(s.Select)
		if err != nil {
			return nil, err
		}
		env.Plans.remember(s, env.Database, node)
		if env.DescribeOnly {
			return &Result{Kind: Rows, Columns: append([]plan.Column(nil), node.Columns()...)}, nil
		}
		if s.Locking != nil {
			if err := lockRows(ctx, p, b, buf, s); err != nil { // locking.go
				return nil, err
			}
		}
		return runQuery(ctx, b, node)
	case *ast.Explain:
		return explain(ctx, p, b, s)
	case *ast.Insert:
		n, err := p.PlanInsert(s)
		if err != nil {
			return nil, err
		}
		ret := newReturned(n.Returning)
		count, err := runInsert(ctx, b, buf, n, ret)
		if err == nil && count > 0 {
			env.Stats.Changed(n.Table, count)
		}
		return ret.result(count, err)
	case *ast.Update:
		n, err := p.PlanUpdate(s)
		if err != nil {
			return nil, err
		}
		ret := newReturned(n.Returning)
		count, err := runUpdate(ctx, b, buf, n, ret)
		if err == nil && count > 0 {
			env.Stats.Changed(n.Table, count)
		}
		return ret.result(count, err)
	case *ast.Delete:
		n, err := p.PlanDelete(s)
		if err != nil {
			return nil, err
		}
		ret := newReturned(n.Returning)
		count, err := runDelete(ctx, b, buf, n, ret)
		if err == nil && count > 0 {
			env.Stats.Changed(n.Table, count)
		}
		return ret.result(count, err)
	case *ast.Show:
		return show(ctx, p, buf, s)
	case *ast.Copy:
		if !s.From {
			return nil, errcode.New(errcode.Unsupported, "COPY ... TO STDOUT needs the PostgreSQL wire protocol (the HTTP API takes SELECT)")
		}
		return affected(copyFrom(ctx, p, buf, s, env.CopyIn, env.Stats)) // copy.go
	case *ast.CreateTable:
		if s.AsQuery != nil {
			return affected(createTableAs(ctx, p, b, buf, s)) // ddl.go
		}
		return ddl(executeDDL(ctx, p, buf, s, env.DropData))
	case *ast.Comment:
		return ddl(commentOn(ctx, p, buf, s)) // ddl_alter.go
	case *ast.CreateSequence:
		return ddl(createSequence(ctx, p, buf, s)) // sequence.go
	case *ast.AlterSequence:
		return ddl(alterSequence(ctx, p, buf, s))
	case *ast.DropSequence:
		return ddl(dropSequence(ctx, p, buf, s))
	case *ast.CreateView:
		return ddl(createView(ctx, p, buf, s)) // ddl.go
	case *ast.DropView:
		return ddl(dropView(ctx, p, buf, s))
	case *ast.Truncate:
		return ddl(truncate(ctx, p, buf, s, env.Stats, env.DropData)) // truncate.go
	case *ast.CreateDatabase, *ast.DropDatabase, *ast.RenameDatabase,
		*ast.DropTable, *ast.CreateIndex, *ast.DropIndex, *ast.AlterTable:
		return ddl(executeDDL(ctx, p, buf, s, env.DropData)) // ddl.go
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

func runQuery(ctx context.Context, b *builder, node plan.Node) (*Result, error) {
	op, err := b.build(node)
	if err != nil {
		return nil, err
	}
	defer op.Close()
	// The result is buffered for the front-end: it counts against the
	// node's budget (not the query's, which bounds operators and makes
	// them spill) until the statement's account closes.
	var rows [][]types.Value
	for {
		batch, err := op.Next(ctx)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			break
		}
		var size int64
		for _, row := range batch {
			size += rowSize(row)
		}
		if err := b.mem.Grow(size, "the result"); err != nil {
			return nil, err
		}
		rows = append(rows, batch...)
	}
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

func runPlan(ctx context.Context, b *builder, node plan.Node) ([][]types.Value, error) {
	op, err := b.build(node)
	if err != nil {
		return nil, err
	}
	defer op.Close()
	return Drain(ctx, op)
}

// explain renders the plan of s.Query, one row per node. LOGICAL shows
// the plan without physical choices (every table fully scanned and
// filtered, joins as nested loops); ANALYZE runs the query (its rows are
// discarded) and adds the counters each node collected.
func explain(ctx context.Context, p *plan.Planner, b *builder, s *ast.Explain) (*Result, error) {
	switch s.Option {
	case "", "PHYSICAL", "ANALYZE":
	case "LOGICAL":
		p.Logical = true
	default:
		return nil, errcode.New(errcode.InvalidInput, "EXPLAIN option %s is not supported", s.Option)
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
	analyze := s.Option == "ANALYZE"
	if analyze {
		b.stats = map[plan.Node]*nodeStats{}
		if _, err := runPlan(ctx, b, node); err != nil {
			return nil, err
		}
		res.Columns = append(res.Columns, analyzeColumns...)
	}
	for _, r := range plan.Explain(node) {
		estimate := types.NullValue
		if est := plan.EstimatedRows(r.Plan); est.Known {
			estimate = types.NewInt(est.Rows)
		}
		cost := types.NullValue
		if c, ok := plan.EstimatedCost(r.Plan); ok {
			cost = types.NewFloat(c)
		}
		row := []types.Value{
			types.NewString(r.Stage), types.NewString(r.Node), types.NewString(r.Detail),
			estimate, cost,
		}
		if analyze {
			row = append(row, analyzeValues(r.Plan, b.stats)...)
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}
