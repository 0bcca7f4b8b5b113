package kvremote

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
	"github.com/camusdb/camusdb-go/internal/rpc"
	"github.com/camusdb/camusdb-go/internal/util/procs"
)

// maxIntentWait caps a remote WaitIntent.
const maxIntentWait = time.Minute

// service serves other nodes' requests against this node's kvserver. It
// never forwards: a request for a partition this node does not lead fails
// with the kvserver's retry error and the caller re-routes.
type service struct {
	net   *rpc.Network
	local atomic.Pointer[kv.Sender] // nil until SetLocal: "node starting"
	// coordinator answers probes about this node's transactions (nil
	// until SetCoordinator).
	coordinator atomic.Pointer[CoordinatorFunc]
	// load counts the requests served, by partition and calling node
	// (nil: not counted); see follow.go.
	load atomic.Pointer[Load]
}

// CoordinatorFunc reports this node's epoch, whether transaction id is
// committing here and what it waits for (kv.DB.CoordinatorStatus).
type CoordinatorFunc func(id mvcc.TxnID) kv.CoordinatorState

// Service is the registered kv service of a node.
type Service struct{ s *service }

// Register adds the kv service to net (call before net.Serve). Requests
// fail with a retry error until SetLocal.
func Register(net *rpc.Network) *Service {
	s := &service{net: net}
	net.HandleCalls(s.serve)
	return &Service{s: s}
}

// SetLocal sets what the service serves: the node's *kvserver.Server.
func (svc *Service) SetLocal(local kv.Sender) { svc.s.local.Store(&local) }

// SetLoad makes the service count the requests it serves in l.
func (svc *Service) SetLoad(l *Load) { svc.s.load.Store(l) }

// SetCoordinator sets who answers coordinator probes: the node's kv.DB.
func (svc *Service) SetCoordinator(f CoordinatorFunc) { svc.s.coordinator.Store(&f) }

// serve decodes one request, runs it and encodes the response. Errors of
// the request (including malformed frames) travel inside the response.
func (s *service) serve(ctx context.Context, frame []byte) []byte {
	procs.Enter()
	defer procs.Exit()
	d := &decoder{b: frame}
	o := op(d.byte())
	from := d.uvarint()
	ts := d.ts()
	out := &encoder{b: make([]byte, 0, 64)}
	var body encoder
	err := d.err
	if err == nil {
		err = s.net.Receive(from, ts)
	}
	if err == nil {
		err = s.dispatch(ctx, o, from, d, &body)
	}
	out.ts(s.net.Stamp())
	if err != nil {
		out.byte(1)
		out.error(err)
		return out.b
	}
	out.byte(0)
	out.b = append(out.b, body.b...)
	return out.b
}

func (s *service) dispatch(ctx context.Context, o op, from uint64, d *decoder, out *encoder) error {
	pid := d.uvarint()
	if o != opProbeCoordinator {
		s.load.Load().add(pid, from)
	}
	if o == opProbeCoordinator {
		id := d.txnID()
		if err := d.done(); err != nil {
			return err
		}
		f := s.coordinator.Load()
		if f == nil {
			return &kvpb.RetryError{Reason: "node is starting"}
		}
		out.coordinatorState((*f)(id))
		return nil
	}
	lp := s.local.Load()
	if lp == nil {
		return &kvpb.RetryError{Reason: "node is starting"}
	}
	local := *lp
	switch o {
	case opGet:
		key, readTS := d.bytes(), d.ts()
		opts := mvcc.ReadOptions{Own: d.optTxnID(), Uncertainty: d.ts()}
		if err := d.done(); err != nil {
			return err
		}
		value, found, err := local.Get(ctx, pid, key, readTS, opts)
		if err != nil {
			return err
		}
		out.bytes(value)
		out.bool(found)
	case opScan:
		start, end, readTS := d.bytes(), d.bytes(), d.ts()
		opts := decodeScanOptions(d)
		if err := d.done(); err != nil {
			return err
		}
		kvs, resume, err := local.Scan(ctx, pid, start, end, readTS, opts)
		if err != nil {
			return err
		}
		out.uvarint(uint64(len(kvs)))
		for _, kv := range kvs {
			out.bytes(kv.Key)
			out.bytes(kv.Value)
		}
		out.bytes(resume)
	case opCommit1PC, opPrepare:
		req := d.commitRequest()
		if err := d.done(); err != nil {
			return err
		}
		call := local.Commit1PC
		if o == opPrepare {
			call = local.Prepare
		}
		ts, err := call(ctx, pid, req)
		if err != nil {
			return err
		}
		out.ts(ts)
	case opRefresh:
		id, reads, from, to := d.txnID(), d.spans(), d.ts(), d.ts()
		if err := d.done(); err != nil {
			return err
		}
		return local.Refresh(ctx, pid, id, reads, from, to)
	case opResolveIntents:
		items := d.resolutions()
		if err := d.done(); err != nil {
			return err
		}
		return local.ResolveIntents(ctx, pid, items)
	case opGetTxnRecord:
		id := d.txnID()
		if err := d.done(); err != nil {
			return err
		}
		rec, err := local.GetTxnRecord(ctx, pid, id)
		if err != nil {
			return err
		}
		out.record(rec)
	case opFinalizeTxn:
		id, want := d.txnID(), d.record()
		if err := d.done(); err != nil {
			return err
		}
		if want == nil {
			return errMalformed
		}
		rec, err := local.FinalizeTxn(ctx, pid, id, want)
		if err != nil {
			return err
		}
		out.record(rec)
	case opDeleteTxnRecord:
		ids := d.txnIDs()
		if err := d.done(); err != nil {
			return err
		}
		return local.DeleteTxnRecords(ctx, pid, ids)
	case opWaitIntent:
		key, owner, maxWait := d.bytes(), d.txnID(), time.Duration(min(d.uvarint(), uint64(maxIntentWait)))
		if err := d.done(); err != nil {
			return err
		}
		return local.WaitIntent(ctx, pid, key, owner, maxWait)
	case opClearSpan:
		start, end, notBelow := d.bytes(), d.bytes(), d.ts()
		if err := d.done(); err != nil {
			return err
		}
		c, ok := local.(kv.SpanClearer)
		if !ok {
			return errNoClearSpan
		}
		return c.ClearSpan(ctx, pid, start, end, notBelow)
	default:
		return fmt.Errorf("kvremote: unknown op %d", byte(o))
	}
	return nil
}
