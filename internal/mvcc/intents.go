package mvcc

import (
	"bytes"
	"encoding/binary"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// ResolveTxnIntents resolves the intents of transaction id on keys, as
// ResolveIntent does each (removed, and written as versions at commitTS
// when commit); keys without an intent of id are skipped. It reads the
// intents through r and writes to w, and returns how many it resolved. One
// iterator serves every key, so keys in increasing order (a transaction's
// keys) cost one forward walk instead of a point read each; any order is
// correct. It allocates one key buffer and (on commit) one version value
// per intent.
func ResolveTxnIntents(r storage.Reader, w storage.Writer, partitionID uint64, id TxnID, keys [][]byte, commit bool, commitTS hlc.Timestamp) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	lower, upper := userSpan(partitionID, nil, nil)
	if len(keys) == 1 {
		lower = keyPrefix(partitionID, keys[0])
		upper = storage.PrefixEnd(lower)
	}
	it, err := r.NewIter(lower, upper)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	head := append(storage.PartitionPrefix(storage.PrefixData, partitionID), userKeyTag)
	var prefix []byte
	n := 0
	for _, key := range keys {
		prefix = appendEscaped(append(prefix[:0], head...), key)
		if !it.SeekGE(prefix) || !bytes.Equal(it.Key(), prefix) {
			if err := it.Error(); err != nil {
				return n, err
			}
			continue
		}
		owner, deleted, value, err := intentOwner(it.Value())
		if err != nil {
			return n, err
		}
		if owner != id {
			continue
		}
		p := len(prefix)
		kb := make([]byte, p, 2*p+hlc.EncodedLen)
		copy(kb, prefix)
		if err := w.Delete(kb[:p:p]); err != nil {
			return n, err
		}
		if commit {
			if err := w.Set(appendInvertedTS(append(kb[p:], prefix...), commitTS), encodeVersion(value, deleted)); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}

// intentOwner decodes what resolving an intent needs, without copying:
// value aliases b.
func intentOwner(b []byte) (id TxnID, deleted bool, value []byte, err error) {
	if len(b) < 1+TxnIDLen+hlc.EncodedLen || b[0] != intentTag {
		return id, false, nil, ErrBadValue
	}
	copy(id[:], b[1:])
	b = b[1+TxnIDLen+hlc.EncodedLen:]
	for range 3 { // Home, CoordNode, CoordEpoch
		_, n := binary.Uvarint(b)
		if n <= 0 {
			return id, false, nil, ErrBadValue
		}
		b = b[n:]
	}
	if len(b) < 17 {
		return id, false, nil, ErrBadValue
	}
	if b[16] == 1 {
		return id, true, nil, nil
	}
	return id, false, b[17:], nil
}
