package exec

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
)

// A refresh samples rows for min/max by the row count of the table's
// previous statistics: a table known to be large is decoded every k-th
// row, one without statistics in full.
func TestRefreshSamplesByPreviousRowCount(t *testing.T) {
	db := catalogtest.NewMemDB()
	execSQL(t, db, "", "CREATE DATABASE d")
	execSQL(t, db, "d", "CREATE TABLE t (k INT64 PRIMARY KEY, v INT64)")
	rows := make([]string, 1000)
	for i := range rows {
		rows[i] = fmt.Sprintf("(%d, %d)", i, i)
	}
	execSQL(t, db, "d", "INSERT INTO t VALUES "+strings.Join(rows, ", "))
	ctx := context.Background()
	txn, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dbDesc, err := catalog.GetDatabase(ctx, txn, "d")
	if err != nil {
		t.Fatal(err)
	}
	desc, err := catalog.GetTable(ctx, txn, dbDesc.ID, "t")
	txn.Rollback(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kID := desc.Columns[0].ID

	s := NewStats(db, -1, nil)
	_, st, err := s.compute(ctx, dbDesc.ID, "t")
	if err != nil || st.Rows != 1000 || st.Max[kID].Int != 999 {
		t.Fatalf("first refresh (no statistics known): %+v %v; want 1000 rows, max k 999", st, err)
	}
	// Statistics saying 1M rows: every 10th row (0, 10, ..., 990).
	s.mu.cache[statsTable{dbDesc.ID, desc.ID}] = cachedStats{stats: &plan.TableStats{Rows: 10 * statsSampleRows}}
	_, st, err = s.compute(ctx, dbDesc.ID, "t")
	if err != nil || st.Rows != 1000 || st.Max[kID].Int != 990 {
		t.Fatalf("refresh after 1M rows: %+v %v; want 1000 rows, max k 990", st, err)
	}
}
