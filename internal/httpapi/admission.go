package httpapi

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// admission bounds the requests a node serves at once
// (http_max_concurrent_requests): up to maxQueued more wait for a slot in
// arrival order of the runtime's channel; beyond that a request is
// answered 503 CADB0508 at once, so an overloaded node sheds load with an
// answer instead of piling up goroutines and memory.
type admission struct {
	slots     chan struct{} // nil: no bound
	maxQueued int64
	maxWait   time.Duration // how long a queued request waits at most
	queued    atomic.Int64
	exempt    func(*http.Request) bool
	// releaseSlot is release as a func value made once (a method value
	// taken per request would allocate).
	releaseSlot func()
}

func noRelease() {}

func newAdmission(maxConcurrent, maxQueued int, maxWait time.Duration, exempt func(*http.Request) bool) *admission {
	a := &admission{maxQueued: int64(max(maxQueued, 0)), maxWait: maxWait, exempt: exempt}
	if maxConcurrent > 0 {
		a.slots = make(chan struct{}, maxConcurrent)
	}
	a.releaseSlot = a.release
	return a
}

// admit waits for a slot; release must be called when the request ends.
// It fails with CADB0508 when the queue is full, when no slot frees up
// within maxWait (http_request_timeout_ms), or when the client goes away
// while queued.
func (a *admission) admit(r *http.Request) (release func(), err error) {
	if a.slots == nil || (a.exempt != nil && a.exempt(r)) {
		return noRelease, nil
	}
	select {
	case a.slots <- struct{}{}:
		return a.releaseSlot, nil
	default:
	}
	if a.queued.Add(1) > a.maxQueued {
		a.queued.Add(-1)
		return nil, a.overloaded()
	}
	defer a.queued.Add(-1)
	timer := time.NewTimer(a.maxWait)
	defer timer.Stop()
	select {
	case a.slots <- struct{}{}:
		return a.releaseSlot, nil
	case <-timer.C:
		return nil, a.overloaded()
	case <-r.Context().Done():
		return nil, a.overloaded()
	}
}

func (a *admission) release() { <-a.slots }

func (a *admission) overloaded() error {
	return &statusError{status: http.StatusServiceUnavailable, err: errcode.New(errcode.Overloaded,
		"node is busy: %d requests are running (http_max_concurrent_requests) and %d are queued (http_max_queued_requests); retry later",
		cap(a.slots), a.maxQueued)}
}

// clientKey carries the session.ClientInfo of a statement request.
type clientKey struct{}

// statementExecutor gives every statement the request's client and, when
// the request named none, the default statement timeout. Unless the
// executor enforces that timeout itself (session.TimeoutEnforcer, as the
// session layer does), it holds the statement to it, so no executor can
// keep a request past it.
type statementExecutor struct {
	session.Executor
	s *Server
	// enforced: the Executor holds statements to their timeout itself.
	enforced bool
}

func (e statementExecutor) Execute(ctx context.Context, req session.Request) (*session.Result, error) {
	if req.Timeout == 0 {
		req.Timeout, req.TimeoutSetting = e.s.stmtTimeout, e.s.stmtTimeoutSetting
	}
	if c, ok := ctx.Value(clientKey{}).(session.ClientInfo); ok && req.Client == (session.ClientInfo{}) {
		req.Client = c
	}
	if req.Timeout > 0 && !e.enforced {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, req.Timeout, session.TimeoutCause(req.Timeout, req.TimeoutSetting))
		defer cancel()
	}
	res, err := e.Executor.Execute(ctx, req)
	if err != nil && ctx.Err() != nil && !isCoded(err) {
		var coded *errcode.Error
		if errors.As(context.Cause(ctx), &coded) {
			return nil, coded
		}
	}
	return res, err
}
