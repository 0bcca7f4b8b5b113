package mvcc

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// KeyValue is one visible user key and value.
type KeyValue struct {
	Key, Value []byte
}

// IntentError reports an intent of another transaction that a read or a
// validation met and cannot decide about by itself.
type IntentError struct {
	Key    []byte // user key
	Intent *Intent
}

func (e *IntentError) Error() string {
	return fmt.Sprintf("mvcc: key %q has an intent of txn %s at %s", e.Key, e.Intent.TxnID, e.Intent.TS)
}

// UncertaintyError reports a committed version of Key above the reader's
// timestamp but within its uncertainty limit: it may have been written
// before the reader started, by a node whose clock is ahead of the
// reader's, so the reader cannot tell whether it must see it. It must read
// again at ExistingTS (or above).
type UncertaintyError struct {
	Key        []byte // user key
	ReadTS     hlc.Timestamp
	ExistingTS hlc.Timestamp
}

func (e *UncertaintyError) Error() string {
	return fmt.Sprintf("mvcc: key %q has a version at %s, within the uncertainty interval of a read at %s", e.Key, e.ExistingTS, e.ReadTS)
}

// ReadOptions qualify a read.
type ReadOptions struct {
	// Own is the reading transaction: its own intents do not block it.
	Own *TxnID
	// Uncertainty is the reader's uncertainty limit: a version or intent
	// with a timestamp in (readTS, Uncertainty] might precede the read in
	// real time (UncertaintyError, IntentError). Zero or at most readTS:
	// no uncertainty.
	Uncertainty hlc.Timestamp
}

// Get returns the newest committed value of key at or below readTS. An
// intent of a transaction other than own with a timestamp at or below
// readTS (or the uncertainty limit) is returned as *IntentError (its
// outcome decides what to read); a version in (readTS, uncertainty limit]
// as *UncertaintyError.
func Get(r storage.Reader, partitionID uint64, key []byte, readTS hlc.Timestamp, opts ReadOptions) (value []byte, found bool, err error) {
	limit := readTS.Forward(opts.Uncertainty)
	prefix, end := keyBounds(partitionID, key)
	cache, _ := r.(cachingReader)
	var stamp storage.CacheStamp
	if cache != nil {
		var cached []byte
		if cached, stamp = cache.CacheLookup(prefix); !stamp.Valid() {
			cache = nil // an engine without a read cache
		} else if cached != nil {
			if nv := decodeNewest(cached); !limit.Less(nv.ts) {
				return nv.read(key, readTS)
			}
			// An older version is needed: read the engine.
		}
	}
	it, err := r.NewIter(prefix, end)
	if err != nil {
		return nil, false, err
	}
	defer it.Close()
	// The iterator is bounded to key's engine keys: the intent (the bare
	// prefix) first, then the versions newest first.
	ok := it.SeekGE(prefix)
	if ok && len(it.Key()) == len(prefix) {
		in, err := decodeIntent(it.Value())
		if err != nil {
			return nil, false, err
		}
		if (opts.Own == nil || in.TxnID != *opts.Own) && in.TS.LessEq(limit) {
			return nil, false, &IntentError{Key: append([]byte(nil), key...), Intent: in}
		}
		ok = it.Next()
		cache = nil // the cache keeps only keys without an intent
	}
	// The newest version is the answer unless it is above the limit (the
	// common case needs no second seek).
	var ts hlc.Timestamp
	if !ok && cache != nil && it.Error() == nil {
		cache.CacheStore(prefix, stamp, appendNewestHead(nil, hlc.Timestamp{}, newestNone), nil)
	}
	if ok {
		if ts, err = versionKeyTS(it.Key(), len(prefix)); err != nil {
			return nil, false, err
		}
		if cache != nil {
			v, deleted, err := decodeVersion(it.Value())
			if err != nil {
				return nil, false, err
			}
			kind := newestValue
			if deleted {
				kind = newestDeleted
			}
			var head [hlc.EncodedLen + 1]byte
			cache.CacheStore(prefix, stamp, appendNewestHead(head[:0], ts, kind), v)
		}
		if limit.Less(ts) {
			if ok = it.SeekGE(appendInvertedTS(prefix, limit)); ok {
				if ts, err = versionKeyTS(it.Key(), len(prefix)); err != nil {
					return nil, false, err
				}
			}
		}
	}
	if !ok {
		return nil, false, it.Error()
	}
	if readTS.Less(ts) {
		return nil, false, &UncertaintyError{Key: append([]byte(nil), key...), ReadTS: readTS, ExistingTS: ts}
	}
	v, deleted, err := decodeVersion(it.Value())
	if err != nil || deleted {
		return nil, false, err
	}
	return append([]byte(nil), v...), true, nil
}

// cachingReader is a Reader with a read cache (storage.Engine with
// Options.CacheGroup = CacheGroup). Get keeps a key's newest version there
// when the key has no intent; snapshots and batches have no cache.
type cachingReader interface {
	CacheLookup(group []byte) ([]byte, storage.CacheStamp)
	CacheStore(group []byte, st storage.CacheStamp, head, value []byte)
}

// The read cache's payload for a key without an intent: a header (the
// newest version's timestamp and what it is) and the value.
const (
	newestValue byte = iota
	newestDeleted
	newestNone // no version at all
)

func appendNewestHead(b []byte, ts hlc.Timestamp, kind byte) []byte {
	return append(ts.AppendEncode(b), kind)
}

type newestVersion struct {
	ts    hlc.Timestamp
	kind  byte
	value []byte // aliases the cache: copy before returning
}

// decodeNewest reads a payload appendNewestHead built (the cache returns
// exactly what it was given, so it is well formed).
func decodeNewest(b []byte) newestVersion {
	ts, _ := hlc.Decode(b)
	return newestVersion{ts: ts, kind: b[hlc.EncodedLen], value: b[hlc.EncodedLen+1:]}
}

// read answers Get from the newest version, once the caller checked that
// it is within the reader's uncertainty limit.
func (nv newestVersion) read(key []byte, readTS hlc.Timestamp) ([]byte, bool, error) {
	if nv.kind == newestNone {
		return nil, false, nil
	}
	if readTS.Less(nv.ts) {
		return nil, false, &UncertaintyError{Key: append([]byte(nil), key...), ReadTS: readTS, ExistingTS: nv.ts}
	}
	if nv.kind == newestDeleted {
		return nil, false, nil
	}
	return append([]byte(nil), nv.value...), true, nil
}

// CacheWriteThrough is the storage.Options.CacheWriteThrough of an MVCC
// engine (with CacheGroup): a committed version newer than the newest the
// cache held for its key becomes the newest. The storage layer calls it
// only for a batch that wrote nothing else of the key (no intent, which
// the cached key did not have either), so the key still has no intent.
func CacheWriteThrough(dst, key []byte, groupLen int, value, cached []byte) ([]byte, bool) {
	ts, err := versionKeyTS(key, groupLen)
	if err != nil || len(cached) < hlc.EncodedLen+1 {
		return dst, false
	}
	if !decodeNewest(cached).ts.Less(ts) {
		return dst, false // an older version (a replay): only dropped
	}
	v, deleted, err := decodeVersion(value)
	if err != nil {
		return dst, false
	}
	kind := newestValue
	if deleted {
		kind = newestDeleted
	}
	return append(appendNewestHead(dst, ts, kind), v...), true
}

// ScanOptions bounds a Scan.
type ScanOptions struct {
	Reverse bool
	// MaxKeys stops after this many visible keys (0 = no limit).
	MaxKeys int
	Own     *TxnID
	// Uncertainty is the reader's uncertainty limit (see ReadOptions).
	Uncertainty hlc.Timestamp
	// ValuesOnly leaves KeyValue.Key nil in a forward scan, for a reader
	// that needs only the values (the resume key is still returned).
	// Local to this process: a remote server returns the keys anyway.
	ValuesOnly bool
	// NonBlocking: the leaseholder's latch for the scan lets writes that
	// land above what it observes proceed while it reads (see kvserver's
	// scanLatch). For advisory scans of read-only transactions (the
	// statistics refresh): a read-write transaction's scan keeps blocking
	// writers to its span, which narrows the window in which they make its
	// commit fail validation.
	NonBlocking bool
}

// Scan returns visible keys of [start, end) at readTS in order (or reverse
// order). When MaxKeys was reached, resume is the key to continue from (the
// next start for a forward scan, the next exclusive end for a reverse scan);
// nil when the span was exhausted. A blocking intent returns *IntentError
// (no partial result).
func Scan(r storage.Reader, partitionID uint64, start, end []byte, readTS hlc.Timestamp, opts ScanOptions) (kvs []KeyValue, resume []byte, err error) {
	lower, upper := userSpan(partitionID, start, end)
	it, err := r.NewIter(lower, upper)
	if err != nil {
		return nil, nil, err
	}
	defer it.Close()
	if opts.Reverse {
		return scanReverse(it, upper, readTS, opts)
	}
	return scanForward(it, readTS, opts)
}

// nextsBeforeSeek is how many older versions of a key a forward scan steps
// over with Next before it seeks past them: most keys have one or two
// versions, and a Next is much cheaper than a seek.
const nextsBeforeSeek = 4

// scanForward is Scan's forward path. It allocates nothing per key: keys
// and values are copied into a few large chunks (scanArena), and the
// iterator's keys are parsed in place (splitKey).
func scanForward(it storage.Iterator, readTS hlc.Timestamp, opts ScanOptions) ([]KeyValue, []byte, error) {
	var (
		kvs []KeyValue
		a   scanArena
	)
	if opts.MaxKeys > 0 {
		kvs = make([]KeyValue, 0, min(opts.MaxKeys, 16384))
	}
	resume, err := walkForward(it, readTS, opts, func(prefix, value []byte) error {
		var user []byte
		if !opts.ValuesOnly {
			var err error
			if user, err = a.unescape(prefix); err != nil {
				return err
			}
		}
		kvs = append(kvs, KeyValue{Key: user, Value: a.copy(value)})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return kvs, resume, nil
}

// ScanValues is a forward Scan that hands the value of each visible key
// to visit, in key order, instead of copying it: value points into the
// engine's iterator and is valid only during the call. A blocking intent
// returns *IntentError with resume set to its key when values before it
// were visited (the caller resumes there after resolving it; nil: nothing
// was visited). Any other error may come after visits.
func ScanValues(r storage.Reader, partitionID uint64, start, end []byte, readTS hlc.Timestamp, opts ScanOptions, visit func(value []byte) error) (resume []byte, err error) {
	lower, upper := userSpan(partitionID, start, end)
	it, err := r.NewIter(lower, upper)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	return walkForward(it, readTS, opts, func(_, value []byte) error { return visit(value) })
}

// walkForward walks the visible keys of a forward scan, calling emit with
// the engine prefix of each (see splitKey) and its value, both valid only
// during the call. When MaxKeys were emitted it returns the key to resume
// from; after an intent met once keys were emitted, that intent's key
// with the *IntentError.
func walkForward(it storage.Iterator, readTS hlc.Timestamp, opts ScanOptions, emit func(prefix, value []byte) error) ([]byte, error) {
	limit := readTS.Forward(opts.Uncertainty)
	// The inverted read timestamp as the suffix's two big-endian words: a
	// version above readTS has a smaller suffix.
	invWall, invLogical := ^uint64(readTS.WallTime), ^uint32(readTS.Logical)
	var (
		emitted int
		prefix  []byte // engine prefix of the current user key (a copy)
		seekKey []byte
	)
	ok := it.First()
	for ok {
		key := it.Key()
		n, err := splitKey(key)
		if err != nil {
			return nil, err
		}
		if opts.MaxKeys > 0 && emitted == opts.MaxKeys {
			return userKeyOf(key[:n])
		}
		prefix = append(prefix[:0], key[:n]...)
		if len(key) == n {
			in, err := decodeIntent(it.Value())
			if err != nil {
				return nil, err
			}
			if (opts.Own == nil || in.TxnID != *opts.Own) && in.TS.LessEq(limit) {
				user, err := userKeyOf(prefix)
				if err != nil {
					return nil, err
				}
				var resume []byte
				if emitted > 0 {
					resume = user
				}
				return resume, &IntentError{Key: user, Intent: in}
			}
			ok = it.Next()
		}
		// Walk this key's versions (newest first) to the first at or below
		// readTS; one in (readTS, limit] is uncertain. The first is the key
		// the prefix was taken from, unless that was the intent.
		found := false
		for first := len(key) != n; ok; first = false {
			if !first {
				key = it.Key()
				if len(key) != len(prefix)+hlc.EncodedLen || !bytes.HasPrefix(key, prefix) {
					break
				}
			}
			// The suffix is the inverted timestamp: a version above readTS
			// sorts before readTS's suffix (compared without decoding it).
			suffix := key[len(prefix):]
			if w := binary.BigEndian.Uint64(suffix); w < invWall || (w == invWall && binary.BigEndian.Uint32(suffix[8:]) < invLogical) {
				if vts := versionTS(suffix); vts.LessEq(limit) {
					user, err := userKeyOf(prefix)
					if err != nil {
						return nil, err
					}
					return nil, &UncertaintyError{Key: user, ReadTS: readTS, ExistingTS: vts}
				}
				ok = it.Next()
				continue
			}
			v, deleted, err := decodeVersion(it.Value())
			if err != nil {
				return nil, err
			}
			if !deleted {
				if err := emit(prefix, v); err != nil {
					return nil, err
				}
				emitted++
			}
			found = true
			break
		}
		if !found {
			continue
		}
		// Skip the older versions of this key: a few Nexts, then a seek.
		skipped := false
		for i := 0; i < nextsBeforeSeek; i++ {
			if ok = it.Next(); !ok || !bytes.HasPrefix(it.Key(), prefix) {
				skipped = true
				break
			}
		}
		if !skipped {
			seekKey = append(seekKey[:0], prefix...)
			seekKey[len(seekKey)-1]++ // the prefix ends in the terminator 0x00 0x01
			ok = it.SeekGE(seekKey)
		}
	}
	return nil, it.Error()
}

// scanArena holds the keys and values a scan returns in a few large
// chunks instead of one allocation each. Each returned slice is capped at
// its own length, so appending to one cannot overwrite its neighbour.
type scanArena struct {
	buf []byte
	// prevEsc and prevUser are the escaped and the user form of the last
	// key unescaped (see unescape).
	prevEsc, prevUser []byte
}

const scanArenaChunk = 32 << 10

func (a *scanArena) alloc(n int) []byte {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(scanArenaChunk, n))
	}
	start := len(a.buf)
	a.buf = a.buf[:start+n]
	return a.buf[start : start+n : start+n]
}

func (a *scanArena) copy(b []byte) []byte {
	dst := a.alloc(len(b))
	copy(dst, b)
	return dst
}

// unescape returns the user key of an engine key prefix (see splitKey).
// Keys come in order and share long prefixes (the table's, the high bytes
// of the primary key): the part in common with the previous key is copied
// from its user key, and only the rest is unescaped.
func (a *scanArena) unescape(prefix []byte) ([]byte, error) {
	const head, overhead = 1 + 8 + 1, 1 + 8 + 1 + 2 // head, head and terminator
	esc := prefix[head : len(prefix)-2]
	dst := a.alloc(len(prefix) - overhead)[:0]
	common := commonPrefixLen(a.prevEsc, esc)
	if common > 0 && esc[common-1] == 0 {
		// Not in the middle of an escaped zero (0x00 0xff). In ascending
		// key order this cannot happen between well-formed keys; the check
		// keeps a malformed key from being read as a different key.
		common--
	}
	if common > 0 {
		// Each escaped zero in the common part is two bytes for one.
		dst = append(dst, a.prevUser[:common-bytes.Count(esc[:common], []byte{0})]...)
	}
	user, ok := appendUnescaped(dst, esc[common:], false)
	if !ok {
		return nil, ErrBadKey
	}
	a.prevEsc = append(a.prevEsc[:0], esc...)
	a.prevUser = user
	return user, nil
}

// commonPrefixLen is the length of the longest common prefix of a and b.
func commonPrefixLen(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i+8 <= n && binary.LittleEndian.Uint64(a[i:]) == binary.LittleEndian.Uint64(b[i:]) {
		i += 8
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

func scanReverse(it storage.Iterator, upper []byte, readTS hlc.Timestamp, opts ScanOptions) ([]KeyValue, []byte, error) {
	var kvs []KeyValue
	limit := readTS.Forward(opts.Uncertainty)
	ok := it.Last()
	for ok {
		d, err := decodeKey(it.Key())
		if err != nil {
			return nil, nil, err
		}
		if opts.MaxKeys > 0 && len(kvs) == opts.MaxKeys {
			// Resume: an exclusive end just above d.user, i.e. d.user itself
			// plus a zero byte would include d.user; the caller continues with
			// end = next key after d.user.
			return kvs, append(append([]byte(nil), d.user...), 0), nil
		}
		prefix := append([]byte(nil), d.prefix...)
		// Intent?
		if it.SeekGE(prefix) && len(it.Key()) == len(prefix) {
			in, err := decodeIntent(it.Value())
			if err != nil {
				return nil, nil, err
			}
			if (opts.Own == nil || in.TxnID != *opts.Own) && in.TS.LessEq(limit) {
				return nil, nil, &IntentError{Key: d.user, Intent: in}
			}
		}
		if limit != readTS && it.SeekGE(appendInvertedTS(prefix, limit)) && bytes.HasPrefix(it.Key(), prefix) {
			vd, err := decodeKey(it.Key())
			if err != nil {
				return nil, nil, err
			}
			if readTS.Less(vd.ts) {
				return nil, nil, &UncertaintyError{Key: d.user, ReadTS: readTS, ExistingTS: vd.ts}
			}
		}
		if it.SeekGE(appendInvertedTS(prefix, readTS)) && bytes.HasPrefix(it.Key(), prefix) {
			v, deleted, err := decodeVersion(it.Value())
			if err != nil {
				return nil, nil, err
			}
			if !deleted {
				kvs = append(kvs, KeyValue{Key: d.user, Value: append([]byte(nil), v...)})
			}
		}
		ok = it.SeekLT(prefix)
	}
	return kvs, nil, it.Error()
}

// CheckNoWrites reports a conflict if any version in the user span
// [start, end) has a timestamp in (after, upTo], or any intent of a
// transaction other than own exists with timestamp <= upTo (returned as
// *IntentError). end == nil means the single key start.
// conflictKey is the first conflicting key (nil = none).
func CheckNoWrites(r storage.Reader, partitionID uint64, start, end []byte, after, upTo hlc.Timestamp, own *TxnID) (conflictKey []byte, err error) {
	var lower, upper []byte
	if end == nil {
		lower = keyPrefix(partitionID, start)
		upper = storage.PrefixEnd(lower)
	} else {
		lower, upper = userSpan(partitionID, start, end)
	}
	it, err := r.NewIter(lower, upper)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	ok := it.First()
	for ok {
		d, err := decodeKey(it.Key())
		if err != nil {
			return nil, err
		}
		if d.intent {
			in, err := decodeIntent(it.Value())
			if err != nil {
				return nil, err
			}
			if (own == nil || in.TxnID != *own) && in.TS.LessEq(upTo) {
				return nil, &IntentError{Key: d.user, Intent: in}
			}
			ok = it.Next()
			continue
		}
		// Versions are newest first: the first one decides for this key.
		if after.Less(d.ts) && d.ts.LessEq(upTo) {
			return d.user, nil
		}
		if !after.Less(d.ts) {
			// Everything else of this key is older: skip to the next key.
			ok = it.SeekGE(storage.PrefixEnd(d.prefix))
			continue
		}
		ok = it.Next()
	}
	return nil, it.Error()
}

// writeCheckCachedKeys is the largest write set WriteCheck looks up in
// the read cache: a transaction that read its keys first writes a few; a
// bulk INSERT writes many keys nobody read, and a lookup that misses costs
// each of them time for nothing (-8% bulk load throughput).
const writeCheckCachedKeys = 16

// WriteCheck reports, for each key about to be written, the intent on it
// (nil if none) and the timestamp of its newest committed version (zero if
// none), calling fn once per key in order. One iterator serves every key.
func WriteCheck(r storage.Reader, partitionID uint64, keys [][]byte, fn func(i int, in *Intent, newest hlc.Timestamp, live bool) error) error {
	if len(keys) == 0 {
		return nil
	}
	cache, _ := r.(cachingReader)
	if len(keys) > writeCheckCachedKeys {
		cache = nil // a load: new keys, which the cache does not hold
	}
	var it storage.Iterator
	defer func() {
		if it != nil {
			_ = it.Close()
		}
	}()
	for i, key := range keys {
		prefix := keyPrefix(partitionID, key)
		if cache != nil {
			// A key the read cache holds has no intent and that newest
			// version (the caller holds the write latches: nothing
			// changes it meanwhile).
			cached, st := cache.CacheLookup(prefix)
			if !st.Valid() {
				cache = nil
			} else if cached != nil {
				nv := decodeNewest(cached)
				if err := fn(i, nil, nv.ts, nv.kind == newestValue); err != nil {
					return err
				}
				continue
			}
		}
		if it == nil { // one iterator serves every key the cache did not
			lower, upper := userSpan(partitionID, nil, nil)
			if len(keys) == 1 {
				lower, upper = prefix, storage.PrefixEnd(prefix)
			}
			var err error
			if it, err = r.NewIter(lower, upper); err != nil {
				return err
			}
		}
		var in *Intent
		var newest hlc.Timestamp
		live := false
		ok := it.SeekGE(prefix)
		if ok && len(it.Key()) == len(prefix) && bytes.Equal(it.Key(), prefix) {
			var err error
			if in, err = decodeIntent(it.Value()); err != nil {
				return err
			}
			ok = it.Next()
		}
		if ok && len(it.Key()) == len(prefix)+hlc.EncodedLen && bytes.HasPrefix(it.Key(), prefix) {
			inv, err := hlc.Decode(it.Key()[len(prefix):])
			if err != nil {
				return err
			}
			newest = hlc.Timestamp{WallTime: ^inv.WallTime, Logical: ^inv.Logical}
			_, deleted, err := decodeVersion(it.Value())
			if err != nil {
				return err
			}
			live = !deleted
		}
		if err := it.Error(); err != nil {
			return err
		}
		if err := fn(i, in, newest, live); err != nil {
			return err
		}
	}
	return nil
}

// GetIntent returns the intent on key, or nil.
func GetIntent(r storage.Reader, partitionID uint64, key []byte) (*Intent, error) {
	v, found, err := r.Get(keyPrefix(partitionID, key))
	if err != nil || !found {
		return nil, err
	}
	return decodeIntent(v)
}

// PutVersion writes a committed version of key at ts.
func PutVersion(w storage.Writer, partitionID uint64, key []byte, ts hlc.Timestamp, value []byte, deleted bool) error {
	return w.Set(VersionKey(partitionID, key, ts), encodeVersion(value, deleted))
}

// PutIntent writes (or replaces) the intent on key.
func PutIntent(w storage.Writer, partitionID uint64, key []byte, in *Intent) error {
	return w.Set(keyPrefix(partitionID, key), encodeIntent(in))
}

// ResolveIntent removes in (the intent currently on key) and, when commit
// is set, writes its value as a committed version at commitTS.
func ResolveIntent(w storage.Writer, partitionID uint64, key []byte, in *Intent, commit bool, commitTS hlc.Timestamp) error {
	if err := w.Delete(keyPrefix(partitionID, key)); err != nil {
		return err
	}
	if commit {
		return PutVersion(w, partitionID, key, commitTS, in.Value, in.Deleted)
	}
	return nil
}

// GetTxnRecord reads a transaction record; nil when absent.
func GetTxnRecord(r storage.Reader, partitionID uint64, id TxnID) (*TxnRecord, error) {
	v, found, err := r.Get(TxnRecordKey(partitionID, id))
	if err != nil || !found {
		return nil, err
	}
	return DecodeTxnRecord(v)
}

// PutTxnRecord writes a transaction record.
func PutTxnRecord(w storage.Writer, partitionID uint64, id TxnID, rec *TxnRecord) error {
	return w.Set(TxnRecordKey(partitionID, id), EncodeTxnRecord(rec))
}

// DeleteTxnRecord removes a record (after all its intents were resolved).
func DeleteTxnRecord(w storage.Writer, partitionID uint64, id TxnID) error {
	return w.Delete(TxnRecordKey(partitionID, id))
}
