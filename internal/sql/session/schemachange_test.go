package session_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/jobs"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func jobServer(t *testing.T, db *catalogtest.MemDB, node uint64, hook func(context.Context, uint64, string)) *session.Server {
	s := session.NewServer(db, session.Config{NodeID: node, BackfillChunk: 7, SchemaChangeHook: hook,
		Jobs: jobs.Config{ClaimTTL: 300 * time.Millisecond, PollInterval: 20 * time.Millisecond}})
	t.Cleanup(s.Close)
	return s
}

func loadRows(t *testing.T, s *session.Server, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("INSERT INTO t VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %d)", i, i%13)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: b.String()})
}

// writer runs random inserts, updates and deletes on t until stop closes.
func writer(s *session.Server, seed uint64, stop <-chan struct{}, wrote *atomic.Int64) {
	r := rand.New(rand.NewPCG(seed, 1))
	for {
		select {
		case <-stop:
			return
		default:
		}
		id := r.IntN(400)
		var sql string
		switch r.IntN(3) {
		case 0:
			sql = fmt.Sprintf("INSERT INTO t VALUES (%d, %d)", 1000+r.IntN(100000), r.IntN(50))
		case 1:
			sql = fmt.Sprintf("UPDATE t SET v = %d WHERE id = %d", r.IntN(50), id)
		default:
			sql = fmt.Sprintf("DELETE FROM t WHERE id = %d", id)
		}
		if _, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: sql}); err == nil {
			wrote.Add(1)
		}
	}
}

// writeN runs n random writes.
func writeN(s *session.Server, seed uint64, n int, wrote *atomic.Int64) {
	r := rand.New(rand.NewPCG(seed, 2))
	for range n {
		id := r.IntN(400)
		sql := fmt.Sprintf("UPDATE t SET v = %d WHERE id = %d", r.IntN(50), id)
		switch r.IntN(3) {
		case 0:
			sql = fmt.Sprintf("INSERT INTO t VALUES (%d, %d)", 1000+r.IntN(100000), r.IntN(50))
		case 2:
			sql = fmt.Sprintf("DELETE FROM t WHERE id = %d", id)
		}
		if _, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: sql}); err == nil {
			wrote.Add(1)
		}
	}
}

// checkIndex verifies that index name of t holds exactly one entry per
// row, the one the row's values give, and that it is public.
func checkIndex(t *testing.T, db *catalogtest.MemDB, name string) int {
	t.Helper()
	ctx := context.Background()
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = txn.Rollback(ctx) }()
	d, err := catalog.GetDatabase(ctx, txn, "d")
	if err != nil {
		t.Fatal(err)
	}
	td, err := catalog.GetTable(ctx, txn, d.ID, "t")
	if err != nil {
		t.Fatal(err)
	}
	idx := td.FindIndex(name)
	if idx == nil || idx.State != catalog.IndexPublic || td.SchemaJob != 0 {
		t.Fatalf("index %q: %+v (schema job %d)", name, idx, td.SchemaJob)
	}
	want := map[string]string{}
	prefix := td.RowPrefix()
	it := txn.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	for it.Next(ctx) {
		row, err := td.DecodeRowValue(it.Value())
		if err != nil {
			t.Fatal(err)
		}
		k, v := td.IndexEntry(idx, row, append([]byte(nil), it.Key()[len(prefix):]...))
		want[string(k)] = string(v)
	}
	it.Close()
	ip := td.IndexPrefix(idx)
	it = txn.Scan(ctx, ip, kvpb.PrefixEnd(ip), false)
	got := map[string]string{}
	for it.Next(ctx) {
		got[string(it.Key())] = string(it.Value())
	}
	it.Close()
	if len(got) != len(want) {
		t.Fatalf("index %q has %d entries for %d rows", name, len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Fatalf("index %q lacks the entry of a row (or holds another value)", name)
		}
	}
	return len(want)
}

func indexState(t *testing.T, s *session.Server, name string) string {
	t.Helper()
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW INDEXES FROM t"})
	for _, r := range res.Rows {
		if r[1].Str == name {
			return r[4].Str
		}
	}
	return "absent"
}

// CREATE INDEX while writers insert, update and delete: afterwards the
// index agrees with the table row for row.
func TestCreateIndexWithConcurrentWriters(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := jobServer(t, db, 1, nil)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 400)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var wrote atomic.Int64
	for i := range 3 {
		wg.Go(func() { writer(s, uint64(i), stop, &wrote) })
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "CREATE INDEX v_idx ON t (v)"})
	close(stop)
	wg.Wait()
	checkIndex(t, db, "v_idx")
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW JOBS"})
	if len(res.Rows) != 1 || res.Rows[0][4].Str != "succeeded" || res.Rows[0][5].Float != 1 || res.Rows[0][6].Int < 1 {
		t.Fatalf("SHOW JOBS: %v", res.Rows)
	}
}

// Each state of the protocol, with writers running while the job moves
// to the next: delete-only, write-only (every backfill chunk), and the
// step to public.
func TestCreateIndexStatesWithWriters(t *testing.T) {
	db := catalogtest.NewMemDB()
	var s *session.Server
	var wg sync.WaitGroup
	var wrote atomic.Int64
	seen := map[string]string{}
	var mu sync.Mutex
	hook := func(ctx context.Context, id uint64, phase string) {
		mu.Lock()
		if _, ok := seen[phase]; !ok {
			seen[phase] = indexState(t, s, "v_idx")
		}
		mu.Unlock()
		// Two writers run a few statements each while the step's
		// transaction runs.
		for i := range 2 {
			wg.Go(func() { writeN(s, uint64(i)+uint64(len(phase))*7, 8, &wrote) })
		}
	}
	s = jobServer(t, db, 1, hook)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 100)
	mustExec(t, s, session.Request{Database: "d", SQL: "CREATE INDEX v_idx ON t (v)"})
	wg.Wait()
	want := map[string]string{"": "DELETE_ONLY", "backfill": "WRITE_ONLY", "public": "WRITE_ONLY"}
	for phase, state := range want {
		if seen[phase] != state {
			t.Fatalf("before phase %q the index was %s, want %s (all: %v)", phase, seen[phase], state, seen)
		}
	}
	checkIndex(t, db, "v_idx")
}

// A duplicate found by the backfill fails the statement with an error
// naming the key; the table is left as before and writable.
func TestUniqueIndexDuplicateRevertsCleanly(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := jobServer(t, db, 1, nil)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 50) // v = id % 13: duplicates
	before := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW CREATE TABLE t"}).Rows
	keys := db.LiveKeys("t")
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "CREATE UNIQUE INDEX v_uk ON t (v)"})
	wantCode(t, err, errcode.UniqueViolation)
	if !strings.Contains(err.Error(), "key (v)=(") {
		t.Fatalf("the error does not name the key: %v", err)
	}
	after := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW CREATE TABLE t"}).Rows
	if fmt.Sprint(before) != fmt.Sprint(after) || indexState(t, s, "v_uk") != "absent" {
		t.Fatalf("table changed: %v -> %v", before, after)
	}
	// No index entry is left: the table's keys are exactly as before (the
	// job record, its id counter and leases are system keys).
	if after := db.LiveKeys("t"); !slices.Equal(after, keys) {
		t.Fatalf("table keys changed by the failed index: %d -> %d", len(keys), len(after))
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1000, 1)"})
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN w INT64"})
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW JOBS"})
	if res.Rows[0][4].Str != "failed" || !strings.Contains(res.Rows[0][11].Str, "duplicated") {
		t.Fatalf("SHOW JOBS: %v", res.Rows)
	}
}

// CANCEL JOB during the backfill walks the index back; other DDL on the
// table meanwhile answers CADB0032.
func TestCancelCreateIndex(t *testing.T) {
	db := catalogtest.NewMemDB()
	release := make(chan struct{})
	blocked := make(chan uint64, 1)
	var once sync.Once
	hook := func(ctx context.Context, id uint64, phase string) {
		if phase == "backfill" {
			once.Do(func() { blocked <- id })
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
	}
	s := jobServer(t, db, 1, hook)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 60)
	done := make(chan error, 1)
	go func() {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "CREATE INDEX v_idx ON t (v)"})
		done <- err
	}()
	id := <-blocked
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN w INT64"})
	wantCode(t, err, errcode.SchemaChangeInProgress)
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "CREATE INDEX v2 ON t (v)"})
	wantCode(t, err, errcode.SchemaChangeInProgress)
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW JOB @id", Params: map[string]types.Value{"id": types.NewInt(int64(id))}})
	if res.Rows[0][4].Str != "running" {
		t.Fatalf("SHOW JOB: %v", res.Rows)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: fmt.Sprintf("CANCEL JOB %d", id)})
	close(release)
	err = <-done
	wantCode(t, err, errcode.QueryCancelled)
	if st := indexState(t, s, "v_idx"); st != "absent" {
		t.Fatalf("cancelled index is %s", st)
	}
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: fmt.Sprintf("CANCEL JOB %d", id)})
	wantCode(t, err, errcode.JobState)
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "PAUSE JOB 999"})
	wantCode(t, err, errcode.UnknownJob)
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN w INT64"})
}

// The node running the backfill dies mid-way: another node adopts the job
// once the claim expires and resumes from the checkpoint.
func TestCreateIndexResumesOnAnotherNode(t *testing.T) {
	db := catalogtest.NewMemDB()
	failOverMidJob(t, db, "backfill", 5, "CREATE INDEX v_idx ON t (v)")
	checkIndex(t, db, "v_idx")
}

// failOverMidJob loads a 70-row table t on node 1, runs sql there and
// stops node 1's job runner without giving up its claim (a dead node)
// when the job enters the dieAt-th chunk of phase. Node 2 adopts the job
// once the claim expires and resumes it from its checkpoint. It returns
// node 2 after the statement on node 1 reported the job's result (which
// must be success: the statement waits for the job, wherever it runs),
// and SHOW JOBS' row for the job, checked to have succeeded with at most
// 1.2x the table's rows processed.
func failOverMidJob(t *testing.T, db *catalogtest.MemDB, phase string, dieAt int64, sql string) (*session.Server, []types.Value) {
	t.Helper()
	var chunks atomic.Int64
	dying := make(chan struct{})
	var once sync.Once
	hook1 := func(ctx context.Context, id uint64, p string) {
		if p == phase && chunks.Add(1) == dieAt {
			once.Do(func() { close(dying) })
			<-ctx.Done() // node 1 is gone before this chunk
		}
	}
	s1 := jobServer(t, db, 1, hook1)
	setup(t, s1, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s1, 70) // 10 chunks of 7
	done := make(chan error, 1)
	go func() {
		_, err := s1.Execute(context.Background(), session.Request{Database: "d", SQL: sql})
		done <- err
	}()
	select {
	case <-dying:
	case err := <-done:
		t.Fatalf("%s ended before its chunk %d of %s: %v", sql, dieAt, phase, err)
	}
	s1.Jobs().Abandon()
	s2 := jobServer(t, db, 2, nil)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res := mustExec(t, s2, session.Request{Database: "d", SQL: "SHOW JOBS"})
	job := res.Rows[0]
	if job[4].Str != "succeeded" || job[7].Int != 0 || job[6].Int < 70 || job[6].Int > 84 {
		t.Fatalf("job after failover: %v: rows processed must stay within 1.2x of 70", res.Rows)
	}
	return s2, job
}

// indexEntries counts the keys under index name's prefix (-1 when the
// table has no such index).
func indexEntries(t *testing.T, db *catalogtest.MemDB, id uint32) int {
	t.Helper()
	ctx := context.Background()
	txn, _ := db.Begin(ctx)
	defer func() { _ = txn.Rollback(ctx) }()
	d, _ := catalog.GetDatabase(ctx, txn, "d")
	td, err := catalog.GetTable(ctx, txn, d.ID, "t")
	if err != nil {
		t.Fatal(err)
	}
	p := td.IndexPrefix(&catalog.IndexDesc{ID: id})
	it := txn.Scan(ctx, p, kvpb.PrefixEnd(p), false)
	defer it.Close()
	n := 0
	for it.Next(ctx) {
		n++
	}
	return n
}

// DROP INDEX runs as a job: with writers running, the index and every
// entry are gone afterwards; a drop cancelled before its entries go
// makes the index public again.
func TestDropIndexJob(t *testing.T) {
	db := catalogtest.NewMemDB()
	release := make(chan struct{})
	blocked := make(chan uint64, 1)
	var block atomic.Bool
	hook := func(ctx context.Context, id uint64, phase string) {
		if phase == "drop" && block.Load() {
			blocked <- id
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
	}
	s := jobServer(t, db, 1, hook)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 100)
	mustExec(t, s, session.Request{Database: "d", SQL: "CREATE INDEX v_idx ON t (v)"})
	checkIndex(t, db, "v_idx")
	const idxID = 2 // the first secondary index of t

	// Cancelled while write-only: restored, still complete.
	block.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "DROP INDEX v_idx ON t"})
		done <- err
	}()
	id := <-blocked
	if st := indexState(t, s, "v_idx"); st != "WRITE_ONLY" {
		t.Fatalf("index being dropped is %s", st)
	}
	var wrote atomic.Int64
	writeN(s, 9, 20, &wrote) // writers keep maintaining it
	mustExec(t, s, session.Request{Database: "d", SQL: fmt.Sprintf("CANCEL JOB %d", id)})
	close(release)
	wantCode(t, <-done, errcode.QueryCancelled)
	checkIndex(t, db, "v_idx")

	// Dropped with writers running.
	if n := indexEntries(t, db, idxID); n == 0 {
		t.Fatal("index id assumption wrong: no entries before the drop")
	}
	block.Store(false)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { writer(s, uint64(i)+20, stop, &wrote) })
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "DROP INDEX v_idx ON t"})
	close(stop)
	wg.Wait()
	if st := indexState(t, s, "v_idx"); st != "absent" {
		t.Fatalf("dropped index is %s", st)
	}
	if n := indexEntries(t, db, idxID); n != 0 {
		t.Fatalf("%d entries of the dropped index remain", n)
	}
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "DROP INDEX v_idx ON t"})
	wantCode(t, err, errcode.UnknownIndex)
	mustExec(t, s, session.Request{Database: "d", SQL: "DROP INDEX IF EXISTS v_idx ON t"})
}

// loadIndexedTable creates table t (id, v) with index v_idx in database d,
// loads 50 rows and returns its descriptor.
func loadIndexedTable(t *testing.T, s *session.Server, db *catalogtest.MemDB) *catalog.TableDesc {
	t.Helper()
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64, INDEX v_idx (v))")
	loadRows(t, s, 50)
	return readDesc(t, db)
}

// DROP TABLE removes the table at once and deletes its keys in the
// background, a chunk per transaction; the name is free at once.
func TestDropTableDataJob(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := jobServer(t, db, 1, nil)
	td := loadIndexedTable(t, s, db)
	ctx := context.Background()
	mustExec(t, s, session.Request{Database: "d", SQL: "DROP TABLE t"})
	mustExec(t, s, session.Request{Database: "d", SQL: "CREATE TABLE t (id INT64 PRIMARY KEY)"})
	recs, err := s.Jobs().List(ctx)
	if err != nil || len(recs) != 1 || recs[0].Type != session.JobTypeDropTableData {
		t.Fatalf("jobs %v %v", recs, err)
	}
	rec, err := s.Jobs().Wait(ctx, recs[0].ID)
	if err != nil || rec.Status != jobs.Succeeded || rec.Rows != 100 {
		t.Fatalf("drop job: %+v %v (want 100 keys deleted: 50 rows, 50 entries)", rec, err)
	}
	txn, _ := db.Begin(ctx)
	defer func() { _ = txn.Rollback(ctx) }()
	for _, p := range catalog.TableDataPrefixes(td) {
		it := txn.Scan(ctx, p, kvpb.PrefixEnd(p), false)
		if it.Next(ctx) {
			t.Fatalf("a key of the dropped table remains under %q", p)
		}
		it.Close()
	}
}
