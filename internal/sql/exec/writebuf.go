package exec

import (
	"context"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
)

// WriteBuffer collects one statement's writes on top of a transaction, so
// a failing statement leaves no trace in the transaction (the kv Txn has no
// savepoints). Get sees the buffered writes; Scan does not (it reads the
// transaction as of the statement's start, which is also what keeps
// INSERT ... SELECT from reading its own rows). Flush applies the writes to
// the transaction in order.
type WriteBuffer struct {
	txn catalog.Txn
	// writes holds the latest write of each key, in the order the keys
	// were first written; index finds a key's entry.
	writes []bufferedWrite
	index  map[string]int
	// deferChecks: the statement's transaction commits right after it and
	// can check a key's absence at commit (absentPutter): an INSERT then
	// writes its primary key with PutIfAbsent instead of reading it first.
	deferChecks bool
	// absentMessage is the error of a failed PutIfAbsent.
	absentMessage string
	// bytes is the size of writes as the transaction's write bound counts
	// it (kvpb.WriteCost); left and limit are that bound's
	// room and size when the buffer was last empty (catalog.WriteBudgeter;
	// limit 0: none). The buffer holds a statement's writes in memory
	// before the transaction holds them again: it checks the bound as it
	// grows rather than at Flush.
	bytes, left, limit int64
}

type bufferedWrite struct {
	key     string
	value   []byte
	deleted bool
	// absent: PutIfAbsent.
	absent bool
}

// absentPutter is a transaction that can make a write conditional on its
// key being absent at commit (kv.Txn.PutIfAbsent).
type absentPutter interface {
	PutIfAbsent(key, value []byte, message string) error
}

// deferAbsenceChecks lets the statement defer primary-key absence checks
// to the commit when the transaction supports it; autocommit says that the
// transaction commits right after this statement, so that an error there
// is still this statement's.
func (b *WriteBuffer) deferAbsenceChecks(autocommit bool) {
	ok := false
	if c, wraps := b.txn.(interface{ CanPutIfAbsent() bool }); wraps {
		ok = c.CanPutIfAbsent() // a wrapper: it depends on what it wraps
	} else {
		_, ok = b.txn.(absentPutter)
	}
	b.deferChecks = autocommit && ok
}

// PutIfAbsent buffers a write that commits only if the key has no live
// version then (see deferAbsenceChecks); message is the error otherwise.
func (b *WriteBuffer) PutIfAbsent(key, value []byte, message string) error {
	b.absentMessage = message
	return b.record(key, bufferedWrite{value: append([]byte{}, value...), absent: true})
}

var _ catalog.KV = (*WriteBuffer)(nil)

// NewWriteBuffer returns an empty buffer over txn.
func NewWriteBuffer(txn catalog.Txn) *WriteBuffer {
	b := &WriteBuffer{txn: txn, index: map[string]int{}}
	b.readBudget()
	return b
}

// readBudget takes the transaction's write bound as it is now.
func (b *WriteBuffer) readBudget() {
	b.bytes = 0
	if wb, ok := b.txn.(catalog.WriteBudgeter); ok {
		b.left, b.limit = wb.WriteBytesLeft()
	}
}

// Get reads key, seeing the buffered writes first.
func (b *WriteBuffer) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	if i, ok := b.index[string(key)]; ok {
		w := &b.writes[i]
		if w.deleted {
			return nil, false, nil
		}
		return w.value, true, nil
	}
	return b.txn.Get(ctx, key)
}

// buffered reports whether key was written by this statement (known) and,
// if so, whether it exists after that write.
func (b *WriteBuffer) buffered(key string) (exists, known bool) {
	i, ok := b.index[key]
	return ok && !b.writes[i].deleted, ok
}

// Scan reads the transaction without the buffered writes.
func (b *WriteBuffer) Scan(ctx context.Context, start, end []byte, reverse bool) catalog.Iterator {
	return b.txn.Scan(ctx, start, end, reverse)
}

// ScanValuesParallel reads the transaction without the buffered writes,
// as Scan does, when the transaction can (catalog.ParallelScanner).
func (b *WriteBuffer) ScanValuesParallel(ctx context.Context, start, end []byte, opts catalog.ParallelScan, visit func(piece int, value []byte) error) (bool, error) {
	if ps, ok := b.txn.(catalog.ParallelScanner); ok {
		return ps.ScanValuesParallel(ctx, start, end, opts, visit)
	}
	return false, nil
}

// Put buffers a write. key and value are copied.
func (b *WriteBuffer) Put(key, value []byte) error {
	return b.record(key, bufferedWrite{value: append([]byte{}, value...)})
}

// Delete buffers a delete.
func (b *WriteBuffer) Delete(key []byte) error {
	return b.record(key, bufferedWrite{deleted: true})
}

// record buffers w, or fails with *kvpb.TxnTooLargeError (buffering
// nothing) when the statement's writes would not fit the transaction's
// write bound.
func (b *WriteBuffer) record(key []byte, w bufferedWrite) error {
	i, ok := b.index[string(key)]
	grow := kvpb.WriteCost(len(key), len(w.value))
	if ok {
		grow = kvpb.WriteCopies * int64(len(w.value)-len(b.writes[i].value))
	}
	if b.limit > 0 && grow > 0 && b.bytes+grow > b.left {
		return &kvpb.TxnTooLargeError{Limit: b.limit}
	}
	b.bytes += grow
	if ok {
		w.key = b.writes[i].key
		w.absent = w.absent || b.writes[i].absent // the condition stays
		b.writes[i] = w
		return nil
	}
	w.key = string(key)
	b.index[w.key] = len(b.writes)
	b.writes = append(b.writes, w)
	return nil
}

// Len is the number of distinct keys written.
func (b *WriteBuffer) Len() int { return len(b.writes) }

// Flush applies the buffered writes to the transaction and empties the
// buffer. An error leaves the transaction with part of the writes: the
// caller must abort it.
func (b *WriteBuffer) Flush() error {
	// The buffer owns its keys and values (Put copied them): a transaction
	// that can take them as they are spares a copy of each.
	owned, _ := b.txn.(interface {
		PutOwned(key string, value []byte) error
	})
	if r, ok := b.txn.(interface{ ReserveWrites(n int) }); ok {
		r.ReserveWrites(len(b.writes))
	}
	for i := range b.writes {
		w := &b.writes[i]
		var err error
		if w.absent {
			// The condition first; a delete after it keeps it (kv.Txn).
			if err := b.txn.(absentPutter).PutIfAbsent([]byte(w.key), w.value, b.absentMessage); err != nil || !w.deleted {
				if err != nil {
					return err
				}
				continue
			}
		}
		switch {
		case w.deleted:
			err = b.txn.Delete([]byte(w.key))
		case owned != nil:
			err = owned.PutOwned(w.key, w.value)
		default:
			err = b.txn.Put([]byte(w.key), w.value)
		}
		if err != nil {
			return err
		}
	}
	b.writes, b.index = nil, map[string]int{}
	b.readBudget()
	return nil
}
