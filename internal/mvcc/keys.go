package mvcc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

const (
	userKeyTag   byte = 'k'
	txnRecordTag byte = 'x'
	leaseTag     byte = 'l'
)

// LeaseKey is the partition-local key of the partition's lease record,
// owned by the replica layer (replica/lease); it lives in the data span so
// that snapshots carry it. MVCC iteration (ForEachEntry) skips it.
func LeaseKey(partitionID uint64) []byte {
	return append(storage.PartitionPrefix(storage.PrefixData, partitionID), leaseTag)
}

// ErrBadKey reports an engine key that is not a valid MVCC key.
var ErrBadKey = errors.New("mvcc: malformed key")

// TxnIDLen is the size of a transaction id.
const TxnIDLen = 16

// TxnID identifies a transaction.
type TxnID [TxnIDLen]byte

func (id TxnID) String() string { return fmt.Sprintf("%x", id[:]) }

// keyPrefix returns PrefixData | partitionID | 'k' | esc(key) | 0x00 0x01,
// the intent key of key, with spare capacity for a timestamp.
func keyPrefix(partitionID uint64, key []byte) []byte {
	return appendKeyPrefix(make([]byte, 0, keyPrefixLen(key)+hlc.EncodedLen), partitionID, key)
}

// keyPrefixLen is len(keyPrefix(_, key)).
func keyPrefixLen(key []byte) int {
	// Every zero byte of key escapes to two. (A loop: keys are short,
	// bytes.Count costs more on them.)
	n := 1 + 8 + 1 + len(key) + 2
	for _, c := range key {
		if c == 0 {
			n++
		}
	}
	return n
}

// keyBounds returns keyPrefix(partitionID, key), with spare capacity for
// a timestamp, and its end (storage.PrefixEnd), in one allocation: the
// bounds of a point read's iterator.
func keyBounds(partitionID uint64, key []byte) (prefix, end []byte) {
	n := keyPrefixLen(key)
	buf := make([]byte, 0, 2*n+hlc.EncodedLen)
	prefix = appendKeyPrefix(buf, partitionID, key)[: n : n+hlc.EncodedLen]
	end = append(buf[n+hlc.EncodedLen:n+hlc.EncodedLen], prefix...)
	end[n-1]++ // the prefix ends in 0x01: no carry
	return prefix, end
}

// appendKeyPrefix appends keyPrefix(partitionID, key) to b.
func appendKeyPrefix(b []byte, partitionID uint64, key []byte) []byte {
	b = append(b, storage.PrefixData)
	b = binary.BigEndian.AppendUint64(b, partitionID)
	b = append(b, userKeyTag)
	return appendEscaped(b, key)
}

func appendEscaped(b, key []byte) []byte {
	for {
		i := bytes.IndexByte(key, 0)
		if i < 0 {
			b = append(b, key...)
			break
		}
		b = append(b, key[:i]...)
		b = append(b, 0x00, 0xff)
		key = key[i+1:]
	}
	return append(b, 0x00, 0x01)
}

// CacheGroup is the storage.Options.CacheGroup of an MVCC engine: a user
// key's engine keys (its intent, the bare prefix, and its versions, the
// prefix and a timestamp) form one group, named by the prefix. Other keys
// (transaction records, leases, Raft state) are not cached.
func CacheGroup(engineKey []byte) int {
	const head = 1 + 8 + 1
	if len(engineKey) < head+2 || engineKey[0] != storage.PrefixData || engineKey[head-1] != userKeyTag {
		return 0
	}
	for i := head; i+1 < len(engineKey); {
		j := bytes.IndexByte(engineKey[i:len(engineKey)-1], 0)
		if j < 0 {
			return 0
		}
		i += j
		if engineKey[i+1] == 0x01 {
			return i + 2
		}
		i += 2 // an escaped zero byte
	}
	return 0
}

// IntentKey returns the engine key of key's intent.
func IntentKey(partitionID uint64, key []byte) []byte { return keyPrefix(partitionID, key) }

// VersionKey returns the engine key of key's version at ts.
func VersionKey(partitionID uint64, key []byte, ts hlc.Timestamp) []byte {
	return appendInvertedTS(keyPrefix(partitionID, key), ts)
}

// versionKeyTS returns the timestamp of a version key whose prefix (the
// escaped user key and its terminator) is prefixLen bytes long, checking
// the suffix's length.
func versionKeyTS(engineKey []byte, prefixLen int) (hlc.Timestamp, error) {
	suffix := engineKey[prefixLen:]
	if len(suffix) != hlc.EncodedLen {
		return hlc.Timestamp{}, ErrBadKey
	}
	return versionTS(suffix), nil
}

func appendInvertedTS(b []byte, ts hlc.Timestamp) []byte {
	inv := hlc.Timestamp{WallTime: ^ts.WallTime, Logical: ^ts.Logical}
	return inv.AppendEncode(b)
}

// userSpan returns the engine span covering user keys [start, end).
// A nil end means "to the end of the partition's user keys".
func userSpan(partitionID uint64, start, end []byte) (lower, upper []byte) {
	lower = keyPrefix(partitionID, start)
	if end == nil {
		upper = storage.PartitionPrefix(storage.PrefixData, partitionID)
		upper = append(upper, userKeyTag+1)
	} else {
		upper = keyPrefix(partitionID, end)
	}
	return lower, upper
}

// ClearSpan deletes, through w, every engine key of the user keys in
// [start, end) of a partition (their intents and all their versions) with
// one range deletion: what no reader may see any more, such as a dropped
// table's keys once no transaction can read below the drop.
func ClearSpan(w storage.Writer, partitionID uint64, start, end []byte) error {
	lower, upper := userSpan(partitionID, start, end)
	return w.DeleteRange(lower, upper)
}

// decodedKey is a parsed MVCC engine key.
type decodedKey struct {
	user   []byte // unescaped user key (a fresh slice)
	prefix []byte // the engine key prefix up to and including the terminator (aliases input)
	ts     hlc.Timestamp
	intent bool
}

// decodeKey parses an engine key of the 'k' space of partition partitionID.
func decodeKey(engineKey []byte) (decodedKey, error) {
	const head = 1 + 8 + 1
	if len(engineKey) < head+2 || engineKey[head-1] != userKeyTag {
		return decodedKey{}, ErrBadKey
	}
	rest := engineKey[head:]
	user := make([]byte, 0, len(rest))
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c != 0 {
			user = append(user, c)
			continue
		}
		if i+1 >= len(rest) {
			return decodedKey{}, ErrBadKey
		}
		switch rest[i+1] {
		case 0xff:
			user = append(user, 0)
			i++
		case 0x01:
			end := head + i + 2
			suffix := engineKey[end:]
			d := decodedKey{user: user, prefix: engineKey[:end]}
			switch len(suffix) {
			case 0:
				d.intent = true
			case hlc.EncodedLen:
				inv, _ := hlc.Decode(suffix)
				d.ts = hlc.Timestamp{WallTime: ^inv.WallTime, Logical: ^inv.Logical}
			default:
				return decodedKey{}, ErrBadKey
			}
			return d, nil
		default:
			return decodedKey{}, ErrBadKey
		}
	}
	return decodedKey{}, ErrBadKey
}

// splitKey returns the length of an engine key's prefix (up to and
// including the terminator 0x00 0x01); what follows is empty (an intent)
// or a timestamp. Unlike decodeKey it allocates nothing and does not look
// at the escaped user key itself: appendUnescaped checks that. The
// terminator is found from the end: 0x00 0x01 never occurs inside an
// escaped key (a zero byte there is followed by 0xff), so a key with a
// terminator 12 bytes before its end is a version, one ending in it an
// intent.
func splitKey(engineKey []byte) (int, error) {
	const head = 1 + 8 + 1
	l := len(engineKey)
	if l < head+2 || engineKey[head-1] != userKeyTag {
		return 0, ErrBadKey
	}
	if n := l - hlc.EncodedLen; n >= head+2 && engineKey[n-2] == 0 && engineKey[n-1] == 1 {
		return n, nil
	}
	if engineKey[l-2] == 0 && engineKey[l-1] == 1 {
		return l, nil
	}
	return 0, ErrBadKey
}

// appendUnescaped appends the user key of an engine key prefix (see
// splitKey), or with whole=false of an escaped key alone; ok=false when
// the escaping is malformed.
func appendUnescaped(dst, prefix []byte, whole bool) (_ []byte, ok bool) {
	esc := prefix
	if whole {
		const head = 1 + 8 + 1
		esc = prefix[head : len(prefix)-2]
	}
	for i := 0; i < len(esc); i++ {
		c := esc[i]
		dst = append(dst, c)
		if c == 0 {
			if i+1 >= len(esc) || esc[i+1] != 0xff {
				return dst, false
			}
			i++ // 0x00 0xff stands for 0x00
		}
	}
	return dst, true
}

// userKeyOf returns a fresh copy of the user key of an engine key prefix.
func userKeyOf(prefix []byte) ([]byte, error) {
	user, ok := appendUnescaped(nil, prefix, true)
	if !ok {
		return nil, ErrBadKey
	}
	return user, nil
}

// versionTS decodes the inverted timestamp suffix of a version key.
func versionTS(suffix []byte) hlc.Timestamp {
	inv, _ := hlc.Decode(suffix)
	return hlc.Timestamp{WallTime: ^inv.WallTime, Logical: ^inv.Logical}
}

// TxnRecordKey returns the engine key of a transaction record on its home
// partition.
func TxnRecordKey(partitionID uint64, id TxnID) []byte {
	b := storage.PartitionPrefix(storage.PrefixData, partitionID)
	b = append(b, txnRecordTag)
	return append(b, id[:]...)
}
