package mvcc

import (
	"bytes"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

const gcThresholdTag byte = 'g'

// GCThresholdKey is the engine key of a partition's GC threshold: reads
// below it are refused, because versions they would need may be gone.
func GCThresholdKey(partitionID uint64) []byte {
	return append(storage.PartitionPrefix(storage.PrefixData, partitionID), gcThresholdTag)
}

// GetGCThreshold reads a partition's GC threshold (zero when never set).
func GetGCThreshold(r storage.Reader, partitionID uint64) (hlc.Timestamp, error) {
	v, found, err := r.Get(GCThresholdKey(partitionID))
	if err != nil || !found {
		return hlc.Timestamp{}, err
	}
	return hlc.Decode(v)
}

// PutGCThreshold writes a partition's GC threshold.
func PutGCThreshold(w storage.Writer, partitionID uint64, ts hlc.Timestamp) error {
	return w.Set(GCThresholdKey(partitionID), ts.AppendEncode(nil))
}

// CollectAbortedRecords deletes, through w, the partition's ABORTED
// transaction records whose transaction started before threshold (see
// TxnRecord.StartWall): such a transaction can no longer commit, because a
// commit below the GC threshold is refused. It returns how many it deleted.
func CollectAbortedRecords(r storage.Reader, w storage.Writer, partitionID uint64, threshold hlc.Timestamp) (int, error) {
	lower := append(storage.PartitionPrefix(storage.PrefixData, partitionID), txnRecordTag)
	it, err := r.NewIter(lower, storage.PrefixEnd(lower))
	if err != nil {
		return 0, err
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		rec, err := DecodeTxnRecord(it.Value())
		if err != nil {
			return n, err
		}
		if rec.Status == TxnAborted && rec.StartWall < threshold.WallTime {
			if err := w.Delete(append([]byte(nil), it.Key()...)); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, it.Error()
}

// CollectGarbage finds versions no reader at or above threshold can see:
// for each key, every version older than the newest version at or below
// threshold, and that newest version too when it is a deletion tombstone.
// It scans from the engine key `from` (nil = the partition's first key),
// deletes through w at most max versions, and returns where to continue
// (nil when the partition was scanned to its end).
func CollectGarbage(r storage.Reader, w storage.Writer, partitionID uint64, threshold hlc.Timestamp, from []byte, max int) (deleted int, resume []byte, err error) {
	lower, upper := userSpan(partitionID, nil, nil)
	if from != nil {
		lower = from
	}
	it, err := r.NewIter(lower, upper)
	if err != nil {
		return 0, nil, err
	}
	defer it.Close()
	var prefix []byte // the key whose versions are being walked
	shadowed := false // a version <= threshold of prefix was seen already
	for ok := it.First(); ok; ok = it.Next() {
		d, err := decodeKey(it.Key())
		if err != nil {
			return deleted, nil, err
		}
		if d.intent {
			continue
		}
		if !bytes.Equal(d.prefix, prefix) {
			if deleted >= max {
				return deleted, append([]byte(nil), it.Key()...), nil
			}
			prefix = append(prefix[:0], d.prefix...)
			shadowed = false
		}
		if threshold.Less(d.ts) {
			continue
		}
		if shadowed {
			if err := w.Delete(append([]byte(nil), it.Key()...)); err != nil {
				return deleted, nil, err
			}
			deleted++
			continue
		}
		shadowed = true
		if _, tomb, err := decodeVersion(it.Value()); err != nil {
			return deleted, nil, err
		} else if tomb {
			if err := w.Delete(append([]byte(nil), it.Key()...)); err != nil {
				return deleted, nil, err
			}
			deleted++
		}
	}
	return deleted, nil, it.Error()
}

// RecordEntry is a transaction record and its id.
type RecordEntry struct {
	ID     TxnID
	Record *TxnRecord
}

// StaleCommittedRecords lists up to max of the partition's COMMITTED
// records that list their intents (TxnRecord.Locks) and committed before
// the wall time before: records whose coordinator should long have
// resolved the intents and deleted them, and evidently did not (it died,
// or its resolution failed).
func StaleCommittedRecords(r storage.Reader, partitionID uint64, before int64, max int) ([]RecordEntry, error) {
	lower := append(storage.PartitionPrefix(storage.PrefixData, partitionID), txnRecordTag)
	it, err := r.NewIter(lower, storage.PrefixEnd(lower))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []RecordEntry
	for ok := it.First(); ok && len(out) < max; ok = it.Next() {
		rec, err := DecodeTxnRecord(it.Value())
		if err != nil {
			return out, err
		}
		k := it.Key()
		if rec.Status != TxnCommitted || rec.Locks == nil || rec.CommitTS.WallTime >= before || len(k) != len(lower)+TxnIDLen {
			continue
		}
		var id TxnID
		copy(id[:], k[len(lower):])
		out = append(out, RecordEntry{ID: id, Record: rec})
	}
	return out, it.Error()
}
