package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kv/kvserver"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

type bufferedWrite struct {
	value   []byte
	deleted bool
	// absent: written with PutIfAbsent (kvserver.Mutation.MustNotExist).
	absent bool
}

// readSet is what a transaction read in one partition.
type readSet struct {
	// few are the first points read (nfew of them), without a map: an
	// autocommit point query reads two or three keys (its descriptors and
	// its row), and a map cost it several allocations.
	few    [readSetFew]string
	nfew   int
	points map[string]struct{} // the points past few
	spans  []kvserver.Span
}

const readSetFew = 4

// addPoint records a read of key.
func (r *readSet) addPoint(key string) {
	for _, k := range r.few[:r.nfew] {
		if k == key {
			return
		}
	}
	if r.nfew < readSetFew {
		r.few[r.nfew] = key
		r.nfew++
		return
	}
	if r.points == nil {
		r.points = make(map[string]struct{})
	}
	r.points[key] = struct{}{}
}

func (r *readSet) asSpans() []kvserver.Span {
	out := make([]kvserver.Span, 0, r.nfew+len(r.points)+len(r.spans))
	for _, k := range r.few[:r.nfew] {
		out = append(out, kvserver.Span{Key: []byte(k)})
	}
	for k := range r.points {
		out = append(out, kvserver.Span{Key: []byte(k)})
	}
	return append(out, r.spans...)
}

// Txn is a serializable transaction.
type Txn struct {
	db     *DB
	id     mvcc.TxnID
	readTS hlc.Timestamp
	// uncertainty is the read uncertainty limit: the start plus the
	// maximum clock offset (zero: none). It does not move when readTS does.
	uncertainty hlc.Timestamp
	// nonBlocking: scans ask for latches that let later writes through
	// (NonBlockingScans).
	nonBlocking bool
	done        bool

	writes     map[string]bufferedWrite
	sortedKeys []string // sorted keys of writes; nil when stale
	// writeBytes is the size of writes as DB.cfg.MaxWriteBytes counts it.
	writeBytes int64
	reads      map[uint64]*readSet
	// firstReads is the read set of the first partition read, inline
	// (reads points to it): most transactions read one partition.
	firstReads readSet

	// minCommit: the writes commit no lower (SetMinCommitTimestamp).
	minCommit hlc.Timestamp
	// deadline, when set: the commit must land strictly below it
	// (SetDeadline).
	deadline hlc.Timestamp
	// absentMessage is the message of the *kvpb.ConditionFailedError
	// Commit returns when a PutIfAbsent key exists (the last one given).
	absentMessage string
	// recent are the results of the last point reads (a ring of
	// recentReads; nrecent counts them all): a transaction that reads a
	// row again — SELECT it, then UPDATE it — gets it without a second
	// read. A result stays right for the transaction's life: its own
	// writes are looked up first, and its read timestamp moves only after
	// its reads were validated up to the new one (nothing they saw
	// changed below it).
	recent  [recentReads]recentRead
	nrecent int
}

const recentReads = 4

type recentRead struct {
	key   string
	value []byte
	found bool
}

// recentRead returns the remembered result of a read of key, if any.
func (t *Txn) recentRead(key []byte) (value []byte, found, ok bool) {
	for i := range min(t.nrecent, recentReads) {
		if r := &t.recent[i]; r.key == string(key) {
			return r.value, r.found, true
		}
	}
	return nil, false, false
}

func (t *Txn) rememberRead(key string, value []byte, found bool) {
	t.recent[t.nrecent%recentReads] = recentRead{key: key, value: value, found: found}
	t.nrecent++
}

// ID returns the transaction id.
func (t *Txn) ID() mvcc.TxnID { return t.id }

// ReadTimestamp returns the snapshot the transaction reads at.
func (t *Txn) ReadTimestamp() hlc.Timestamp { return t.readTS }

// SetMinCommitTimestamp makes the transaction's writes commit at ts or
// above (its reads are validated up to there, as for any pushed commit).
// Schema leases use it: a descriptor change commits above the moment every
// node stopped using the previous version. Calls only raise the bound.
func (t *Txn) SetMinCommitTimestamp(ts hlc.Timestamp) { t.minCommit = t.minCommit.Forward(ts) }

// SetDeadline makes Commit fail with a retryable *kvpb.RetryError, writing
// nothing, when the commit timestamp would be at or above ts. Calls only
// lower the deadline.
func (t *Txn) SetDeadline(ts hlc.Timestamp) {
	if t.deadline.IsEmpty() || ts.Less(t.deadline) {
		t.deadline = ts
	}
}

// DropUncertainty makes the transaction read exactly as of its read
// timestamp: a version above it is invisible even when it lies within the
// clock uncertainty window, so reads never move the read timestamp up and
// never re-validate earlier reads. What it gives up: a write that another
// node, its clock up to the maximum offset ahead, committed before this
// transaction began may be missed. Only for advisory reads, such as the
// statistics scan, whose transaction commits nothing that depends on
// them; under concurrent writes a long scan with uncertainty re-validates
// everything read so far at each uncertain version it meets.
func (t *Txn) DropUncertainty() { t.uncertainty = hlc.Timestamp{} }

// NonBlockingScans makes the transaction's scans hold up no write that
// lands above what they observe (mvcc.ScanOptions.NonBlocking): a long
// scan of a table then does not make every writer to the rest of it wait
// for each batch. For advisory scans, such as the statistics refresh,
// whose transaction writes nothing.
func (t *Txn) NonBlockingScans() { t.nonBlocking = true }

// RecordRead adds key to the transaction's read set as if it had been read
// at the read timestamp, without reading it: the commit then fails with a
// conflict if key was written between the read timestamp and the commit
// timestamp, exactly as for a Get. The caller knows the value at the read
// timestamp from elsewhere (schema leases: a descriptor leased for that
// timestamp).
func (t *Txn) RecordRead(key string) error {
	p, err := kvpb.PartitionOf(unsafe.Slice(unsafe.StringData(key), len(key)), t.db.cfg.NumPartitions)
	if err != nil {
		return fmt.Errorf("kv: %w", err)
	}
	t.readSetFor(p).addPoint(key)
	return nil
}

func (t *Txn) readSetFor(partitionID uint64) *readSet {
	if t.reads == nil {
		t.reads = make(map[uint64]*readSet, 1)
		t.reads[partitionID] = &t.firstReads
		return &t.firstReads
	}
	rs := t.reads[partitionID]
	if rs == nil {
		rs = &readSet{}
		t.reads[partitionID] = rs
	}
	return rs
}

// checkAge fails a transaction older than the configured maximum: its
// snapshot may be garbage-collected soon.
func (t *Txn) checkAge() error {
	if age := time.Duration(t.db.clock.Now().WallTime - t.readTS.WallTime); age > t.db.cfg.MaxTxnAge {
		return &kvpb.RetryError{Reason: fmt.Sprintf("transaction too old (%v)", age.Round(time.Second))}
	}
	return nil
}

// Get reads key, seeing the transaction's own writes. The value must not be
// modified: a read of the same key again hands out the same one.
func (t *Txn) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	if t.done {
		return nil, false, kvpb.ErrTxnClosed
	}
	if err := t.checkAge(); err != nil {
		return nil, false, err
	}
	if w, ok := t.writes[string(key)]; ok {
		if w.deleted {
			return nil, false, nil
		}
		return w.value, true, nil
	}
	if value, found, ok := t.recentRead(key); ok {
		return value, found, nil
	}
	pid, err := t.db.partitionOf(key)
	if err != nil {
		return nil, false, err
	}
	// The loops of readUncertain and withIntentRetry, written out: their
	// closures cost a point read four allocations.
	for {
		value, found, err := t.getResolving(ctx, pid, key)
		if err == nil {
			k := string(key)
			t.readSetFor(pid).addPoint(k)
			value = value[:len(value):len(value)] // an append by a caller copies
			t.rememberRead(k, value, found)
			return value, found, nil
		}
		var ue *mvcc.UncertaintyError
		if !errors.As(err, &ue) {
			return nil, false, err
		}
		if err := t.moveAbove(ctx, ue); err != nil {
			return nil, false, err
		}
	}
}

// getResolving reads key, resolving the intents it meets (see
// DB.withIntentRetry).
func (t *Txn) getResolving(ctx context.Context, pid uint64, key []byte) ([]byte, bool, error) {
	for round := 0; ; round++ {
		value, found, err := t.db.sender.Get(ctx, pid, key, t.readTS, mvcc.ReadOptions{Own: &t.id, Uncertainty: t.uncertainty})
		if err == nil {
			return value, found, nil
		}
		if err := t.db.afterIntent(ctx, pid, nil, round, err); err != nil {
			return nil, false, err
		}
	}
}

// readUncertain runs read; when it meets a version within the
// uncertainty interval (*mvcc.UncertaintyError), the transaction moves its
// read timestamp up to that version's — after validating every earlier
// read up to there, so the whole transaction reads as of the new
// timestamp — and reads again. The limit stays where it was, so this ends.
// A read that changed in between fails the transaction with a retryable
// conflict.
func (t *Txn) readUncertain(ctx context.Context, read func() error) error {
	for {
		err := read()
		if err == nil {
			return nil
		}
		var ue *mvcc.UncertaintyError
		if !errors.As(err, &ue) {
			return err
		}
		if err := t.moveAbove(ctx, ue); err != nil {
			return err
		}
	}
}

// moveAbove moves the read timestamp up to the uncertain version ue met,
// validating every earlier read up to there (see readUncertain).
func (t *Txn) moveAbove(ctx context.Context, ue *mvcc.UncertaintyError) error {
	to := ue.ExistingTS
	if !t.readTS.Less(to) {
		return &kvpb.RetryError{Reason: "uncertainty interval did not advance"} // broken invariant; retry whole
	}
	t.db.clock.Update(to)
	validated := make(map[uint64]hlc.Timestamp, len(t.reads))
	for p := range t.reads {
		validated[p] = t.readTS
	}
	if err := t.refresh(ctx, validated, to, nil); err != nil {
		if kvpb.IsRetryable(err) {
			return err
		}
		return &kvpb.ConflictError{Reason: fmt.Sprintf("a read changed before an uncertain read at %s: %v", to, err)}
	}
	t.db.metrics.uncertaintyRestarts.Add(1)
	t.readTS = to
	return nil
}

// Put buffers a write.
func (t *Txn) Put(key, value []byte) error {
	return t.buffer(key, bufferedWrite{value: append([]byte(nil), value...)})
}

// PutOwned buffers a write like Put, but takes value as is: the caller
// must not modify it afterwards. With the key as a string it costs no
// copies, which counts for a statement handing over a million rows.
func (t *Txn) PutOwned(key string, value []byte) error {
	if _, err := kvpb.BucketOf([]byte(key)); err != nil {
		return err
	}
	return t.store(key, bufferedWrite{value: value})
}

// PutIfAbsent buffers a write that commits only if key has no live
// version at the commit timestamp: Commit otherwise fails with a
// *kvpb.ConditionFailedError carrying message, and writes nothing. The
// check is made by the partition under the commit's latches, so it costs
// no read and no round trip before the commit; it suits a statement that
// commits at once (an autocommit INSERT), whose error may wait until then.
// A later Put or Delete of the key in the transaction keeps the condition.
func (t *Txn) PutIfAbsent(key, value []byte, message string) error {
	if message == "" {
		message = "duplicate key"
	}
	t.absentMessage = message
	return t.buffer(key, bufferedWrite{value: append([]byte(nil), value...), absent: true})
}

// ReserveWrites makes room for n more buffered writes when the
// transaction has none yet (a map grown one key at a time to a million
// costs more than one made to size).
func (t *Txn) ReserveWrites(n int) {
	if len(t.writes) == 0 && n > 0 {
		t.writes = make(map[string]bufferedWrite, n)
	}
}

// Delete buffers a deletion.
func (t *Txn) Delete(key []byte) error {
	return t.buffer(key, bufferedWrite{deleted: true})
}

func (t *Txn) buffer(key []byte, w bufferedWrite) error {
	if _, err := kvpb.BucketOf(key); err != nil {
		return err
	}
	return t.store(string(key), w)
}

// WriteBytesLeft is how many more bytes of writes (kvpb.WriteCost each)
// the transaction may buffer before its writes fail with
// *kvpb.TxnTooLargeError, and the bound (Config.MaxWriteBytes; 0 and
// math.MaxInt64 left: none). A statement that buffers its own writes
// before handing them over checks them against it as they grow.
func (t *Txn) WriteBytesLeft() (left, limit int64) {
	limit = t.db.cfg.MaxWriteBytes
	if limit <= 0 {
		return math.MaxInt64, 0
	}
	return max(0, limit-t.writeBytes), limit
}

// store buffers a write of a checked key.
func (t *Txn) store(key string, w bufferedWrite) error {
	if t.done {
		return kvpb.ErrTxnClosed
	}
	if t.writes == nil {
		t.writes = make(map[string]bufferedWrite)
	}
	n := len(t.writes)
	prev, had := t.writes[key]
	if t.absentMessage != "" && had && prev.absent {
		w.absent = true
	}
	grow := kvpb.WriteCost(len(key), len(w.value))
	if had {
		grow = kvpb.WriteCopies * int64(len(w.value)-len(prev.value))
	}
	if limit := t.db.cfg.MaxWriteBytes; limit > 0 && grow > 0 && t.writeBytes+grow > limit {
		return &kvpb.TxnTooLargeError{Limit: limit}
	}
	t.writeBytes += grow
	t.writes[key] = w
	switch {
	case len(t.writes) == n: // not a new key (one map operation, not two)
	case n == 0:
		t.sortedKeys = append(t.sortedKeys[:0], key)
	case t.sortedKeys != nil && t.sortedKeys[len(t.sortedKeys)-1] < key:
		// Keys written in increasing order (a bulk load) stay sorted
		// without sorting.
		t.sortedKeys = append(t.sortedKeys, key)
	default:
		t.sortedKeys = nil
	}
	return nil
}

func (t *Txn) sortedWriteKeys() []string {
	if t.sortedKeys == nil && len(t.writes) > 0 {
		t.sortedKeys = make([]string, 0, len(t.writes))
		for k := range t.writes {
			t.sortedKeys = append(t.sortedKeys, k)
		}
		sort.Strings(t.sortedKeys)
	}
	return t.sortedKeys
}

// Rollback discards the transaction. Nothing was written before Commit, so
// there is nothing to undo.
func (t *Txn) Rollback(ctx context.Context) error {
	t.done = true
	t.writes, t.sortedKeys, t.writeBytes = nil, nil, 0
	return nil
}

// Commit commits the transaction atomically, or returns an error after
// which none of its writes are visible; *kvpb.AmbiguousError means the
// outcome is unknown.
func (t *Txn) Commit(ctx context.Context) error {
	err := t.commit(ctx)
	t.db.countOutcome(err)
	if err != nil && t.absentMessage != "" {
		var cf *kvpb.ConditionFailedError
		if errors.As(err, &cf) && cf.Message == "" {
			cf.Message = t.absentMessage
		}
	}
	return err
}

func (db *DB) countOutcome(err error) {
	if err == nil {
		return // without the allocations of the errors.As targets below
	}
	var ce *kvpb.ConflictError
	var re *kvpb.RetryError
	var ae *kvpb.AmbiguousError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		db.metrics.conflicts.Add(1)
	case errors.As(err, &re):
		db.metrics.retries.Add(1)
	case errors.As(err, &ae):
		db.metrics.ambiguous.Add(1)
	}
}

func (t *Txn) commit(ctx context.Context) error {
	if t.done {
		return kvpb.ErrTxnClosed
	}
	t.done = true
	if len(t.writes) == 0 {
		t.db.metrics.readOnly.Add(1)
		return nil // a read-only snapshot transaction is serializable as is
	}
	if err := t.checkAge(); err != nil {
		return err
	}
	// The mutations in key order, their keys copied into one buffer: from
	// the sorted keys when they are known (sorting a million costs more
	// than looking each up), else from one pass over the map, sorted.
	size := 0
	for k := range t.writes {
		size += len(k)
	}
	keyBuf := make([]byte, 0, size)
	muts := make([]kvserver.Mutation, 0, len(t.writes))
	add := func(k string, w bufferedWrite) {
		keyBuf = append(keyBuf, k...)
		key := keyBuf[len(keyBuf)-len(k) : len(keyBuf) : len(keyBuf)]
		muts = append(muts, kvserver.Mutation{Key: key, Value: w.value, Delete: w.deleted, MustNotExist: w.absent})
	}
	if t.sortedKeys != nil {
		for _, k := range t.sortedKeys {
			add(k, t.writes[k])
		}
	} else {
		for k, w := range t.writes {
			add(k, w)
		}
		slices.SortFunc(muts, func(a, b kvserver.Mutation) int { return bytes.Compare(a.Key, b.Key) })
	}
	byPartition := make(map[uint64][]kvserver.Mutation)
	var home uint64
	for i := 0; i < len(muts); {
		pid, err := t.db.partitionOf(muts[i].Key)
		if err != nil {
			return err
		}
		if i == 0 {
			home = pid
		}
		// The run of keys of one partition (usually all of them).
		j := i + 1
		for j < len(muts) {
			if p, err := t.db.partitionOf(muts[j].Key); err != nil || p != pid {
				break
			}
			j++
		}
		if prev := byPartition[pid]; prev != nil {
			byPartition[pid] = append(prev, muts[i:j]...)
		} else {
			byPartition[pid] = muts[i:j:j]
		}
		i = j
	}
	return t.commitWrites(ctx, home, byPartition)
}

// maxPushRounds bounds how often the home partition may push the commit
// timestamp (each push refreshes the other participants' reads).
const maxPushRounds = 5

// commitWrites commits a transaction with writes. The home partition (that
// of the first written key) commits its writes as versions in one durable
// command; when other partitions have writes too, they are prepared first
// (intents, lazily replicated) and the same command writes the COMMITTED
// record — the commit point — so a transaction over two partitions costs
// one prepare and one commit command. When only the home partition has
// writes, this is a one-phase commit, whatever partitions were read.
//
// Timestamps: writes land at the read timestamp unless pushed (see
// kvserver.writeTimestamp); the commit timestamp is the highest any
// participant needs, and every participant whose reads were validated only
// below it refreshes them first (the home partition validates its own in
// the commit command, and, when it must go higher still, answers without
// writing, and the round repeats).
//
// A transaction whose home writes could come near the Raft command size
// limit (large: more than half of it, counting the versions' overhead)
// is committed in two phases even on one partition: every written
// partition, home included, is prepared — intents proposed in as many
// commands as the limit needs (kvserver/chunk.go) — and the commit
// command on home holds the COMMITTED record only; the intents are then
// resolved like any participant's.
func (t *Txn) commitWrites(ctx context.Context, home uint64, byPartition map[uint64][]kvserver.Mutation) error {
	db := t.db
	large := mutationBytes(byPartition[home]) > db.cfg.MaxCommandBytes/2
	others := make([]uint64, 0, len(byPartition))
	for p := range byPartition {
		if p != home || large {
			others = append(others, p)
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i] < others[j] })
	var holder *holderTxn // set while the transaction has intents
	abort := func(err error) error {
		if len(others) > 0 {
			t.abortIntents(others, byPartition)
		}
		return nonAmbiguous(err)
	}

	// validated: per participant other than home, the timestamp up to which
	// its reads are known valid.
	validated := make(map[uint64]hlc.Timestamp, len(t.reads)+len(others))
	for p := range t.reads {
		if p != home || large {
			validated[p] = t.readTS
		}
	}
	commitTS := t.readTS.Forward(t.minCommit)
	if len(others) > 0 {
		db.setCommitting(t.id, true)
		defer db.setCommitting(t.id, false)
		holder = &holderTxn{id: t.id, priority: t.readTS.WallTime}
		prepTS, err := t.prepare(ctx, home, others, byPartition, holder)
		if err != nil {
			return abort(err)
		}
		for i, p := range others {
			validated[p] = prepTS[i]
			commitTS = commitTS.Forward(prepTS[i])
		}
		if hook := db.cfg.Knobs.BeforeCommitRecord; hook != nil {
			if err := hook(t.id); err != nil {
				return err
			}
		}
	}

	req := &kvserver.CommitRequest{TxnID: t.id, ReadTS: t.readTS}
	writeParts := others
	if !large {
		// Home's writes and reads go with the commit (validated there).
		req.Writes = byPartition[home]
		if rs := t.reads[home]; rs != nil {
			req.Reads = rs.asSpans()
		}
		writeParts = append([]uint64{home}, others...)
	}
	if len(others) > 0 {
		req.Record = &mvcc.TxnRecord{Status: mvcc.TxnCommitted, Participants: writeParts, Locks: recordLocks(others, byPartition)}
	}
	for round := 0; ; round++ {
		if !t.deadline.IsEmpty() && !commitTS.Less(t.deadline) {
			return abort(&kvpb.RetryError{Reason: fmt.Sprintf("commit timestamp %s reached the transaction's deadline %s", commitTS, t.deadline)})
		}
		if err := t.refresh(ctx, validated, commitTS, holder); err != nil {
			return abort(err)
		}
		req.MinTS = commitTS
		req.MaxTS = hlc.Timestamp{}
		if len(validated) > 0 {
			// Other participants' reads are valid up to commitTS only: the
			// home partition must not commit above it.
			req.MaxTS = commitTS
		}
		if !t.deadline.IsEmpty() {
			if last := t.deadline.Prev(); req.MaxTS.IsEmpty() || last.Less(req.MaxTS) {
				req.MaxTS = last
			}
		}
		var ts hlc.Timestamp
		err := db.withIntentRetry(ctx, home, holder, func() error {
			var err error
			ts, err = db.sender.Commit1PC(ctx, home, req)
			return err
		})
		if err != nil {
			var amb *kvpb.AmbiguousError
			if errors.As(err, &amb) {
				return err
			}
			return abort(err)
		}
		if req.MaxTS.IsEmpty() || ts.LessEq(req.MaxTS) {
			break // committed at ts
		}
		if round == maxPushRounds {
			return abort(&kvpb.RetryError{Reason: "commit timestamp pushed too often"})
		}
		commitTS = ts
	}
	if len(others) == 0 {
		db.metrics.onePC.Add(1)
		return nil
	}
	// The home partition's writes were committed with the record (unless
	// large: then they are intents like the others').
	rest := make(map[uint64][]kvserver.Mutation, len(others))
	for _, p := range others {
		rest[p] = byPartition[p]
	}
	t.resolveAsync(home, rest, true, commitTS)
	db.metrics.twoPC.Add(1)
	return nil
}

// maxRecordLocks bounds the intent keys a COMMITTED record lists (see
// mvcc.TxnRecord.Locks); a transaction with more leaves them out.
const maxRecordLocks = 4096

// recordLocks lists the keys of the intents in parts, for the record.
func recordLocks(parts []uint64, byPartition map[uint64][]kvserver.Mutation) map[uint64][][]byte {
	n := 0
	for _, p := range parts {
		n += len(byPartition[p])
	}
	if n > maxRecordLocks {
		return nil
	}
	locks := make(map[uint64][][]byte, len(parts))
	for _, p := range parts {
		keys := make([][]byte, len(byPartition[p]))
		for i, m := range byPartition[p] {
			keys[i] = m.Key
		}
		locks[p] = keys
	}
	return locks
}

// prepare lays the transaction's intents on the partitions in parts, in
// parallel, and returns each one's write timestamp.
func (t *Txn) prepare(ctx context.Context, home uint64, parts []uint64, byPartition map[uint64][]kvserver.Mutation, holder *holderTxn) ([]hlc.Timestamp, error) {
	db := t.db
	template := mvcc.Intent{Home: home, CoordNode: db.cfg.NodeID, CoordEpoch: db.cfg.Epoch,
		WriteWall: db.clock.Now().WallTime, Priority: t.readTS.WallTime}
	prepTS := make([]hlc.Timestamp, len(parts))
	errs := make([]error, len(parts))
	one := func(i int) {
		p := parts[i]
		req := &kvserver.CommitRequest{TxnID: t.id, ReadTS: t.readTS, Writes: byPartition[p], Intent: template}
		if rs := t.reads[p]; rs != nil {
			req.Reads = rs.asSpans()
		}
		errs[i] = db.withIntentRetry(ctx, p, holder, func() error {
			var err error
			prepTS[i], err = db.sender.Prepare(ctx, p, req)
			return err
		})
	}
	var wg sync.WaitGroup
	for i := 1; i < len(parts); i++ {
		wg.Go(func() { one(i) })
	}
	one(0) // on this goroutine: one goroutine fewer
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return prepTS, nil
}

// refresh re-validates, in parallel, the reads of every participant in
// validated that is known valid only below to, and records the progress.
func (t *Txn) refresh(ctx context.Context, validated map[uint64]hlc.Timestamp, to hlc.Timestamp, holder *holderTxn) error {
	db := t.db
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for p, from := range validated {
		rs := t.reads[p]
		if !from.Less(to) || rs == nil {
			continue
		}
		wg.Go(func() {
			err := db.withIntentRetry(ctx, p, holder, func() error {
				return db.sender.Refresh(ctx, p, t.id, rs.asSpans(), from, to)
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	for p, from := range validated {
		if from.Less(to) {
			validated[p] = to
		}
	}
	return nil
}

// nonAmbiguous turns errors that happen before the commit point into
// retry errors: nothing was committed, so the outcome is not ambiguous.
func nonAmbiguous(err error) error {
	var amb *kvpb.AmbiguousError
	if errors.As(err, &amb) {
		return &kvpb.RetryError{Reason: "prepare did not complete: " + amb.Cause.Error()}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &kvpb.RetryError{Reason: err.Error()}
	}
	return err
}

// abortIntents removes the transaction's intents on the partitions in
// parts (in the background).
func (t *Txn) abortIntents(parts []uint64, byPartition map[uint64][]kvserver.Mutation) {
	prepared := make(map[uint64][]kvserver.Mutation, len(parts))
	for _, p := range parts {
		prepared[p] = byPartition[p]
	}
	t.resolveAsync(0, prepared, false, hlc.Timestamp{})
}

// resolveAsync hands the transaction's intents to the background
// resolver; when commit and home != 0 the record is deleted afterwards.
func (t *Txn) resolveAsync(home uint64, byPartition map[uint64][]kvserver.Mutation, commit bool, commitTS hlc.Timestamp) {
	job := resolveJob{id: t.id, home: home, commit: commit, commitTS: commitTS, keys: make(map[uint64][][]byte, len(byPartition))}
	for p, muts := range byPartition {
		keys := make([][]byte, len(muts))
		for i, m := range muts {
			keys[i] = m.Key
		}
		job.keys[p] = keys
	}
	t.db.resolver.enqueue(job)
}

// mutationBytes estimates what mutations take in a replicated command as
// versions: keys and values plus the version key suffix and the
// command's per-write framing.
func mutationBytes(muts []kvserver.Mutation) int {
	const perWrite = 64
	n := 0
	for i := range muts {
		n += len(muts[i].Key) + len(muts[i].Value) + perWrite
	}
	return n
}
