package mvcc

import (
	"bytes"

	"github.com/camusdb/camusdb-go/internal/storage"
)

// GetIntents calls fn with the intent on each of keys (nil when none), in
// order. One iterator serves every key, so keys in increasing order (a
// transaction's resolution) cost one forward walk instead of a point read
// each; any order is correct.
func GetIntents(r storage.Reader, partitionID uint64, keys [][]byte, fn func(i int, in *Intent) error) error {
	if len(keys) == 0 {
		return nil
	}
	lower, upper := userSpan(partitionID, nil, nil)
	if len(keys) == 1 {
		lower = keyPrefix(partitionID, keys[0])
		upper = storage.PrefixEnd(lower)
	}
	it, err := r.NewIter(lower, upper)
	if err != nil {
		return err
	}
	defer it.Close()
	head := append(storage.PartitionPrefix(storage.PrefixData, partitionID), userKeyTag)
	var prefix []byte
	for i, key := range keys {
		prefix = appendEscaped(append(prefix[:0], head...), key)
		var in *Intent
		if it.SeekGE(prefix) && bytes.Equal(it.Key(), prefix) {
			if in, err = decodeIntent(it.Value()); err != nil {
				return err
			}
		} else if err := it.Error(); err != nil {
			return err
		}
		if err := fn(i, in); err != nil {
			return err
		}
	}
	return nil
}
