package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Defaults of Config.
const (
	DefaultClaimTTL     = 3 * time.Second
	DefaultPollInterval = 200 * time.Millisecond
)

// Config configures a Registry.
type Config struct {
	NodeID uint64
	// Now is the wall clock claims are measured with (default time.Now).
	Now func() time.Time
	// ClaimTTL is how long a claim lasts unrenewed: a node that stops
	// renewing (it died) lets another adopt its jobs after this long.
	ClaimTTL time.Duration
	// PollInterval is how often the runner looks for jobs to adopt.
	PollInterval time.Duration
}

// Resumer runs jobs of one type. Resume does the work from the job's
// checkpoint (it may run again after a crash: it must be idempotent from
// any checkpoint); OnFailOrCancel undoes it after a failure or CANCEL JOB.
// Both stop when ctx ends or an Update reports the job stopped.
type Resumer interface {
	Resume(ctx context.Context, j *Job) error
	OnFailOrCancel(ctx context.Context, j *Job, cause error) error
}

// Registry is one node's view of the jobs table and its job runner.
type Registry struct {
	db       catalog.DB
	cfg      Config
	resumers map[string]Resumer

	mu struct {
		sync.Mutex
		running map[uint64]context.CancelFunc
		// ended: closed when a run of the job here ends (Wait looks again).
		ended map[uint64]chan struct{}
	}
	stop chan struct{}
	wg   sync.WaitGroup
}

// New returns a registry; Register the resumers, then Start the runner.
func New(db catalog.DB, cfg Config) *Registry {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClaimTTL <= 0 {
		cfg.ClaimTTL = DefaultClaimTTL
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	r := &Registry{db: db, cfg: cfg, resumers: map[string]Resumer{}, stop: make(chan struct{})}
	r.mu.running = map[uint64]context.CancelFunc{}
	r.mu.ended = map[uint64]chan struct{}{}
	return r
}

// RunningHere is the number of jobs this node's runner runs now.
func (r *Registry) RunningHere() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.mu.running)
}

// Register sets the resumer of jobs of type typ.
func (r *Registry) Register(typ string, res Resumer) { r.resumers[typ] = res }

// Start starts the runner loop (Close stops it).
func (r *Registry) Start() {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.cfg.PollInterval)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				r.Tick(context.Background())
			}
		}
	}()
}

// Close stops the runner and the jobs running here; their claims are
// given up, so another node (or this one after a restart) adopts them at
// once.
func (r *Registry) Close() { r.close(true) }

// Abandon stops like a crashed node: the claims stay until they expire
// (tests of adoption use it).
func (r *Registry) Abandon() { r.close(false) }

func (r *Registry) close(release bool) {
	select {
	case <-r.stop:
		return
	default:
		close(r.stop)
	}
	r.mu.Lock()
	var ids []uint64
	for id, cancel := range r.mu.running {
		cancel()
		ids = append(ids, id)
	}
	r.mu.Unlock()
	r.wg.Wait()
	if !release {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, id := range ids {
		_ = r.update(ctx, id, func(rec *Record) error {
			if rec.ClaimNode == r.cfg.NodeID {
				rec.ClaimNode, rec.ClaimExpires = 0, 0
			}
			return nil
		})
	}
}

// Create adds a running job to the jobs table in txn (it becomes visible,
// and adoptable, when txn commits) and returns its id.
func (r *Registry) Create(ctx context.Context, txn catalog.KV, rec Record) (uint64, error) {
	id, err := nextID(ctx, txn)
	if err != nil {
		return 0, err
	}
	rec.ID, rec.Status, rec.Created = id, Running, r.cfg.Now().UnixNano()
	return id, put(txn, &rec)
}

// Get reads job id (CADB0030 when unknown).
func (r *Registry) Get(ctx context.Context, id uint64) (*Record, error) {
	var rec *Record
	err := r.view(ctx, func(txn catalog.Txn) (err error) {
		rec, err = load(ctx, txn, id)
		return err
	})
	return rec, err
}

// List reads every job, newest first.
func (r *Registry) List(ctx context.Context) ([]*Record, error) {
	var out []*Record
	err := r.view(ctx, func(txn catalog.Txn) (err error) {
		out, err = list(ctx, txn)
		return err
	})
	return out, err
}

// Pause stops a running job; RESUME continues it from its checkpoint.
func (r *Registry) Pause(ctx context.Context, id uint64) error {
	return r.update(ctx, id, func(rec *Record) error {
		if rec.Status != Running {
			return stateError(rec, "paused")
		}
		rec.Status = Paused
		return nil
	})
}

// Resume continues a paused job (a runner adopts it).
func (r *Registry) Resume(ctx context.Context, id uint64) error {
	return r.update(ctx, id, func(rec *Record) error {
		if rec.Status != Paused {
			return stateError(rec, "resumed")
		}
		rec.Status, rec.ClaimNode, rec.ClaimExpires = Running, 0, 0
		return nil
	})
}

// Cancel makes a running or paused job revert what it did and end as
// canceled.
func (r *Registry) Cancel(ctx context.Context, id uint64) error {
	return r.update(ctx, id, func(rec *Record) error {
		if rec.Status != Running && rec.Status != Paused {
			return stateError(rec, "cancelled")
		}
		if rec.Status == Paused {
			rec.ClaimNode, rec.ClaimExpires = 0, 0
		}
		rec.Status, rec.CancelRequested = Reverting, true
		rec.Error, rec.ErrorCode = "canceled by CANCEL JOB", string(errcode.QueryCancelled)
		return nil
	})
}

func stateError(rec *Record, verb string) error {
	return errcode.New(errcode.JobState, "job %d is %s and cannot be %s", rec.ID, rec.Status, verb)
}

// Adopt starts running job id on this node now when it needs a runner
// (the statement that created it calls it, so the job does not wait for
// the next poll).
func (r *Registry) Adopt(ctx context.Context, id uint64) { r.adopt(ctx, id) }

func (r *Registry) endedChan(id uint64) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := r.mu.ended[id]
	if ch == nil {
		ch = make(chan struct{})
		r.mu.ended[id] = ch
	}
	return ch
}

func (r *Registry) signalEnded(id uint64) {
	r.mu.Lock()
	if ch := r.mu.ended[id]; ch != nil {
		close(ch)
		delete(r.mu.ended, id)
	}
	r.mu.Unlock()
}

// Wait waits until job id is finished and returns its record.
func (r *Registry) Wait(ctx context.Context, id uint64) (*Record, error) {
	for {
		ended := r.endedChan(id)
		rec, err := r.Get(ctx, id)
		if err != nil && !kvpb.IsRetryable(err) {
			return nil, err
		}
		if err == nil && rec.Status.Finished() {
			r.mu.Lock()
			if r.mu.ended[id] == ended {
				delete(r.mu.ended, id)
			}
			r.mu.Unlock()
			return rec, nil
		}
		t := time.NewTimer(r.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-ended:
			t.Stop()
		case <-t.C:
		}
	}
}

// view runs fn in a read-only transaction.
func (r *Registry) view(ctx context.Context, fn func(catalog.Txn) error) error {
	txn, err := r.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = txn.Rollback(ctx) }()
	return fn(txn)
}

// update changes job id's record in a transaction, retrying conflicts.
func (r *Registry) update(ctx context.Context, id uint64, fn func(*Record) error) error {
	return r.runTxn(ctx, func(txn catalog.Txn) error {
		rec, err := load(ctx, txn, id)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
		return put(txn, rec)
	})
}

func (r *Registry) runTxn(ctx context.Context, fn func(catalog.Txn) error) error {
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		var txn catalog.Txn
		if txn, err = r.db.Begin(ctx); err != nil {
			return err
		}
		if err = fn(txn); err == nil {
			if err = txn.Commit(ctx); err == nil {
				return nil
			}
		} else {
			_ = txn.Rollback(ctx)
		}
		if !kvpb.IsRetryable(err) && !errcode.Of(err).Retryable() || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(time.Millisecond << min(attempt, 6))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return err
}

var (
	// ErrStopped: the job was paused, cancelled or adopted by another
	// node; the resumer returns it (wrapped or not) and stops.
	ErrStopped = errors.New("job stopped")
)

// Tick adopts the jobs that need a runner: running or reverting, with no
// claim or an expired one, of a type registered here. The runner loop
// calls it; tests call it directly.
func (r *Registry) Tick(ctx context.Context) {
	recs, err := r.List(ctx)
	if err != nil {
		return
	}
	now := r.cfg.Now().UnixNano()
	for _, rec := range recs {
		if rec.Status != Running && rec.Status != Reverting {
			continue
		}
		if _, ok := r.resumers[rec.Type]; !ok {
			continue
		}
		if rec.ClaimNode != 0 && rec.ClaimExpires > now {
			continue
		}
		r.mu.Lock()
		_, busy := r.mu.running[rec.ID]
		r.mu.Unlock()
		if !busy {
			r.adopt(ctx, rec.ID)
		}
	}
}

func (r *Registry) adopt(ctx context.Context, id uint64) {
	var claimed *Record
	err := r.update(ctx, id, func(rec *Record) error {
		now := r.cfg.Now()
		if (rec.Status != Running && rec.Status != Reverting) || (rec.ClaimNode != 0 && rec.ClaimExpires > now.UnixNano()) {
			return ErrStopped
		}
		rec.ClaimNode, rec.ClaimExpires = r.cfg.NodeID, now.Add(r.cfg.ClaimTTL).UnixNano()
		if rec.Started == 0 {
			rec.Started = now.UnixNano()
		}
		claimed = rec
		return nil
	})
	if err != nil {
		return
	}
	// Registered under mu, after looking at stop under it too: close,
	// which closes stop and then cancels what is registered, either finds
	// the job here or keeps it from starting. (Looking at stop first and
	// registering later let a job adopted while close ran, e.g. by another
	// job's last step, start uncancelled and hold close's Wait forever.)
	jctx, cancel := context.WithCancel(context.Background())
	r.mu.Lock()
	select {
	case <-r.stop:
		r.mu.Unlock()
		cancel()
		return
	default:
	}
	r.mu.running[id] = cancel
	r.wg.Add(2)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		r.heartbeat(jctx, cancel, id)
	}()
	go func() {
		defer r.wg.Done()
		defer func() {
			cancel()
			r.mu.Lock()
			delete(r.mu.running, id)
			r.mu.Unlock()
			r.signalEnded(id)
		}()
		r.run(jctx, claimed)
	}()
}

// heartbeat renews the claim on job id until ctx ends; when the claim is
// lost (another node took it, or the job stopped) it cancels the job.
func (r *Registry) heartbeat(ctx context.Context, cancel context.CancelFunc, id uint64) {
	t := time.NewTicker(r.cfg.ClaimTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := r.update(ctx, id, func(rec *Record) error {
			if rec.ClaimNode != r.cfg.NodeID || rec.Status.Finished() || rec.Status == Paused {
				return ErrStopped
			}
			rec.ClaimExpires = r.cfg.Now().Add(r.cfg.ClaimTTL).UnixNano()
			return nil
		})
		if errors.Is(err, ErrStopped) {
			cancel()
			return
		}
	}
}

// run runs a claimed job to its end (or until it stops).
func (r *Registry) run(ctx context.Context, rec *Record) {
	res := r.resumers[rec.Type]
	j := &Job{r: r, ID: rec.ID, Payload: rec.Payload, Progress: rec.Progress}
	if rec.Status == Running {
		err := res.Resume(ctx, j)
		if err == nil {
			_ = r.finish(ctx, rec.ID, func(rec *Record) {
				rec.Status, rec.Fraction = Succeeded, 1
			})
			return
		}
		if ctx.Err() != nil {
			return
		}
		if kvpb.IsRetryable(err) || errcode.Of(err).Retryable() {
			// Transient (a conflict that outlasted the retries, a
			// leadership change): not a failure. Give the claim up; the
			// next round adopts the job again and resumes it.
			_ = r.update(ctx, rec.ID, func(cur *Record) error {
				if cur.ClaimNode == r.cfg.NodeID {
					cur.ClaimNode, cur.ClaimExpires = 0, 0
				}
				return nil
			})
			return
		}
		if errors.Is(err, ErrStopped) {
			cur, gerr := r.Get(ctx, rec.ID)
			if gerr != nil || cur.Status != Reverting || cur.ClaimNode != r.cfg.NodeID {
				return // paused, or another node runs it
			}
		} else if uerr := r.update(ctx, rec.ID, func(cur *Record) error {
			if cur.ClaimNode != r.cfg.NodeID {
				return ErrStopped
			}
			cur.Status, cur.Error, cur.ErrorCode = Reverting, errMessage(err), string(errcode.Of(err))
			return nil
		}); uerr != nil {
			return
		}
	}
	cur, err := r.Get(ctx, rec.ID)
	if err != nil {
		return
	}
	j.Progress, j.reverting = cur.Progress, true
	cause := error(errcode.New(errcode.Code(cur.ErrorCode), "%s", cur.Error))
	if err := res.OnFailOrCancel(ctx, j, cause); err != nil {
		return // retried by the next runner (claim expires or is released)
	}
	_ = r.finish(ctx, rec.ID, func(rec *Record) {
		rec.Status = Failed
		if rec.CancelRequested {
			rec.Status = Canceled
		}
	})
}

func errMessage(err error) string {
	var e *errcode.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

func (r *Registry) finish(ctx context.Context, id uint64, fn func(*Record)) error {
	return r.update(ctx, id, func(rec *Record) error {
		if rec.ClaimNode != r.cfg.NodeID {
			return ErrStopped
		}
		fn(rec)
		rec.Finished = r.cfg.Now().UnixNano()
		rec.ClaimNode, rec.ClaimExpires = 0, 0
		return nil
	})
}

// Job is a claimed job, handed to its resumer.
type Job struct {
	r        *Registry
	ID       uint64
	Payload  []byte
	Progress []byte
	// reverting: OnFailOrCancel runs (Update then expects the job to be
	// reverting, not running).
	reverting bool
}

// Update runs fn in a transaction that first checks this node still runs
// the job (else ErrStopped: it was paused, cancelled or adopted
// elsewhere) and then stores the progress fn set on rec — in the same
// transaction as fn's own writes, so a chunk of work and its checkpoint
// commit together. fn may return an after function, called once the
// transaction ended with whether it committed. Retryable errors retry
// the whole transaction.
func (j *Job) Update(ctx context.Context, fn func(txn catalog.Txn, rec *Record) (after func(committed bool), err error)) error {
	for attempt := 0; ; attempt++ {
		txn, err := j.r.db.Begin(ctx)
		if err != nil {
			return err
		}
		rec, after, err := j.attempt(ctx, txn, fn)
		if err == nil {
			err = txn.Commit(ctx)
		} else {
			_ = txn.Rollback(ctx)
		}
		if after != nil {
			after(err == nil)
		}
		if err == nil {
			j.Progress = rec.Progress
			return nil
		}
		if (!kvpb.IsRetryable(err) && !errcode.Of(err).Retryable()) || ctx.Err() != nil || attempt >= 20 {
			return err
		}
		t := time.NewTimer(time.Millisecond << min(attempt, 6))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (j *Job) attempt(ctx context.Context, txn catalog.Txn, fn func(txn catalog.Txn, rec *Record) (func(bool), error)) (*Record, func(bool), error) {
	rec, err := load(ctx, txn, j.ID)
	if err != nil {
		return nil, nil, err
	}
	want := Running
	if j.reverting {
		want = Reverting
	}
	if rec.ClaimNode != j.r.cfg.NodeID || rec.Status != want {
		return nil, nil, fmt.Errorf("job %d is %s (claimed by node %d): %w", j.ID, rec.Status, rec.ClaimNode, ErrStopped)
	}
	after, err := fn(txn, rec)
	if err != nil {
		return nil, after, err
	}
	return rec, after, put(txn, rec)
}
