package session

import (
	"context"
	"encoding/json"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/exec"
	"github.com/camusdb/camusdb-go/internal/sql/jobs"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Online CREATE [UNIQUE] INDEX: the statement adds the index in state
// DELETE_ONLY together with a job and waits for the job, which any node's
// runner executes: WRITE_ONLY, then a chunked backfill (each chunk one
// transaction that also stores the checkpoint in the job), then PUBLIC.
// Each descriptor change drains the schema leases on the table (so no
// statement still uses the previous state when the next one commits), and
// writers read the descriptor through their transaction, so a writer that
// planned against one state conflicts with the change to the next one.
// A failure (a duplicate in a unique index) or CANCEL JOB walks back:
// DELETE_ONLY, entries deleted in chunks, index removed.

// Job types of the schema changes.
const (
	JobTypeCreateIndex = "CREATE INDEX"
	JobTypeDropIndex   = "DROP INDEX"
)

// DefaultBackfillChunk is the rows per backfill transaction.
const DefaultBackfillChunk = 1000

type indexPayload struct {
	DBID    uint32 `json:"dbId"`
	Table   string `json:"table"`
	IndexID uint32 `json:"indexId"`
}

type indexProgress struct {
	Phase string `json:"phase"` // "" (delete-only), "backfill", "public"
	Next  []byte `json:"next,omitempty"`
	Rows  int64  `json:"rows"`
	Total int64  `json:"total"`
	// Cleared: the revert deleted every entry.
	Cleared bool `json:"cleared,omitempty"`
	// IndexesCleared: the indexes of a column job whose entries are
	// deleted (they are cleared in the payload's order).
	IndexesCleared int `json:"indexesCleared,omitempty"`
}

// createIndexJob runs an autocommit CREATE INDEX (or ALTER TABLE ... ADD
// [UNIQUE] INDEX / ADD CONSTRAINT ... UNIQUE) as a job and waits for it.
func (s *Server) createIndexJob(ctx context.Context, req Request, stmt ast.Statement, table string, def ast.IndexDef, ifNotExists bool) (*Result, error) {
	return s.schemaJob(ctx, req, stmt, table, JobTypeCreateIndex, func(_ catalog.Txn, t *catalog.TableDesc) (any, error) {
		if ifNotExists && def.Name != "" && t.FindIndex(def.Name) != nil {
			return nil, nil
		}
		idx, err := exec.AddIndex(t, def)
		if err != nil {
			return nil, err
		}
		idx.State = catalog.IndexDeleteOnly
		return indexPayload{DBID: t.DBID, Table: t.Name, IndexID: idx.ID}, nil
	})
}

// dropIndexJob runs an autocommit DROP INDEX (or ALTER TABLE ... DROP
// INDEX) as a job and waits for it.
func (s *Server) dropIndexJob(ctx context.Context, req Request, stmt ast.Statement, table, name string, ifExists bool) (*Result, error) {
	return s.schemaJob(ctx, req, stmt, table, JobTypeDropIndex, func(_ catalog.Txn, t *catalog.TableDesc) (any, error) {
		if name == catalog.PrimaryIndexName {
			return nil, errcode.New(errcode.InvalidInput, "the primary key cannot be dropped with DROP INDEX; use ALTER TABLE %s DROP PRIMARY KEY", t.Name)
		}
		for i := range t.Indexes {
			if t.Indexes[i].Name == name {
				// Readers stop using it; writers still maintain it.
				t.Indexes[i].State = catalog.IndexWriteOnly
				return indexPayload{DBID: t.DBID, Table: t.Name, IndexID: t.Indexes[i].ID}, nil
			}
		}
		if ifExists {
			return nil, nil
		}
		return nil, errcode.New(errcode.UnknownIndex, "index %q does not exist on table %q", name, t.Name)
	})
}

// schemaJob runs the first transaction of a schema change on table (prepare
// changes its descriptor and returns the job's payload; nil: nothing to
// do), which creates the job, then waits for the job and reports its
// result.
func (s *Server) schemaJob(ctx context.Context, req Request, stmt ast.Statement, table, typ string,
	prepare func(txn catalog.Txn, t *catalog.TableDesc) (any, error)) (*Result, error) {
	var jobID uint64
	user := UserFrom(ctx)
	run := func(ctx context.Context, txn catalog.Txn) (*exec.Result, error) {
		jobID = 0
		if _, err := checkStatement(ctx, txn, user, req.Database, stmt); err != nil {
			return nil, asStatementError(err)
		}
		db, err := catalog.GetDatabase(ctx, txn, req.Database)
		if err != nil {
			return nil, asStatementError(err)
		}
		t, err := catalog.GetTable(ctx, txn, db.ID, table)
		if err != nil {
			return nil, asStatementError(err)
		}
		if t.View != "" {
			return nil, asStatementError(errcode.New(errcode.Unsupported, "%q is a view: it cannot be written or altered", t.Name))
		}
		if t.SchemaJob != 0 {
			return nil, asStatementError(catalog.UpdateTable(ctx, txn, t)) // CADB0032
		}
		what, err := prepare(txn, t)
		if err != nil {
			return nil, asStatementError(err)
		}
		if what == nil {
			return &exec.Result{Kind: exec.DDL}, nil
		}
		payload, _ := json.Marshal(what)
		id, err := s.jobs.Create(ctx, txn, jobs.Record{Type: typ, Description: ast.Format(stmt), User: user, Payload: payload})
		if err != nil {
			return nil, err
		}
		t.SchemaJob = id
		if err := catalog.UpdateTableAsJob(ctx, txn, t, id); err != nil {
			return nil, asStatementError(err)
		}
		if err := s.drainChanged(ctx, txn); err != nil {
			return nil, err
		}
		jobID = id
		return &exec.Result{Kind: exec.DDL}, nil
	}
	if _, err := s.run(ctx, req, run); err != nil {
		return nil, err
	}
	if jobID == 0 {
		return &Result{Kind: ResultDDL, Database: req.Database}, nil
	}
	// Waiting for the job is not the statement's work: the statement (and
	// request) timeout does not cut it, and the job goes on without the
	// client.
	QueryFromContext(ctx).SetPhase(PhaseWaiting)
	s.jobs.Adopt(context.WithoutCancel(ctx), jobID)
	rec, err := s.jobs.Wait(context.WithoutCancel(ctx), jobID)
	if err != nil {
		return nil, mapError(err)
	}
	if rec.Status != jobs.Succeeded {
		code := errcode.Code(rec.ErrorCode)
		if code == "" {
			code = errcode.Internal
		}
		return nil, errcode.New(code, "job %d %s: %s", rec.ID, rec.Status, rec.Error)
	}
	return &Result{Kind: ResultDDL, Database: req.Database}, nil
}

// indexResumer runs CREATE INDEX jobs.
type indexResumer struct {
	s     *Server
	chunk int
}

// chunkStep runs one chunk of a job's pass over a table as a step: fn
// processes up to *size rows from the checkpoint (pr.Next) and returns the
// next one (nil at the end, when the job moves to phase next); the job
// record's rows and fraction follow. The chunk size halves after a step
// that did not commit (a conflict with foreground writers: a smaller read
// set conflicts less and holds less) and doubles back, up to r.chunk,
// after each one that did.
func (r *indexResumer) chunkStep(ctx context.Context, j *jobs.Job, p indexPayload, size *int, next string,
	fn func(txn catalog.Txn, t *catalog.TableDesc, from []byte, limit int) ([]byte, int64, error)) error {
	return r.step(ctx, j, p, false, func(txn catalog.Txn, t *catalog.TableDesc, pr *indexProgress, rec *jobs.Record) error {
		to, rows, err := fn(txn, t, pr.Next, *size)
		if err != nil {
			return err
		}
		pr.Next, pr.Rows = to, pr.Rows+rows
		if to == nil {
			pr.Phase = next
		}
		rec.Rows = pr.Rows
		if pr.Total > 0 {
			rec.Fraction = min(0.99, float64(pr.Rows)/float64(pr.Total))
		}
		return nil
	}, func(committed bool) {
		if committed {
			*size = min(*size*2, r.chunk)
		} else {
			*size = max(*size/2, 1)
		}
	})
}

func decodeIndexJob(j *jobs.Job) (indexPayload, indexProgress, error) {
	var p indexPayload
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

// step runs one transaction of the job: fn changes t (read in the
// transaction) and the progress; when changeDesc, t is stored as a new
// version and the leases on it drained before the commit.
func (r *indexResumer) step(ctx context.Context, j *jobs.Job, p indexPayload, changeDesc bool,
	fn func(txn catalog.Txn, t *catalog.TableDesc, pr *indexProgress, rec *jobs.Record) error, observe ...func(committed bool)) error {
	return j.Update(ctx, func(txn catalog.Txn, rec *jobs.Record) (after func(bool), err error) {
		if len(observe) > 0 {
			defer func() {
				inner := after
				after = func(committed bool) {
					if inner != nil {
						inner(committed)
					}
					observe[0](committed)
				}
			}()
		}
		var pr indexProgress
		if len(rec.Progress) > 0 {
			if err := json.Unmarshal(rec.Progress, &pr); err != nil {
				return nil, errcode.New(errcode.Corruption, "job %d progress: %v", j.ID, err)
			}
		}
		t, err := catalog.GetTable(ctx, txn, p.DBID, p.Table)
		if err != nil {
			return nil, err
		}
		if t.SchemaJob != j.ID {
			return nil, errcode.New(errcode.Internal, "table %q is not changed by job %d (it names job %d)", t.Name, j.ID, t.SchemaJob)
		}
		if err := fn(txn, t, &pr, rec); err != nil {
			return nil, err
		}
		rec.Progress, _ = json.Marshal(pr)
		if !changeDesc {
			return nil, nil
		}
		if err := catalog.UpdateTableAsJob(ctx, txn, t, j.ID); err != nil {
			return nil, err
		}
		keys := [][]byte{catalog.TableKey(t.DBID, t.Name)}
		if err := r.s.leases.Drain(ctx, txn, keys); err != nil {
			return nil, err
		}
		return func(committed bool) {
			if committed {
				r.s.leases.Committed(keys)
			} else {
				r.s.leases.Undrain(context.WithoutCancel(ctx), keys)
			}
		}, nil
	})
}

func findIndex(t *catalog.TableDesc, id uint32) *catalog.IndexDesc {
	for i := range t.Indexes {
		if t.Indexes[i].ID == id {
			return &t.Indexes[i]
		}
	}
	return nil
}

func (r *indexResumer) Resume(ctx context.Context, j *jobs.Job) error {
	p, pr, err := decodeIndexJob(j)
	if err != nil {
		return err
	}
	size := r.chunk
	for {
		if hook := r.s.cfg.SchemaChangeHook; hook != nil {
			hook(ctx, j.ID, pr.Phase)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		switch pr.Phase {
		case "":
			total, err := r.countRows(ctx, p)
			if err != nil {
				return err
			}
			err = r.step(ctx, j, p, true, func(_ catalog.Txn, t *catalog.TableDesc, pr *indexProgress, _ *jobs.Record) error {
				idx := findIndex(t, p.IndexID)
				if idx == nil {
					return errcode.New(errcode.Internal, "index %d of table %q is gone", p.IndexID, t.Name)
				}
				idx.State = catalog.IndexWriteOnly
				pr.Phase, pr.Total = "backfill", total
				return nil
			})
			if err != nil {
				return err
			}
		case "backfill":
			err := r.chunkStep(ctx, j, p, &size, "public", func(txn catalog.Txn, t *catalog.TableDesc, from []byte, limit int) ([]byte, int64, error) {
				idx := findIndex(t, p.IndexID)
				if idx == nil || idx.State != catalog.IndexWriteOnly {
					return nil, 0, errcode.New(errcode.Internal, "index %d of table %q is not write-only", p.IndexID, t.Name)
				}
				return exec.BackfillIndexChunk(ctx, txn, t, idx, from, limit)
			})
			if err != nil {
				return err
			}
		case "public":
			return r.step(ctx, j, p, true, func(_ catalog.Txn, t *catalog.TableDesc, _ *indexProgress, rec *jobs.Record) error {
				if idx := findIndex(t, p.IndexID); idx != nil {
					idx.State = catalog.IndexPublic
				}
				t.SchemaJob = 0
				rec.Fraction = 1
				return nil
			})
		default:
			return errcode.New(errcode.Corruption, "job %d: unknown phase %q", j.ID, pr.Phase)
		}
		if _, pr, err = decodeIndexJob(j); err != nil {
			return err
		}
	}
}

// countRows counts the table's rows for the fraction done (one read-only
// scan before the backfill).
func (r *indexResumer) countRows(ctx context.Context, p indexPayload) (int64, error) {
	txn, err := r.s.db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = txn.Rollback(ctx) }()
	t, err := catalog.GetTable(ctx, txn, p.DBID, p.Table)
	if err != nil {
		return 0, err
	}
	prefix := t.RowPrefix()
	it := txn.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	defer it.Close()
	var n int64
	for it.Next(ctx) {
		n++
	}
	return n, it.Err()
}

// OnFailOrCancel walks the index back: DELETE_ONLY (no writer adds
// entries any more), its entries deleted in chunks, then removed from the
// descriptor — leaving the table as before the statement.
func (r *indexResumer) OnFailOrCancel(ctx context.Context, j *jobs.Job, _ error) error {
	return r.removeIndex(ctx, j)
}

// removeIndex takes the job's index away: DELETE_ONLY, entries deleted a
// chunk per transaction, then removed from the descriptor (whose
// schemaJob is cleared). It resumes from wherever it stopped.
func (r *indexResumer) removeIndex(ctx context.Context, j *jobs.Job) error {
	p, _, err := decodeIndexJob(j)
	if err != nil {
		return err
	}
	// 1. Delete-only.
	err = r.step(ctx, j, p, true, func(_ catalog.Txn, t *catalog.TableDesc, _ *indexProgress, _ *jobs.Record) error {
		if idx := findIndex(t, p.IndexID); idx != nil {
			idx.State = catalog.IndexDeleteOnly
		}
		return nil
	})
	if err != nil {
		return err
	}
	// 2. Entries. On a database that clears spans, a job of their own
	// removes them later with one range deletion (dropIndexDataJob, made
	// with step 3); elsewhere, a chunk per transaction now.
	_, clears := r.s.db.(catalog.SpanClearer)
	for !clears {
		var cleared bool
		err := r.step(ctx, j, p, false, func(txn catalog.Txn, t *catalog.TableDesc, pr *indexProgress, _ *jobs.Record) error {
			idx := findIndex(t, p.IndexID)
			if idx == nil || pr.Cleared {
				cleared = true
				return nil
			}
			n, err := deleteSpanChunk(ctx, txn, t.IndexPrefix(idx), r.chunk)
			if err != nil {
				return err
			}
			cleared = n < r.chunk
			pr.Cleared = cleared
			return nil
		})
		if err != nil {
			return err
		}
		if cleared {
			break
		}
	}
	// 3. Gone.
	var dataJob uint64
	return r.step(ctx, j, p, true, func(txn catalog.Txn, t *catalog.TableDesc, pr *indexProgress, rec *jobs.Record) error {
		dataJob = 0
		for i := range t.Indexes {
			if t.Indexes[i].ID != p.IndexID {
				continue
			}
			if clears && !pr.Cleared {
				id, err := r.s.dropIndexDataJob(ctx, txn, t, &t.Indexes[i], rec)
				if err != nil {
					return err
				}
				dataJob = id
			}
			t.Indexes = append(t.Indexes[:i], t.Indexes[i+1:]...)
			break
		}
		t.SchemaJob = 0
		return nil
	}, func(committed bool) {
		if committed && dataJob != 0 {
			r.s.jobs.Adopt(context.WithoutCancel(ctx), dataJob)
		}
	})
}

// deleteSpanChunk deletes up to limit keys under prefix.
func deleteSpanChunk(ctx context.Context, txn catalog.Txn, prefix []byte, limit int) (int, error) {
	it := txn.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	var keys [][]byte
	for len(keys) < limit && it.Next(ctx) {
		keys = append(keys, append([]byte(nil), it.Key()...))
	}
	err := it.Err()
	it.Close()
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// dropIndexResumer runs DROP INDEX jobs: the statement made the index
// WRITE_ONLY (no reader uses it); the job removes it (removeIndex). A
// cancelled drop that had not reached DELETE_ONLY makes the index PUBLIC
// again; past it, the drop is finished.
type dropIndexResumer struct{ indexResumer }

func (r *dropIndexResumer) Resume(ctx context.Context, j *jobs.Job) error {
	if hook := r.s.cfg.SchemaChangeHook; hook != nil {
		hook(ctx, j.ID, "drop")
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return r.removeIndex(ctx, j)
}

func (r *dropIndexResumer) OnFailOrCancel(ctx context.Context, j *jobs.Job, _ error) error {
	p, _, err := decodeIndexJob(j)
	if err != nil {
		return err
	}
	restored := false
	err = r.step(ctx, j, p, true, func(_ catalog.Txn, t *catalog.TableDesc, _ *indexProgress, _ *jobs.Record) error {
		if idx := findIndex(t, p.IndexID); idx != nil && idx.State == catalog.IndexWriteOnly {
			idx.State = catalog.IndexPublic
			t.SchemaJob = 0
			restored = true
		}
		return nil
	})
	if err != nil || restored {
		return err
	}
	return r.removeIndex(ctx, j)
}
