package session

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/eval"
	"github.com/camusdb/camusdb-go/internal/sql/exec"
	"github.com/camusdb/camusdb-go/internal/sql/jobs"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Online ADD COLUMN and DROP COLUMN, on the machinery of the index jobs
// (schemachange.go): the same claims, checkpoints, descriptor steps that
// drain the schema leases, and walk-back.
//
// ADD COLUMN c ... DEFAULT e (or with an inline UNIQUE): the statement
// adds c as DELETE_ONLY (in no payload, seen by no reader) with the job;
// the job makes it WRITE_ONLY (every INSERT and UPDATE writes its
// default), back-fills the rows that lack it a chunk per transaction,
// and makes it PUBLIC. A failure (NOT NULL, a duplicate in its UNIQUE
// index) or CANCEL JOB walks back: DELETE_ONLY, the values removed from
// the rows a chunk per transaction, the index entries deleted, the column
// and index removed.
//
// DROP COLUMN c: the statement makes c WRITE_ONLY (unseen, still
// written); the job makes it DELETE_ONLY, rewrites the rows that still
// hold its value a chunk per transaction, and removes it. CANCEL JOB
// while it is still WRITE_ONLY makes it PUBLIC again; later the drop
// finishes.

// Job types of the column changes.
const (
	JobTypeAddColumn  = "ADD COLUMN"
	JobTypeDropColumn = "DROP COLUMN"
)

// Phases of the column jobs' progress, past the add's "", "backfill" and
// "public": the removal (DROP COLUMN, and the walk-back of ADD COLUMN).
const (
	phaseRewrite    = "rewrite"     // values removed from the rows, a chunk at a time
	phaseClearIndex = "clear-index" // the added index's entries deleted
	phaseRemove     = "remove"      // the column (and index) leave the descriptor
)

type columnPayload struct {
	DBID     uint32 `json:"dbId"`
	Table    string `json:"table"`
	ColumnID uint32 `json:"columnId"`
	// Indexes are the indexes that come and go with the column: the
	// inline UNIQUE index ADD COLUMN adds, the indexes on a column DROP
	// COLUMN drops.
	Indexes []uint32 `json:"indexes,omitempty"`
	// Now is the statement's time (Unix nanoseconds): the backfill
	// evaluates the DEFAULT with it, as the statement would have.
	Now int64 `json:"now,omitempty"`
}

func (p columnPayload) table() indexPayload { return indexPayload{DBID: p.DBID, Table: p.Table} }

// setIndexStates sets the state of the job's indexes in t.
func (p columnPayload) setIndexStates(t *catalog.TableDesc, state catalog.IndexState) {
	for _, id := range p.Indexes {
		if idx := findIndex(t, id); idx != nil {
			idx.State = state
		}
	}
}

// alterTableJob runs the ALTER TABLE actions that are jobs in autocommit
// mode (handled false: the statement runs in one transaction as before).
func (s *Server) alterTableJob(ctx context.Context, req Request, st *ast.AlterTable) (*Result, bool, error) {
	switch st.Action {
	case "ADD COLUMN":
		if !exec.AddColumnNeedsJob(st.Column) {
			return nil, false, nil
		}
		now := s.cfg.Clock()
		res, err := s.schemaJob(ctx, req, st, st.Table, JobTypeAddColumn, func(txn catalog.Txn, t *catalog.TableDesc) (any, error) {
			env := &eval.Env{Now: now, Database: req.Database}
			col, idx, err := exec.PrepareAddColumn(ctx, txn, env, t, st.Column)
			if err != nil {
				return nil, err
			}
			p := columnPayload{DBID: t.DBID, Table: t.Name, ColumnID: col.ID, Now: now.UnixNano()}
			if idx != nil {
				p.Indexes = []uint32{idx.ID}
			}
			return p, nil
		})
		return res, true, err
	case "DROP COLUMN":
		res, err := s.schemaJob(ctx, req, st, st.Table, JobTypeDropColumn, func(_ catalog.Txn, t *catalog.TableDesc) (any, error) {
			col, indexes, err := exec.PrepareDropColumn(t, st.Name)
			if err != nil {
				return nil, err
			}
			return columnPayload{DBID: t.DBID, Table: t.Name, ColumnID: col.ID, Indexes: indexes}, nil
		})
		return res, true, err
	case "ADD INDEX":
		if st.Index == nil {
			return nil, false, nil
		}
		res, err := s.createIndexJob(ctx, req, st, st.Table, *st.Index, false)
		return res, true, err
	case "DROP INDEX":
		res, err := s.dropIndexJob(ctx, req, st, st.Table, st.Name, false)
		return res, true, err
	case "ADD CHECK":
		if st.Check == nil {
			return nil, false, nil
		}
		res, err := s.addCheckJob(ctx, req, st)
		return res, true, err
	}
	return nil, false, nil
}

func decodeColumnJob(j *jobs.Job) (columnPayload, indexProgress, error) {
	var p columnPayload
	var pr indexProgress
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return p, pr, errcode.New(errcode.Corruption, "job %d payload: %v", j.ID, err)
	}
	if len(j.Progress) > 0 {
		if err := json.Unmarshal(j.Progress, &pr); err != nil {
			return p, pr, errcode.New(errcode.Corruption, "job %d progress: %v", j.ID, err)
		}
	}
	return p, pr, nil
}

func findColumn(t *catalog.TableDesc, id uint32) *catalog.ColumnDesc {
	if o := t.ColumnOrdinalByID(id); o >= 0 {
		return &t.Columns[o]
	}
	return nil
}

// addColumnResumer runs ADD COLUMN jobs.
type addColumnResumer struct{ indexResumer }

func (r *addColumnResumer) hook(ctx context.Context, j *jobs.Job, phase string) error {
	if hook := r.s.cfg.SchemaChangeHook; hook != nil {
		hook(ctx, j.ID, phase)
		return ctx.Err()
	}
	return nil
}

func (r *addColumnResumer) Resume(ctx context.Context, j *jobs.Job) error {
	p, pr, err := decodeColumnJob(j)
	if err != nil {
		return err
	}
	env := &eval.Env{Now: time.Unix(0, p.Now)}
	size := r.chunk
	for {
		if err := r.hook(ctx, j, pr.Phase); err != nil {
			return err
		}
		switch pr.Phase {
		case "":
			total, err := r.countRows(ctx, p.table())
			if err != nil {
				return err
			}
			err = r.step(ctx, j, p.table(), true, func(_ catalog.Txn, t *catalog.TableDesc, pr *indexProgress, _ *jobs.Record) error {
				col := findColumn(t, p.ColumnID)
				if col == nil {
					return errcode.New(errcode.Internal, "column %d of table %q is gone", p.ColumnID, t.Name)
				}
				col.State = catalog.ColumnWriteOnly
				p.setIndexStates(t, catalog.IndexWriteOnly)
				pr.Phase, pr.Total = "backfill", total
				return nil
			})
			if err != nil {
				return err
			}
		case "backfill":
			err := r.chunkStep(ctx, j, p.table(), &size, "public", func(txn catalog.Txn, t *catalog.TableDesc, from []byte, limit int) ([]byte, int64, error) {
				return exec.BackfillColumnChunk(ctx, txn, env, t, p.ColumnID, from, limit)
			})
			if err != nil {
				return err
			}
		case "public":
			return r.step(ctx, j, p.table(), true, func(_ catalog.Txn, t *catalog.TableDesc, _ *indexProgress, rec *jobs.Record) error {
				if col := findColumn(t, p.ColumnID); col != nil {
					col.State, col.Adding = catalog.ColumnPublic, false
				}
				p.setIndexStates(t, catalog.IndexPublic)
				t.SchemaJob = 0
				rec.Fraction = 1
				return nil
			})
		default:
			return errcode.New(errcode.Corruption, "job %d: unknown phase %q", j.ID, pr.Phase)
		}
		if _, pr, err = decodeColumnJob(j); err != nil {
			return err
		}
	}
}

// OnFailOrCancel walks the column back out of the table (removeColumn).
func (r *addColumnResumer) OnFailOrCancel(ctx context.Context, j *jobs.Job, _ error) error {
	return r.removeColumn(ctx, j)
}

// removeColumn takes the job's column (and index) away, resuming from
// wherever it stopped: DELETE_ONLY (no new payload holds the value), the
// rows that hold a value rewritten without it a chunk per transaction,
// the index entries deleted likewise, then both removed from the
// descriptor (whose schemaJob is cleared).
func (r *addColumnResumer) removeColumn(ctx context.Context, j *jobs.Job) error {
	p, pr, err := decodeColumnJob(j)
	if err != nil {
		return err
	}
	if pr.Phase != phaseRewrite && pr.Phase != phaseClearIndex && pr.Phase != phaseRemove {
		if err := r.hook(ctx, j, "delete-only"); err != nil {
			return err
		}
		total, err := r.countRows(ctx, p.table())
		if err != nil {
			return err
		}
		err = r.step(ctx, j, p.table(), true, func(_ catalog.Txn, t *catalog.TableDesc, pr *indexProgress, rec *jobs.Record) error {
			if col := findColumn(t, p.ColumnID); col != nil {
				col.State = catalog.ColumnDeleteOnly
			}
			p.setIndexStates(t, catalog.IndexDeleteOnly)
			*pr = indexProgress{Phase: phaseRewrite, Total: total}
			rec.Rows = 0
			return nil
		})
		if err != nil {
			return err
		}
	}
	size := r.chunk
	// On a database that clears spans, the dropped indexes' entries go to a
	// DROP INDEX DATA job made with the removal (see removeIndex).
	_, clears := r.s.db.(catalog.SpanClearer)
	for {
		if _, pr, err = decodeColumnJob(j); err != nil {
			return err
		}
		if err := r.hook(ctx, j, pr.Phase); err != nil {
			return err
		}
		switch pr.Phase {
		case phaseRewrite:
			after := phaseRemove
			if len(p.Indexes) > 0 && !clears {
				after = phaseClearIndex
			}
			err = r.chunkStep(ctx, j, p.table(), &size, after, func(txn catalog.Txn, t *catalog.TableDesc, from []byte, limit int) ([]byte, int64, error) {
				return exec.RemoveColumnChunk(ctx, txn, t, p.ColumnID, from, limit)
			})
		case phaseClearIndex:
			// The indexes one after the other; IndexesCleared counts the
			// ones done.
			err = r.step(ctx, j, p.table(), false, func(txn catalog.Txn, t *catalog.TableDesc, pr *indexProgress, _ *jobs.Record) error {
				if pr.IndexesCleared < len(p.Indexes) {
					n, err := deleteSpanChunk(ctx, txn, t.IndexPrefix(&catalog.IndexDesc{ID: p.Indexes[pr.IndexesCleared]}), r.chunk)
					if err != nil {
						return err
					}
					if n < r.chunk {
						pr.IndexesCleared++
					}
				}
				if pr.IndexesCleared >= len(p.Indexes) {
					pr.Phase = phaseRemove
				}
				return nil
			})
		case phaseRemove:
			var dataJobs []uint64
			return r.step(ctx, j, p.table(), true, func(txn catalog.Txn, t *catalog.TableDesc, pr *indexProgress, rec *jobs.Record) error {
				dataJobs = dataJobs[:0]
				if clears {
					for i := range t.Indexes {
						if idx := &t.Indexes[i]; slices.Contains(p.Indexes[min(pr.IndexesCleared, len(p.Indexes)):], idx.ID) {
							id, err := r.s.dropIndexDataJob(ctx, txn, t, idx, rec)
							if err != nil {
								return err
							}
							dataJobs = append(dataJobs, id)
						}
					}
				}
				t.Columns = slices.DeleteFunc(t.Columns, func(c catalog.ColumnDesc) bool { return c.ID == p.ColumnID })
				t.Indexes = slices.DeleteFunc(t.Indexes, func(idx catalog.IndexDesc) bool { return slices.Contains(p.Indexes, idx.ID) })
				t.SchemaJob = 0
				// A SERIAL or identity column's sequence goes with it.
				return exec.DropOwnedSequences(ctx, txn, t, p.ColumnID)
			}, func(committed bool) {
				if committed {
					for _, id := range dataJobs {
						r.s.jobs.Adopt(context.WithoutCancel(ctx), id)
					}
				}
			})
		default:
			return errcode.New(errcode.Corruption, "job %d: unknown phase %q", j.ID, pr.Phase)
		}
		if err != nil {
			return err
		}
	}
}

// dropColumnResumer runs DROP COLUMN jobs: the statement made the column
// WRITE_ONLY; the job removes it (removeColumn). A cancelled drop that had
// not reached DELETE_ONLY makes the column PUBLIC again (writers kept its
// values); past it, the drop is finished.
type dropColumnResumer struct{ addColumnResumer }

func (r *dropColumnResumer) Resume(ctx context.Context, j *jobs.Job) error {
	if err := r.hook(ctx, j, "drop"); err != nil {
		return err
	}
	return r.removeColumn(ctx, j)
}

func (r *dropColumnResumer) OnFailOrCancel(ctx context.Context, j *jobs.Job, _ error) error {
	p, _, err := decodeColumnJob(j)
	if err != nil {
		return err
	}
	restored := false
	err = r.step(ctx, j, p.table(), true, func(_ catalog.Txn, t *catalog.TableDesc, pr *indexProgress, _ *jobs.Record) error {
		if col := findColumn(t, p.ColumnID); col != nil && col.State == catalog.ColumnWriteOnly && pr.Phase == "" {
			col.State = catalog.ColumnPublic
			p.setIndexStates(t, catalog.IndexPublic)
			t.SchemaJob = 0
			restored = true
		}
		return nil
	})
	if err != nil || restored {
		return err
	}
	return r.removeColumn(ctx, j)
}

// JobTypeAddConstraint is the job of ALTER TABLE ... ADD [CONSTRAINT name]
// CHECK (expr) outside a transaction: the statement adds the constraint
// WRITE_ONLY (every write checks it from then on) with the job, which
// checks the existing rows a chunk per transaction (checkpointed like a
// backfill) and makes it PUBLIC. A row that violates it fails the job
// (CADB0033 naming the row); the walk-back removes the constraint.
const JobTypeAddConstraint = "ADD CONSTRAINT"

type checkPayload struct {
	DBID  uint32 `json:"dbId"`
	Table string `json:"table"`
	Check string `json:"check"`
	Now   int64  `json:"now,omitempty"`
}

func (p checkPayload) table() indexPayload { return indexPayload{DBID: p.DBID, Table: p.Table} }

func (s *Server) addCheckJob(ctx context.Context, req Request, st *ast.AlterTable) (*Result, error) {
	now := s.cfg.Clock()
	return s.schemaJob(ctx, req, st, st.Table, JobTypeAddConstraint, func(txn catalog.Txn, t *catalog.TableDesc) (any, error) {
		c, err := exec.PrepareAddCheck(ctx, txn, &eval.Env{Now: now, Database: req.Database}, t, st.Check)
		if err != nil {
			return nil, err
		}
		return checkPayload{DBID: t.DBID, Table: t.Name, Check: c.Name, Now: now.UnixNano()}, nil
	})
}

// checkResumer runs ADD CONSTRAINT ... CHECK jobs.
type checkResumer struct{ addColumnResumer }

func decodeCheckJob(j *jobs.Job) (checkPayload, indexProgress, error) {
	var p checkPayload
	var pr indexProgress
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return p, pr, errcode.New(errcode.Corruption, "job %d payload: %v", j.ID, err)
	}
	if len(j.Progress) > 0 {
		if err := json.Unmarshal(j.Progress, &pr); err != nil {
			return p, pr, errcode.New(errcode.Corruption, "job %d progress: %v", j.ID, err)
		}
	}
	return p, pr, nil
}

func (r *checkResumer) Resume(ctx context.Context, j *jobs.Job) error {
	p, pr, err := decodeCheckJob(j)
	if err != nil {
		return err
	}
	env := &eval.Env{Now: time.Unix(0, p.Now)}
	if pr.Phase == "" {
		total, err := r.countRows(ctx, p.table())
		if err != nil {
			return err
		}
		err = r.step(ctx, j, p.table(), false, func(_ catalog.Txn, _ *catalog.TableDesc, pr *indexProgress, _ *jobs.Record) error {
			pr.Phase, pr.Total = "validate", total
			return nil
		})
		if err != nil {
			return err
		}
	}
	size := r.chunk
	for {
		if _, pr, err = decodeCheckJob(j); err != nil {
			return err
		}
		if err := r.hook(ctx, j, pr.Phase); err != nil {
			return err
		}
		switch pr.Phase {
		case "validate":
			err = r.chunkStep(ctx, j, p.table(), &size, "public", func(txn catalog.Txn, t *catalog.TableDesc, from []byte, limit int) ([]byte, int64, error) {
				return exec.ValidateCheckChunk(ctx, txn, env, t, p.Check, from, limit)
			})
			if err != nil {
				return err
			}
		case "public":
			return r.step(ctx, j, p.table(), true, func(_ catalog.Txn, t *catalog.TableDesc, _ *indexProgress, rec *jobs.Record) error {
				if c := t.FindCheck(p.Check); c != nil {
					c.State = catalog.IndexPublic
				}
				t.SchemaJob = 0
				rec.Fraction = 1
				return nil
			})
		default:
			return errcode.New(errcode.Corruption, "job %d: unknown phase %q", j.ID, pr.Phase)
		}
	}
}

// OnFailOrCancel removes the constraint: the table is as before.
func (r *checkResumer) OnFailOrCancel(ctx context.Context, j *jobs.Job, _ error) error {
	p, _, err := decodeCheckJob(j)
	if err != nil {
		return err
	}
	return r.step(ctx, j, p.table(), true, func(_ catalog.Txn, t *catalog.TableDesc, _ *indexProgress, _ *jobs.Record) error {
		t.Checks = slices.DeleteFunc(t.Checks, func(c catalog.CheckDesc) bool { return c.Name == p.Check })
		t.SchemaJob = 0
		return nil
	})
}
