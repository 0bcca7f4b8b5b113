package exec_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func run(t testing.TB, s session.Executor, sql string) (*session.Result, error) {
	t.Helper()
	return s.Execute(context.Background(), session.Request{Database: "d", SQL: sql})
}

func mustRun(t testing.TB, s session.Executor, sql string) *session.Result {
	t.Helper()
	res, err := run(t, s, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res
}

func newServer(t testing.TB, db catalog.DB) *session.Server {
	s := session.NewServer(db, session.Config{})
	t.Cleanup(s.Close)
	if _, err := s.Execute(context.Background(), session.Request{SQL: "CREATE DATABASE d"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// tableIn reads the descriptor of table in database d through txn.
func tableIn(t *testing.T, txn catalog.KV, table string) *catalog.TableDesc {
	t.Helper()
	ctx := context.Background()
	d, err := catalog.GetDatabase(ctx, txn, "d")
	if err != nil {
		t.Fatal(err)
	}
	desc, err := catalog.GetTable(ctx, txn, d.ID, table)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// checkIndexes verifies that every index of table holds exactly one
// correct entry per row, read straight from the kv.
func checkIndexes(t *testing.T, db catalog.DB, table string) int {
	t.Helper()
	ctx := context.Background()
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Rollback(ctx)
	desc := tableIn(t, txn, table)
	rows := map[string][]byte{} // pk -> row payload
	prefix := desc.RowPrefix()
	it := txn.Scan(ctx, prefix, kvpb.PrefixEnd(prefix), false)
	for it.Next(ctx) {
		rows[string(bytes.TrimPrefix(it.Key(), prefix))] = slices.Clone(it.Value())
	}
	it.Close()
	for i := range desc.Indexes {
		idx := &desc.Indexes[i]
		ip := desc.IndexPrefix(idx)
		it := txn.Scan(ctx, ip, kvpb.PrefixEnd(ip), false)
		seen := map[string]bool{}
		for it.Next(ctx) {
			_, pk, err := desc.DecodeIndexEntry(idx, it.Key(), it.Value())
			if err != nil {
				t.Fatalf("index %s: %v", idx.Name, err)
			}
			payload, ok := rows[string(pk)]
			if !ok {
				t.Fatalf("index %s: entry for missing row %x", idx.Name, pk)
			}
			row, err := desc.DecodeRowValue(payload)
			if err != nil {
				t.Fatal(err)
			}
			wantKey, wantValue := desc.IndexEntry(idx, row, pk)
			if !bytes.Equal(wantKey, it.Key()) || !bytes.Equal(wantValue, it.Value()) {
				t.Fatalf("index %s: stale entry %x for row %v", idx.Name, it.Key(), row)
			}
			if seen[string(pk)] {
				t.Fatalf("index %s: two entries for row %x", idx.Name, pk)
			}
			seen[string(pk)] = true
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		it.Close()
		if len(seen) != len(rows) {
			t.Fatalf("index %s has %d entries for %d rows", idx.Name, len(seen), len(rows))
		}
	}
	return len(rows)
}

func ids(res *session.Result) []int64 {
	out := make([]int64, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = r[0].Int
	}
	slices.Sort(out)
	return out
}

// Lookups through each index agree with a full scan after random inserts,
// updates (including of key columns) and deletes.
func TestIndexMaintenanceAgreesWithFullScan(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := newServer(t, db)
	mustRun(t, s, `CREATE TABLE t (id INT64 PRIMARY KEY, a INT64, b STRING, c INT64,
		UNIQUE KEY a_uk (a), KEY bc (b, c DESC), KEY c_idx (c))`)
	rng := rand.New(rand.NewPCG(1, 2))
	val := func(n int) string {
		if rng.IntN(8) == 0 {
			return "NULL"
		}
		return fmt.Sprint(rng.IntN(n))
	}
	for step := 0; step < 400; step++ {
		var sql string
		switch rng.IntN(4) {
		case 0, 1:
			sql = fmt.Sprintf("INSERT INTO t VALUES (%d, %s, 'b%s', %s), (%d, %s, 'b%d', %s)",
				rng.IntN(60), val(80), val(5), val(10), rng.IntN(60), val(80), rng.IntN(5), val(10))
		case 2:
			sql = fmt.Sprintf("UPDATE t SET a = %s, c = c + 1, id = id + %d WHERE c = %s OR id = %d",
				val(80), rng.IntN(3), val(10), rng.IntN(60))
		case 3:
			sql = fmt.Sprintf("DELETE FROM t WHERE b = 'b%d' AND c > %d", rng.IntN(5), rng.IntN(10))
		}
		if _, err := run(t, s, sql); err != nil {
			if c := errcode.Of(err); c != errcode.UniqueViolation {
				t.Fatalf("%s: %v", sql, err)
			}
		}
		if step%50 == 49 {
			checkIndexes(t, db, "t")
		}
	}
	n := checkIndexes(t, db, "t")
	if n == 0 {
		t.Fatal("the workload left no rows: the test checks nothing")
	}
	for v := 0; v < 80; v++ {
		byIndex := ids(mustRun(t, s, fmt.Sprintf("SELECT id FROM t WHERE a = %d", v)))
		byScan := ids(mustRun(t, s, fmt.Sprintf("SELECT id FROM t WHERE a + 0 = %d", v)))
		if !slices.Equal(byIndex, byScan) {
			t.Fatalf("a = %d: index %v, scan %v", v, byIndex, byScan)
		}
	}
	for b := 0; b < 5; b++ {
		for c := 0; c < 12; c += 3 {
			byIndex := ids(mustRun(t, s, fmt.Sprintf("SELECT id FROM t WHERE b = 'b%d' AND c >= %d", b, c)))
			byScan := ids(mustRun(t, s, fmt.Sprintf("SELECT id FROM t WHERE b || '' = 'b%d' AND c + 0 >= %d", b, c)))
			if !slices.Equal(byIndex, byScan) {
				t.Fatalf("b = b%d, c >= %d: index %v, scan %v", b, c, byIndex, byScan)
			}
		}
	}
	byIndex := ids(mustRun(t, s, "SELECT id FROM t WHERE c IN (1, 3, 5)"))
	byScan := ids(mustRun(t, s, "SELECT id FROM t WHERE c + 0 IN (1, 3, 5)"))
	if !slices.Equal(byIndex, byScan) {
		t.Fatalf("c IN: index %v, scan %v", byIndex, byScan)
	}
}

func TestStatementAtomicity(t *testing.T) {
	db := catalogtest.NewMemDB()
	s := newServer(t, db)
	mustRun(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, email STRING UNIQUE, n INT64 NOT NULL, KEY n_idx (n))")
	mustRun(t, s, "INSERT INTO t VALUES (1, 'a', 1)")
	before := db.LiveKeys("t")
	for _, sql := range []string{
		"INSERT INTO t VALUES (2, 'b', 2), (3, 'c', 3), (4, 'a', 4)",     // 3rd row violates UNIQUE
		"INSERT INTO t VALUES (2, 'b', 2), (3, 'c', 3), (4, 'd', NULL)",  // NOT NULL
		"INSERT INTO t VALUES (2, 'b', 2), (3, 'c', 3), (4, 'd', 1 / 0)", // expression error
		"UPDATE t SET n = n + 1, email = 'z' WHERE id >= 1",              // fine...
	} {
		_, err := run(t, s, sql)
		if sql[0] == 'U' {
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("%s succeeded", sql)
		}
		if got := db.LiveKeys("t"); !slices.Equal(got, before) {
			t.Fatalf("%s: a failed statement left writes: table keys %q, want %q", sql, got, before)
		}
	}
	checkIndexes(t, db, "t")
}

// countingDB counts the kv reads of every transaction.
type countingDB struct {
	catalog.DB
	gets, scanned int
}

type countingTxn struct {
	catalog.Txn
	db *countingDB
}

type countingIter struct {
	catalog.Iterator
	db *countingDB
}

func (c *countingDB) Begin(ctx context.Context) (catalog.Txn, error) {
	txn, err := c.DB.Begin(ctx)
	return &countingTxn{Txn: txn, db: c}, err
}

func (c *countingTxn) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	c.db.gets++
	return c.Txn.Get(ctx, key)
}

func (c *countingTxn) Scan(ctx context.Context, start, end []byte, reverse bool) catalog.Iterator {
	return &countingIter{Iterator: c.Txn.Scan(ctx, start, end, reverse), db: c.db}
}

func (it *countingIter) Next(ctx context.Context) bool {
	ok := it.Iterator.Next(ctx)
	if ok {
		it.db.scanned++
	}
	return ok
}

// Access paths read only the keys they need.
func TestAccessPathsReadOnlyWhatTheyNeed(t *testing.T) {
	db := &countingDB{DB: catalogtest.NewMemDB()}
	s := newServer(t, db)
	mustRun(t, s, "CREATE TABLE t (id INT64 PRIMARY KEY, code STRING UNIQUE, g INT64, KEY g_idx (g))")
	for i := 0; i < 1000; i += 100 {
		sql := "INSERT INTO t VALUES "
		for j := i; j < i+100; j++ {
			if j > i {
				sql += ", "
			}
			sql += fmt.Sprintf("(%d, 'c%d', %d)", j, j, j%50)
		}
		mustRun(t, s, sql)
	}
	// Descriptor reads: the database and the table, one Get each.
	const catalogGets = 2
	for _, tc := range []struct {
		sql              string
		rows             int
		maxGets, maxScan int
	}{
		{"SELECT * FROM t WHERE id = 500", 1, catalogGets + 1, 0},
		{"SELECT * FROM t WHERE id IN (1, 2, 3)", 3, catalogGets + 3, 0},
		{"SELECT * FROM t WHERE code = 'c7'", 1, catalogGets + 2, 0},
		{"SELECT * FROM t WHERE g = 7", 20, catalogGets + 20, 20},
		{"SELECT * FROM t WHERE id >= 10 AND id < 30", 20, catalogGets, 20},
		{"SELECT * FROM t LIMIT 5", 5, catalogGets, 5},
		{"SELECT * FROM t ORDER BY id DESC LIMIT 3", 3, catalogGets, 3},
		{"SELECT * FROM t WHERE id + 0 = 5 LIMIT 1", 1, catalogGets, 16},
	} {
		db.gets, db.scanned = 0, 0
		res := mustRun(t, s, tc.sql)
		if len(res.Rows) != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.sql, len(res.Rows), tc.rows)
		}
		if db.gets > tc.maxGets || db.scanned > tc.maxScan {
			t.Errorf("%s: %d gets and %d scanned entries, want at most %d and %d",
				tc.sql, db.gets, db.scanned, tc.maxGets, tc.maxScan)
		}
	}
}
