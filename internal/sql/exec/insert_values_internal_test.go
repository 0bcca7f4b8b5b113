package exec

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// getCountingDB counts the point reads of its transactions.
type getCountingDB struct {
	catalog.DB
	gets atomic.Int64
}

type getCountingTxn struct {
	catalog.Txn
	db *getCountingDB
}

func (d *getCountingDB) Begin(ctx context.Context) (catalog.Txn, error) {
	t, err := d.DB.Begin(ctx)
	return getCountingTxn{t, d}, err
}

func (t getCountingTxn) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	t.db.gets.Add(1)
	return t.Txn.Get(ctx, key)
}

// A multi-row INSERT ... VALUES checks its primary keys with span scans,
// a chunk at a time, not a point read per row; its errors are those of a
// row-by-row insert (the first failing row in order decides).
func TestInsertValuesBatchesKeyChecks(t *testing.T) {
	db := &getCountingDB{DB: catalogtest.NewMemDB()}
	execSQL(t, db, "", "CREATE DATABASE d")
	execSQL(t, db, "d", "CREATE TABLE t (k INT64 PRIMARY KEY, v INT64 NOT NULL, w INT64)", "CREATE INDEX w_idx ON t (w)")
	rows := make([]string, 3000)
	for i := range rows {
		rows[i] = fmt.Sprintf("(%d, %d, %d)", i, i%10, i%3)
	}
	before := db.gets.Load()
	execSQL(t, db, "d", "INSERT INTO t VALUES "+strings.Join(rows, ", "))
	if gets := db.gets.Load() - before; gets > 20 {
		t.Fatalf("inserting 3000 rows made %d point reads", gets)
	}
	got, err := queryRows(t, db, "SELECT COUNT(*), SUM(v), COUNT(w) FROM t")
	if err != nil || got[0][0].Int != 3000 || got[0][1].Int != 13500 || got[0][2].Int != 3000 {
		t.Fatalf("after the insert: %v %v", got, err)
	}
	for _, tc := range []struct {
		values string
		code   errcode.Code
	}{
		{"(5000, 1, 1), (10, 1, 1)", errcode.UniqueViolation},                 // an existing key
		{"(5000, 1, 1), (5001, 1, 1), (5000, 2, 2)", errcode.UniqueViolation}, // twice in the list
		{"(5000, 1, 1), (10, 1, 1), (5001, NULL, 1)", errcode.UniqueViolation},
		{"(5000, 1, 1), (5001, NULL, 1), (10, 1, 1)", errcode.Of(notNullErr(t, db))},
	} {
		_, err := runSQL(t, db, "INSERT INTO t VALUES "+tc.values)
		if errcode.Of(err) != tc.code {
			t.Errorf("INSERT %s: %v, want %s", tc.values, err, tc.code)
		}
	}
	if got, _ := queryRows(t, db, "SELECT COUNT(*) FROM t"); got[0][0].Int != 3000 {
		t.Fatalf("failed inserts left rows: %v", got)
	}
}

// notNullErr is the error of a NULL into t.v.
func notNullErr(t *testing.T, db catalog.DB) error {
	_, err := runSQL(t, db, "INSERT INTO t VALUES (9999, NULL, 1)")
	if err == nil || errcode.Of(err) == errcode.UniqueViolation {
		t.Fatalf("NULL into NOT NULL: %v", err)
	}
	return err
}

// runSQL executes one statement in its own transaction, returning its
// error (committing only on success).
func runSQL(t *testing.T, db catalog.DB, sql string) (*Result, error) {
	t.Helper()
	ctx, stmt, txn := parseAndBegin(t, db, sql)
	res, err := Execute(ctx, Env{Txn: txn, Database: "d"}, stmt)
	if err != nil {
		_ = txn.Rollback(ctx)
		return nil, err
	}
	return res, txn.Commit(ctx)
}
