package session

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/jobs"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// DROP TABLE removes the descriptor in the statement and hands the table's
// rows and index entries to a job that deletes them a chunk per
// transaction in the background, so dropping a large table neither holds
// every key in one transaction nor waits for it. Table ids are never
// reused: the keys left meanwhile belong to no table.

// JobTypeDropTableData is the job type of a dropped table's data deletion.
const JobTypeDropTableData = "DROP TABLE DATA"

type dropDataPayload struct {
	Prefixes [][]byte `json:"prefixes"`
}

type dropDataProgress struct {
	// Done: the prefixes already cleared.
	Done int `json:"done"`
}

// dropData is exec.Env.DropData: it creates the deletion job of t's data
// in the statement's transaction txn; this node starts it once txn
// commits.
func (s *Server) dropData(txn catalog.Txn, user, sql string) func(context.Context, catalog.KV, *catalog.TableDesc) error {
	return func(ctx context.Context, kv catalog.KV, t *catalog.TableDesc) error {
		payload, _ := json.Marshal(dropDataPayload{Prefixes: catalog.TableDataPrefixes(t)})
		id, err := s.jobs.Create(ctx, kv, jobs.Record{Type: JobTypeDropTableData, User: user, Payload: payload,
			Description: fmt.Sprintf("delete the data of dropped table %q (id %d): %s", t.Name, t.ID, sql)})
		if ct, ok := txn.(*catalogTxn); ok && err == nil {
			ct.jobs = append(ct.jobs, id)
		}
		return err
	}
}

type dropDataResumer struct {
	s     *Server
	chunk int
}

func (r *dropDataResumer) Resume(ctx context.Context, j *jobs.Job) error {
	var p dropDataPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return errcode.New(errcode.Corruption, "job %d payload: %v", j.ID, err)
	}
	for {
		var done bool
		err := j.Update(ctx, func(txn catalog.Txn, rec *jobs.Record) (func(bool), error) {
			var pr dropDataProgress
			if len(rec.Progress) > 0 {
				if err := json.Unmarshal(rec.Progress, &pr); err != nil {
					return nil, errcode.New(errcode.Corruption, "job %d progress: %v", j.ID, err)
				}
			}
			if pr.Done >= len(p.Prefixes) {
				done = true
				return nil, nil
			}
			n, err := deleteSpanChunk(ctx, txn, p.Prefixes[pr.Done], r.chunk)
			if err != nil {
				return nil, err
			}
			rec.Rows += int64(n)
			if n < r.chunk {
				pr.Done++
			}
			rec.Fraction = min(0.99, float64(pr.Done)/float64(len(p.Prefixes)))
			rec.Progress, _ = json.Marshal(pr)
			return nil, nil
		})
		if err != nil || done {
			return err
		}
	}
}

// OnFailOrCancel: a cancelled deletion leaves the rest of the keys of a
// table that no longer exists; nothing to undo.
func (r *dropDataResumer) OnFailOrCancel(context.Context, *jobs.Job, error) error { return nil }
