package session

import (
	"context"
	"errors"
	"math"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
)

// catalogTxn is the transaction statements run in. It records the
// descriptor keys written through it: before the transaction commits, the
// schema lease manager drains the leases on them (lease.Manager.Drain),
// and once it changed a descriptor the transaction's later statements read
// descriptors through it (they must see its own uncommitted changes).
type catalogTxn struct {
	catalog.Txn
	wrote   [][]byte // descriptor keys written and not yet drained
	drained [][]byte // drained: handed back to the manager when the txn ends
	changed bool
	// jobs created by the transaction's statements, started here once it
	// commits (a statement that failed after creating one leaves an id
	// whose record was never committed: Adopt finds nothing).
	jobs []uint64
}

func (t *catalogTxn) Put(key, value []byte) error {
	t.note(key)
	return t.Txn.Put(key, value)
}

// PutOwned passes a write on without copying it when the transaction
// can take it so (see exec.WriteBuffer.Flush).
func (t *catalogTxn) PutOwned(key string, value []byte) error {
	o, ok := t.Txn.(interface {
		PutOwned(key string, value []byte) error
	})
	if !ok {
		return t.Put([]byte(key), value)
	}
	t.note([]byte(key))
	return o.PutOwned(key, value)
}

// WriteBytesLeft passes the wrapped transaction's write bound on
// (catalog.WriteBudgeter; none when it has none).
func (t *catalogTxn) WriteBytesLeft() (left, limit int64) {
	if wb, ok := t.Txn.(catalog.WriteBudgeter); ok {
		return wb.WriteBytesLeft()
	}
	return math.MaxInt64, 0
}

type absentPutter interface {
	PutIfAbsent(key, value []byte, message string) error
}

// PutIfAbsent passes a conditional write on (see exec.WriteBuffer); only
// called when CanPutIfAbsent.
func (t *catalogTxn) PutIfAbsent(key, value []byte, message string) error {
	p, ok := t.Txn.(absentPutter)
	if !ok {
		return errors.New("session: the transaction cannot make conditional writes")
	}
	t.note(key)
	return p.PutIfAbsent(key, value, message)
}

// CanPutIfAbsent reports whether the wrapped transaction supports
// PutIfAbsent.
func (t *catalogTxn) CanPutIfAbsent() bool {
	_, ok := t.Txn.(absentPutter)
	return ok
}

// ReserveWrites passes the size hint on (see exec.WriteBuffer.Flush).
func (t *catalogTxn) ReserveWrites(n int) {
	if r, ok := t.Txn.(interface{ ReserveWrites(n int) }); ok {
		r.ReserveWrites(n)
	}
}

// ScanValuesParallel passes a parallel scan on when the transaction can
// do one (catalog.ParallelScanner); it writes nothing.
func (t *catalogTxn) ScanValuesParallel(ctx context.Context, start, end []byte, opts catalog.ParallelScan, visit func(piece int, value []byte) error) (bool, error) {
	if ps, ok := t.Txn.(catalog.ParallelScanner); ok {
		return ps.ScanValuesParallel(ctx, start, end, opts, visit)
	}
	return false, nil
}

func (t *catalogTxn) Delete(key []byte) error {
	t.note(key)
	return t.Txn.Delete(key)
}

func (t *catalogTxn) note(key []byte) {
	if !catalog.IsDescriptorKey(key) {
		return
	}
	t.changed = true
	for _, list := range [][][]byte{t.wrote, t.drained} {
		for _, k := range list {
			if string(k) == string(key) {
				return
			}
		}
	}
	t.wrote = append(t.wrote, append([]byte(nil), key...))
}

// leasedStatement: statements whose descriptors may come from the lease
// cache — queries and DML. The descriptor keys they take from it join their
// transaction's read set (lease.Resolver), so a writer still conflicts
// with a concurrent change of what it used. DDL reads (and writes) its
// descriptors through its transaction.
func leasedStatement(stmt ast.Statement) bool {
	switch stmt.(type) {
	case *ast.SelectStmt, *ast.Explain, *ast.Insert, *ast.Update, *ast.Delete:
		return true
	}
	return false
}

// resolver picks how stmt running in txn resolves descriptors.
func (s *Server) resolver(txn catalog.Txn, stmt ast.Statement) catalog.Resolver {
	ct, ok := txn.(*catalogTxn)
	if !ok || ct.changed || !leasedStatement(stmt) {
		return s.descs
	}
	return s.leases.Resolver(ct.Txn, s.descs)
}

// drainChanged drains the leases on the descriptors the statement just
// changed in txn (see catalogTxn).
func (s *Server) drainChanged(ctx context.Context, txn catalog.Txn) error {
	ct, ok := txn.(*catalogTxn)
	if !ok || len(ct.wrote) == 0 {
		return nil
	}
	keys := ct.wrote
	ct.wrote = nil
	if err := s.leases.Drain(ctx, ct.Txn, keys); err != nil {
		return err
	}
	ct.drained = append(ct.drained, keys...)
	return nil
}

// txnEnded hands the drained keys of txn back to the lease manager once
// the transaction committed or rolled back.
func (s *Server) txnEnded(ctx context.Context, txn catalog.Txn, committed bool) {
	ct, ok := txn.(*catalogTxn)
	if !ok {
		return
	}
	if committed {
		for _, id := range ct.jobs {
			s.jobs.Adopt(context.WithoutCancel(ctx), id)
		}
	}
	ct.jobs = nil
	if len(ct.drained) == 0 {
		return
	}
	keys := ct.drained
	ct.drained = nil
	if committed {
		s.leases.Committed(keys)
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	s.leases.Undrain(rctx, keys)
}

// beginTxn starts a transaction wrapped for the lease bookkeeping.
func (s *Server) beginTxn(ctx context.Context) (*catalogTxn, error) {
	txn, err := s.db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &catalogTxn{Txn: txn}, nil
}
