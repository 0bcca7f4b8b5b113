package session

import (
	"context"
	"errors"
	"sync"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Sequence values (nextval, setval) are allocated here, in small
// transactions of their own and never in the statement's: a value handed
// out is gone even when the statement's transaction rolls back (as in
// PostgreSQL), and the allocation commits at once, so no other transaction
// (on any node) can be handed the same value, before or after a crash. A
// sequence with CACHE n takes n values per allocation and hands them out
// from this node's memory: values then interleave between nodes, and the
// unused rest of a block is skipped after a restart (gaps, never repeats).
//
// A sequence created by the statement's own transaction, not yet
// committed, is invisible to an allocation transaction: its values are
// then taken in the statement's transaction (which owns the sequence, so
// nobody else can see it either).

// sequenceRef names one sequence (ids are never reused).
type sequenceRef struct{ dbID, id uint32 }

// sequenceMemory is what a session remembers of nextval: currval and
// lastval read it.
type sequenceMemory struct {
	mu      sync.Mutex
	values  map[sequenceRef]int64 // guarded by mu
	last    int64                 // guarded by mu
	hasLast bool                  // guarded by mu
}

func (m *sequenceMemory) remember(ref sequenceRef, v int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.values == nil {
		m.values = map[sequenceRef]int64{}
	}
	m.values[ref] = v
	m.last, m.hasLast = v, true
}

// forget drops everything remembered (DISCARD SEQUENCES, DISCARD ALL).
func (m *sequenceMemory) forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.values, m.last, m.hasLast = nil, 0, false
}

// sequenceCache holds this node's unused blocks of cached sequences.
type sequenceCache struct {
	mu     sync.Mutex
	blocks map[sequenceRef]*sequenceBlock // guarded by mu
}

// sequenceBlock is a run of allocated values not handed out yet, for one
// version of the sequence's descriptor (ALTER starts a new block).
type sequenceBlock struct {
	version uint32
	values  []int64
}

// take hands out the next cached value of t, if any.
func (c *sequenceCache) take(ref sequenceRef, version uint32) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.blocks[ref]
	if b == nil || b.version != version || len(b.values) == 0 {
		return 0, false
	}
	v := b.values[0]
	b.values = b.values[1:]
	return v, true
}

// put keeps values for later calls (after those already kept).
func (c *sequenceCache) put(ref sequenceRef, version uint32, values []int64) {
	if len(values) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blocks == nil {
		c.blocks = map[sequenceRef]*sequenceBlock{}
	}
	b := c.blocks[ref]
	if b == nil || b.version != version {
		b = &sequenceBlock{version: version}
		c.blocks[ref] = b
	}
	b.values = append(b.values, values...)
}

// forget drops the cached values of a sequence (setval on this node).
func (c *sequenceCache) forget(ref sequenceRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.blocks, ref)
}

// errNotCommitted: the allocation transaction does not see the sequence's
// state (created by the statement's transaction, or dropped meanwhile).
var errNotCommitted = errors.New("sequence state not visible outside the statement's transaction")

// inOwnTxn runs fn in a transaction of its own, retrying retryable
// failures like a statement.
func (s *Server) inOwnTxn(ctx context.Context, fn func(txn catalog.Txn) error) error {
	for attempt := 0; ; attempt++ {
		txn, err := s.db.Begin(ctx)
		if err != nil {
			return err
		}
		err = fn(txn)
		if err == nil {
			err = txn.Commit(ctx)
		}
		if err == nil {
			return nil
		}
		rollbackDetached(ctx, txn)
		if !kvpb.IsRetryable(err) || attempt >= s.cfg.MaxRetries || ctx.Err() != nil {
			return err
		}
		if berr := backoff(ctx, attempt); berr != nil {
			return err
		}
	}
}

// allocate takes up to count values of t in a transaction of its own.
func (s *Server) allocateSequence(ctx context.Context, t *catalog.TableDesc, count int64) ([]int64, error) {
	var values []int64
	err := s.inOwnTxn(ctx, func(txn catalog.Txn) error {
		if _, found, err := catalog.GetSequenceState(ctx, txn, t.DBID, t.ID); err != nil || !found {
			if err == nil {
				err = errNotCommitted
			}
			return err
		}
		var err error
		values, err = catalog.AllocateSequence(ctx, txn, t, count)
		return err
	})
	return values, err
}

// statementSequences implements builtins.Sequences for one statement.
type statementSequences struct {
	ctx      context.Context
	s        *Server
	kv       catalog.KV // the statement's view: resolves names
	database string
	memory   *sequenceMemory
}

var _ builtins.Sequences = (*statementSequences)(nil)

// sequences returns the factory exec.Env.Sequences wants: the session's
// memory when there is a session (pgwire), else one per statement (each
// HTTP request is a session of its own for currval/lastval).
func (s *Server) sequences(ctx context.Context, req Request) func(catalog.KV) builtins.Sequences {
	memory := &sequenceMemory{}
	if req.Settings != nil {
		memory = req.Settings.sequenceMemory()
	}
	return func(kv catalog.KV) builtins.Sequences {
		return &statementSequences{ctx: ctx, s: s, kv: kv, database: req.Database, memory: memory}
	}
}

// resolve finds sequence name in the statement's database: CADB0011 when
// there is no such relation, CADB0436 when it is not a sequence.
func (q *statementSequences) resolve(name string) (*catalog.TableDesc, error) {
	db, err := catalog.GetDatabase(q.ctx, q.kv, q.database)
	if err != nil {
		return nil, err
	}
	t, err := catalog.LookupTable(q.ctx, q.kv, db.ID, name)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, errcode.New(errcode.UnknownTable, "relation %q does not exist", name)
	}
	if t.Sequence == nil {
		return nil, errcode.New(errcode.WrongObjectType, "%q is not a sequence", name)
	}
	return t, nil
}

func (q *statementSequences) Nextval(name string) (int64, error) {
	t, err := q.resolve(name)
	if err != nil {
		return 0, err
	}
	ref := sequenceRef{t.DBID, t.ID}
	cache := &q.s.seqCache
	v, ok := cache.take(ref, t.Version)
	if !ok {
		values, err := q.s.allocateSequence(q.ctx, t, t.Sequence.Cache)
		if errors.Is(err, errNotCommitted) {
			values, err = catalog.AllocateSequence(q.ctx, q.kv, t, 1)
		} else if err == nil {
			cache.put(ref, t.Version, values[1:])
		}
		if err != nil {
			return 0, err
		}
		v = values[0]
	}
	q.memory.remember(ref, v)
	return v, nil
}

func (q *statementSequences) Currval(name string) (int64, error) {
	t, err := q.resolve(name)
	if err != nil {
		return 0, err
	}
	q.memory.mu.Lock()
	defer q.memory.mu.Unlock()
	v, ok := q.memory.values[sequenceRef{t.DBID, t.ID}]
	if !ok {
		return 0, errcode.New(errcode.CurrvalNotSet, "currval of sequence %q is not yet defined in this session", name)
	}
	return v, nil
}

func (q *statementSequences) Lastval() (int64, error) {
	q.memory.mu.Lock()
	defer q.memory.mu.Unlock()
	if !q.memory.hasLast {
		return 0, errcode.New(errcode.CurrvalNotSet, "lastval is not yet defined in this session")
	}
	return q.memory.last, nil
}

// Setval sets the sequence's value outside the statement's transaction
// (like nextval): the next nextval returns value+increment (isCalled) or
// value. Blocks other nodes cached before keep being handed out until
// used up.
func (q *statementSequences) Setval(name string, value int64, isCalled bool) (int64, error) {
	t, err := q.resolve(name)
	if err != nil {
		return 0, err
	}
	d := t.Sequence
	if value < d.Min || value > d.Max {
		return 0, errcode.New(errcode.NumericOutOfRange, "setval: value %d is out of bounds for sequence %q (%d..%d)", value, name, d.Min, d.Max)
	}
	set := func(kv catalog.KV) error {
		st, found, err := catalog.GetSequenceState(q.ctx, kv, t.DBID, t.ID)
		if err != nil || !found {
			if err == nil {
				err = errNotCommitted
			}
			return err
		}
		st.Last, st.Called = value, isCalled
		return catalog.PutSequenceState(kv, t.DBID, t.ID, st)
	}
	ref := sequenceRef{t.DBID, t.ID}
	q.s.seqCache.forget(ref)
	err = q.s.inOwnTxn(q.ctx, func(txn catalog.Txn) error { return set(txn) })
	if errors.Is(err, errNotCommitted) {
		err = set(q.kv)
	}
	if errors.Is(err, errNotCommitted) {
		err = errcode.New(errcode.UnknownTable, "sequence %q does not exist", name)
	}
	if err != nil {
		return 0, err
	}
	if isCalled {
		q.memory.remember(ref, value)
	}
	return value, nil
}
