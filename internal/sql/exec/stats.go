package exec

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/rowenc"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Stats keeps the planner statistics of tables (plan.TableStats): row
// counts, index sizes, per-column min/max. They live in the system bucket
// under StatsKey, so every node sees them, and are recomputed exactly
// (one scan of the table and its indexes, in a transaction of their own)
// for the tables written since the last flush, at most once per flush
// interval. The planner reads them from a node-local cache reloaded in a
// separate transaction, never through the statement's transaction, so
// statistics never cause serialization conflicts.
//
// Stats is safe for concurrent use. The owner calls MaybeFlush (e.g.
// after each commit). By default the refresh runs inside that call; after
// Background it runs on a goroutine of its own, paced (stats_background.go),
// and MaybeFlush returns at once.
type Stats struct {
	db       catalog.DB
	interval time.Duration
	now      func() time.Time
	bg       *statsBackground // nil: refresh inside MaybeFlush

	mu struct {
		sync.Mutex
		cache     map[statsTable]cachedStats // guarded: loaded statistics
		dirty     map[statsTable]dirtyTable  // guarded: written tables
		lastFlush time.Time                  // guarded
	}
}

type statsTable struct{ db, table uint32 }

// dirtyTable is a table written since its last refresh: its name and how
// many rows were written (< 0: all of them, e.g. TRUNCATE).
type dirtyTable struct {
	name    string
	changed int64
}

// A written table is refreshed at a flush once the rows written since its
// last refresh reach statsChangeMin plus statsChangeFraction of the rows
// it had then (PostgreSQL's autovacuum ANALYZE thresholds): a table that
// keeps being written is rescanned every tenth of its size, not at every
// flush. A table whose statistics this node does not know is refreshed at
// once.
const (
	statsChangeMin      = 50
	statsChangeFraction = 0.1
)

type cachedStats struct {
	stats  *plan.TableStats // nil: none stored
	loaded time.Time
}

// NewStats returns statistics over db. interval is the flush interval:
// < 0 never automatically (only Refresh), 0 at every MaybeFlush after a
// change. now is the clock (nil: time.Now).
func NewStats(db catalog.DB, interval time.Duration, now func() time.Time) *Stats {
	if now == nil {
		now = time.Now
	}
	s := &Stats{db: db, interval: interval, now: now}
	s.mu.cache = map[statsTable]cachedStats{}
	s.mu.dirty = map[statsTable]dirtyTable{}
	s.mu.lastFlush = now()
	return s
}

// statsTag follows the system tag: 's' '~' 'S' dbID tableID. The catalog
// uses single lower-case tags after 's'.
var statsTag = []byte{kvpb.SystemTag, '~', 'S'}

// StatsKey is the system key holding a table's statistics (JSON).
func StatsKey(dbID, tableID uint32) []byte {
	b := append([]byte(nil), statsTag...)
	b = binary.BigEndian.AppendUint32(b, dbID)
	return binary.BigEndian.AppendUint32(b, tableID)
}

// reloadAfter is how long a node trusts its cached copy of statistics
// that another node may have refreshed.
func (s *Stats) reloadAfter() time.Duration {
	if s.interval > time.Second {
		return s.interval
	}
	return time.Second
}

// TableStats implements plan.StatsSource.
func (s *Stats) TableStats(ctx context.Context, t *catalog.TableDesc) (*plan.TableStats, bool) {
	key := statsTable{t.DBID, t.ID}
	s.mu.Lock()
	c, ok := s.mu.cache[key]
	s.mu.Unlock()
	if ok && (s.interval < 0 || s.now().Sub(c.loaded) < s.reloadAfter()) {
		return c.stats, c.stats != nil
	}
	st, err := s.load(ctx, key)
	if err != nil {
		return nil, false // statistics are advisory
	}
	s.mu.Lock()
	s.mu.cache[key] = cachedStats{stats: st, loaded: s.now()}
	s.mu.Unlock()
	return st, st != nil
}

func (s *Stats) load(ctx context.Context, key statsTable) (*plan.TableStats, error) {
	txn, err := s.db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer txn.Rollback(ctx)
	b, found, err := txn.Get(ctx, StatsKey(key.db, key.table))
	if err != nil || !found {
		return nil, err
	}
	st := &plan.TableStats{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, errcode.New(errcode.Corruption, "statistics of table %d: %v", key.table, err)
	}
	return st, nil
}

// Changed records that rows rows of t were written (< 0: all of them) by
// a statement that may still roll back: a spurious refresh is harmless.
func (s *Stats) Changed(t *catalog.TableDesc, rows int64) {
	if s == nil {
		return
	}
	key := statsTable{t.DBID, t.ID}
	s.mu.Lock()
	d := s.mu.dirty[key]
	d.name = t.Name
	switch {
	case rows < 0 || d.changed < 0:
		d.changed = -1
	default:
		d.changed += rows
	}
	s.mu.dirty[key] = d
	s.mu.Unlock()
}

// dueLocked reports whether a written table's refresh is due (see
// statsChangeMin); interval 0 refreshes after every change.
func (s *Stats) dueLocked(key statsTable, d dirtyTable) bool {
	if s.interval == 0 || d.changed < 0 {
		return true
	}
	c, ok := s.mu.cache[key]
	if !ok || c.stats == nil {
		return true
	}
	return float64(d.changed) >= statsChangeMin+statsChangeFraction*float64(c.stats.Rows)
}

// MaybeFlush refreshes the tables written since the last flush when the
// interval has passed (always, with interval 0; never, with < 0).
func (s *Stats) MaybeFlush(ctx context.Context) error {
	if s == nil || s.interval < 0 {
		return nil
	}
	s.mu.Lock()
	now := s.now()
	if len(s.mu.dirty) == 0 || now.Sub(s.mu.lastFlush) < s.interval {
		s.mu.Unlock()
		return nil
	}
	dirty := map[statsTable]string{}
	for key, d := range s.mu.dirty {
		if s.dueLocked(key, d) {
			dirty[key] = d.name
		}
	}
	if len(dirty) == 0 {
		s.mu.lastFlush = now // written, but not enough yet: look again in an interval
		s.mu.Unlock()
		return nil
	}
	if s.bg != nil && !s.bg.start() {
		s.mu.Unlock()
		return nil // a refresh is running: these tables wait for the next
	}
	for key := range dirty {
		delete(s.mu.dirty, key)
	}
	s.mu.lastFlush = now
	s.mu.Unlock()
	if s.bg != nil {
		go s.bg.run(s, dirty)
		return nil
	}
	return s.refreshAll(ctx, dirty)
}

// refreshAll refreshes the given tables; those that fail stay dirty.
func (s *Stats) refreshAll(ctx context.Context, dirty map[statsTable]string) error {
	var errs []error
	for key, name := range dirty {
		if err := s.Refresh(ctx, key.db, name); err != nil {
			s.mu.Lock()
			s.mu.dirty[key] = dirtyTable{name: name, changed: -1} // try again at the next flush
			s.mu.Unlock()
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Refresh recomputes and stores the statistics of one table now. A table
// that no longer exists is skipped.
//
// The scan runs in a read-only transaction and the result is written by a
// second, small one: statistics are advisory and need not be serializable
// with the scan. Committed together, the table-wide read would go into the
// commit's read set: the commit would latch the whole table (every writer
// waits for it) and, pushed above the scan's timestamp, re-validate the
// whole table against every write since the scan began.
func (s *Stats) Refresh(ctx context.Context, dbID uint32, table string) error {
	t, st, err := s.compute(ctx, dbID, table)
	if err != nil || t == nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	txn, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer txn.Rollback(ctx)
	// Still there (a point read of the descriptor): no statistics are
	// left behind for a table dropped during the scan.
	if now, err := catalog.GetTable(ctx, txn, dbID, table); errcode.Of(err) == errcode.UnknownTable || (err == nil && now.ID != t.ID) {
		return nil
	} else if err != nil {
		return err
	}
	if err := txn.Put(StatsKey(t.DBID, t.ID), b); err != nil {
		return err
	}
	if err := txn.Commit(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.mu.cache[statsTable{t.DBID, t.ID}] = cachedStats{stats: st, loaded: s.now()}
	s.mu.Unlock()
	return nil
}

// compute scans the table (nil when it does not exist) in a read-only
// transaction.
func (s *Stats) compute(ctx context.Context, dbID uint32, table string) (*catalog.TableDesc, *plan.TableStats, error) {
	txn, err := s.db.Begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer txn.Rollback(ctx)
	// Advisory: in a cluster, a scan under concurrent inserts meets versions
	// within the clock uncertainty window again and again, and each one
	// would re-validate every row read so far.
	if u, ok := txn.(interface{ DropUncertainty() }); ok {
		u.DropUncertainty()
	}
	// Nor should its batches hold up the table's writers (each latched the
	// rest of the table while it was read).
	if n, ok := txn.(interface{ NonBlockingScans() }); ok {
		n.NonBlockingScans()
	}
	t, err := catalog.GetTable(ctx, txn, dbID, table)
	if errcode.Of(err) == errcode.UnknownTable {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var pace func(rows int64) error
	if s.bg != nil {
		pace = s.bg.pacer()
	}
	every := int64(1)
	s.mu.Lock()
	if c, ok := s.mu.cache[statsTable{t.DBID, t.ID}]; ok && c.stats != nil {
		every = max(1, c.stats.Rows/statsSampleRows)
	}
	s.mu.Unlock()
	st, err := computeStats(ctx, txn, t, pace, every)
	if err != nil {
		return nil, nil, err
	}
	return t, st, nil
}

// statsSampleRows: a refresh decodes about this many rows of a table for
// the columns' min/max, every k-th row of a larger one (k from the row
// count of its previous statistics). Counts, sizes and distinct first key
// values always cover every entry.
const statsSampleRows = 100_000

// ComputeStats scans t's rows and public indexes through kv, decoding
// every sampleEvery-th row (at least every one) for the columns' min/max.
func ComputeStats(ctx context.Context, kv catalog.KV, t *catalog.TableDesc, sampleEvery int64) (*plan.TableStats, error) {
	return computeStats(ctx, kv, t, nil, sampleEvery)
}

// computeStats is ComputeStats calling pace (when set) with the number of
// entries read so far, every statsPaceEvery of them.
//
// A decoded row goes into one reused slice and min/max are kept per column
// ordinal; distinct values of an index's first key column are counted from
// the entries' key bytes (equal encodings are equal values), so index
// entries are not decoded at all, nor rows outside the sample.
func computeStats(ctx context.Context, kv catalog.KV, t *catalog.TableDesc, pace func(rows int64) error, sampleEvery int64) (*plan.TableStats, error) {
	sampleEvery = max(sampleEvery, 1)
	var read int64
	step := func() error {
		read++
		if pace == nil || read%statsPaceEvery != 0 {
			return nil
		}
		return pace(read)
	}
	st := &plan.TableStats{Min: map[uint32]types.Value{}, Max: map[uint32]types.Value{}, Indexes: map[uint32]plan.IndexStats{}}
	var (
		mins, maxs = make([]types.Value, len(t.Columns)), make([]types.Value, len(t.Columns))
		seen       = make([]bool, len(t.Columns))
		need       = make([]bool, len(t.Columns))
		row        = make([]types.Value, len(t.Columns))
		scratch    []types.Value
	)
	for i := range need {
		need[i] = true
	}
	var pk plan.IndexStats
	var prev []byte
	prefix := t.RowPrefix()
	pkDesc := len(t.PrimaryKey.Columns) > 0 && t.PrimaryKey.Columns[0].Desc
	it := kv.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	for it.Next(ctx) {
		var (
			cur   []types.Value
			err   error
			first []byte
		)
		if st.Rows%sampleEvery == 0 {
			cur, scratch, err = t.DecodeRowColumns(row, it.Value(), need, scratch)
		}
		if err == nil && len(t.PrimaryKey.Columns) > 0 {
			first, err = firstKeyColumn(it.Key(), prefix, pkDesc)
		}
		if err == nil {
			err = step()
		}
		if err != nil {
			it.Close()
			return nil, err
		}
		st.Rows++
		pk.Entries++
		pk.Bytes += int64(len(it.Key()) + len(it.Value()))
		for i := range min(len(cur), len(t.Columns)) {
			v := cur[i]
			if !keepsMinMax(v) {
				continue
			}
			if !seen[i] || less(v, mins[i]) {
				mins[i] = v
			}
			if !seen[i] || less(maxs[i], v) {
				maxs[i] = v
			}
			seen[i] = true
		}
		if first != nil && (pk.Entries == 1 || !bytes.Equal(first, prev)) {
			pk.DistinctFirst++
			prev = append(prev[:0], first...)
		}
	}
	err := it.Err()
	it.Close()
	if err != nil {
		return nil, err
	}
	for i, ok := range seen {
		if ok {
			st.Min[t.Columns[i].ID], st.Max[t.Columns[i].ID] = mins[i], maxs[i]
		}
	}
	st.Indexes[t.PrimaryKey.ID] = pk
	for i := range t.Indexes {
		idx := &t.Indexes[i]
		if idx.State != catalog.IndexPublic {
			continue
		}
		var is plan.IndexStats
		prefix := t.IndexPrefix(idx)
		desc := len(idx.Columns) > 0 && idx.Columns[0].Desc
		it := kv.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
		for it.Next(ctx) {
			var first []byte
			var err error
			if len(idx.Columns) > 0 {
				first, err = firstKeyColumn(it.Key(), prefix, desc)
			}
			if err == nil {
				err = step()
			}
			if err != nil {
				it.Close()
				return nil, err
			}
			is.Entries++
			is.Bytes += int64(len(it.Key()) + len(it.Value()))
			if first != nil && (is.Entries == 1 || !bytes.Equal(first, prev)) {
				is.DistinctFirst++
				prev = append(prev[:0], first...)
			}
		}
		err := it.Err()
		it.Close()
		if err != nil {
			return nil, err
		}
		st.Indexes[idx.ID] = is
	}
	return st, nil
}

// firstKeyColumn returns the encoding of the first key column of an
// index entry's key (or a row's), under prefix.
func firstKeyColumn(key, prefix []byte, desc bool) ([]byte, error) {
	if !bytes.HasPrefix(key, prefix) {
		return nil, errcode.New(errcode.Corruption, "key %q outside its index", key)
	}
	rest := key[len(prefix):]
	after, err := rowenc.SkipKey(rest, desc)
	if err != nil {
		return nil, errcode.Wrap(errcode.Corruption, err)
	}
	return rest[:len(rest)-len(after)], nil
}

func less(a, b types.Value) bool {
	c, ok := types.Compare(a, b)
	return ok && c < 0
}

// keepsMinMax reports whether v is kept as a min/max: numbers and short
// strings (OIDs and long strings carry no useful range estimate).
func keepsMinMax(v types.Value) bool {
	switch v.Kind {
	case types.Int64:
		return true
	case types.Float64:
		return !math.IsNaN(v.Float) && !math.IsInf(v.Float, 0)
	case types.String:
		return len(v.Str) <= 256 && utf8.ValidString(v.Str)
	}
	return false
}
