package session

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// This file is the registry of running statements: every Execute
// registers its statement under an id ("<node>-<seq>") with a context it
// can cancel. SHOW QUERIES lists the registry and CANCEL QUERY cancels an
// entry; statement timeouts are deadlines on the same context. The
// executor's loops check the context (exec checkCancel), so a cancelled
// statement stops within a batch of rows.

// ClientInfo says who sent a statement (SHOW QUERIES).
type ClientInfo struct {
	// User is the authenticated or declared user; "" when unknown.
	User string
	// Addr is the client's address (host:port).
	Addr string
	// Protocol is "http" or "pgwire".
	Protocol string
}

// Phases of a running statement (SHOW QUERIES "phase").
const (
	PhaseExecuting  = "executing"
	PhaseWaiting    = "waiting for its transaction" // another statement of the transaction runs
	PhaseCommitting = "committing"
	PhaseRetrying   = "retrying"
)

// maxShownSQL bounds the statement text SHOW QUERIES shows.
const maxShownSQL = 4 << 10

// RunningQuery is one registered statement.
type RunningQuery struct {
	NodeID uint64
	// Seq numbers the statements of this node; ID is "<NodeID>-<Seq>".
	Seq    uint64
	Client ClientInfo
	Start  time.Time
	SQL    string

	phase  atomic.Pointer[string]
	memory atomic.Pointer[mon.Account]
	cancel context.CancelCauseFunc
	// sharedCtx: cancel is Request.Cancel, the front-end's (end leaves
	// it alone).
	sharedCtx bool
	// parent is the context the statement was started under when its own
	// context does not derive its cancellation from it (see begin); the
	// sweeper passes parent's end on. Nil with Request.Cancel.
	parent context.Context
	// deadline ends the statement (the sweeper cancels it with
	// TimeoutCause(timeout, setting)); zero without a timeout.
	deadline time.Time
	timeout  time.Duration
	setting  string
	// swept: the sweeper cancelled the statement (guarded by the
	// registry's mu).
	swept bool
	// ctx is the statement's context (begin), allocated with it.
	ctx queryCtx
}

// ID is the statement's id, "<node>-<seq>" (SHOW QUERIES, CANCEL QUERY).
func (q *RunningQuery) ID() string { return FormatQueryID(q.NodeID, q.Seq) }

// FormatQueryID is the id of statement seq of node (see SplitQueryID).
func FormatQueryID(node, seq uint64) string {
	return strconv.FormatUint(node, 10) + "-" + strconv.FormatUint(seq, 10)
}

// phases are the phases SetPhase stores without allocating.
var phases = [...]string{PhaseExecuting, PhaseWaiting, PhaseCommitting, PhaseRetrying}

// SetPhase records what the statement is doing.
func (q *RunningQuery) SetPhase(phase string) {
	if q == nil {
		return
	}
	for i := range phases {
		if phases[i] == phase {
			q.phase.Store(&phases[i])
			return
		}
	}
	p := new(string)
	*p = phase
	q.phase.Store(p)
}

// Phase is the last phase set.
func (q *RunningQuery) Phase() string {
	if p := q.phase.Load(); p != nil {
		return *p
	}
	return PhaseExecuting
}

// SetMemoryAccount installs the statement's memory account as the source
// of the bytes it holds; SHOW QUERIES shows NULL without one.
func (q *RunningQuery) SetMemoryAccount(a *mon.Account) {
	if q != nil {
		q.memory.Store(a)
	}
}

// MemoryUsed is the bytes the statement holds, ok=false when unknown.
func (q *RunningQuery) MemoryUsed() (int64, bool) {
	if a := q.memory.Load(); a != nil {
		return a.Used(), true
	}
	return 0, false
}

type runningQueryKey struct{}

// QueryFromContext returns the running statement ctx belongs to, or nil.
func QueryFromContext(ctx context.Context) *RunningQuery {
	q, _ := ctx.Value(runningQueryKey{}).(*RunningQuery)
	return q
}

// queryCtx is a statement's context: its cancellation (CANCEL QUERY, the
// timeout) with the RunningQuery as a value, allocated with the
// RunningQuery rather than as a context of its own.
type queryCtx struct {
	context.Context
	q *RunningQuery
}

// Deadline is the earlier of the statement's deadline and its parent's.
func (c *queryCtx) Deadline() (time.Time, bool) {
	var d time.Time
	var ok bool
	if c.q.parent != nil {
		d, ok = c.q.parent.Deadline()
	} else {
		d, ok = c.Context.Deadline()
	}
	if !c.q.deadline.IsZero() && (!ok || c.q.deadline.Before(d)) {
		return c.q.deadline, true
	}
	return d, ok
}

func (c *queryCtx) Value(key any) any {
	if _, ok := key.(runningQueryKey); ok {
		return c.q
	}
	return c.Context.Value(key)
}

// queryRegistry holds the running statements of one Server.
type queryRegistry struct {
	nodeID uint64
	clock  func() time.Time
	seq    atomic.Uint64
	// cancelled and timedOut count statements that ended with CADB0506
	// and CADB0507 (metrics).
	cancelled, timedOut atomic.Int64
	mu                  struct {
		sync.Mutex
		running  map[uint64]*RunningQuery // by Seq
		sweeping bool                     // the sweeper runs
	}
}

// sweepInterval is how often the sweeper looks for statements past their
// deadline or whose parent context ended: a timeout or a client that went
// away stops a statement at most this much late.
const sweepInterval = 5 * time.Millisecond

func newQueryRegistry(nodeID uint64, clock func() time.Time) *queryRegistry {
	r := &queryRegistry{nodeID: nodeID, clock: clock}
	r.mu.running = map[uint64]*RunningQuery{}
	return r
}

// begin registers a statement and returns its context: cancellable by
// CANCEL QUERY and bounded by its timeout. end(q) must be called.
//
// Neither the timeout nor the parent's cancellation costs the statement a
// timer or a registration with its parent (a lock and a map on every
// statement of a node answering tens of thousands a second): the
// statement's context is cancellable only by the registry, and a sweeper
// goroutine, running while statements do, cancels every sweepInterval
// those past their deadline or whose parent context ended.
func (r *queryRegistry) begin(ctx context.Context, req Request, defaultTimeout time.Duration) (context.Context, *RunningQuery) {
	sql := req.SQL
	if len(sql) > maxShownSQL {
		sql = sql[:maxShownSQL] + "..."
	}
	q := &RunningQuery{
		NodeID: r.nodeID,
		Seq:    r.seq.Add(1),
		Client: req.Client,
		Start:  r.clock(),
		SQL:    sql,
	}
	if req.Cancel != nil {
		q.cancel, q.sharedCtx = req.Cancel, true
	} else {
		parent := ctx
		ctx, q.cancel = context.WithCancelCause(context.WithoutCancel(parent))
		if parent.Done() != nil {
			q.parent = parent
			if parent.Err() != nil {
				q.swept = true
				q.cancel(context.Cause(parent))
			}
		}
	}
	timeout, setting := req.Timeout, req.TimeoutSetting
	if timeout == 0 {
		timeout, setting = defaultTimeout, "sql_statement_timeout_ms"
	}
	if setting == "" {
		setting = "the statement timeout"
	}
	if timeout > 0 {
		q.deadline, q.timeout, q.setting = time.Now().Add(timeout), timeout, setting
	}
	q.ctx = queryCtx{Context: ctx, q: q}
	r.mu.Lock()
	r.mu.running[q.Seq] = q
	sweep := !r.mu.sweeping
	r.mu.sweeping = true
	r.mu.Unlock()
	if sweep {
		go r.sweep()
	}
	return &q.ctx, q
}

// sweep cancels, every sweepInterval, the statements past their deadline
// and those whose parent context ended; it returns once none runs.
func (r *queryRegistry) sweep() {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for range t.C {
		now := time.Now()
		r.mu.Lock()
		if len(r.mu.running) == 0 {
			r.mu.sweeping = false
			r.mu.Unlock()
			return
		}
		// Under the lock, like CANCEL QUERY: a statement that ended is
		// never cancelled.
		for _, q := range r.mu.running {
			if q.swept {
				continue
			}
			if !q.deadline.IsZero() && !now.Before(q.deadline) {
				q.swept = true
				q.cancel(TimeoutCause(q.timeout, q.setting))
			} else if q.parent != nil && q.parent.Err() != nil {
				q.swept = true
				q.cancel(context.Cause(q.parent))
			}
		}
		r.mu.Unlock()
	}
}

// end unregisters q and releases its context.
func (r *queryRegistry) end(q *RunningQuery) {
	r.mu.Lock()
	delete(r.mu.running, q.Seq)
	r.mu.Unlock()
	if !q.sharedCtx {
		q.cancel(nil)
	}
}

// list returns the running statements, oldest first.
func (r *queryRegistry) list() []*RunningQuery {
	r.mu.Lock()
	out := make([]*RunningQuery, 0, len(r.mu.running))
	for _, q := range r.mu.running {
		out = append(out, q)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *RunningQuery) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	return out
}

// cancel cancels the statement id; false when no such statement runs here.
func (r *queryRegistry) cancel(id string) bool {
	node, seq, ok := SplitQueryID(id)
	if !ok || node != r.nodeID || FormatQueryID(node, seq) != id {
		return false
	}
	// Under the lock, so that a statement that ended (end unregisters
	// it first) is never cancelled: with Request.Cancel its context is
	// the front-end's, which may already run the next statement.
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.mu.running[seq]
	if q == nil {
		return false
	}
	q.cancel(errcode.New(errcode.QueryCancelled, "canceling statement due to CANCEL QUERY '%s'", id))
	return true
}

// InterruptedStatements counts the statements that ended cancelled
// (CADB0506) and timed out (CADB0507) since the server started.
func (s *Server) InterruptedStatements() (cancelled, timedOut int64) {
	return s.queries.cancelled.Load(), s.queries.timedOut.Load()
}

// count records how a statement ended.
func (r *queryRegistry) count(err error) {
	switch errcode.Of(err) {
	case errcode.QueryCancelled:
		r.cancelled.Add(1)
	case errcode.StatementTimeout:
		r.timedOut.Add(1)
	}
}

// RunningQueries lists the statements running on this server, oldest
// first (SHOW QUERIES).
func (s *Server) RunningQueries() []*RunningQuery { return s.queries.list() }

// CancelQuery cancels the running statement id (CANCEL QUERY); false when
// it is not running on this server.
func (s *Server) CancelQuery(id string) bool { return s.queries.cancel(id) }

// interrupted replaces err by why ctx ended, when it did: a coded cause
// (statement timeout, CANCEL QUERY, a front end's cancel) as it is, a
// bare cancellation as "the client went away", a bare deadline as a
// statement timeout. An ambiguous commit (CADB0505) stays ambiguous: a
// statement stopped while committing may have committed, and the client
// must check before retrying.
func interrupted(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || errcode.Of(mapError(err)) == errcode.Ambiguous {
		return err
	}
	cause := context.Cause(ctx)
	var coded *errcode.Error
	if errors.As(cause, &coded) {
		return coded
	}
	if errors.Is(cause, context.DeadlineExceeded) {
		return errcode.New(errcode.StatementTimeout, "canceling statement: the request's deadline passed")
	}
	return errcode.New(errcode.QueryCancelled, "canceling statement: the client went away")
}

// startLayout formats SHOW QUERIES "start" like the date functions do
// (SPEC §2.6): fixed width, so the text orders like the time.
const startLayout = "2006-01-02T15:04:05.0000000+00:00"

// showQueriesColumns are the columns of SHOW QUERIES.
var showQueriesColumns = []Column{
	{Name: "query_id", Type: types.String},
	{Name: "node_id", Type: types.Int64},
	{Name: "user_name", Type: types.String},
	{Name: "client_address", Type: types.String},
	{Name: "protocol", Type: types.String},
	{Name: "start", Type: types.String},
	{Name: "elapsed_ms", Type: types.Int64},
	{Name: "phase", Type: types.String},
	{Name: "memory_bytes", Type: types.Int64},
	{Name: "sql", Type: types.String},
}

func (s *Server) showQueries(database string) *Result {
	now := s.cfg.Clock()
	rows := [][]types.Value{}
	for _, q := range s.queries.list() {
		memory := types.NullValue
		if n, ok := q.MemoryUsed(); ok {
			memory = types.NewInt(n)
		}
		rows = append(rows, []types.Value{
			types.NewString(q.ID()),
			types.NewInt(int64(q.NodeID)),
			types.NewString(q.Client.User),
			types.NewString(q.Client.Addr),
			types.NewString(q.Client.Protocol),
			types.NewString(q.Start.UTC().Format(startLayout)),
			types.NewInt(now.Sub(q.Start).Milliseconds()),
			types.NewString(q.Phase()),
			memory,
			types.NewString(q.SQL),
		})
	}
	return &Result{Kind: ResultRows, Columns: slices.Clone(showQueriesColumns), Rows: rows, Database: database}
}

// cancelQuery runs CANCEL QUERY: the id is a string literal or parameter.
// An id of another node is CADB0400 naming that node (statements are
// registered where they run); an unknown id is CADB0400 too.
func (s *Server) cancelQuery(st *ast.CancelQuery, req Request) (*Result, error) {
	compiled, err := eval.Compile(st.ID, nil, &eval.Env{Params: req.Params, Now: s.cfg.Clock()}, nil)
	if err != nil {
		return nil, err
	}
	v, err := compiled.Eval(nil)
	if err != nil {
		return nil, err
	}
	if v.Kind != types.String {
		return nil, errcode.New(errcode.InvalidInput, "CANCEL QUERY takes a query id string (see SHOW QUERIES), got %s", v.Kind)
	}
	id := v.Str
	if !s.queries.cancel(id) {
		if node, _, ok := SplitQueryID(id); ok && node != s.cfg.NodeID {
			return nil, errcode.New(errcode.InvalidInput, "query %s runs on node %d: send CANCEL QUERY to that node", id, node)
		}
		return nil, errcode.New(errcode.InvalidInput, "query %s is not running on this node (see SHOW QUERIES)", id)
	}
	return &Result{Kind: ResultDDL, Database: req.Database}, nil
}

// SplitQueryID parses a query id "<node>-<seq>" (SHOW QUERIES).
func SplitQueryID(id string) (node, seq uint64, ok bool) {
	for i := 0; i < len(id); i++ {
		if id[i] != '-' {
			continue
		}
		n, err1 := strconv.ParseUint(id[:i], 10, 64)
		q, err2 := strconv.ParseUint(id[i+1:], 10, 64)
		return n, q, err1 == nil && err2 == nil
	}
	return 0, 0, false
}

// timeoutCauses caches TimeoutCause's errors: the same few timeouts are
// set on every statement, and formatting the message each time cost two
// allocations per statement.
var timeoutCauses sync.Map // timeoutKey -> *errcode.Error

type timeoutKey struct {
	d       time.Duration
	setting string
}

// maxTimeoutCauses bounds the cache (timeouts are client-chosen).
const maxTimeoutCauses = 256

var timeoutCausesLen atomic.Int64

// TimeoutCause is the error a statement cancelled by its timeout d fails
// with; setting names what set d (for the message). The error is shared:
// callers must not modify it.
func TimeoutCause(d time.Duration, setting string) *errcode.Error {
	k := timeoutKey{d, setting}
	if e, ok := timeoutCauses.Load(k); ok {
		return e.(*errcode.Error)
	}
	e := errcode.New(errcode.StatementTimeout,
		"canceling statement due to statement timeout: it ran longer than %s (%s); raise %s or make the statement cheaper",
		d, setting, setting)
	if timeoutCausesLen.Load() < maxTimeoutCauses {
		if _, loaded := timeoutCauses.LoadOrStore(k, e); !loaded {
			timeoutCausesLen.Add(1)
		}
	}
	return e
}
