package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/jobs"
	"github.com/camusdb/camusdb-go/internal/sql/session"
)

// clearingDB is a MemDB that clears spans as the kv store does: it refuses
// with a retry error until its (test-set) GC threshold reaches notBelow.
type clearingDB struct {
	*catalogtest.MemDB
	calls chan hlc.Timestamp // every ClearSpan's notBelow

	mu        sync.Mutex
	threshold hlc.Timestamp
	cleared   [][2][]byte
}

func (c *clearingDB) setThreshold(ts hlc.Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.threshold = ts
}

func (c *clearingDB) ClearSpan(ctx context.Context, start, end []byte, notBelow hlc.Timestamp) error {
	select {
	case c.calls <- notBelow:
	default:
	}
	c.mu.Lock()
	th := c.threshold
	c.mu.Unlock()
	if th.Less(notBelow) {
		return &kvpb.RetryError{Reason: "old transactions may still read the span"}
	}
	txn, err := c.MemDB.Begin(ctx)
	if err != nil {
		return err
	}
	it := txn.Scan(ctx, start, end, false)
	var keys [][]byte
	for it.Next(ctx) {
		keys = append(keys, append([]byte(nil), it.Key()...))
	}
	it.Close()
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	if err := txn.Commit(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	c.cleared = append(c.cleared, [2][]byte{start, end})
	c.mu.Unlock()
	return nil
}

var _ catalog.SpanClearer = (*clearingDB)(nil)

// clearingServer is a session server on a clearingDB holding the indexed
// table of loadIndexedTable, whose descriptor it returns; its jobs retry
// a refused clear every millisecond.
func clearingServer(t *testing.T) (*clearingDB, *session.Server, *catalog.TableDesc) {
	t.Helper()
	db, s := clearingSession(t)
	return db, s, loadIndexedTable(t, s, db.MemDB)
}

// clearingSession is a session server over a new clearingDB.
func clearingSession(t *testing.T) (*clearingDB, *session.Server) {
	t.Helper()
	db := &clearingDB{MemDB: catalogtest.NewMemDB(), calls: make(chan hlc.Timestamp, 1)}
	s := session.NewServer(db, session.Config{NodeID: 1, DropDataRetry: time.Millisecond,
		Jobs: jobs.Config{ClaimTTL: 300 * time.Millisecond, PollInterval: 20 * time.Millisecond}})
	t.Cleanup(s.Close)
	return db, s
}

// On a database that clears spans, the DROP TABLE job clears each of the
// table's spans at once, and not before no transaction can read below the
// drop: it keeps trying while the GC threshold is below it.
func TestDropTableDataClearsSpansOnceUnreadable(t *testing.T) {
	db, s, td := clearingServer(t)
	prefixes := catalog.TableDataPrefixes(td)
	beforeDrop := db.Now()
	mustExec(t, s, session.Request{Database: "d", SQL: "DROP TABLE t"})

	// Refused twice (the job keeps trying), with a notBelow above the drop.
	var notBelow hlc.Timestamp
	for range 2 {
		notBelow = <-db.calls
	}
	if !beforeDrop.Less(notBelow) {
		t.Fatalf("notBelow %s is not above the time before the drop %s", notBelow, beforeDrop)
	}
	clearOnceUnreadable(t, db, s, notBelow, prefixes)
}

// clearOnceUnreadable checks that the keys under prefixes are still there,
// lets the GC threshold reach notBelow, and waits for the one DROP TABLE
// DATA job to succeed and clear them, one span per prefix.
func clearOnceUnreadable(t *testing.T, db *clearingDB, s *session.Server, notBelow hlc.Timestamp, prefixes [][]byte) {
	t.Helper()
	for _, p := range prefixes {
		if len(db.LiveKeys(string(p))) == 0 {
			t.Fatalf("keys under %q were deleted before the GC threshold allowed it", p)
		}
	}
	db.setThreshold(notBelow)
	ctx := context.Background()
	recs, err := s.Jobs().List(ctx)
	if err != nil || len(recs) != 1 || recs[0].Type != session.JobTypeDropTableData {
		t.Fatalf("jobs %v %v", recs, err)
	}
	rec, err := s.Jobs().Wait(ctx, recs[0].ID)
	if err != nil || rec.Status != jobs.Succeeded {
		t.Fatalf("data job: %+v %v", rec, err)
	}
	db.mu.Lock()
	cleared := len(db.cleared)
	db.mu.Unlock()
	if cleared != len(prefixes) {
		t.Fatalf("%d spans cleared, want one per prefix (%d)", cleared, len(prefixes))
	}
	for _, p := range prefixes {
		if keys := db.LiveKeys(string(p)); len(keys) != 0 {
			t.Fatalf("%d keys remain under %q", len(keys), p)
		}
	}
}

// On a database that clears spans, DROP INDEX (and DROP COLUMN of an
// indexed column) removes the index without deleting its entries one by
// one: a DROP INDEX DATA job clears the span once no transaction can read
// below the removal, and leaves the rows.
func TestDropIndexLeavesEntriesToDataJob(t *testing.T) {
	for _, stmt := range []string{"DROP INDEX v_idx ON t", "ALTER TABLE t DROP COLUMN v"} {
		t.Run(stmt, func(t *testing.T) { testDropIndexData(t, stmt) })
	}
}

func testDropIndexData(t *testing.T, stmt string) {
	db, s, td := clearingServer(t)
	ctx := context.Background()
	idxPrefix, rowPrefix := string(td.IndexPrefix(&td.Indexes[0])), string(td.RowPrefix())
	entries := len(db.LiveKeys(idxPrefix))
	mustExec(t, s, session.Request{Database: "d", SQL: stmt})

	if idx := readDesc(t, db.MemDB).Indexes; len(idx) != 0 {
		t.Fatalf("indexes after %s: %+v", stmt, idx)
	}
	// The job was created with the removal, which the statement waited for.
	recs, err := s.Jobs().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var dataJob uint64
	for _, r := range recs {
		if r.Type == session.JobTypeDropIndexData {
			dataJob = r.ID
		}
	}
	if dataJob == 0 {
		t.Fatalf("no %s job among %+v", session.JobTypeDropIndexData, recs)
	}
	// Refused while old transactions may read the entries: still there.
	notBelow := <-db.calls
	if got := len(db.LiveKeys(idxPrefix)); entries == 0 || got != entries {
		t.Fatalf("index entries: %d before the drop, %d after (want all kept until the clear)", entries, got)
	}
	db.setThreshold(notBelow)
	rec, err := s.Jobs().Wait(ctx, dataJob)
	if err != nil || rec.Status != jobs.Succeeded {
		t.Fatalf("index data job: %+v %v", rec, err)
	}
	if got := len(db.LiveKeys(idxPrefix)); got != 0 {
		t.Fatalf("%d entries of the dropped index remain", got)
	}
	if got := len(db.LiveKeys(rowPrefix)); got != 50 {
		t.Fatalf("%d rows after clearing the index, want 50", got)
	}
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT COUNT(*) FROM t"})
	if res.Rows[0][0].Int != 50 {
		t.Fatalf("count after the drop: %v", res.Rows)
	}
}

// TRUNCATE points the table at fresh spans in one descriptor write and
// leaves its old rows and index entries to a DROP TABLE DATA job, which
// clears them once no transaction can read below the TRUNCATE: the table
// is empty and usable at once, whatever its size.
func TestTruncateLeavesOldSpansToDataJob(t *testing.T) {
	db, s, td := clearingServer(t)
	old := catalog.TableDataPrefixes(td)
	mustExec(t, s, session.Request{Database: "d", SQL: "TRUNCATE t"})
	if got := query(t, s, "SELECT COUNT(*) FROM t"); got != "[[0]]" {
		t.Fatalf("after TRUNCATE: %s rows", got)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1, 77)"})
	if got := query(t, s, "SELECT id FROM t WHERE v = 77"); got != "[[1]]" {
		t.Fatalf("by the index after TRUNCATE: %s", got)
	}
	now := readDesc(t, db.MemDB)
	if now.ID != td.ID || now.DataID == 0 || now.DataID == td.ID || now.Version <= td.Version {
		t.Fatalf("descriptor after TRUNCATE: id %d data id %d version %d (before: id %d version %d)", now.ID, now.DataID, now.Version, td.ID, td.Version)
	}
	// The old keys wait for the GC threshold.
	clearOnceUnreadable(t, db, s, <-db.calls, old)
	for _, p := range catalog.TableDataPrefixes(now) {
		if len(db.LiveKeys(string(p))) != 1 {
			t.Fatalf("the row written after TRUNCATE is missing under %q", p)
		}
	}
	if got := query(t, s, "SELECT id, v FROM t"); got != "[[1 77]]" {
		t.Fatalf("after the job: %s", got)
	}
}

// On a database that clears spans, a primary key change writes every row
// and index entry into fresh spans (a new data id) instead of deleting the
// old ones in its transaction: the old keys stay live, untouched, until
// the DROP TABLE DATA job clears them once nothing can read them.
func TestPrimaryKeyChangeLeavesOldSpansToDataJob(t *testing.T) {
	for _, tc := range []struct {
		name, create, alter string
	}{
		{"add", "CREATE TABLE t (id INT64, v INT64, INDEX v_idx (v))", "ALTER TABLE t ADD PRIMARY KEY (id)"},
		{"drop", "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64, INDEX v_idx (v))", "ALTER TABLE t DROP PRIMARY KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, s := clearingSession(t)
			setup(t, s, tc.create)
			loadRows(t, s, 50)
			td := readDesc(t, db.MemDB)
			old := catalog.TableDataPrefixes(td)

			mustExec(t, s, session.Request{Database: "d", SQL: tc.alter})
			now := readDesc(t, db.MemDB)
			if now.ID != td.ID || now.DataSpanID() == td.DataSpanID() {
				t.Fatalf("after %s: id %d data id %d (before: id %d data id %d)", tc.alter, now.ID, now.DataID, td.ID, td.DataID)
			}
			if got := query(t, s, "SELECT COUNT(*), SUM(id) FROM t"); got != "[[50 1225]]" {
				t.Fatalf("after %s: %s", tc.alter, got)
			}
			if got := query(t, s, "SELECT id FROM t WHERE v = 12 ORDER BY id"); got != "[[12] [25] [38]]" {
				t.Fatalf("by the index after %s: %s", tc.alter, got)
			}
			for _, p := range catalog.TableDataPrefixes(now) {
				if n := len(db.LiveKeys(string(p))); n != 50 {
					t.Fatalf("%d keys under the new prefix %q, want 50", n, p)
				}
			}
			// The old keys (live: no tombstones were written) wait for the
			// GC threshold.
			clearOnceUnreadable(t, db, s, <-db.calls, old)
			if got := query(t, s, "SELECT COUNT(*) FROM t WHERE v = 3"); got != "[[4]]" {
				t.Fatalf("after the job: %s", got)
			}
		})
	}
}
