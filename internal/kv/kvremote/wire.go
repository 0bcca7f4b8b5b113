package kvremote

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// The wire format is a compact, versionless binary encoding: uvarints,
// length-prefixed byte strings (length+1, 0 = nil, so nil and empty
// survive), 12-byte HLC timestamps.
//
//	request  = op byte | sender node uvarint | sender HLC | op fields
//	response = responder HLC | status byte (0 ok, 1 error) | result or error

// op identifies a kvserver method.
type op byte

const (
	opGet op = iota + 1
	opScan
	opCommit1PC
	opPrepare
	opRefresh
	opResolveIntents
	opGetTxnRecord
	opFinalizeTxn
	opDeleteTxnRecord
	opWaitIntent
	opProbeCoordinator
	opClearSpan
)

func (o op) String() string {
	switch o {
	case opGet:
		return "Get"
	case opScan:
		return "Scan"
	case opCommit1PC:
		return "Commit1PC"
	case opPrepare:
		return "Prepare"
	case opRefresh:
		return "Refresh"
	case opResolveIntents:
		return "ResolveIntents"
	case opGetTxnRecord:
		return "GetTxnRecord"
	case opFinalizeTxn:
		return "FinalizeTxn"
	case opDeleteTxnRecord:
		return "DeleteTxnRecords"
	case opWaitIntent:
		return "WaitIntent"
	case opProbeCoordinator:
		return "ProbeCoordinator"
	case opClearSpan:
		return "ClearSpan"
	}
	return fmt.Sprintf("op(%d)", byte(o))
}

// errMalformed is returned for frames that cannot be decoded.
var errMalformed = errors.New("kvremote: malformed frame")

type encoder struct{ b []byte }

func (e *encoder) byte(v byte)        { e.b = append(e.b, v) }
func (e *encoder) uvarint(v uint64)   { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) ts(t hlc.Timestamp) { e.b = t.AppendEncode(e.b) }
func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}
func (e *encoder) bytes(v []byte) {
	if v == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(v)) + 1)
	e.b = append(e.b, v...)
}
func (e *encoder) str(s string)        { e.bytes([]byte(s)) }
func (e *encoder) txnID(id mvcc.TxnID) { e.b = append(e.b, id[:]...) }
func (e *encoder) optTxnID(id *mvcc.TxnID) {
	e.bool(id != nil)
	if id != nil {
		e.txnID(*id)
	}
}
func (e *encoder) spans(spans []kvserver.Span) {
	e.uvarint(uint64(len(spans)))
	for _, sp := range spans {
		e.bytes(sp.Key)
		e.bytes(sp.EndKey)
	}
}
func (e *encoder) keys(keys [][]byte) {
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.bytes(k)
	}
}
func (e *encoder) txnIDs(ids []mvcc.TxnID) {
	e.uvarint(uint64(len(ids)))
	for _, id := range ids {
		e.txnID(id)
	}
}
func (e *encoder) resolutions(items []kvserver.Resolution) {
	e.uvarint(uint64(len(items)))
	for _, it := range items {
		e.txnID(it.TxnID)
		e.keys(it.Keys)
		e.bool(it.Commit)
		e.ts(it.CommitTS)
	}
}
func (e *encoder) intent(in *mvcc.Intent) {
	e.txnID(in.TxnID)
	e.ts(in.TS)
	e.uvarint(in.Home)
	e.uvarint(in.CoordNode)
	e.uvarint(in.CoordEpoch)
	e.uvarint(uint64(in.WriteWall))
	e.uvarint(uint64(in.Priority))
	e.bool(in.Deleted)
	e.bytes(in.Value)
}
func (e *encoder) commitRequest(r *kvserver.CommitRequest) {
	e.txnID(r.TxnID)
	e.ts(r.ReadTS)
	e.spans(r.Reads)
	e.uvarint(uint64(len(r.Writes)))
	for _, w := range r.Writes {
		e.bytes(w.Key)
		e.bytes(w.Value)
		e.bool(w.Delete)
		e.bool(w.MustNotExist)
	}
	e.intent(&r.Intent)
	e.ts(r.MinTS)
	e.ts(r.MaxTS)
	e.record(r.Record)
}
func (e *encoder) record(r *mvcc.TxnRecord) {
	e.bool(r != nil)
	if r == nil {
		return
	}
	e.byte(byte(r.Status))
	e.ts(r.CommitTS)
	e.uvarint(uint64(len(r.Participants)))
	for _, p := range r.Participants {
		e.uvarint(p)
	}
	e.uvarint(uint64(r.StartWall))
}

// decoder reads what encoder wrote; the first failure sticks in err and
// every later read returns zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errMalformed
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}
func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}
func (d *decoder) ts() hlc.Timestamp {
	t, err := hlc.Decode(d.b)
	if err != nil {
		d.fail()
		return hlc.Timestamp{}
	}
	d.b = d.b[hlc.EncodedLen:]
	return t
}
func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail()
	return false
}

// bytes returns a sub-slice of the frame (frames are never reused).
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	n--
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}
func (d *decoder) str() string { return string(d.bytes()) }

// count reads a collection length, refusing lengths the rest of the frame
// cannot hold (each element takes at least one byte).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}
func (d *decoder) txnID() (id mvcc.TxnID) {
	if len(d.b) < len(id) {
		d.fail()
		return id
	}
	copy(id[:], d.b)
	d.b = d.b[len(id):]
	return id
}
func (d *decoder) optTxnID() *mvcc.TxnID {
	if !d.bool() {
		return nil
	}
	id := d.txnID()
	return &id
}
func (d *decoder) spans() []kvserver.Span {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]kvserver.Span, n)
	for i := range out {
		out[i] = kvserver.Span{Key: d.bytes(), EndKey: d.bytes()}
	}
	return out
}
func (d *decoder) keys() [][]byte {
	n := d.count()
	out := make([][]byte, n)
	for i := range out {
		out[i] = d.bytes()
	}
	return out
}
func (d *decoder) txnIDs() []mvcc.TxnID {
	n := d.count()
	out := make([]mvcc.TxnID, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.txnID())
	}
	return out
}
func (d *decoder) resolutions() []kvserver.Resolution {
	n := d.count()
	out := make([]kvserver.Resolution, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, kvserver.Resolution{TxnID: d.txnID(), Keys: d.keys(), Commit: d.bool(), CommitTS: d.ts()})
	}
	return out
}
func (d *decoder) intent() mvcc.Intent {
	return mvcc.Intent{
		TxnID:      d.txnID(),
		TS:         d.ts(),
		Home:       d.uvarint(),
		CoordNode:  d.uvarint(),
		CoordEpoch: d.uvarint(),
		WriteWall:  int64(d.uvarint()),
		Priority:   int64(d.uvarint()),
		Deleted:    d.bool(),
		Value:      d.bytes(),
	}
}
func (d *decoder) commitRequest() *kvserver.CommitRequest {
	r := &kvserver.CommitRequest{TxnID: d.txnID(), ReadTS: d.ts(), Reads: d.spans()}
	if n := d.count(); n > 0 {
		r.Writes = make([]kvserver.Mutation, n)
		for i := range r.Writes {
			r.Writes[i] = kvserver.Mutation{Key: d.bytes(), Value: d.bytes(), Delete: d.bool(), MustNotExist: d.bool()}
		}
	}
	r.Intent = d.intent()
	r.MinTS, r.MaxTS = d.ts(), d.ts()
	r.Record = d.record()
	return r
}
func (d *decoder) record() *mvcc.TxnRecord {
	if !d.bool() {
		return nil
	}
	r := &mvcc.TxnRecord{Status: mvcc.TxnStatus(d.byte()), CommitTS: d.ts()}
	if r.Status > mvcc.TxnAborted {
		d.fail()
		return nil
	}
	if n := d.count(); n > 0 {
		r.Participants = make([]uint64, n)
		for i := range r.Participants {
			r.Participants[i] = d.uvarint()
		}
	}
	r.StartWall = int64(d.uvarint())
	return r
}

// done reports a decoding error or trailing bytes.
func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errMalformed
	}
	return d.err
}

// Error kinds on the wire. Typed kv errors keep their type across nodes,
// so the coordinator reacts to a remote error exactly as to a local one.
const (
	errKindOther byte = iota
	errKindRetry
	errKindConflict
	errKindAmbiguous
	errKindCorruption
	errKindIntent
	errKindTxnClosed
	errKindCanceled
	errKindDeadline
	errKindUncertainty
	errKindTooLarge
	errKindConditionFailed
)

func (e *encoder) error(err error) {
	var (
		retry     *kvpb.RetryError
		conflict  *kvpb.ConflictError
		ambiguous *kvpb.AmbiguousError
		corrupt   *kvpb.CorruptionError
		intent    *mvcc.IntentError
		uncertain *mvcc.UncertaintyError
		tooLarge  *kvpb.CommandTooLargeError
		condition *kvpb.ConditionFailedError
	)
	switch {
	case errors.As(err, &condition):
		e.byte(errKindConditionFailed)
		e.bytes(condition.Key)
		e.str(condition.Message)
	case errors.As(err, &tooLarge):
		e.byte(errKindTooLarge)
		e.uvarint(uint64(tooLarge.Size))
		e.uvarint(uint64(tooLarge.Limit))
	case errors.As(err, &uncertain):
		e.byte(errKindUncertainty)
		e.bytes(uncertain.Key)
		e.ts(uncertain.ReadTS)
		e.ts(uncertain.ExistingTS)
	case errors.As(err, &intent) && intent.Intent != nil:
		e.byte(errKindIntent)
		e.bytes(intent.Key)
		e.intent(intent.Intent)
	case errors.As(err, &ambiguous):
		e.byte(errKindAmbiguous)
		e.str(fmt.Sprint(ambiguous.Cause))
	case errors.As(err, &retry):
		e.byte(errKindRetry)
		e.str(retry.Reason)
	case errors.As(err, &conflict):
		e.byte(errKindConflict)
		e.str(conflict.Reason)
	case errors.As(err, &corrupt):
		e.byte(errKindCorruption)
		e.str(corrupt.What)
	case errors.Is(err, kvpb.ErrTxnClosed):
		e.byte(errKindTxnClosed)
	case errors.Is(err, context.Canceled):
		e.byte(errKindCanceled)
	case errors.Is(err, context.DeadlineExceeded):
		e.byte(errKindDeadline)
	default:
		e.byte(errKindOther)
		e.str(err.Error())
	}
}

// remoteError is an untyped error of another node.
type remoteError struct{ msg string }

func (e *remoteError) Error() string { return "remote: " + e.msg }

func (d *decoder) error() error {
	switch d.byte() {
	case errKindRetry:
		return &kvpb.RetryError{Reason: d.str()}
	case errKindConflict:
		return &kvpb.ConflictError{Reason: d.str()}
	case errKindAmbiguous:
		return &kvpb.AmbiguousError{Cause: &remoteError{msg: d.str()}}
	case errKindCorruption:
		return &kvpb.CorruptionError{What: d.str()}
	case errKindIntent:
		key := d.bytes()
		in := d.intent()
		return &mvcc.IntentError{Key: key, Intent: &in}
	case errKindUncertainty:
		return &mvcc.UncertaintyError{Key: d.bytes(), ReadTS: d.ts(), ExistingTS: d.ts()}
	case errKindTooLarge:
		return &kvpb.CommandTooLargeError{Size: int64(d.uvarint()), Limit: int64(d.uvarint())}
	case errKindConditionFailed:
		return &kvpb.ConditionFailedError{Key: d.bytes(), Message: d.str()}
	case errKindTxnClosed:
		return kvpb.ErrTxnClosed
	case errKindCanceled:
		return context.Canceled
	case errKindDeadline:
		return context.DeadlineExceeded
	case errKindOther:
		return &remoteError{msg: d.str()}
	}
	d.fail()
	return d.err
}

// encodeScanOptions writes the options last in a request: NonBlocking
// is a trailing byte present only when set.
func encodeScanOptions(e *encoder, opts mvcc.ScanOptions) {
	e.bool(opts.Reverse)
	e.uvarint(uint64(max(opts.MaxKeys, 0)))
	e.optTxnID(opts.Own)
	e.ts(opts.Uncertainty)
	if opts.NonBlocking {
		e.bool(true)
	}
}

func decodeScanOptions(d *decoder) mvcc.ScanOptions {
	opts := mvcc.ScanOptions{Reverse: d.bool(), MaxKeys: int(min(d.uvarint(), 1<<31)), Own: d.optTxnID(), Uncertainty: d.ts()}
	if d.err == nil && len(d.b) > 0 {
		opts.NonBlocking = d.bool()
	}
	return opts
}

// coordinatorState: epoch, committing, then the waits (txn id, node).
func (e *encoder) coordinatorState(st kv.CoordinatorState) {
	e.uvarint(st.Epoch)
	e.bool(st.Committing)
	e.uvarint(uint64(len(st.WaitsFor)))
	for _, w := range st.WaitsFor {
		e.txnID(w.Txn)
		e.uvarint(w.Node)
	}
}
func (d *decoder) coordinatorState() kv.CoordinatorState {
	st := kv.CoordinatorState{Epoch: d.uvarint(), Committing: d.bool()}
	n := d.count()
	for i := 0; i < n && d.err == nil; i++ {
		st.WaitsFor = append(st.WaitsFor, kv.WaitEdge{Txn: d.txnID(), Node: d.uvarint()})
	}
	return st
}
