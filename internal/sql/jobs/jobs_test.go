package jobs_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/jobs"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// counter counts to 5 in steps, checkpointing each; step 2 blocks on
// block (when set) until its job's context ends.
type counter struct {
	block  chan struct{} // closed: step 2 proceeds
	steps  chan int      // every step done, with the count reached
	failAt int
}

type progress struct{ N int }

func (c *counter) Resume(ctx context.Context, j *jobs.Job) error {
	for {
		var p progress
		if len(j.Progress) > 0 {
			_ = json.Unmarshal(j.Progress, &p)
		}
		if p.N == 5 {
			return nil
		}
		if p.N == 2 && c.block != nil {
			select {
			case <-c.block:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if p.N+1 == c.failAt {
			return errcode.New(errcode.InvalidInput, "step %d fails", c.failAt)
		}
		err := j.Update(ctx, func(_ catalog.Txn, rec *jobs.Record) (func(bool), error) {
			p.N++
			rec.Progress, _ = json.Marshal(p)
			rec.Rows = int64(p.N)
			return nil, nil
		})
		if err != nil {
			return err
		}
		c.steps <- p.N
	}
}

func (c *counter) OnFailOrCancel(ctx context.Context, j *jobs.Job, cause error) error {
	return j.Update(ctx, func(_ catalog.Txn, rec *jobs.Record) (func(bool), error) {
		rec.Progress, _ = json.Marshal(progress{N: -1})
		return nil, nil
	})
}

func newRegistry(db *catalogtest.MemDB, c *clock, node uint64, res jobs.Resumer) *jobs.Registry {
	r := jobs.New(db, jobs.Config{NodeID: node, Now: c.Now, ClaimTTL: time.Hour, PollInterval: time.Hour})
	r.Register("count", res)
	return r
}

func create(t *testing.T, db *catalogtest.MemDB, r *jobs.Registry) uint64 {
	t.Helper()
	ctx := context.Background()
	txn, _ := db.Begin(ctx)
	id, err := r.Create(ctx, txn, jobs.Record{Type: "count", Description: "count to 5", User: "root"})
	if err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return id
}

// A node that dies mid-job keeps its claim until it expires; then another
// node adopts the job and resumes it from the checkpoint.
func TestOrphanedJobIsAdopted(t *testing.T) {
	ctx := context.Background()
	db := catalogtest.NewMemDB()
	c := &clock{now: time.Unix(1e9, 0)}
	first := &counter{block: make(chan struct{}), steps: make(chan int, 10)}
	a := newRegistry(db, c, 1, first)
	id := create(t, db, a)
	a.Tick(ctx)
	<-first.steps
	<-first.steps // at 2, blocked
	a.Abandon()   // crash: the claim stays

	second := &counter{steps: make(chan int, 10)}
	b := newRegistry(db, c, 2, second)
	defer b.Close()
	b.Tick(ctx)
	if rec, _ := b.Get(ctx, id); rec.ClaimNode != 1 || rec.Status != jobs.Running {
		t.Fatalf("adopted before the claim expired: %+v", rec)
	}
	c.advance(2 * time.Hour)
	b.Tick(ctx)
	rec, err := b.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != jobs.Succeeded || rec.Rows != 5 || rec.Fraction != 1 || rec.Finished == 0 {
		t.Fatalf("record %+v", rec)
	}
	close(second.steps)
	var resumed []int
	for n := range second.steps {
		resumed = append(resumed, n)
	}
	if len(resumed) != 3 || resumed[0] != 3 {
		t.Fatalf("the adopting node ran steps %v, want 3 4 5 (from the checkpoint)", resumed)
	}
}

func TestPauseResumeCancel(t *testing.T) {
	ctx := context.Background()
	db := catalogtest.NewMemDB()
	c := &clock{now: time.Unix(1e9, 0)}
	res := &counter{block: make(chan struct{}), steps: make(chan int, 10)}
	r := newRegistry(db, c, 1, res)
	defer r.Close()
	if err := r.Pause(ctx, 99); errcode.Of(err) != errcode.UnknownJob {
		t.Fatalf("pause of an unknown job: %v", err)
	}
	id := create(t, db, r)
	if err := r.Resume(ctx, id); errcode.Of(err) != errcode.JobState {
		t.Fatalf("resume of a running job: %v", err)
	}
	if err := r.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	r.Tick(ctx) // paused: not adopted
	if rec, _ := r.Get(ctx, id); rec.Status != jobs.Paused || rec.ClaimNode != 0 {
		t.Fatalf("%+v", rec)
	}
	if err := r.Resume(ctx, id); err != nil {
		t.Fatal(err)
	}
	r.Tick(ctx)
	<-res.steps
	<-res.steps // blocked at 2
	if err := r.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	close(res.block) // the next Update sees the cancel
	rec, err := r.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var p progress
	_ = json.Unmarshal(rec.Progress, &p)
	if rec.Status != jobs.Canceled || p.N != -1 {
		t.Fatalf("cancelled job: %+v (progress %d; want reverted)", rec, p.N)
	}
	for _, op := range []func(context.Context, uint64) error{r.Pause, r.Resume, r.Cancel} {
		if err := op(ctx, id); errcode.Of(err) != errcode.JobState {
			t.Fatalf("control of a finished job: %v", err)
		}
	}
}

func TestFailedJobReverts(t *testing.T) {
	ctx := context.Background()
	db := catalogtest.NewMemDB()
	c := &clock{now: time.Unix(1e9, 0)}
	r := newRegistry(db, c, 1, &counter{failAt: 3, steps: make(chan int, 10)})
	defer r.Close()
	id := create(t, db, r)
	r.Adopt(ctx, id)
	rec, err := r.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var p progress
	_ = json.Unmarshal(rec.Progress, &p)
	if rec.Status != jobs.Failed || rec.ErrorCode != string(errcode.InvalidInput) || rec.Error != "step 3 fails" || p.N != -1 {
		t.Fatalf("failed job: %+v", rec)
	}
	list, err := r.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatal(list, err)
	}
}
