package mvcc

import (
	"bytes"
	"fmt"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// EntryKind tells what a decoded engine entry of a partition's data span is.
type EntryKind byte

const (
	// EntryVersion is a committed version (or deletion tombstone) of a key.
	EntryVersion EntryKind = iota + 1
	// EntryIntent is a provisional write of a transaction being committed.
	EntryIntent
	// EntryTxnRecord is a transaction record on its home partition.
	EntryTxnRecord
	// EntryGCThreshold is the partition's GC threshold (in TS).
	EntryGCThreshold
)

func (k EntryKind) String() string {
	switch k {
	case EntryVersion:
		return "version"
	case EntryIntent:
		return "intent"
	case EntryTxnRecord:
		return "record"
	case EntryGCThreshold:
		return "gc-threshold"
	}
	return fmt.Sprintf("EntryKind(%d)", byte(k))
}

// Entry is one engine key/value of a partition's data span, decoded. It is
// meant for inspection (tests, debugging tools), not for the read path.
type Entry struct {
	Kind EntryKind
	// Key is the user key (versions and intents).
	Key []byte
	// TS is the version timestamp (versions) or the GC threshold.
	TS hlc.Timestamp
	// Value and Deleted are the version's contents (versions).
	Value   []byte
	Deleted bool
	// Intent is set for intents.
	Intent *Intent
	// TxnID and Record are set for transaction records.
	TxnID  TxnID
	Record *TxnRecord
}

// DecodeEntry decodes one engine key/value of a partition's data span (as
// laid out by PutVersion, PutIntent and PutTxnRecord). The result does not
// alias key or value.
func DecodeEntry(key, value []byte) (Entry, error) {
	const head = 1 + 8
	if len(key) <= head || key[0] != storage.PrefixData {
		return Entry{}, ErrBadKey
	}
	switch key[head] {
	case gcThresholdTag:
		if len(key) != head+1 {
			return Entry{}, ErrBadKey
		}
		ts, err := hlc.Decode(value)
		if err != nil {
			return Entry{}, fmt.Errorf("%w: gc threshold: %v", ErrBadValue, err)
		}
		return Entry{Kind: EntryGCThreshold, TS: ts}, nil
	case txnRecordTag:
		if len(key) != head+1+TxnIDLen {
			return Entry{}, ErrBadKey
		}
		rec, err := DecodeTxnRecord(value)
		if err != nil {
			return Entry{}, err
		}
		e := Entry{Kind: EntryTxnRecord, Record: rec}
		copy(e.TxnID[:], key[head+1:])
		return e, nil
	case userKeyTag:
		d, err := decodeKey(key)
		if err != nil {
			return Entry{}, err
		}
		if d.intent {
			in, err := decodeIntent(value)
			if err != nil {
				return Entry{}, err
			}
			return Entry{Kind: EntryIntent, Key: d.user, Intent: in}, nil
		}
		v, deleted, err := decodeVersion(value)
		if err != nil {
			return Entry{}, err
		}
		return Entry{Kind: EntryVersion, Key: d.user, TS: d.ts, Value: append([]byte(nil), v...), Deleted: deleted}, nil
	}
	return Entry{}, ErrBadKey
}

// ForEachEntry calls fn with every decoded entry of a partition's data span
// in engine order: the GC threshold; per user key its intent first, then its
// versions newest first; transaction records after all user keys.
func ForEachEntry(r storage.Reader, partitionID uint64, fn func(Entry) error) error {
	lower, upper := storage.DataSpan(partitionID)
	it, err := r.NewIter(lower, upper)
	if err != nil {
		return err
	}
	defer it.Close()
	lease := LeaseKey(partitionID)
	for ok := it.First(); ok; ok = it.Next() {
		if bytes.Equal(it.Key(), lease) {
			continue
		}
		e, err := DecodeEntry(it.Key(), it.Value())
		if err != nil {
			return fmt.Errorf("mvcc: entry %x: %w", it.Key(), err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return it.Error()
}
