package raftlog

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// ErrCompacted is returned for an index below the first index of the log
// (the entry was truncated; only its term at FirstIndex-1 is kept).
var ErrCompacted = errors.New("raftlog: entry compacted")

// ErrUnavailable is returned for an index past the last index of the log.
var ErrUnavailable = errors.New("raftlog: entry unavailable")

// Options tunes a Log. Zero values take defaults.
type Options struct {
	// CacheEntries bounds the number of recent entries kept in memory
	// (default 4096).
	CacheEntries int
	// CacheBytes bounds the encoded size of the cached entries (default 16 MiB).
	CacheBytes uint64
}

func (o Options) withDefaults() Options {
	if o.CacheEntries <= 0 {
		o.CacheEntries = 4096
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 16 << 20
	}
	return o
}

// Log is the in-memory view of one partition's persisted Raft state. See
// the package comment for the staging contract. Not safe for concurrent use.
type Log struct {
	reader      storage.Reader
	partitionID uint64
	opts        Options

	hardState *raftpb.HardState
	confState *raftpb.ConfState
	truncated TruncatedState
	// lastIndex is the index of the last entry; truncated.Index when empty.
	lastIndex uint64
	// sizes[i] is the encoded size of entry truncated.Index+1+i.
	sizes []uint32
	bytes uint64

	// cache holds entries [lastIndex+1-len(cache), lastIndex]: always a
	// suffix of the log.
	cache      []*raftpb.Entry
	cacheBytes uint64
}

// Open loads the Raft state of a bootstrapped partition from r (normally the
// engine itself; reads of entries that fell out of the cache go to r later).
func Open(r storage.Reader, partitionID uint64, opts Options) (*Log, error) {
	l := &Log{reader: r, partitionID: partitionID, opts: opts.withDefaults()}
	csData, found, err := r.Get(ConfStateKey(partitionID))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("raftlog: partition %d is not bootstrapped", partitionID)
	}
	l.confState = &raftpb.ConfState{}
	if err := proto.Unmarshal(csData, l.confState); err != nil {
		return nil, &kvpb.CorruptionError{What: fmt.Sprintf("partition %d conf state: %v", partitionID, err)}
	}
	l.hardState = &raftpb.HardState{}
	if hsData, found, err := r.Get(HardStateKey(partitionID)); err != nil {
		return nil, err
	} else if found {
		if l.hardState, err = decodeHardState(hsData); err != nil {
			return nil, err
		}
	}
	if l.truncated, err = readIndexTerm(r, TruncatedStateKey(partitionID), "truncated state"); err != nil {
		return nil, err
	}
	if err := l.loadEntries(); err != nil {
		return nil, err
	}
	return l, nil
}

// loadEntries scans the log once: it checks there are no gaps, records the
// per-entry sizes, and fills the cache with the newest entries.
func (l *Log) loadEntries() error {
	start, end := logSpan(l.partitionID)
	it, err := l.reader.NewIter(start, end)
	if err != nil {
		return err
	}
	defer it.Close()
	l.lastIndex = l.truncated.Index
	for ok := it.First(); ok; ok = it.Next() {
		index, err := decodeEntryIndex(it.Key())
		if err != nil {
			return err
		}
		if index != l.lastIndex+1 {
			return &kvpb.CorruptionError{What: fmt.Sprintf(
				"partition %d raft log: entry %d follows %d (truncated at %d)",
				l.partitionID, index, l.lastIndex, l.truncated.Index)}
		}
		l.lastIndex = index
		l.sizes = append(l.sizes, uint32(len(it.Value())))
		l.bytes += uint64(len(it.Value()))
	}
	if err := it.Error(); err != nil {
		return err
	}
	// Warm the cache with the tail of the log: after a restart these are
	// the entries raft re-applies and replicates first.
	n := min(uint64(l.opts.CacheEntries), l.lastIndex-l.truncated.Index)
	if n == 0 {
		return nil
	}
	ents, err := l.readEntries(l.lastIndex-n+1, l.lastIndex+1)
	if err != nil {
		return err
	}
	l.lastIndex -= n
	l.appendToCache(ents)
	return nil
}

// PartitionID returns the partition this log belongs to.
func (l *Log) PartitionID() uint64 { return l.partitionID }

// HardState returns a copy of the persisted hard state (empty if none).
func (l *Log) HardState() *raftpb.HardState { return proto.CloneOf(l.hardState) }

// ConfState returns a copy of the conf state.
func (l *Log) ConfState() *raftpb.ConfState { return proto.CloneOf(l.confState) }

// Truncated returns the index and term of the last truncated entry.
func (l *Log) Truncated() TruncatedState { return l.truncated }

// FirstIndex is the index of the first entry in the log (LastIndex+1 when
// the log is empty).
func (l *Log) FirstIndex() uint64 { return l.truncated.Index + 1 }

// LastIndex is the index of the last entry (FirstIndex-1 when empty).
func (l *Log) LastIndex() uint64 { return l.lastIndex }

// Len is the number of entries in the log.
func (l *Log) Len() uint64 { return l.lastIndex - l.truncated.Index }

// Bytes is the encoded size of the entries in the log.
func (l *Log) Bytes() uint64 { return l.bytes }

func (l *Log) cacheFirst() uint64 { return l.lastIndex + 1 - uint64(len(l.cache)) }

// Term returns the term of entry index, which must be in
// [FirstIndex-1, LastIndex].
func (l *Log) Term(index uint64) (uint64, error) {
	switch {
	case index == l.truncated.Index:
		return l.truncated.Term, nil
	case index < l.truncated.Index:
		return 0, ErrCompacted
	case index > l.lastIndex:
		return 0, ErrUnavailable
	}
	if first := l.cacheFirst(); index >= first {
		return l.cache[index-first].GetTerm(), nil
	}
	v, found, err := l.reader.Get(EntryKey(l.partitionID, index))
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, &kvpb.CorruptionError{What: fmt.Sprintf("partition %d raft entry %d missing", l.partitionID, index)}
	}
	term, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, &kvpb.CorruptionError{What: fmt.Sprintf("partition %d raft entry %d", l.partitionID, index)}
	}
	return term, nil
}

// Entries returns the entries [lo, hi), at most maxSize encoded bytes but
// at least one entry. The slice is freshly allocated; the entries are shared
// and must not be mutated.
func (l *Log) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	if lo <= l.truncated.Index {
		return nil, ErrCompacted
	}
	if hi > l.lastIndex+1 {
		return nil, ErrUnavailable
	}
	if lo >= hi {
		return nil, nil
	}
	// Apply the size limit first so that we never read more than we return.
	var size uint64
	limit := lo
	for limit < hi {
		s := uint64(l.sizes[limit-l.FirstIndex()])
		if limit > lo && size+s > maxSize {
			break
		}
		size += s
		limit++
	}
	hi = limit
	out := make([]*raftpb.Entry, 0, hi-lo)
	if first := l.cacheFirst(); lo < first {
		ents, err := l.readEntries(lo, min(hi, first))
		if err != nil {
			return nil, err
		}
		out = append(out, ents...)
		lo = min(hi, first)
	}
	if lo < hi {
		first := l.cacheFirst()
		out = append(out, l.cache[lo-first:hi-first]...)
	}
	return out, nil
}

// readEntries reads [lo, hi) from the engine; all must exist.
func (l *Log) readEntries(lo, hi uint64) ([]*raftpb.Entry, error) {
	it, err := l.reader.NewIter(EntryKey(l.partitionID, lo), EntryKey(l.partitionID, hi))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := make([]*raftpb.Entry, 0, hi-lo)
	next := lo
	for ok := it.First(); ok; ok = it.Next() {
		index, err := decodeEntryIndex(it.Key())
		if err != nil {
			return nil, err
		}
		if index != next {
			break
		}
		e, err := decodeEntry(index, it.Value())
		if err != nil {
			return nil, fmt.Errorf("partition %d: %w", l.partitionID, err)
		}
		out = append(out, e)
		next++
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	if next != hi {
		return nil, &kvpb.CorruptionError{What: fmt.Sprintf("partition %d raft log: entry %d missing", l.partitionID, next)}
	}
	return out, nil
}

// Append stages ents (consecutive, starting at most at LastIndex+1 and not
// below FirstIndex) and deletes any existing entries after the last of them:
// raft overwrites a conflicting tail of the log this way.
func (l *Log) Append(w storage.Writer, ents []*raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	first := ents[0].GetIndex()
	if first <= l.truncated.Index || first > l.lastIndex+1 {
		return fmt.Errorf("raftlog: partition %d: append at %d outside [%d, %d]",
			l.partitionID, first, l.FirstIndex(), l.lastIndex+1)
	}
	newSizes := make([]uint32, len(ents))
	var buf []byte
	for i, e := range ents {
		if e.GetIndex() != first+uint64(i) {
			return fmt.Errorf("raftlog: partition %d: append of non-consecutive entries", l.partitionID)
		}
		buf = appendEntryValue(buf[:0], e)
		if err := w.Set(EntryKey(l.partitionID, e.GetIndex()), buf); err != nil {
			return err
		}
		newSizes[i] = uint32(len(buf))
	}
	newLast := first + uint64(len(ents)) - 1
	if newLast < l.lastIndex {
		err := w.DeleteRange(EntryKey(l.partitionID, newLast+1), EntryKey(l.partitionID, l.lastIndex+1))
		if err != nil {
			return err
		}
	}
	// In-memory view. Drop the cached entries that are overwritten first,
	// while their sizes are still known.
	cacheFirst := l.cacheFirst()
	cut := max(first, cacheFirst) - cacheFirst
	for i := cut; i < uint64(len(l.cache)); i++ {
		l.cacheBytes -= uint64(l.sizeOf(cacheFirst + i))
	}
	clear(l.cache[cut:])
	l.cache = l.cache[:cut]
	keep := first - l.FirstIndex()
	for _, s := range l.sizes[keep:] {
		l.bytes -= uint64(s)
	}
	l.sizes = append(l.sizes[:keep], newSizes...)
	for _, s := range newSizes {
		l.bytes += uint64(s)
	}
	l.lastIndex = first - 1
	l.appendToCache(ents)
	return nil
}

func (l *Log) sizeOf(index uint64) uint32 { return l.sizes[index-l.FirstIndex()] }

// appendToCache appends entries that directly follow lastIndex to the cache
// (and advances lastIndex; their sizes must already be recorded), then trims
// the cache to its bounds.
func (l *Log) appendToCache(ents []*raftpb.Entry) {
	if ents[0].GetIndex() != l.lastIndex+1 {
		panic("raftlog: cache append is not contiguous") // broken invariant
	}
	l.cache = append(l.cache, ents...)
	l.lastIndex = ents[len(ents)-1].GetIndex()
	for _, e := range ents {
		l.cacheBytes += uint64(l.sizeOf(e.GetIndex()))
	}
	l.trimCache()
}

// trimCache drops the oldest cached entries while the cache exceeds its
// bounds (it always keeps the newest entry).
func (l *Log) trimCache() {
	first := l.cacheFirst()
	drop := 0
	for len(l.cache)-drop > 1 &&
		(len(l.cache)-drop > l.opts.CacheEntries || l.cacheBytes > l.opts.CacheBytes) {
		l.cacheBytes -= uint64(l.sizeOf(first + uint64(drop)))
		drop++
	}
	if drop > 0 {
		clear(l.cache[:drop])
		l.cache = l.cache[drop:]
	}
}

// SetHardState stages the hard state.
func (l *Log) SetHardState(w storage.Writer, hs *raftpb.HardState) error {
	if err := w.Set(HardStateKey(l.partitionID), encodeHardState(hs)); err != nil {
		return err
	}
	l.hardState = &raftpb.HardState{Term: new(hs.GetTerm()), Vote: new(hs.GetVote()), Commit: new(hs.GetCommit())}
	return nil
}

// TruncatePrefix stages the removal of every entry up to and including
// index, which must be in [FirstIndex-1, LastIndex]. The caller guarantees
// that the state those entries produced is durable no later than this
// truncation (see package replica's OVERVIEW.md).
func (l *Log) TruncatePrefix(w storage.Writer, index uint64) error {
	if index == l.truncated.Index {
		return nil
	}
	if index < l.truncated.Index || index > l.lastIndex {
		return fmt.Errorf("raftlog: partition %d: truncate to %d outside [%d, %d]",
			l.partitionID, index, l.truncated.Index, l.lastIndex)
	}
	term, err := l.Term(index)
	if err != nil {
		return err
	}
	err = w.DeleteRange(EntryKey(l.partitionID, l.FirstIndex()), EntryKey(l.partitionID, index+1))
	if err != nil {
		return err
	}
	next := TruncatedState{Index: index, Term: term}
	if err := w.Set(TruncatedStateKey(l.partitionID), encodeIndexTerm(next)); err != nil {
		return err
	}
	if cacheFirst := l.cacheFirst(); cacheFirst <= index {
		n := index + 1 - cacheFirst
		for i := range n {
			l.cacheBytes -= uint64(l.sizeOf(cacheFirst + i))
		}
		clear(l.cache[:n])
		l.cache = l.cache[n:]
	}
	removed := index - l.truncated.Index
	for _, s := range l.sizes[:removed] {
		l.bytes -= uint64(s)
	}
	// Copy so the backing array does not grow without bound.
	l.sizes = append([]uint32(nil), l.sizes[removed:]...)
	l.truncated = next
	return nil
}

// ResetToSnapshot stages the replacement of the whole log by a snapshot at
// (index, term): every entry is deleted and the log restarts empty after
// index. The conf state is replaced by cs.
func (l *Log) ResetToSnapshot(w storage.Writer, index, term uint64, cs *raftpb.ConfState) error {
	start, end := logSpan(l.partitionID)
	if err := w.DeleteRange(start, end); err != nil {
		return err
	}
	next := TruncatedState{Index: index, Term: term}
	if err := w.Set(TruncatedStateKey(l.partitionID), encodeIndexTerm(next)); err != nil {
		return err
	}
	if cs != nil {
		data, err := proto.Marshal(cs)
		if err != nil {
			return err
		}
		if err := w.Set(ConfStateKey(l.partitionID), data); err != nil {
			return err
		}
		l.confState = proto.CloneOf(cs)
	}
	l.truncated = next
	l.lastIndex = index
	l.sizes = nil
	l.bytes = 0
	clear(l.cache)
	l.cache = l.cache[:0]
	l.cacheBytes = 0
	return nil
}

// appendEntryValue encodes an entry (without its index, which is in the key).
func appendEntryValue(b []byte, e *raftpb.Entry) []byte {
	b = binary.AppendUvarint(b, e.GetTerm())
	b = append(b, byte(e.GetType()))
	return append(b, e.GetData()...)
}

func decodeEntry(index uint64, v []byte) (*raftpb.Entry, error) {
	term, n := binary.Uvarint(v)
	if n <= 0 || n >= len(v) {
		return nil, &kvpb.CorruptionError{What: fmt.Sprintf("raft entry %d", index)}
	}
	typ := raftpb.EntryType(v[n])
	if _, ok := raftpb.EntryType_name[int32(typ)]; !ok {
		return nil, &kvpb.CorruptionError{What: fmt.Sprintf("raft entry %d type %d", index, typ)}
	}
	e := &raftpb.Entry{Term: new(term), Index: new(index), Type: typ.Enum()}
	if data := v[n+1:]; len(data) > 0 {
		e.Data = append([]byte(nil), data...)
	}
	return e, nil
}
