package systemtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
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
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("SCHEMA_LOAD_ROWS")); err == nil && v > 0 {
		rows = v
	}
	cfg := t.TempDir() + "/config.yml"
	if err := os.WriteFile(cfg, []byte("http_request_timeout_ms: 600000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, t.TempDir(), "--config", cfg)
	t.Cleanup(func() {
		if t.Failed() {
			l := n.logs()
			t.Logf("node log (tail):\n%s", l[max(0, len(l)-6000):])
		}
	})
	c := client.New([]string{n.url()}, client.WithTimeout(30*time.Minute))
	t.Cleanup(c.Close)
	ctx := context.Background()
	if err := c.CreateDB(ctx, "d", false); err != nil {
		t.Fatal(err)
	}
	if err := c.ExecDDL(ctx, "d", `CREATE TABLE t (id INT64 PRIMARY KEY, v INT64 NOT NULL, w INT64 NOT NULL, pad STRING)`); err != nil {
		t.Fatal(err)
	}
	loadStart := time.Now()
	var b strings.Builder
	for i := 0; i < rows; i += 1000 {
		b.Reset()
		b.WriteString("INSERT INTO t VALUES ")
		for j := i; j < i+1000 && j < rows; j++ {
			if j > i {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%d, %d, 0, 'pad-%d')", j, j, j)
		}
		if _, err := c.Exec(ctx, "d", b.String(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("loaded %d rows in %v", rows, time.Since(loadStart).Round(time.Second))

	// Writers: updates of existing rows (w only: v stays unique) and
	// inserts of new rows with unique v; latencies per phase.
	var mu sync.Mutex
	var phase string
	lat := map[string][]time.Duration{}
	var nextID = int64(rows)
	wctx, stopWriters := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wc := client.New([]string{n.url()}, client.WithTimeout(time.Minute))
			defer wc.Close()
			for wctx.Err() == nil {
				var sql string
				var params map[string]any
				if rand.IntN(4) == 0 {
					mu.Lock()
					id := nextID
					nextID++
					mu.Unlock()
					sql, params = "INSERT INTO t (id, v, w) VALUES (@id, @id, 0)", map[string]any{"id": id}
				} else {
					sql, params = "UPDATE t SET w = w + 1 WHERE id = @id", map[string]any{"id": rand.IntN(rows)}
				}
				start := time.Now()
				_, err := wc.Exec(wctx, "d", sql, params, nil)
				d := time.Since(start)
				if wctx.Err() != nil {
					return
				}
				if err != nil && !client.IsRetryable(err) && !strings.Contains(err.Error(), "CADB0032") {
					t.Errorf("%s: %v", sql, err)
					return
				}
				mu.Lock()
				lat[phase] = append(lat[phase], d)
				mu.Unlock()
			}
		}()
	}
	// Writers stop before the test ends, whatever way it ends.
	defer func() {
		stopWriters()
		wg.Wait()
	}()
	setPhase := func(p string) {
		mu.Lock()
		phase = p
		mu.Unlock()
	}
	summary := func(p string) string {
		mu.Lock()
		l := slices.Clone(lat[p])
		mu.Unlock()
		if len(l) == 0 {
			return "no writes"
		}
		slices.Sort(l)
		return fmt.Sprintf("%d writes, p50 %v, p99 %v, max %v", len(l), l[len(l)/2].Round(time.Microsecond),
			l[len(l)*99/100].Round(time.Microsecond), l[len(l)-1].Round(time.Millisecond))
	}
	for _, ddl := range []string{
		"CREATE UNIQUE INDEX v_uk ON t (v)",
		"ALTER TABLE t ADD COLUMN x INT64 DEFAULT (7)",
		"ALTER TABLE t DROP COLUMN pad",
	} {
		base := "before: " + ddl
		setPhase(base)
		<-time.After(15 * time.Second) // the measuring window without the change
		during := "during: " + ddl
		setPhase(during)
		start := time.Now()
		if err := c.ExecDDL(ctx, "d", ddl); err != nil {
			t.Fatalf("%s: %v", ddl, err)
		}
		took := time.Since(start)
		setPhase("between")
		t.Logf("%s took %v\n  without it: %s\n  while it ran: %s", ddl, took.Round(time.Second), summary(base), summary(during))
	}
	stopWriters()
	wg.Wait()

	total := query(t, c, "d", "SELECT COUNT(*) FROM t")[0]
	expectRows(t, c, "d", "SELECT COUNT(*) FROM t@{FORCE_INDEX=v_uk}", total)
	expectRows(t, c, "d", "SELECT SUM(v), MIN(v), MAX(v) FROM t@{FORCE_INDEX=v_uk}",
		query(t, c, "d", "SELECT SUM(v), MIN(v), MAX(v) FROM t")...)
	expectRows(t, c, "d", "SELECT COUNT(*) FROM t WHERE x = 7", total)
	if _, err := c.Query(ctx, "d", "SELECT pad FROM t LIMIT 1", nil, nil); err == nil {
		t.Fatal("the dropped column is still readable")
	}
}
