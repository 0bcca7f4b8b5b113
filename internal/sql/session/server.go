package session

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/lease"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/exec"
	"github.com/camusdb/camusdb-go/internal/sql/jobs"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
	"github.com/camusdb/camusdb-go/internal/util/procs"
)

// Config configures a Server. Zero values take the defaults noted.
type Config struct {
	// OnStatement, when set, is told about every statement Execute ran
	// (metrics); it must be quick.
	OnStatement func(StatementStats)
	// TxnIdleTimeout rolls back an explicit transaction idle this long;
	// 0 means never.
	TxnIdleTimeout time.Duration
	// ParseCacheTTL is how long a parsed statement is reused; 0 disables
	// the cache.
	ParseCacheTTL time.Duration
	// ParseCacheMaxEntries bounds the cache; 0 means unbounded.
	ParseCacheMaxEntries int
	// NodeID identifies this node; it is part of every transaction handle
	// this server allocates (see TxnCoordinator). At most MaxTxnNodeID.
	NodeID uint64
	// Clock is the time source (default time.Now).
	Clock func() time.Time
	// MaxRetries bounds the internal retries of an autocommit statement on
	// retryable kv errors (default 10; negative: no retries).
	MaxRetries int
	// Stats, when set, keeps planner statistics: statements read them and
	// report the tables they write; they are flushed after commits.
	Stats *exec.Stats
	// Memory is the node's SQL memory monitor (sql_memory_bytes); every
	// statement opens an account on it with a budget of QueryMemoryBytes
	// (0: mon.DefaultQueryBudget). Nil: an unlimited monitor.
	Memory           *mon.Monitor
	QueryMemoryBytes int64
	// TempDir is where statements over their budget spill (the node's
	// data_dir/sql-temp); empty: nothing spills, past the query budget a
	// statement fails with CADB0511.
	TempDir string
	// StatementTimeout bounds statements whose Request gives no timeout
	// (sql_statement_timeout_ms); 0 means none.
	StatementTimeout time.Duration
	// MaxOpenTxns bounds the explicit transactions open at once on this
	// server (txn_max_open); BEGIN past it fails with CADB0508. 0: no bound.
	MaxOpenTxns int
	// OnUsersChanged, when set, is called after a statement changed users,
	// roles or grants on this node (authenticators drop their caches).
	OnUsersChanged func()
	// SchemaLeases configures the descriptor cache (package lease; its
	// NodeID is taken from NodeID). DisableSchemaLeases makes every
	// statement read its descriptors through its transaction.
	SchemaLeases        lease.Config
	DisableSchemaLeases bool
	// Jobs configures the job runner (its NodeID is taken from NodeID);
	// BackfillChunk is the rows per backfill transaction of a schema
	// change (default DefaultBackfillChunk).
	Jobs          jobs.Config
	BackfillChunk int
	// DropDataRetry is how often the deletion job of a dropped table's
	// data tries again to clear it while old transactions may still read
	// it (default DefaultDropDataRetry; see dropdata.go).
	DropDataRetry time.Duration
	// SchemaChangeHook, when set (tests), is called by a schema-change job
	// before each of its steps with the phase it is in ("" delete-only,
	// "backfill" before every chunk, "public"); the job waits for it.
	SchemaChangeHook func(ctx context.Context, jobID uint64, phase string)
	// PGTypeOID maps a column kind to its PostgreSQL type oid (the pgwire
	// front-end's mapping, pgwire.TypeOID) for the pg_catalog and
	// information_schema tables; nil shows every column as text.
	PGTypeOID func(types.Kind) uint32
}

// DefaultMaxRetries is the default Config.MaxRetries.
const DefaultMaxRetries = 10

// maxCachedSQL is the longest statement text kept in the parse cache: bulk
// INSERTs are rarely repeated verbatim and would crowd out hot statements,
// and a parsed statement takes ~14 times its text (a 1000-row INSERT of
// 14 KB, ~195 KB): at 16 KiB, the 1000 INSERTs of a 1M-row load kept ~195
// MB alive for the cache's TTL. At 4 KiB the default 2048 entries hold at
// most ~115 MB, and a repeated statement that long is rare.
const maxCachedSQL = 4 << 10

// Server executes SQL statements for protocol front-ends. It is safe for
// concurrent use. Close it to stop the idle-transaction reaper and roll
// back open transactions.
type Server struct {
	db    catalog.DB
	cfg   Config
	cache *parseCache
	// plans keeps the plans of point queries (exec.PlanCache).
	plans *exec.PlanCache
	descs *catalog.DecodeCache
	// leases is the node's descriptor cache (nil: disabled).
	leases *lease.Manager
	// jobs is the node's jobs registry and runner (schemachange.go).
	jobs *jobs.Registry

	// seqCache holds this node's cached blocks of sequence values
	// (sequence.go).
	seqCache sequenceCache

	counter atomic.Int64
	queries *queryRegistry
	// startedMs is when this server (process) started, in unix ms: a
	// handle opened before it belongs to an earlier incarnation, whose
	// transactions died with it.
	startedMs int64

	mu struct {
		sync.Mutex
		txns map[TxnHandle]*openTxn
	}

	stop chan struct{}
	wg   sync.WaitGroup
}

var _ Executor = (*Server)(nil)

// openTxn is an explicit transaction. mu serialises its statements.
type openTxn struct {
	mu       sync.Mutex
	txn      catalog.Txn
	database string
	// user opened the transaction; only it may use the handle.
	user string
	// guarded by mu:
	aborted  error // the error that aborted it; statements then fail
	finished bool
	// lastUsed is unix nanoseconds of the end of the last statement.
	lastUsed atomic.Int64
}

// NewServer returns a Server over db. When cfg.TxnIdleTimeout > 0 it starts
// a goroutine that rolls back idle transactions; Close stops it.
func NewServer(db catalog.DB, cfg Config) *Server {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.Memory == nil {
		cfg.Memory = mon.NewMonitor(0)
	}
	s := &Server{db: db, cfg: cfg, stop: make(chan struct{}), startedMs: cfg.Clock().UnixMilli()}
	s.cache = newParseCache(cfg.ParseCacheTTL, cfg.ParseCacheMaxEntries, cfg.Clock)
	s.plans = exec.NewPlanCache()
	s.descs = catalog.NewDecodeCache(1024)
	if !cfg.DisableSchemaLeases {
		lc := cfg.SchemaLeases
		lc.NodeID = cfg.NodeID
		s.leases = lease.New(db, lc)
	}
	jc := cfg.Jobs
	jc.NodeID = cfg.NodeID
	s.jobs = jobs.New(db, jc)
	chunk := cfg.BackfillChunk
	if chunk <= 0 {
		chunk = DefaultBackfillChunk
	}
	s.jobs.Register(JobTypeCreateIndex, &indexResumer{s: s, chunk: chunk})
	s.jobs.Register(JobTypeDropIndex, &dropIndexResumer{indexResumer{s: s, chunk: chunk}})
	retry := cfg.DropDataRetry
	if retry <= 0 {
		retry = DefaultDropDataRetry
	}
	s.jobs.Register(JobTypeDropTableData, &dropDataResumer{s: s, chunk: chunk, retry: retry})
	s.jobs.Register(JobTypeDropIndexData, &dropDataResumer{s: s, chunk: chunk, retry: retry})
	s.jobs.Register(JobTypeAddColumn, &addColumnResumer{indexResumer{s: s, chunk: chunk}})
	s.jobs.Register(JobTypeDropColumn, &dropColumnResumer{addColumnResumer{indexResumer{s: s, chunk: chunk}}})
	s.jobs.Register(JobTypeAddConstraint, &checkResumer{addColumnResumer{indexResumer{s: s, chunk: chunk}}})
	s.jobs.Start()
	s.mu.txns = map[TxnHandle]*openTxn{}
	s.queries = newQueryRegistry(cfg.NodeID, cfg.Clock)
	if cfg.TxnIdleTimeout > 0 {
		interval := min(max(cfg.TxnIdleTimeout/4, 10*time.Millisecond), time.Second)
		s.wg.Add(1)
		go s.reap(interval)
	}
	return s
}

func (s *Server) reap(interval time.Duration) {
	defer s.wg.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
			s.ExpireIdle(context.Background())
		}
	}
}

// PointPlanHits counts the point queries that skipped the planner
// (exec.PlanCache).
func (s *Server) PointPlanHits() int64 { return s.plans.Hits() }

// Close stops the reaper and rolls back every open transaction.
func (s *Server) Close() {
	select {
	case <-s.stop:
		return
	default:
		close(s.stop)
	}
	s.wg.Wait()
	s.cfg.Stats.Close() // a background refresh uses the kv layer
	s.mu.Lock()
	txns := s.mu.txns
	s.mu.txns = map[TxnHandle]*openTxn{}
	s.mu.Unlock()
	for _, t := range txns {
		t.mu.Lock()
		t.finished = true
		_ = t.txn.Rollback(context.Background())
		s.txnEnded(context.Background(), t.txn, false)
		t.mu.Unlock()
	}
	s.jobs.Close()
	s.leases.Close()
}

// Jobs returns the node's jobs registry.
func (s *Server) Jobs() *jobs.Registry { return s.jobs }

// LeaseStats returns the schema lease counters of this node.
func (s *Server) LeaseStats() lease.Stats { return s.leases.Stats() }

// Leases returns the node's schema lease manager (nil when disabled).
func (s *Server) Leases() *lease.Manager { return s.leases }

// ExpireIdle rolls back explicit transactions idle longer than
// TxnIdleTimeout (those running a statement are not idle) and returns how
// many it ended. The reaper calls it; tests may call it directly.
func (s *Server) ExpireIdle(ctx context.Context) int {
	if s.cfg.TxnIdleTimeout <= 0 {
		return 0
	}
	deadline := s.cfg.Clock().Add(-s.cfg.TxnIdleTimeout).UnixNano()
	var expired []*openTxn
	s.mu.Lock()
	for h, t := range s.mu.txns {
		if t.lastUsed.Load() > deadline || !t.mu.TryLock() {
			continue
		}
		delete(s.mu.txns, h)
		expired = append(expired, t)
	}
	s.mu.Unlock()
	for _, t := range expired {
		t.finished = true
		_ = t.txn.Rollback(ctx)
		s.txnEnded(ctx, t.txn, false)
		t.mu.Unlock()
	}
	return len(expired)
}

// OpenTransactions is the number of registered explicit transactions.
func (s *Server) OpenTransactions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.txns)
}

func (s *Server) parse(sql string, opts parser.Options) (ast.Statement, error) {
	key := parseKey{sql: sql, opts: opts}
	if stmt, ok := s.cache.get(key); ok {
		return stmt, nil
	}
	stmt, err := parser.ParseWith(sql, opts)
	if err != nil {
		return nil, err
	}
	if len(sql) <= maxCachedSQL && !ast.HasSecret(stmt) {
		s.cache.put(key, stmt)
	}
	return stmt, nil
}

// Execute implements Executor. The statement is registered for SHOW
// QUERIES and CANCEL QUERY while it runs and is bounded by its timeout
// (Request.Timeout); a cancelled or timed-out statement fails with
// CADB0506 / CADB0507 and, inside an explicit transaction, aborts it.
func (s *Server) Execute(ctx context.Context, req Request) (*Result, error) {
	procs.Enter()
	defer procs.Exit()
	var start time.Time
	if s.cfg.OnStatement != nil {
		start = time.Now()
	}
	ctx, q := s.queries.begin(ctx, req, s.cfg.StatementTimeout)
	defer s.queries.end(q)
	res, err := s.execute(ctx, req)
	if err != nil {
		err = interrupted(ctx, err)
		s.queries.count(err)
	}
	if s.cfg.OnStatement != nil {
		st := StatementStats{Kind: StatementKind(req.SQL), Elapsed: time.Since(start), Failed: err != nil}
		if res != nil {
			st.Rows = int64(len(res.Rows)) + res.RowsAffected
		}
		s.cfg.OnStatement(st)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// EnforcesStatementTimeout implements TimeoutEnforcer: Execute bounds every
// statement by Request.Timeout (queries.begin).
func (s *Server) EnforcesStatementTimeout() bool { return true }

func (s *Server) execute(ctx context.Context, req Request) (*Result, error) {
	stmt, err := s.parse(req.SQL, parser.Options{StandardStrings: req.StandardStrings})
	if err != nil {
		return nil, mapError(err)
	}
	return s.executeStmt(ctx, req, stmt)
}

// executeStmt runs a parsed statement (EXECUTE runs its prepared one
// through here too).
func (s *Server) executeStmt(ctx context.Context, req Request, stmt ast.Statement) (*Result, error) {
	if res, handled, err := s.executePrepared(ctx, req, stmt); handled { // prepare.go
		return res, err
	}
	if res, handled, err := s.executeAuth(ctx, req, stmt); handled {
		return res, err
	}
	switch st := stmt.(type) {
	case *ast.Show:
		if st.What == "QUERIES" {
			return s.showQueries(req.Database), nil
		}
	case *ast.CancelQuery:
		return s.cancelQuery(st, req)
	case *ast.ShowJobs, *ast.ControlJob:
		return s.jobStatement(ctx, req, stmt) // jobs.go
	case *ast.CreateIndex:
		if req.Txn == nil {
			return s.createIndexJob(ctx, req, st, st.Table, st.Index, st.IfNotExists) // schemachange.go
		}
	case *ast.DropIndex:
		if req.Txn == nil {
			return s.dropIndexJob(ctx, req, st, st.Table, st.Name, st.IfExists) // schemachange.go
		}
	case *ast.AlterTable:
		if req.Txn == nil {
			if res, handled, err := s.alterTableJob(ctx, req, st); handled { // columnchange.go
				return res, err
			}
		}
	case *ast.Begin:
		if req.Txn != nil {
			return nil, errcode.New(errcode.InvalidInput, "a transaction is already in progress")
		}
		h, err := s.Begin(ctx, req.Database)
		if err != nil {
			return nil, err
		}
		return &Result{Kind: ResultBegin, Txn: &h, Database: req.Database}, nil
	case *ast.Commit:
		if req.Txn == nil {
			return nil, errcode.New(errcode.TxnClosed, "there is no transaction in progress")
		}
		if err := s.Commit(ctx, *req.Txn); err != nil {
			return nil, err
		}
		return &Result{Kind: ResultCommit, Database: req.Database}, nil
	case *ast.Rollback:
		if req.Txn == nil {
			return nil, errcode.New(errcode.TxnClosed, "there is no transaction in progress")
		}
		if err := s.Rollback(ctx, *req.Txn); err != nil {
			return nil, err
		}
		return &Result{Kind: ResultRollback, Database: req.Database}, nil
	case *ast.Use:
		run := func(ctx context.Context, txn catalog.Txn) (*exec.Result, error) {
			if _, err := catalog.GetDatabase(ctx, txn, st.Name); err != nil {
				return nil, asStatementError(err)
			}
			return &exec.Result{Kind: exec.DDL}, nil
		}
		if _, err := s.run(ctx, req, run); err != nil {
			return nil, err
		}
		return &Result{Kind: ResultDDL, Database: st.Name}, nil
	case *ast.SetVar, *ast.ResetVar, *ast.ShowVar:
		res, err := execSetting(req, stmt)
		if err != nil {
			return nil, err
		}
		if req.Settings != nil {
			res.Notices = req.Settings.TakeNotices()
		}
		return res, nil
	case *ast.Unsupported:
		return nil, errcode.New(errcode.Unsupported, "%s is not supported", st.Feature)
	}
	env := &eval.Env{Params: req.Params, Now: s.cfg.Clock(), Database: req.Database}
	if req.Settings != nil {
		env.Settings = req.Settings
	}
	user := UserFrom(ctx)
	run := func(ctx context.Context, txn catalog.Txn) (*exec.Result, error) {
		authz, err := checkStatement(ctx, txn, user, req.Database, stmt)
		if err != nil {
			return nil, asStatementError(err)
		}
		// One account per attempt: a retried statement starts from zero.
		// The result's bytes are released when Execute returns, before
		// the front-end encodes it.
		mem := s.cfg.Memory.NewAccount(s.cfg.QueryMemoryBytes)
		defer mem.Close()
		QueryFromContext(ctx).SetMemoryAccount(mem) // SHOW QUERIES
		descs := s.resolver(txn, stmt)              // leases.go
		xenv := exec.Env{Txn: txn, Database: req.Database, Eval: env, Descs: descs,
			Stats: s.cfg.Stats, Memory: mem, TempDir: s.cfg.TempDir,
			Checker: authz.checker, PGTypeOID: s.cfg.PGTypeOID, CopyIn: req.CopyIn, DescribeOnly: req.DescribeOnly,
			Plans: s.plans, Autocommit: req.Txn == nil}
		var res *exec.Result
		ran := false
		if sel, isQuery := stmt.(*ast.SelectStmt); isQuery {
			// A cached point query needs none of what follows (its
			// closures were most of a point query's allocations here).
			res, ran, err = exec.RunPoint(ctx, xenv, sel)
		}
		if !ran {
			xenv.DropData = s.dropData(txn, user, req.SQL)
			xenv.Sequences = s.sequences(ctx, req)
			if req.Settings != nil {
				xenv.Settings = req.Settings.All
			}
			res, err = exec.Execute(ctx, xenv, stmt)
		}
		if verr := lease.Verify(ctx, descs); verr != nil {
			return nil, verr // a descriptor from the cache went stale under the statement: retry
		}
		if err != nil {
			return nil, err
		}
		if err := afterStatement(ctx, txn, authz, req.Database, stmt, res); err != nil {
			return nil, err
		}
		if err := s.drainChanged(ctx, txn); err != nil { // leases.go
			return nil, err
		}
		return res, nil
	}
	res, err := s.run(ctx, req, run)
	if err != nil {
		return nil, err
	}
	out := convertResult(res, req.Database)
	if req.Settings != nil {
		out.Notices = req.Settings.TakeNotices() // from set_config()
	}
	return out, nil
}

// asStatementError marks coded errors as leaving the transaction usable.
func asStatementError(err error) error {
	var coded *errcode.Error
	if errors.As(err, &coded) && !kvpb.IsRetryable(err) {
		return &exec.StatementError{Err: err}
	}
	return err
}

type runFunc func(ctx context.Context, txn catalog.Txn) (*exec.Result, error)

// run executes fn in req's explicit transaction or, without one, in its
// own transaction with internal retries.
func (s *Server) run(ctx context.Context, req Request, fn runFunc) (*exec.Result, error) {
	if req.Txn != nil {
		return s.runInTxn(ctx, *req.Txn, fn)
	}
	for attempt := 0; ; attempt++ {
		res, err := s.runOnce(ctx, fn)
		if err == nil {
			return res, nil
		}
		// A request the router already re-sent for its whole wait found no
		// leader that long (a node cut off from the majority): the client
		// hears it now rather than after MaxRetries more such waits.
		if !kvpb.IsRetryable(err) || kvpb.IsRerouted(err) || attempt >= s.cfg.MaxRetries || ctx.Err() != nil || req.CopyIn != nil {
			return nil, mapError(err)
		}
		QueryFromContext(ctx).SetPhase(PhaseRetrying)
		if err := backoff(ctx, attempt); err != nil {
			return nil, mapError(err)
		}
		QueryFromContext(ctx).SetPhase(PhaseExecuting)
	}
}

func (s *Server) runOnce(ctx context.Context, fn runFunc) (*exec.Result, error) {
	txn, err := s.beginTxn(ctx)
	if err != nil {
		return nil, err
	}
	res, err := fn(ctx, txn)
	if err != nil {
		rollbackDetached(ctx, txn)
		s.txnEnded(ctx, txn, false)
		return nil, err
	}
	QueryFromContext(ctx).SetPhase(PhaseCommitting)
	if err := txn.Commit(ctx); err != nil {
		rollbackDetached(ctx, txn)
		s.txnEnded(ctx, txn, false)
		return nil, err
	}
	s.txnEnded(ctx, txn, true)
	_ = s.cfg.Stats.MaybeFlush(ctx) // advisory: a failed refresh is retried at the next flush
	return res, nil
}

// rollbackTimeout bounds the rollback of a failed statement's transaction.
const rollbackTimeout = 5 * time.Second

// rollbackDetached rolls txn back even when ctx has ended (a cancelled or
// timed-out statement): its locks must be released whatever the reason.
func rollbackDetached(ctx context.Context, txn catalog.Txn) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_ = txn.Rollback(rctx)
}

// backoff waits a jittered, exponentially growing delay (1ms .. 64ms).
func backoff(ctx context.Context, attempt int) error {
	limit := time.Millisecond << min(attempt, 6)
	d := limit/2 + rand.N(limit/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// lookup finds the explicit transaction h names for the user of ctx; a
// handle opened by another user is reported unknown, like a wrong one.
func (s *Server) lookup(ctx context.Context, h TxnHandle) (*openTxn, error) {
	s.mu.Lock()
	t := s.mu.txns[h]
	s.mu.Unlock()
	if t != nil && t.user != UserFrom(ctx) {
		t = nil
	}
	if t == nil && h.PT < s.startedMs && TxnCoordinator(h) == s.cfg.NodeID {
		// Its coordinator (this node) restarted since BEGIN: the
		// transaction ended uncommitted with the old process, and running
		// it again is the way on.
		return nil, errcode.New(errcode.MustRetry, "transaction %d:%d was lost when its coordinator (node %d) restarted; nothing it wrote was committed: retry the transaction", h.PT, h.Counter, s.cfg.NodeID)
	}
	if t == nil {
		return nil, errcode.New(errcode.TxnClosed, "transaction %d:%d is unknown, committed, rolled back or expired", h.PT, h.Counter)
	}
	return t, nil
}

func (s *Server) forget(h TxnHandle) {
	s.mu.Lock()
	delete(s.mu.txns, h)
	s.mu.Unlock()
}

// runInTxn runs fn in an explicit transaction. A statement error that
// left no writes behind (exec.StatementError) keeps the transaction
// usable; any other error aborts it (PostgreSQL-like): later statements
// fail with CADB0501 until ROLLBACK, and COMMIT reports the error that
// aborted it.
func (s *Server) runInTxn(ctx context.Context, h TxnHandle, fn runFunc) (*exec.Result, error) {
	t, err := s.lookup(ctx, h)
	if err != nil {
		return nil, err
	}
	QueryFromContext(ctx).SetPhase(PhaseWaiting)
	t.mu.Lock()
	defer t.mu.Unlock()
	QueryFromContext(ctx).SetPhase(PhaseExecuting)
	if t.finished {
		return nil, errcode.New(errcode.TxnClosed, "transaction %d:%d has ended", h.PT, h.Counter)
	}
	if t.aborted != nil {
		return nil, errcode.New(errcode.TxnClosed, "transaction %d:%d is aborted (%v); roll it back", h.PT, h.Counter, t.aborted)
	}
	defer func() { t.lastUsed.Store(s.cfg.Clock().UnixNano()) }()
	res, err := fn(ctx, t.txn)
	if err == nil {
		return res, nil
	}
	var stmtErr *exec.StatementError
	if errors.As(err, &stmtErr) && ctx.Err() == nil {
		return nil, mapError(stmtErr.Err)
	}
	// A cancelled or timed-out statement may have stopped anywhere: abort
	// the transaction so its locks are released now, not at its expiry.
	mapped := interrupted(ctx, mapError(err))
	t.aborted = mapped
	rollbackDetached(ctx, t.txn)
	s.txnEnded(ctx, t.txn, false)
	return nil, mapped
}

// A TxnHandle's Counter names its coordinator: the node id sits above bit
// TxnNodeShift and a per-node sequence below it, so any node can tell from
// the handle alone which node holds the transaction (and forward requests
// for it there). PT stays the open time in milliseconds.
const (
	// TxnNodeShift is the bit position of the node id in TxnHandle.Counter.
	TxnNodeShift = 40
	// MaxTxnNodeID is the largest node id a handle can carry (23 bits keep
	// Counter positive).
	MaxTxnNodeID = 1<<(63-TxnNodeShift) - 1
	txnSeqMask   = 1<<TxnNodeShift - 1
)

// txnCounter composes a handle counter from the node id and the node's
// sequence number (which wraps after 2^40 transactions; PT tells apart a
// wrapped sequence).
func txnCounter(nodeID uint64, seq int64) int64 {
	return int64(nodeID&MaxTxnNodeID)<<TxnNodeShift | seq&txnSeqMask
}

// TxnCoordinator returns the id of the node that opened the transaction h
// names (0 for a handle that carries none, e.g. from a node without an id).
func TxnCoordinator(h TxnHandle) uint64 {
	if h.Counter < 0 {
		return 0
	}
	return uint64(h.Counter) >> TxnNodeShift
}

// Begin implements Executor.
func (s *Server) Begin(ctx context.Context, database string) (TxnHandle, error) {
	if limit := s.cfg.MaxOpenTxns; limit > 0 && s.OpenTransactions() >= limit {
		return TxnHandle{}, tooManyTxns(limit)
	}
	txn, err := s.beginTxn(ctx)
	if err != nil {
		return TxnHandle{}, mapError(err)
	}
	now := s.cfg.Clock()
	h := TxnHandle{PT: now.UnixMilli(), Counter: txnCounter(s.cfg.NodeID, s.counter.Add(1))}
	t := &openTxn{txn: txn, database: database, user: UserFrom(ctx)}
	t.lastUsed.Store(now.UnixNano())
	s.mu.Lock()
	if limit := s.cfg.MaxOpenTxns; limit > 0 && len(s.mu.txns) >= limit {
		s.mu.Unlock()
		rollbackDetached(ctx, txn)
		return TxnHandle{}, tooManyTxns(limit)
	}
	s.mu.txns[h] = t
	s.mu.Unlock()
	return h, nil
}

func tooManyTxns(limit int) error {
	return errcode.New(errcode.Overloaded,
		"too many open transactions on this node: txn_max_open is %d; retry later, end idle transactions, or raise txn_max_open", limit)
}

// Commit implements Executor. The transaction is gone afterwards whatever
// the outcome.
func (s *Server) Commit(ctx context.Context, h TxnHandle) error {
	t, err := s.lookup(ctx, h)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.finished {
		return errcode.New(errcode.TxnClosed, "transaction %d:%d has ended", h.PT, h.Counter)
	}
	t.finished = true
	s.forget(h)
	if t.aborted != nil {
		return t.aborted
	}
	if err := t.txn.Commit(ctx); err != nil {
		_ = t.txn.Rollback(ctx)
		s.txnEnded(ctx, t.txn, false)
		return mapError(err)
	}
	s.txnEnded(ctx, t.txn, true)
	_ = s.cfg.Stats.MaybeFlush(ctx)
	return nil
}

// Rollback implements Executor.
func (s *Server) Rollback(ctx context.Context, h TxnHandle) error {
	t, err := s.lookup(ctx, h)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.finished {
		return errcode.New(errcode.TxnClosed, "transaction %d:%d has ended", h.PT, h.Counter)
	}
	t.finished = true
	s.forget(h)
	err = t.txn.Rollback(ctx)
	s.txnEnded(ctx, t.txn, false)
	if err != nil {
		return mapError(err)
	}
	return nil
}

// mapError attaches the CADB code to an error, once, at this boundary.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var (
		conflict   *kvpb.ConflictError
		retry      *kvpb.RetryError
		ambiguous  *kvpb.AmbiguousError
		corruption *kvpb.CorruptionError
		tooLarge   *kvpb.CommandTooLargeError
		txnLarge   *kvpb.TxnTooLargeError
		condition  *kvpb.ConditionFailedError
		coded      *errcode.Error
	)
	switch {
	case errors.As(err, &condition):
		// An INSERT's primary key checked at commit (kv.Txn.PutIfAbsent):
		// the statement's own error.
		return errcode.New(errcode.UniqueViolation, "%s", condition.Message)
	case errors.As(err, &tooLarge):
		return errcode.Wrap(errcode.CommandTooLarge, tooLarge)
	case errors.As(err, &txnLarge):
		return errcode.Wrap(errcode.TxnTooLarge, txnLarge)
	case errors.As(err, &ambiguous):
		return errcode.Wrap(errcode.Ambiguous, err)
	case errors.As(err, &conflict):
		return errcode.Wrap(errcode.TxnConflict, err)
	case errors.As(err, &retry):
		return errcode.Wrap(errcode.MustRetry, err)
	case errors.As(err, &corruption):
		return errcode.Wrap(errcode.Corruption, err)
	case errors.Is(err, kvpb.ErrTxnClosed):
		return errcode.Wrap(errcode.TxnClosed, err)
	case errors.As(err, &coded):
		return coded
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return errcode.Wrap(errcode.MustRetry, err)
	}
	return errcode.Wrap(errcode.Internal, err)
}

// resultInline is how many columns a Result holds without a second
// allocation.
const resultInline = 4

func convertResult(r *exec.Result, database string) *Result {
	storage := &struct {
		res  Result
		cols [resultInline]Column
	}{}
	out := &storage.res
	out.Database = database
	switch r.Kind {
	case exec.Rows:
		out.Kind = ResultRows
		out.Columns = storage.cols[:0]
		if len(r.Columns) > resultInline {
			out.Columns = make([]Column, 0, len(r.Columns))
		}
		for _, c := range r.Columns {
			out.Columns = append(out.Columns, Column{Name: c.Name, Type: c.Kind})
		}
		out.Rows = r.Rows
		if out.Rows == nil {
			out.Rows = [][]types.Value{}
		}
	case exec.Affected:
		out.Kind = ResultAffected
		out.RowsAffected = r.RowsAffected
	default:
		out.Kind = ResultDDL
	}
	return out
}
