package exec

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/rowenc"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// PlanCache keeps the point templates (plan.PointTemplate) of statements
// already planned, so that a repeated point query by primary key — the
// most common statement there is — skips the planner: its key is built
// from the parameters and its row read with one Get. Entries are keyed by
// the parsed statement (the session's parse cache hands out the same one
// for the same text) and the database, and are checked against the
// table's current descriptor version on every use. Safe for concurrent
// use; one per node.
type PlanCache struct {
	mu   sync.RWMutex
	m    map[planKey]*plan.PointTemplate
	hits atomic.Int64
}

// Hits counts the statements that ran from a cached template.
func (c *PlanCache) Hits() int64 { return c.hits.Load() }

type planKey struct {
	stmt     *ast.SelectStmt
	database string
}

// maxPlans bounds the cache; past it the cache starts over (statements
// that are not in the parse cache would otherwise pile up).
const maxPlans = 4096

// NewPlanCache returns an empty cache.
func NewPlanCache() *PlanCache {
	return &PlanCache{m: make(map[planKey]*plan.PointTemplate)}
}

func (c *PlanCache) get(stmt *ast.SelectStmt, database string) *plan.PointTemplate {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[planKey{stmt, database}]
}

func (c *PlanCache) put(stmt *ast.SelectStmt, database string, tpl *plan.PointTemplate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxPlans {
		clear(c.m)
	}
	c.m[planKey{stmt, database}] = tpl
}

// remember stores the template of s, just planned into node, when it has
// one (and forgets an older one that no longer applies).
func (c *PlanCache) remember(s *ast.SelectStmt, database string, node plan.Node) {
	if c == nil || !plan.PointCandidate(s) {
		return
	}
	tpl, old := plan.PointTemplateOf(s, node), c.get(s, database)
	switch {
	case tpl == nil && old == nil:
		return
	case tpl != nil && old != nil && old.DBID == tpl.DBID && old.TableID == tpl.TableID && old.Version == tpl.Version:
		return // the same (its parameters had other kinds this time)
	}
	c.put(s, database, tpl)
}

// runPoint runs s through its cached point template. ok=false when there
// is none or it does not apply (another table version, parameters of
// other kinds, an unknown database or table): the caller plans the
// statement as usual, and reports any error then.
func (c *PlanCache) runPoint(ctx context.Context, env Env, s *ast.SelectStmt) (res *Result, ok bool, err error) {
	if c == nil || env.DescribeOnly || env.Eval == nil || env.Database == "" {
		return nil, false, nil
	}
	tpl := c.get(s, env.Database)
	if tpl == nil {
		return nil, false, nil
	}
	// Through the resolver the planner uses (the schema lease, which pins
	// the descriptors in the transaction's read set).
	descs := env.Descs
	if descs == nil {
		descs = (*catalog.DecodeCache)(nil)
	}
	db, err := catalog.GetDatabaseShared(ctx, descs, env.Txn, env.Database)
	if err != nil || db.ID != tpl.DBID {
		return nil, false, nil
	}
	t, err := catalog.GetTableShared(ctx, descs, env.Txn, db.ID, tpl.Table)
	if err != nil || !tpl.Matches(t) {
		return nil, false, nil
	}
	key := t.RowPrefix()
	for j, name := range tpl.Params {
		v, found := env.Eval.Params[name]
		if !found || v.Kind != tpl.Kinds[j] {
			return nil, false, nil
		}
		key = rowenc.AppendKey(key, v, tpl.Desc[j])
	}
	c.hits.Add(1)
	value, found, err := env.Txn.Get(ctx, key)
	if err != nil {
		return nil, true, err
	}
	// The result, its columns, its row and the decoded row in one
	// allocation when they fit (they do for the usual few columns).
	pr := &pointResult{}
	res = &pr.res
	cols := pr.cols[:0]
	if len(tpl.Cols) > len(pr.cols) {
		cols = nil
	}
	cols = append(cols, tpl.Cols...)
	*res = Result{Kind: Rows, Columns: cols}
	if !found {
		return res, true, nil
	}
	scratch := pr.decoded[:0]
	if len(t.Columns) > len(pr.decoded) {
		scratch = nil
	}
	row, err := t.DecodeRowValueAppend(scratch, value)
	if err != nil {
		return nil, true, err
	}
	out := pr.out[:0]
	if len(tpl.Ordinals) > len(pr.out) {
		out = make([]types.Value, 0, len(tpl.Ordinals))
	}
	for i, ord := range tpl.Ordinals {
		out = append(out, row[ord])
		if cols[i].Kind == types.Null && !out[i].IsNull() {
			cols[i].Kind = out[i].Kind
		}
	}
	// The result is buffered for the front-end: it counts against the
	// node's budget, as runQuery's.
	if err := env.Memory.Grow(rowSize(out), "the result"); err != nil {
		return nil, true, err
	}
	pr.rows[0] = out
	res.Rows = pr.rows[:]
	return res, true, nil
}

// pointInline is how many result columns, and pointDecodedInline how
// many table columns, a point query's result holds without further
// allocations.
const (
	pointInline        = 4
	pointDecodedInline = 8
)

// pointResult is the storage of a point query's result.
type pointResult struct {
	res     Result
	rows    [1][]types.Value
	cols    [pointInline]plan.Column
	out     [pointInline]types.Value
	decoded [pointDecodedInline]types.Value
}

// RunPoint runs s through env.Plans' cached point template, as Execute
// would first: ok=false when there is none or it does not apply, and
// Execute is to run s. A caller that knows the fast path needs less of
// env (no sequences, no DROP, no settings) builds the rest only then.
func RunPoint(ctx context.Context, env Env, s *ast.SelectStmt) (res *Result, ok bool, err error) {
	res, ok, err = env.Plans.runPoint(ctx, env, s)
	return res, ok, statementError(err)
}
