package replica

import (
	"fmt"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/internal/storage"
)

// pendingAppend is one driver iteration's append of Raft state: the batch
// whose fsync it waits for (nil when the append needed none, and only
// waits for the appends before it), and the responses raft attached to it
// (the leader's acknowledgement of its own entries, a follower's answers
// to the leader), due once the append is durable.
type pendingAppend struct {
	batch     storage.Batch
	sync      bool
	responses []inboxItem
	start     time.Time
}

// appendSyncer waits for the fsyncs of appended Raft state off the driver
// goroutine, in append order, and hands their responses back to the
// driver's inbox. While it waits, the driver applies, proposes and appends
// the next entries, and the engine groups their fsyncs: the pipelining of
// Raft log writes that etcd raft's AsyncStorageWrites is for.
//
// Order matters: an append response acknowledges everything appended
// before it, so responses are delivered strictly in append order, and an
// append that needs no fsync of its own still waits for the ones before.
type appendSyncer struct {
	s *Store
	// queue carries appends to the syncer goroutine; stopped is closed by
	// the driver on its way out, exited by the goroutine when done.
	queue           chan *pendingAppend
	stopped, exited chan struct{}
	stopOnce        sync.Once

	mu struct {
		sync.Mutex
		// inFlight counts appends enqueued and not yet delivered.
		inFlight int
		failed   error
	}
}

func newAppendSyncer(s *Store) *appendSyncer {
	return &appendSyncer{
		s:       s,
		queue:   make(chan *pendingAppend, 4096),
		stopped: make(chan struct{}),
		exited:  make(chan struct{}),
	}
}

// enqueue hands an append to the syncer (driver only). It blocks when the
// queue is full, which only happens when the disk cannot keep up: that is
// the backpressure the driver needs.
func (a *appendSyncer) enqueue(p *pendingAppend) {
	a.mu.Lock()
	a.mu.inFlight++
	a.mu.Unlock()
	if p.sync {
		p.start = time.Now()
	}
	a.queue <- p
}

// empty reports that no append waits for delivery.
func (a *appendSyncer) empty() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mu.inFlight == 0
}

// err is the fsync failure that must stop the store, if any.
func (a *appendSyncer) err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mu.failed
}

// run is the syncer goroutine (started with the driver).
func (a *appendSyncer) run() {
	defer close(a.exited)
	for {
		select {
		case p := <-a.queue:
			a.complete(p)
		case <-a.stopped:
			// Wait for the fsyncs in flight so that no batch outlives the
			// engine; their responses are no longer needed.
			for {
				select {
				case p := <-a.queue:
					if p.batch != nil {
						_ = p.batch.SyncWait()
						_ = p.batch.Close()
					}
				default:
					return
				}
			}
		}
	}
}

// wait waits for p's fsync and closes its batch (the syncer goroutine, or
// the driver of a standalone store when nothing else is in flight).
func (a *appendSyncer) wait(p *pendingAppend) error {
	if p.batch == nil {
		return nil
	}
	if p.sync && p.start.IsZero() {
		p.start = time.Now()
	}
	err := p.batch.SyncWait()
	_ = p.batch.Close()
	if err != nil {
		return fmt.Errorf("replica: persisting raft state: %w", err)
	}
	if p.sync {
		a.s.metrics.syncs.Add(1)
		if a.s.cfg.OnLogSync != nil {
			a.s.cfg.OnLogSync(time.Since(p.start))
		}
	}
	return nil
}

func (a *appendSyncer) complete(p *pendingAppend) {
	if err := a.wait(p); err != nil {
		a.mu.Lock()
		if a.mu.failed == nil {
			a.mu.failed = err
		}
		a.mu.Unlock()
		a.s.signal()
		return // never deliver what is not durable
	}
	// Into the inbox before the count drops, so that a driver that sees
	// no append in flight finds their responses in its inbox (idle).
	a.s.mu.Lock()
	a.s.mu.inbox = append(a.s.mu.inbox, p.responses...)
	a.s.mu.Unlock()
	a.mu.Lock()
	a.mu.inFlight--
	a.mu.Unlock()
	a.s.signal()
}

// stop ends the syncer goroutine and waits for it (driver, on exit).
func (a *appendSyncer) stop() {
	a.stopOnce.Do(func() { close(a.stopped) })
	<-a.exited
}
