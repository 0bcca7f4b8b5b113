package session_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// readDesc reads the descriptor of d.t.
func readDesc(t *testing.T, db *catalogtest.MemDB) *catalog.TableDesc {
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
	return td
}

// columnState is the state of column name of d.t in its descriptor
// ("absent" when it has none).
func columnState(t *testing.T, db *catalogtest.MemDB, name string) string {
	td := readDesc(t, db)
	if o := td.ColumnOrdinal(name); o >= 0 {
		return td.Columns[o].State.String()
	}
	return "absent"
}

// storedRows decodes every row of d.t with its current descriptor (so
// write-only columns too) and reports, per row key, whether its payload
// holds column colID.
func storedRows(t *testing.T, db *catalogtest.MemDB, colID uint32) (rows map[string][]types.Value, holding int) {
	t.Helper()
	td := readDesc(t, db)
	ctx := context.Background()
	txn, _ := db.Begin(ctx)
	defer func() { _ = txn.Rollback(ctx) }()
	prefix := td.RowPrefix()
	it := txn.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	defer it.Close()
	rows = map[string][]types.Value{}
	for it.Next(ctx) {
		row, err := td.DecodeRowValue(it.Value())
		if err != nil {
			t.Fatal(err)
		}
		has, err := td.PayloadHasColumn(it.Value(), colID)
		if err != nil {
			t.Fatal(err)
		}
		if has {
			holding++
		}
		rows[string(it.Key())] = row
	}
	return rows, holding
}

// storedRow is the row of d.t with primary key id, decoded with the
// current descriptor, and whether its payload holds column colID.
func storedRow(t *testing.T, db *catalogtest.MemDB, id int64, colID uint32) ([]types.Value, bool) {
	t.Helper()
	td := readDesc(t, db)
	ctx := context.Background()
	txn, _ := db.Begin(ctx)
	defer func() { _ = txn.Rollback(ctx) }()
	row := make([]types.Value, len(td.Columns))
	row[0] = types.NewInt(id)
	v, found, err := txn.Get(ctx, td.RowKey(td.EncodePK(row)))
	if err != nil || !found {
		t.Fatalf("row %d: found %v, %v", id, found, err)
	}
	out, err := td.DecodeRowValue(v)
	if err != nil {
		t.Fatal(err)
	}
	has, err := td.PayloadHasColumn(v, colID)
	if err != nil {
		t.Fatal(err)
	}
	return out, has
}

func query(t *testing.T, s *session.Server, sql string) string {
	t.Helper()
	return fmt.Sprint(mustExec(t, s, session.Request{Database: "d", SQL: sql}).Rows)
}

// hiddenFromReaders checks (from a job hook, so with Errorf) that no
// statement sees column name: not by name, not in '*', not in SHOW
// COLUMNS or information_schema, and INSERT cannot name it.
func hiddenFromReaders(t *testing.T, s *session.Server, name string) {
	ctx := context.Background()
	for _, sql := range []string{
		"SELECT " + name + " FROM t WHERE id = 1",
		"UPDATE t SET " + name + " = 1 WHERE id = 1",
		"INSERT INTO t (id, " + name + ") VALUES (77777, 1)",
	} {
		if _, err := s.Execute(ctx, session.Request{Database: "d", SQL: sql}); errcode.Of(err) != errcode.UnknownColumn {
			t.Errorf("%s: %v, want CADB0404", sql, err)
		}
	}
	for _, sql := range []string{
		"SELECT * FROM t WHERE id = 1",
		"SHOW COLUMNS FROM t",
		"SELECT column_name FROM information_schema.columns WHERE table_name = 't'",
		"SHOW CREATE TABLE t",
		"SELECT indexdef FROM pg_indexes WHERE tablename = 't'",
		// The point-query fast path (a cached template), twice.
		"SELECT * FROM t WHERE id = @id",
		"SELECT * FROM t WHERE id = @id",
	} {
		res, err := s.Execute(ctx, session.Request{Database: "d", SQL: sql, Params: map[string]types.Value{"id": types.NewInt(1)}})
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		if strings.Contains(fmt.Sprint(res.Columns, res.Rows), name) {
			t.Errorf("%s shows the column %q: %v %v", sql, name, res.Columns, res.Rows)
		}
	}
}

// ADD COLUMN ... DEFAULT walks DELETE_ONLY -> WRITE_ONLY -> backfill ->
// PUBLIC with writers running at every step; readers never see the
// column before it is public, writers fill it from WRITE_ONLY on (and the
// backfill leaves the values they wrote alone), and in the end every row
// holds its own evaluation of the volatile default.
func TestAddColumnStatesWithWriters(t *testing.T) {
	db := catalogtest.NewMemDB()
	var s *session.Server
	var wg sync.WaitGroup
	var wrote atomic.Int64
	var mu sync.Mutex
	seen := map[string]string{}
	var colID uint32
	// written: the values writers gave the column while it was write-only.
	written := map[int64]string{}
	hook := func(ctx context.Context, id uint64, phase string) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := seen[phase]; !ok {
			seen[phase] = columnState(t, db, "w")
			hiddenFromReaders(t, s, "w")
			if phase == "backfill" {
				td := readDesc(t, db)
				colID = td.Columns[td.ColumnOrdinal("w")].ID
				// An insert and an update while write-only: both rows
				// hold the column at once.
				for _, sql := range []string{"INSERT INTO t VALUES (5000, 1)", "UPDATE t SET v = 99 WHERE id = 3"} {
					if _, err := s.Execute(ctx, session.Request{Database: "d", SQL: sql}); err != nil {
						t.Errorf("%s: %v", sql, err)
					}
				}
				for _, id := range []int64{5000, 3} {
					row, has := storedRow(t, db, id, colID)
					if !has || row[2].IsNull() {
						t.Errorf("row %d written while the column is write-only does not hold it: %v", id, row)
					}
					written[id] = row[2].String()
				}
			}
		}
		for i := range 2 {
			wg.Go(func() { writeN(s, uint64(i)+uint64(len(phase))*7, 6, &wrote) })
		}
	}
	s = jobServer(t, db, 1, hook)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 60)
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN w OID NOT NULL DEFAULT (GEN_ID())"})
	wg.Wait()
	want := map[string]string{"": "DELETE_ONLY", "backfill": "WRITE_ONLY", "public": "WRITE_ONLY"}
	for phase, state := range want {
		if seen[phase] != state {
			t.Fatalf("before phase %q the column was %s, want %s (all: %v)", phase, seen[phase], state, seen)
		}
	}
	if columnState(t, db, "w") != "PUBLIC" || readDesc(t, db).SchemaJob != 0 {
		t.Fatalf("column after the job: %s", columnState(t, db, "w"))
	}
	rows, holding := storedRows(t, db, colID)
	if holding != len(rows) {
		t.Fatalf("%d of %d rows hold the new column", holding, len(rows))
	}
	for id, v := range written {
		if got := query(t, s, fmt.Sprintf("SELECT w FROM t WHERE id = %d", id)); got != "[["+v+"]]" {
			t.Fatalf("row %d: the backfill overwrote %s with %s", id, v, got)
		}
	}
	if got, want := query(t, s, "SELECT count(DISTINCT w) FROM t"), query(t, s, "SELECT count(*) FROM t"); got != want {
		t.Fatalf("the volatile default was not evaluated per row: %s distinct values for %s rows", got, want)
	}
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW JOBS"})
	if res.Rows[0][1].Str != session.JobTypeAddColumn || res.Rows[0][4].Str != "succeeded" || res.Rows[0][5].Float != 1 {
		t.Fatalf("SHOW JOBS: %v", res.Rows)
	}
}

// The node running the backfill dies mid-way: another node adopts the job
// and resumes from the checkpoint, processing at most 1.2x the table.
func TestAddColumnResumesOnAnotherNode(t *testing.T) {
	s2, _ := failOverMidJob(t, catalogtest.NewMemDB(), "backfill", 5, "ALTER TABLE t ADD COLUMN w INT64 DEFAULT 42")
	if got := query(t, s2, "SELECT count(*) FROM t WHERE w = 42"); got != "[[70]]" {
		t.Fatalf("rows with the default: %s, want 70", got)
	}
}

// CANCEL JOB during the backfill walks the column (and its inline UNIQUE
// index) back: the table is as before, keys included, and writable; other
// DDL meanwhile answers CADB0032.
func TestCancelAddColumn(t *testing.T) {
	db := catalogtest.NewMemDB()
	release := make(chan struct{})
	blocked := make(chan uint64, 1)
	var chunks atomic.Int64
	hook := func(ctx context.Context, id uint64, phase string) {
		if phase == "backfill" && chunks.Add(1) == 3 {
			blocked <- id
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
	}
	s := jobServer(t, db, 1, hook)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 40)
	before := query(t, s, "SHOW CREATE TABLE t")
	beforeRows := query(t, s, "SELECT * FROM t")
	keys := db.LiveKeys("t")
	nextCol := readDesc(t, db).NextColumnID
	done := make(chan error, 1)
	go func() {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN w OID DEFAULT (GEN_ID()) UNIQUE"})
		done <- err
	}()
	var id uint64
	select {
	case id = <-blocked:
	case err := <-done:
		t.Fatalf("ADD COLUMN ended before its job's third chunk: %v", err)
	}
	for _, sql := range []string{"ALTER TABLE t ADD COLUMN x INT64", "ALTER TABLE t ADD COLUMN x INT64 DEFAULT 1", "ALTER TABLE t DROP COLUMN v", "CREATE INDEX v2 ON t (v)"} {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: sql})
		wantCode(t, err, errcode.SchemaChangeInProgress)
	}
	if _, holding := storedRows(t, db, nextCol); holding == 0 {
		t.Fatal("no row holds the column mid-backfill: the cancel would prove nothing")
	}
	mustExec(t, s, session.Request{Database: "d", SQL: fmt.Sprintf("CANCEL JOB %d", id)})
	close(release)
	wantCode(t, <-done, errcode.QueryCancelled)
	if after := query(t, s, "SHOW CREATE TABLE t"); after != before {
		t.Fatalf("table changed: %s -> %s", before, after)
	}
	if after := query(t, s, "SELECT * FROM t"); after != beforeRows {
		t.Fatal("rows changed by the cancelled ADD COLUMN")
	}
	if after := db.LiveKeys("t"); !slices.Equal(after, keys) {
		t.Fatalf("table keys changed by the cancelled ADD COLUMN: %d -> %d", len(keys), len(after))
	}
	if _, holding := storedRows(t, db, nextCol); holding != 0 {
		t.Fatalf("%d rows still hold the cancelled column's value", holding)
	}
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW JOBS"})
	if res.Rows[0][4].Str != "canceled" {
		t.Fatalf("SHOW JOBS: %v", res.Rows)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1000, 1)"})
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN w INT64 DEFAULT 3"})
	if got := query(t, s, "SELECT count(*) FROM t WHERE w = 3"); got != "[[41]]" {
		t.Fatalf("column added again: %s rows with its default", got)
	}
}

// A violation found by the backfill (a duplicate in the inline UNIQUE
// index, a NULL in a NOT NULL column) fails the statement with an error
// naming the key or row, and leaves the table as before and writable.
func TestAddColumnViolationFailsCleanly(t *testing.T) {
	for _, tc := range []struct {
		def, contains string
		code          errcode.Code
	}{
		{"w INT64 DEFAULT 7 UNIQUE", "key (w)=(7) is duplicated", errcode.UniqueViolation},
		{"w INT64 NOT NULL DEFAULT NULL", "row with primary key (", errcode.NotNullViolation},
	} {
		t.Run(tc.def, func(t *testing.T) {
			db := catalogtest.NewMemDB()
			s := jobServer(t, db, 1, nil)
			setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
			loadRows(t, s, 30)
			before := query(t, s, "SHOW CREATE TABLE t")
			keys := db.LiveKeys("t")
			_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN " + tc.def})
			wantCode(t, err, tc.code)
			if !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("the error does not name the key or row: %v", err)
			}
			if after := query(t, s, "SHOW CREATE TABLE t"); after != before {
				t.Fatalf("table changed: %s -> %s", before, after)
			}
			if after := db.LiveKeys("t"); !slices.Equal(after, keys) {
				t.Fatalf("table keys changed: %d -> %d", len(keys), len(after))
			}
			res := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW JOBS"})
			if res.Rows[0][4].Str != "failed" || !strings.Contains(res.Rows[0][11].Str, tc.contains) {
				t.Fatalf("SHOW JOBS: %v", res.Rows)
			}
			mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (1000, 1)"})
			mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN w INT64 DEFAULT 1"})
		})
	}
}

// Inside BEGIN ... COMMIT, ADD COLUMN ... DEFAULT and DROP COLUMN keep
// running in the statement (no job): the transaction sees its own change.
func TestColumnChangesInTransaction(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := jobServer(t, db, 1, nil)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 10)
	tx := mustExec(t, s, session.Request{Database: "d", SQL: "BEGIN"}).Txn
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN w INT64 DEFAULT 3", Txn: tx})
	if res := mustExec(t, s, session.Request{Database: "d", SQL: "SELECT count(*) FROM t WHERE w = 3", Txn: tx}); res.Rows[0][0].Int != 10 {
		t.Fatalf("in the transaction: %v", res.Rows)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t DROP COLUMN v", Txn: tx})
	mustExec(t, s, session.Request{Database: "d", SQL: "COMMIT", Txn: tx})
	if got := query(t, s, "SHOW JOBS"); got != "[]" {
		t.Fatalf("jobs: %s", got)
	}
	if got := query(t, s, "SELECT * FROM t WHERE id = 4"); got != "[[4 3]]" {
		t.Fatalf("after commit: %s", got)
	}
}

func loadThree(t *testing.T, s *session.Server, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("INSERT INTO t (id, v, u) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %d, 0)", i, i%13)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: b.String()})
}

// writeU runs n writes that do not name column v.
func writeU(s *session.Server, seed, n int) {
	for i := range n {
		sql := fmt.Sprintf("UPDATE t SET u = u + 1 WHERE id = %d", (seed*31+i*7)%40)
		if i%3 == 0 {
			sql = fmt.Sprintf("INSERT INTO t (id, u) VALUES (%d, 1)", 10000+seed*100+i)
		}
		_, _ = s.Execute(context.Background(), session.Request{Database: "d", SQL: sql})
	}
}

// DROP COLUMN: the column and the indexes that use it are WRITE_ONLY from
// the statement on (unseen, still written); a cancel then makes them
// PUBLIC again with every value and entry kept, including those of rows
// written meanwhile. Run to the end with writers running, no row keeps its
// value, the column's indexes and their entries are gone, other indexes
// are intact and the name is free.
func TestDropColumnJob(t *testing.T) {
	db := catalogtest.NewMemDB()
	release := make(chan struct{})
	blocked := make(chan uint64, 1)
	var block atomic.Bool
	var s *session.Server
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	hook := func(ctx context.Context, id uint64, phase string) {
		mu.Lock()
		if _, ok := seen[phase]; !ok && !block.Load() {
			seen[phase] = columnState(t, db, "v")
			hiddenFromReaders(t, s, "v")
		}
		mu.Unlock()
		if phase == "drop" && block.Load() {
			blocked <- id
			select {
			case <-release:
			case <-ctx.Done():
			}
			return
		}
		wg.Go(func() { writeU(s, len(phase), 5) })
	}
	s = jobServer(t, db, 1, hook)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64, u INT64, INDEX v_idx (v), INDEX uv_idx (u, v), INDEX u_idx (u))")
	loadThree(t, s, 40)
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t DROP COLUMN id"})
	wantCode(t, err, errcode.InvalidInput) // the primary key: refused
	td := readDesc(t, db)
	vID := td.Columns[1].ID
	vIdx, uvIdx := td.FindIndex("v_idx").ID, td.FindIndex("uv_idx").ID

	// Cancelled while write-only.
	block.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t DROP COLUMN v"})
		done <- err
	}()
	var id uint64
	select {
	case id = <-blocked:
	case err := <-done:
		t.Fatalf("DROP COLUMN ended before its job's first step: %v", err)
	}
	if st := columnState(t, db, "v"); st != "WRITE_ONLY" || indexState(t, s, "v_idx") != "WRITE_ONLY" || indexState(t, s, "uv_idx") != "WRITE_ONLY" || indexState(t, s, "u_idx") != "PUBLIC" {
		t.Fatalf("column being dropped is %s", st)
	}
	hiddenFromReaders(t, s, "v")
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN v INT64 DEFAULT 1"})
	wantCode(t, err, errcode.SchemaChangeInProgress)
	writeU(s, 1, 30) // updates keep v, inserts give it its default (NULL)
	mustExec(t, s, session.Request{Database: "d", SQL: fmt.Sprintf("CANCEL JOB %d", id)})
	close(release)
	wantCode(t, <-done, errcode.QueryCancelled)
	if st := columnState(t, db, "v"); st != "PUBLIC" {
		t.Fatalf("column after the cancelled drop is %s", st)
	}
	if got := query(t, s, "SELECT count(*) FROM t WHERE id < 40 AND v = id % 13"); got != "[[40]]" {
		t.Fatalf("values lost by the cancelled drop: %s of 40 rows kept v", got)
	}
	for _, name := range []string{"v_idx", "uv_idx", "u_idx"} {
		checkIndex(t, db, name) // public, one right entry per row
	}

	// Dropped for good, writers running.
	block.Store(false)
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t DROP COLUMN v"})
	wg.Wait()
	want := map[string]string{"drop": "WRITE_ONLY", "delete-only": "WRITE_ONLY", "rewrite": "DELETE_ONLY", "remove": "DELETE_ONLY"}
	for phase, state := range want {
		if seen[phase] != state {
			t.Fatalf("before phase %q the column was %s, want %s (all: %v)", phase, seen[phase], state, seen)
		}
	}
	if st := columnState(t, db, "v"); st != "absent" || indexState(t, s, "v_idx") != "absent" || indexState(t, s, "uv_idx") != "absent" {
		t.Fatalf("dropped column is %s", st)
	}
	if n := indexEntries(t, db, vIdx) + indexEntries(t, db, uvIdx); n != 0 {
		t.Fatalf("%d entries of the dropped column's indexes remain", n)
	}
	checkIndex(t, db, "u_idx")
	rows, holding := storedRows(t, db, vID)
	if holding != 0 || len(rows) < 40 {
		t.Fatalf("%d of %d rows still hold the dropped column", holding, len(rows))
	}
	if got := query(t, s, "SELECT * FROM t WHERE id = 5"); !strings.HasPrefix(got, "[[5 ") || strings.Count(got, " ") != 1 {
		t.Fatalf("row after the drop: %s", got)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN v INT64"})
	if got := query(t, s, "SELECT count(*) FROM t WHERE v IS NOT NULL"); got != "[[0]]" {
		t.Fatalf("a re-added column sees old values: %s", got)
	}
}

// The node running a DROP COLUMN rewrite dies: another node finishes it
// from the checkpoint (at most 1.2x the table's rows processed).
func TestDropColumnResumesOnAnotherNode(t *testing.T) {
	db := catalogtest.NewMemDB()
	_, job := failOverMidJob(t, db, "rewrite", 4, "ALTER TABLE t DROP COLUMN v")
	if job[1].Str != session.JobTypeDropColumn {
		t.Fatalf("job %v, want a %s job", job, session.JobTypeDropColumn)
	}
	// The column's id: the table's second column, allocated after id.
	if _, holding := storedRows(t, db, readDesc(t, db).NextColumnID-1); holding != 0 {
		t.Fatalf("%d rows still hold the dropped column", holding)
	}
}

// ALTER TABLE ... ADD CONSTRAINT name UNIQUE (cols) is a unique index
// back-filled by a job: a duplicate fails it naming the key and leaves
// the table as before; without one the constraint is a public index.
// FOREIGN KEY constraints are refused (CADB0407).
func TestAddUniqueConstraintJob(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := jobServer(t, db, 1, nil)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 30) // v = id % 13: duplicates
	before := query(t, s, "SHOW CREATE TABLE t")
	keys := db.LiveKeys("t")
	_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t ADD CONSTRAINT v_uk UNIQUE (v)"})
	wantCode(t, err, errcode.UniqueViolation)
	if !strings.Contains(err.Error(), "key (v)=(") {
		t.Fatalf("the error does not name the key: %v", err)
	}
	if after := query(t, s, "SHOW CREATE TABLE t"); after != before || !slices.Equal(db.LiveKeys("t"), keys) {
		t.Fatalf("table changed by the failed constraint: %s", after)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "ALTER TABLE t ADD CONSTRAINT id_v_uk UNIQUE (id, v)"})
	checkIndex(t, db, "id_v_uk")
	res := mustExec(t, s, session.Request{Database: "d", SQL: "SHOW JOBS"})
	if len(res.Rows) != 2 || res.Rows[0][1].Str != session.JobTypeCreateIndex || res.Rows[0][4].Str != "succeeded" || res.Rows[1][4].Str != "failed" {
		t.Fatalf("SHOW JOBS: %v", res.Rows)
	}
	_, err = s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (v) REFERENCES u (id)"})
	wantCode(t, err, errcode.Unsupported)
}

// PAUSE JOB stops an ADD COLUMN backfill at its checkpoint (the column
// stays write-only and writers keep filling it); RESUME JOB finishes it
// from there.
func TestPauseResumeAddColumn(t *testing.T) {
	db := catalogtest.NewMemDB()
	blocked := make(chan uint64, 1)
	release := make(chan struct{})
	var chunks atomic.Int64
	hook := func(ctx context.Context, id uint64, phase string) {
		if phase == "backfill" && chunks.Add(1) == 3 {
			blocked <- id
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
	}
	s := jobServer(t, db, 1, hook)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	loadRows(t, s, 50)
	done := make(chan error, 1)
	go func() {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: "ALTER TABLE t ADD COLUMN w INT64 NOT NULL DEFAULT 9"})
		done <- err
	}()
	var id uint64
	select {
	case id = <-blocked:
	case err := <-done:
		t.Fatalf("ADD COLUMN ended before its job's third chunk: %v", err)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: fmt.Sprintf("PAUSE JOB %d", id)})
	close(release) // the chunk in flight finds the job paused and stops
	show := func() []types.Value {
		return mustExec(t, s, session.Request{Database: "d", SQL: fmt.Sprintf("SHOW JOB %d", id)}).Rows[0]
	}
	if st := show()[4].Str; st != "paused" {
		t.Fatalf("job is %s", st)
	}
	if st := columnState(t, db, "w"); st != "WRITE_ONLY" {
		t.Fatalf("column of the paused job is %s", st)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: "INSERT INTO t VALUES (500, 1)"})
	if row, has := storedRow(t, db, 500, readDesc(t, db).Columns[2].ID); !has || row[2].Int != 9 {
		t.Fatalf("a row inserted while paused: %v (holds the column: %v)", row, has)
	}
	rowsAtPause := show()[6].Int
	if rowsAtPause == 0 || rowsAtPause >= 50 {
		t.Fatalf("rows processed at the pause: %d", rowsAtPause)
	}
	mustExec(t, s, session.Request{Database: "d", SQL: fmt.Sprintf("RESUME JOB %d", id)})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := query(t, s, "SELECT count(*) FROM t WHERE w = 9"); got != "[[51]]" {
		t.Fatalf("rows with the default after the resumed job: %s", got)
	}
	if rows := show()[6].Int; rows > 51*12/10 {
		t.Fatalf("rows processed %d: the resumed job started over", rows)
	}
}

// Bad input to the column jobs answers a clear error before any job is
// created.
func TestColumnJobsBadInput(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := jobServer(t, db, 1, nil)
	setup(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)", "CREATE VIEW vv AS SELECT id, v FROM t", "CREATE TABLE one (x INT64)")
	for _, tc := range []struct {
		sql  string
		code errcode.Code
	}{
		{"ALTER TABLE vv ADD COLUMN w INT64 DEFAULT 1", errcode.Unsupported},
		{"ALTER TABLE vv DROP COLUMN v", errcode.Unsupported},
		{"CREATE INDEX i ON vv (v)", errcode.Unsupported},
		{"ALTER TABLE t ADD COLUMN v INT64 DEFAULT 1", errcode.DuplicateColumn},
		{"ALTER TABLE t ADD COLUMN z STRING DEFAULT 1", errcode.InvalidInput},
		{"ALTER TABLE t ADD COLUMN z INT64 DEFAULT (v)", errcode.InvalidInput},
		{"ALTER TABLE nope ADD COLUMN z INT64 DEFAULT 1", errcode.UnknownTable},
		{"ALTER TABLE t DROP COLUMN nope", errcode.UnknownColumn},
		{"ALTER TABLE t DROP COLUMN id", errcode.InvalidInput},
		{"ALTER TABLE one DROP COLUMN x", errcode.InvalidInput},
	} {
		_, err := s.Execute(context.Background(), session.Request{Database: "d", SQL: tc.sql})
		wantCode(t, err, tc.code)
	}
	if got := query(t, s, "SHOW JOBS"); got != "[]" {
		t.Fatalf("jobs created by refused statements: %s", got)
	}
}
