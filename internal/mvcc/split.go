package mvcc

import (
	"bytes"
	"encoding/binary"

	"github.com/camusdb/camusdb-go/internal/storage"
)

// SplitSpan returns up to n-1 increasing user keys strictly inside
// (start, end) that cut the span into n pieces of about equal key range:
// the first and last keys stored in the span are found with two seeks, and
// the cuts interpolate between them on their first bytes after the part
// they share. It reads no values and looks at no versions or intents: the
// keys are a hint for splitting a scan (any keys are correct, these aim
// at pieces of similar size when keys are spread evenly, as integer or
// sequential keys are). Fewer keys (none) come back when the span holds
// too few distinct keys to cut.
func SplitSpan(r storage.Reader, partitionID uint64, start, end []byte, n int) ([][]byte, error) {
	if n < 2 {
		return nil, nil
	}
	lower, upper := userSpan(partitionID, start, end)
	it, err := r.NewIter(lower, upper)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	if !it.First() {
		return nil, it.Error()
	}
	first, err := splitUserKey(it.Key())
	if err != nil {
		return nil, err
	}
	if !it.Last() {
		return nil, it.Error()
	}
	last, err := splitUserKey(it.Key())
	if err != nil {
		return nil, err
	}
	if bytes.Compare(first, last) >= 0 {
		return nil, nil
	}
	common := commonPrefixLen(first, last)
	lo, hi := uint64Of(first[common:]), uint64Of(last[common:])
	if hi-lo < uint64(n) {
		return nil, nil
	}
	step := (hi - lo) / uint64(n)
	cuts := make([][]byte, 0, n-1)
	for i := 1; i < n; i++ {
		cut := append(append(make([]byte, 0, common+8), first[:common]...), 0, 0, 0, 0, 0, 0, 0, 0)
		binary.BigEndian.PutUint64(cut[common:], lo+step*uint64(i))
		if bytes.Compare(cut, first) <= 0 || bytes.Compare(cut, last) > 0 ||
			(len(cuts) > 0 && bytes.Compare(cut, cuts[len(cuts)-1]) <= 0) {
			continue
		}
		cuts = append(cuts, cut)
	}
	return cuts, nil
}

// splitUserKey is the user key of any engine key of the 'k' space.
func splitUserKey(engineKey []byte) ([]byte, error) {
	n, err := splitKey(engineKey)
	if err != nil {
		return nil, err
	}
	return userKeyOf(engineKey[:n])
}

// uint64Of reads the first 8 bytes of b as a big-endian number, b padded
// with zeros.
func uint64Of(b []byte) uint64 {
	var buf [8]byte
	copy(buf[:], b)
	return binary.BigEndian.Uint64(buf[:])
}
