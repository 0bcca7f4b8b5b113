package exec

import (
	"context"
	"slices"

	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// conflictHandler applies INSERT ... ON CONFLICT to one statement's rows.
type conflictHandler struct {
	w    *tableWriter
	plan *plan.OnConflict
	// touched holds the encoded primary keys this statement inserted or
	// updated: DO UPDATE may not change a row twice (PostgreSQL's rule).
	touched map[string]bool
}

// handle checks a proposed row against the arbiters. Without a conflict it
// returns handled=false (the caller inserts it). With one it does nothing
// (DO NOTHING, or a DO UPDATE whose WHERE is not true) or updates the
// existing row and returns it as written.
func (h *conflictHandler) handle(ctx context.Context, row []types.Value) (written []types.Value, handled bool, err error) {
	existing, err := h.findConflict(ctx, row)
	if err != nil || existing == nil {
		return nil, false, err
	}
	if h.plan.DoNothing {
		return nil, true, nil
	}
	combined := append(slices.Clone(existing), row...)
	if h.plan.Where != nil {
		ok, err := h.plan.Where(combined)
		if err != nil || !ok {
			return nil, true, err
		}
	}
	if h.touched[string(h.w.t.EncodePK(existing))] {
		return nil, true, errcode.New(errcode.InvalidInput,
			"ON CONFLICT DO UPDATE cannot change the same row of table %q twice in one statement: the proposed rows hold duplicate keys", h.w.t.Name)
	}
	updated := slices.Clone(existing)
	for _, a := range h.plan.Set {
		if updated[a.Column], err = a.Expr.Eval(combined); err != nil {
			return nil, true, err
		}
	}
	if err := h.w.prepare(updated); err != nil {
		return nil, true, err
	}
	if err := h.w.update(ctx, []rowChange{{old: existing, new: updated}}); err != nil {
		return nil, true, err
	}
	h.touched[string(h.w.t.EncodePK(updated))] = true
	return updated, true, nil
}

// findConflict returns the existing row that conflicts with row on one of
// the arbiter constraints, or nil.
func (h *conflictHandler) findConflict(ctx context.Context, row []types.Value) ([]types.Value, error) {
	t, buf := h.w.t, h.w.buf
	for _, a := range h.plan.Arbiters {
		var pk []byte
		if a == plan.PrimaryArbiter {
			pk = t.EncodePK(row)
		} else {
			idx := &t.Indexes[a]
			probe, ok := t.UniqueProbeKey(idx, row)
			if !ok {
				continue // a NULL key conflicts with nothing
			}
			value, found, err := buf.Get(ctx, probe)
			if err != nil {
				return nil, err
			}
			if !found {
				continue
			}
			if _, pk, err = t.DecodeIndexEntry(idx, probe, value); err != nil {
				return nil, err
			}
		}
		value, found, err := buf.Get(ctx, t.RowKey(pk))
		if err != nil {
			return nil, err
		}
		if !found {
			if a == plan.PrimaryArbiter {
				continue
			}
			return nil, errcode.New(errcode.Corruption, "unique index of table %q names a row that does not exist", t.Name)
		}
		return t.DecodeRowValue(value)
	}
	return nil, nil
}
