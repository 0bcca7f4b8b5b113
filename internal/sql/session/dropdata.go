package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/jobs"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// DROP TABLE removes the descriptor in the statement and hands the table's
// rows and index entries to a job that deletes them in the background, so
// dropping a large table neither holds every key in one transaction nor
// waits for it. Table ids are never reused: the keys left meanwhile belong
// to no table. TRUNCATE does the same with the spans it leaves: it gives
// the table a fresh data id (catalog.NewTableData), so it costs one
// descriptor write whatever the table's size.
//
// On a database that can clear spans (catalog.SpanClearer: the real kv
// store), the job removes each of the table's spans with one replicated
// range deletion, once no transaction can read below the drop any more
// (the partition's GC threshold passed it: about the GC TTL after the
// drop; until then a transaction begun before the drop may still read the
// table). Deleting key by key instead wrote a tombstone per row through
// Raft, as much work as loading the table, and left twice the versions to
// garbage-collect: minutes of a core and of the disk for a million rows,
// taken from whatever ran next. Elsewhere (a test's in-memory database) it
// deletes a chunk of keys per transaction.

// JobTypeDropTableData is the job type of a dropped table's data deletion.
const JobTypeDropTableData = "DROP TABLE DATA"

// JobTypeDropIndexData is the job type of a dropped index's entries'
// deletion: the DROP INDEX job (or a cancelled CREATE INDEX) removes the
// index from its table and leaves its span to this job, which clears it
// like a dropped table's (index ids are never reused either). Only on a
// database that clears spans; elsewhere the DROP INDEX job deletes the
// entries itself.
const JobTypeDropIndexData = "DROP INDEX DATA"

type dropDataPayload struct {
	Prefixes [][]byte `json:"prefixes"`
}

type dropDataProgress struct {
	// Done: the prefixes already cleared.
	Done int `json:"done"`
	// NotBelowWall (range deletions): the wall time, in Unix nanoseconds,
	// below which no transaction may read any more before the spans are
	// cleared; set at the job's first run, after the drop committed.
	NotBelowWall int64 `json:"notBelowWall,omitempty"`
}

// DefaultDropDataRetry is how often the deletion job tries to clear a
// dropped table's spans while its partition's GC threshold is below the
// drop (Config.DropDataRetry).
const DefaultDropDataRetry = 30 * time.Second

// dropClearMargin is added to the clock reading the job takes as the
// drop's time: a node that adopts the job after the creator died reads its
// own clock, which may lag the drop's commit timestamp by up to the
// maximum clock offset (500 ms by default). Even a larger lag would be
// harmless in practice: the GC threshold trails the clock by the GC TTL
// (10 min), twice kv's maximum transaction age, so no transaction that
// could read at the drop's time is still alive when the spans are cleared.
const dropClearMargin = time.Second

// dropData is exec.Env.DropData: it creates the deletion job of t's data
// (a dropped table's, or the spans a TRUNCATE left: t is then the
// descriptor before it) in the statement's transaction txn; this node
// starts it once txn commits.
func (s *Server) dropData(txn catalog.Txn, user, sql string) func(context.Context, catalog.KV, *catalog.TableDesc) error {
	return func(ctx context.Context, kv catalog.KV, t *catalog.TableDesc) error {
		payload, _ := json.Marshal(dropDataPayload{Prefixes: catalog.TableDataPrefixes(t)})
		id, err := s.jobs.Create(ctx, kv, jobs.Record{Type: JobTypeDropTableData, User: user, Payload: payload,
			Description: fmt.Sprintf("delete the data table %q (id %d) had before: %s", t.Name, t.ID, sql)})
		if ct, ok := txn.(*catalogTxn); ok && err == nil {
			ct.jobs = append(ct.jobs, id)
		}
		return err
	}
}

// dropIndexDataJob creates, in txn (which removes idx from t), the job
// that clears idx's entries once no transaction can read them; the caller
// adopts it once txn commits.
func (s *Server) dropIndexDataJob(ctx context.Context, txn catalog.Txn, t *catalog.TableDesc, idx *catalog.IndexDesc, parent *jobs.Record) (uint64, error) {
	payload, _ := json.Marshal(dropDataPayload{Prefixes: [][]byte{t.IndexPrefix(idx)}})
	return s.jobs.Create(ctx, txn, jobs.Record{Type: JobTypeDropIndexData, User: parent.User, Payload: payload,
		Description: fmt.Sprintf("delete the entries of index %q (id %d) of table %q, removed by job %d", idx.Name, idx.ID, t.Name, parent.ID)})
}

type dropDataResumer struct {
	s     *Server
	chunk int
	retry time.Duration
}

func (r *dropDataResumer) Resume(ctx context.Context, j *jobs.Job) error {
	var p dropDataPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return errcode.New(errcode.Corruption, "job %d payload: %v", j.ID, err)
	}
	if c, ok := r.s.db.(catalog.SpanClearer); ok {
		return r.clear(ctx, j, c, p.Prefixes)
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

// clear removes each prefix's keys with one range deletion, waiting (and
// trying again every r.retry) while transactions may still read them.
func (r *dropDataResumer) clear(ctx context.Context, j *jobs.Job, c catalog.SpanClearer, prefixes [][]byte) error {
	var pr dropDataProgress
	load := func(rec *jobs.Record) error {
		pr = dropDataProgress{}
		if len(rec.Progress) > 0 {
			if err := json.Unmarshal(rec.Progress, &pr); err != nil {
				return errcode.New(errcode.Corruption, "job %d progress: %v", j.ID, err)
			}
		}
		return nil
	}
	err := j.Update(ctx, func(_ catalog.Txn, rec *jobs.Record) (func(bool), error) {
		if err := load(rec); err != nil {
			return nil, err
		}
		if pr.NotBelowWall == 0 {
			pr.NotBelowWall = c.Now().WallTime + int64(dropClearMargin)
			rec.Progress, _ = json.Marshal(pr)
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	notBelow := hlc.Timestamp{WallTime: pr.NotBelowWall}
	for pr.Done < len(prefixes) {
		prefix := prefixes[pr.Done]
		err := c.ClearSpan(ctx, prefix, kvpb.PrefixEnd(prefix), notBelow)
		var retry *kvpb.RetryError
		switch {
		case errors.As(err, &retry):
			// Not yet (or no leader right now): try again later.
			t := time.NewTimer(r.retry)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
			continue
		case err != nil:
			return err
		}
		done := pr.Done + 1
		err = j.Update(ctx, func(_ catalog.Txn, rec *jobs.Record) (func(bool), error) {
			if err := load(rec); err != nil {
				return nil, err
			}
			pr.Done = max(pr.Done, done)
			rec.Fraction = min(0.99, float64(pr.Done)/float64(len(prefixes)))
			rec.Progress, _ = json.Marshal(pr)
			return nil, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// OnFailOrCancel: a cancelled deletion leaves the rest of the keys of a
// table that no longer exists; nothing to undo.
func (r *dropDataResumer) OnFailOrCancel(context.Context, *jobs.Job, error) error { return nil }
