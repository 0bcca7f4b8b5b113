package kv

import (
	"context"

	"sync"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// resolveJob is one decided transaction's intents, to be resolved in the
// background, and (for a commit) its record, deleted once all are resolved.
type resolveJob struct {
	id       mvcc.TxnID
	home     uint64 // partition of the record to delete afterwards; 0 = none
	commit   bool
	commitTS hlc.Timestamp
	keys     map[uint64][][]byte // by partition
}

// maxKeysPerResolve bounds the keys of one resolution command.
const maxKeysPerResolve = 4096

// resolver resolves the intents of decided transactions in the
// background, batching: while one round of commands is in flight, new jobs
// accumulate, and the next round resolves all of them with one command per
// partition (and deletes all finished records with one command per home
// partition). Under load this turns "two or three Raft commands per
// transaction" into a fraction of one.
type resolver struct {
	db   *DB
	wake chan struct{}
	mu   struct {
		sync.Mutex
		pending []resolveJob // guarded by mu
	}
}

func newResolver(db *DB) *resolver {
	return &resolver{db: db, wake: make(chan struct{}, 1)}
}

func (r *resolver) enqueue(job resolveJob) {
	r.mu.Lock()
	r.mu.pending = append(r.mu.pending, job)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// run is the worker; it returns once the DB is closing and nothing is
// pending.
func (r *resolver) run() {
	ctx := r.db.asyncCtx
	for {
		r.mu.Lock()
		jobs := r.mu.pending
		r.mu.pending = nil
		r.mu.Unlock()
		if len(jobs) > 0 {
			r.round(jobs)
			continue
		}
		select {
		case <-r.wake:
		case <-r.db.closing:
			r.mu.Lock()
			empty := len(r.mu.pending) == 0
			r.mu.Unlock()
			if empty || ctx.Err() != nil {
				return
			}
		}
	}
}

// round resolves jobs, one command per partition (split when large), then
// deletes the records of the commits whose intents all resolved.
func (r *resolver) round(jobs []resolveJob) {
	db := r.db
	ctx := db.asyncCtx
	batches := map[uint64][][]kvserver.Resolution{}
	sizes := map[uint64]int{}
	for _, j := range jobs {
		for p, keys := range j.keys {
			b := batches[p]
			if len(b) == 0 || sizes[p]+len(keys) > maxKeysPerResolve {
				b = append(b, nil)
				sizes[p] = 0
			}
			b[len(b)-1] = append(b[len(b)-1], kvserver.Resolution{TxnID: j.id, Keys: keys, Commit: j.commit, CommitTS: j.commitTS})
			sizes[p] += len(keys)
			batches[p] = b
		}
	}
	failed := map[uint64]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for p, bs := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, items := range bs {
				if err := db.sender.ResolveIntents(ctx, p, items); err != nil {
					mu.Lock()
					failed[p] = true
					mu.Unlock()
					db.cfg.Logger.Debug("intent resolution deferred to readers", "partition", p, "txns", len(items), "err", err)
				}
			}
		}()
	}
	wg.Wait()
	records := map[uint64][]mvcc.TxnID{}
	for _, j := range jobs {
		if !j.commit || j.home == 0 {
			continue
		}
		ok := true
		for p := range j.keys {
			ok = ok && !failed[p]
		}
		if ok { // else the record stays: readers still need it to resolve
			records[j.home] = append(records[j.home], j.id)
		}
	}
	for home, ids := range records {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = db.sender.DeleteTxnRecords(ctx, home, ids)
		}()
	}
	wg.Wait()
}

// FinishCommitted resolves the intents of committed transactions whose
// records were left behind on partition home (see
// kvserver.Server.StaleCommittedRecords) and deletes each record whose
// intents all resolved. It returns how many records it deleted.
func (db *DB) FinishCommitted(ctx context.Context, home uint64, recs []mvcc.RecordEntry) (int, error) {
	var done []mvcc.TxnID
	var firstErr error
	for _, e := range recs {
		ok := true
		for p, keys := range e.Record.Locks {
			for len(keys) > 0 {
				n := min(len(keys), maxKeysPerResolve)
				err := db.sender.ResolveIntents(ctx, p, []kvserver.Resolution{{TxnID: e.ID, Keys: keys[:n], Commit: true, CommitTS: e.Record.CommitTS}})
				if err != nil {
					ok = false
					if firstErr == nil {
						firstErr = err
					}
					break
				}
				keys = keys[n:]
			}
		}
		if ok {
			done = append(done, e.ID)
		}
	}
	if len(done) == 0 {
		return 0, firstErr
	}
	if err := db.sender.DeleteTxnRecords(ctx, home, done); err != nil {
		return 0, err
	}
	return len(done), firstErr
}
