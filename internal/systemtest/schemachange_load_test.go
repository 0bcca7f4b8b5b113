package systemtest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestSchemaChangeUnderLoad (CAMUS_LONG): schema changes on a 1M-row table
// while 16 clients insert and update it. For each change the foreground
// write latency (p50, p99, max) is measured for a while without the change
// and then while it runs, and logged side by side (no timed assertion: the
// issue's bar is that no write waits more than 1 s because of the change).
// Afterwards the table is checked: the unique index agrees with a full
// scan, the added column holds its default in every row, the dropped
// column is gone.
//
//	CAMUS_LONG=1 go test -v -run TestSchemaChangeUnderLoad -timeout 30m ./internal/systemtest
func TestSchemaChangeUnderLoad(t *testing.T) {
	if os.Getenv("CAMUS_LONG") == "" {
		t.Skip("CAMUS_LONG=1 runs schema changes on a 1M-row table under load")
	}
	rows := envInt("SCHEMA_LOAD_ROWS", 1_000_000)
	n, c := startLongNode(t)
	ctx := context.Background()
	if err := c.ExecDDL(ctx, "d", `CREATE TABLE t (id INT64 PRIMARY KEY, v INT64 NOT NULL, w INT64 NOT NULL, pad STRING)`); err != nil {
		t.Fatal(err)
	}
	loadRows(t, c, "t", 0, rows, func(i int) string { return fmt.Sprintf("(%d, %d, 0, 'pad-%d')", i, i, i) })

	// Writers: updates of existing rows (w only: v stays unique) and
	// inserts of new rows with unique v; latencies per phase.
	var lat latencies
	nextID := int64(rows)
	wctx, stopWriters := context.WithCancel(ctx)
	wait := runWriters(wctx, t, n.url(), 16, rows, &nextID, &lat)
	// Writers stop before the test ends, whatever way it ends.
	defer func() {
		stopWriters()
		wait()
	}()
	for _, ddl := range []string{
		"CREATE UNIQUE INDEX v_uk ON t (v)",
		"ALTER TABLE t ADD COLUMN x INT64 DEFAULT (7)",
		"ALTER TABLE t DROP COLUMN pad",
	} {
		base := "before: " + ddl
		lat.setPhase(base)
		<-time.After(15 * time.Second) // the measuring window without the change
		during := "during: " + ddl
		lat.setPhase(during)
		start := time.Now()
		if err := c.ExecDDL(ctx, "d", ddl); err != nil {
			t.Fatalf("%s: %v", ddl, err)
		}
		took := time.Since(start)
		lat.setPhase("between")
		t.Logf("%s took %v\n  without it: %s\n  while it ran: %s", ddl, took.Round(time.Second), lat.summary(base), lat.summary(during))
	}
	stopWriters()
	wait()

	total := query(t, c, "d", "SELECT COUNT(*) FROM t")[0]
	expectRows(t, c, "d", "SELECT COUNT(*) FROM t@{FORCE_INDEX=v_uk}", total)
	expectRows(t, c, "d", "SELECT SUM(v), MIN(v), MAX(v) FROM t@{FORCE_INDEX=v_uk}",
		query(t, c, "d", "SELECT SUM(v), MIN(v), MAX(v) FROM t")...)
	expectRows(t, c, "d", "SELECT COUNT(*) FROM t WHERE x = 7", total)
	if _, err := c.Query(ctx, "d", "SELECT pad FROM t LIMIT 1", nil, nil); err == nil {
		t.Fatal("the dropped column is still readable")
	}
}
