package systemtest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/util/testutil"
)

// TestIndexBackfillResumesAfterKill9: the node is killed with SIGKILL while
// its CREATE UNIQUE INDEX backfill is under way; after the restart its job
// runner adopts the job again and resumes from the last checkpoint, as a
// user sees it through SHOW JOBS: rows_processed never goes back below what
// it was before the kill, ends at most 1.2× the table (the chunk in flight
// is redone, not the table), and the index agrees with the table row for
// row.
func TestIndexBackfillResumesAfterKill9(t *testing.T) {
	const rows = 60_000
	n := startNode(t, t.TempDir())
	c := n.client()
	ctx := ctxT(t)
	if err := c.CreateDB(ctx, "db", false); err != nil {
		t.Fatal(err)
	}
	if err := c.ExecDDL(ctx, "db", `CREATE TABLE t (id INT64 PRIMARY KEY, v INT64 NOT NULL, pad STRING)`); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := 0; i < rows; i += 1000 {
		b.Reset()
		b.WriteString("INSERT INTO t VALUES ")
		for j := i; j < i+1000; j++ {
			if j > i {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%d, %d, 'padding-padding-padding-%d')", j, rows-j, j)
		}
		if _, err := c.Exec(ctx, "db", b.String(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}

	// The statement waits for its job; the kill cuts it off.
	stmtDone := make(chan error, 1)
	go func() { stmtDone <- c.ExecDDL(ctx, "db", `CREATE UNIQUE INDEX v_uk ON t (v)`) }()

	type jobState struct {
		status    string
		processed int64
	}
	jobOf := func(c *client.Client) (jobState, error) {
		res, err := c.Query(ctx, "db", "SHOW JOBS", nil, nil)
		if err != nil {
			return jobState{}, err
		}
		col := map[string]int{}
		for i, cl := range res.Columns {
			col[cl.Name] = i
		}
		for _, r := range res.Rows {
			if strings.Contains(fmt.Sprint(r[col["description"]]), "v_uk") {
				p, _ := strconv.ParseInt(fmt.Sprint(r[col["rows_processed"]]), 10, 64)
				return jobState{status: fmt.Sprint(r[col["status"]]), processed: p}, nil
			}
		}
		return jobState{}, fmt.Errorf("no job for v_uk yet")
	}
	var atKill jobState
	testutil.SucceedsSoon(t, 2*time.Minute, func() error {
		s, err := jobOf(c)
		if err != nil {
			return err
		}
		if s.status != "running" {
			t.Fatalf("the job is %s before the kill (%d rows processed): the table is too small to catch it running", s.status, s.processed)
		}
		if s.processed < rows*2/5 {
			return fmt.Errorf("%d rows processed", s.processed)
		}
		atKill = s
		return nil
	})
	n.kill()
	if err := <-stmtDone; err == nil {
		t.Fatal("CREATE INDEX returned success from a killed node")
	}
	t.Logf("killed with %d of %d rows processed", atKill.processed, rows)

	n.start()
	c = n.client()
	var final jobState
	testutil.SucceedsSoon(t, 2*time.Minute, func() error {
		s, err := jobOf(c)
		if err != nil {
			return err
		}
		if s.processed < atKill.processed {
			t.Fatalf("rows_processed went back from %d to %d: the job restarted instead of resuming", atKill.processed, s.processed)
		}
		if s.status != "succeeded" {
			return fmt.Errorf("job %s, %d rows processed", s.status, s.processed)
		}
		final = s
		return nil
	})
	if final.processed > rows*12/10 {
		t.Fatalf("%d rows processed for a %d-row table (more than 1.2×)", final.processed, rows)
	}
	// The index agrees with the table: every row reachable through it,
	// and a lookup by v finds its row.
	expectRows(t, c, "db", "SELECT COUNT(*) FROM t@{FORCE_INDEX=v_uk}", strconv.Itoa(rows))
	expectRows(t, c, "db", "SELECT COUNT(*) FROM t", strconv.Itoa(rows))
	for _, id := range []int{0, 1, rows / 2, rows - 1} {
		expectRows(t, c, "db", fmt.Sprintf("SELECT id FROM t@{FORCE_INDEX=v_uk} WHERE v = %d", rows-id), strconv.Itoa(id))
	}
	if _, err := c.Exec(ctx, "db", fmt.Sprintf("INSERT INTO t VALUES (%d, 1, 'dup')", rows), nil, nil); err == nil {
		t.Fatal("the unique index accepted a duplicate after the resume")
	}
}
