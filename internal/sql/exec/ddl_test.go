package exec_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/jobs"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// readTable returns the stored descriptor of table in database dbName and
// the database's schema version.
func readTable(t *testing.T, db catalog.DB, dbName, table string) (*catalog.TableDesc, uint64) {
	t.Helper()
	ctx := context.Background()
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Rollback(ctx)
	d, err := catalog.GetDatabase(ctx, txn, dbName)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := catalog.GetTable(ctx, txn, d.ID, table)
	if err != nil {
		t.Fatal(err)
	}
	v, err := catalog.SchemaVersion(ctx, txn, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	return desc, v
}

// keysUnder counts the keys stored under prefix.
func keysUnder(t *testing.T, db catalog.DB, prefix []byte) int {
	t.Helper()
	ctx := context.Background()
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Rollback(ctx)
	it := txn.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	defer it.Close()
	n := 0
	for it.Next(ctx) {
		n++
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func showCreate(t *testing.T, s session.Executor, dbName, table string) string {
	t.Helper()
	res, err := s.Execute(context.Background(), session.Request{Database: dbName, SQL: "SHOW CREATE TABLE " + table})
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows[0][1].Str
}

// After every step of a random sequence of ALTERs, SHOW CREATE TABLE
// re-creates an identical table, every index agrees with the rows, no row
// is lost, and the table and database versions went up.
func TestAlterSequenceKeepsTableConsistent(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := newServer(t, db)
	mustRun(t, s, "CREATE DATABASE copy")
	mustRun(t, s, "CREATE TABLE t (id INT64, a INT64, b STRING, INDEX b_idx (b))")
	for i := range 40 {
		mustRun(t, s, fmt.Sprintf("INSERT INTO t VALUES (%d, %d, 'b%d')", i, i%7, i%5))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var cols []string // added columns that exist now
	nextCol := 0
	pick := func() string {
		if len(cols) == 0 {
			return "nope"
		}
		return cols[rng.IntN(len(cols))]
	}
	remove := func(name string) {
		cols = slices.DeleteFunc(cols, func(c string) bool { return c == name })
	}
	// Each step returns its SQL and what to do when it succeeds.
	steps := []func() (string, func()){
		func() (string, func()) {
			nextCol++
			name, n := fmt.Sprintf("c%d", nextCol), rng.IntN(9)
			kinds := []string{
				fmt.Sprintf("INT64 DEFAULT (%d)", n), fmt.Sprintf("STRING DEFAULT 'v%d'", n),
				"FLOAT64", fmt.Sprintf("BOOL NOT NULL DEFAULT (%d > 3)", n),
			}
			return fmt.Sprintf("ALTER TABLE t ADD COLUMN %s %s", name, kinds[rng.IntN(len(kinds))]),
				func() { cols = append(cols, name) }
		},
		func() (string, func()) {
			name := pick()
			return "ALTER TABLE t DROP COLUMN " + name, func() { remove(name) }
		},
		func() (string, func()) {
			from := pick()
			nextCol++
			to := fmt.Sprintf("c%d", nextCol)
			return fmt.Sprintf("ALTER TABLE t RENAME COLUMN %s TO %s", from, to), func() { remove(from); cols = append(cols, to) }
		},
		func() (string, func()) {
			return fmt.Sprintf("ALTER TABLE t ADD INDEX i%d (a %s, b)", rng.IntN(3), []string{"ASC", "DESC"}[rng.IntN(2)]), nil
		},
		func() (string, func()) { return fmt.Sprintf("ALTER TABLE t DROP INDEX i%d", rng.IntN(3)), nil },
		func() (string, func()) { return "ALTER TABLE t ADD PRIMARY KEY (id DESC)", nil },
		func() (string, func()) { return "ALTER TABLE t DROP PRIMARY KEY", nil },
		func() (string, func()) { return fmt.Sprintf("CREATE UNIQUE INDEX u%d ON t (id, a)", rng.IntN(2)), nil },
	}
	applied := 0
	for step := 0; step < 100; step++ {
		sql, onSuccess := steps[rng.IntN(len(steps))]()
		before, beforeSchema := readTable(t, db, "d", "t")
		if _, err := run(t, s, sql); err != nil {
			switch errcode.Of(err) {
			case errcode.UnknownColumn, errcode.UnknownIndex, errcode.InvalidInput, errcode.DuplicateColumn:
				continue // the random step did not fit the current table
			}
			t.Fatalf("%s: %v", sql, err)
		}
		applied++
		if onSuccess != nil {
			onSuccess()
		}
		after, afterSchema := readTable(t, db, "d", "t")
		if after.Version <= before.Version || afterSchema <= beforeSchema || after.SchemaVersion != afterSchema {
			t.Fatalf("%s: versions table %d -> %d, database %d -> %d (table records %d)",
				sql, before.Version, after.Version, beforeSchema, afterSchema, after.SchemaVersion)
		}
		if n := checkIndexes(t, db, "t"); n != 40 {
			t.Fatalf("%s: %d rows, want 40", sql, n)
		}
		// Every row keeps its values: sum(id) = 780, sum(a) = sum(i % 7) = 115.
		res := mustRun(t, s, "SELECT sum(id), sum(a), count(*) FROM t WHERE id >= 0 AND b >= 'b0'")
		if got := fmt.Sprint(res.Rows[0]); got != "[780 115 40]" {
			t.Fatalf("%s: rows changed: sums %s", sql, got)
		}
		text := showCreate(t, s, "d", "t")
		if _, err := s.Execute(context.Background(), session.Request{Database: "copy", SQL: text}); err != nil {
			t.Fatalf("after %s, SHOW CREATE TABLE output does not run: %v\n%s", sql, err, text)
		}
		if again := showCreate(t, s, "copy", "t"); again != text {
			t.Fatalf("after %s, SHOW CREATE TABLE does not round-trip:\n%s\n%s", sql, text, again)
		}
		if _, err := s.Execute(context.Background(), session.Request{Database: "copy", SQL: "DROP TABLE t"}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d of 100 random steps applied", applied)
	if applied < 40 {
		t.Fatalf("only %d of the random steps applied", applied)
	}
}

// DROP INDEX, DROP TABLE and DROP DATABASE delete their keys (DROP INDEX,
// DROP TABLE and DROP DATABASE's tables through jobs: the test waits for
// them); other tables keep theirs.
func TestDropsDeleteTheirData(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := newServer(t, db)
	for _, table := range []string{"a", "b"} {
		mustRun(t, s, "CREATE TABLE "+table+" (id INT64 PRIMARY KEY, v STRING, UNIQUE INDEX v_uk (v), INDEX v_idx (v DESC))")
		mustRun(t, s, "INSERT INTO "+table+" VALUES (1, 'x'), (2, 'y'), (3, NULL)")
	}
	a, _ := readTable(t, db, "d", "a")
	b, _ := readTable(t, db, "d", "b")
	if n := keysUnder(t, db, a.IndexPrefix(&a.Indexes[0])); n != 3 {
		t.Fatalf("index v_uk has %d entries before the drop", n)
	}
	mustRun(t, s, "DROP INDEX v_uk ON a")
	if n := keysUnder(t, db, a.IndexPrefix(&a.Indexes[0])); n != 0 {
		t.Fatalf("%d entries of a dropped index remain", n)
	}
	if n := keysUnder(t, db, a.IndexPrefix(&a.Indexes[1])); n != 3 {
		t.Fatalf("the other index has %d entries, want 3", n)
	}
	mustRun(t, s, "DROP TABLE a")
	waitJobs(t, s)
	if n := keysUnder(t, db, a.RowPrefix()) + keysUnder(t, db, a.IndexPrefix(&a.Indexes[1])); n != 0 {
		t.Fatalf("%d keys of a dropped table remain", n)
	}
	if n := keysUnder(t, db, b.RowPrefix()); n != 3 {
		t.Fatalf("table b has %d rows, want 3", n)
	}
	mustRun(t, s, "DROP DATABASE d")
	waitJobs(t, s)
	n := keysUnder(t, db, b.RowPrefix())
	for i := range b.Indexes {
		n += keysUnder(t, db, b.IndexPrefix(&b.Indexes[i]))
	}
	if n != 0 {
		t.Fatalf("%d keys of a dropped database remain", n)
	}
}

// A failed ADD UNIQUE INDEX leaves neither the index nor any entry (in
// autocommit mode it is a job, whose walk-back changes the descriptor's
// version; its content is as before).
func TestFailedIndexLeavesNothing(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := newServer(t, db)
	mustRun(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, v INT64)")
	mustRun(t, s, "INSERT INTO t VALUES (1, 1), (2, 2), (3, 1)")
	before, _ := readTable(t, db, "d", "t")
	if _, err := run(t, s, "ALTER TABLE t ADD UNIQUE INDEX v_uk (v)"); errcode.Of(err) != errcode.UniqueViolation {
		t.Fatalf("got %v, want CADB0300", err)
	}
	after, _ := readTable(t, db, "d", "t")
	if len(after.Indexes) != 0 || after.SchemaJob != 0 || !reflect.DeepEqual(after.Columns, before.Columns) {
		t.Fatalf("descriptor changed: %+v", after)
	}
	// The index would have had id NextIndexID.
	if n := keysUnder(t, db, kvpb.IndexPrefix(after.DBID, after.ID, after.NextIndexID)); n != 0 {
		t.Fatalf("%d entries of the failed index remain", n)
	}
}

// waitJobs waits until every job of s's jobs table has finished.
func waitJobs(t *testing.T, s *session.Server) {
	t.Helper()
	ctx := context.Background()
	recs, err := s.Jobs().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if rec, err := s.Jobs().Wait(ctx, r.ID); err != nil || rec.Status != jobs.Succeeded {
			t.Fatalf("job %d: %+v %v", r.ID, rec, err)
		}
	}
}
