package cli

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/client/clienttest"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
)

// While a schema change runs, the shell draws its job's progress from
// SHOW JOBS on the error stream and clears the line when the statement
// returns; other statements draw nothing.
func TestShellShowsJobProgress(t *testing.T) {
	checkShellLeaks(t)
	const ddl = "create unique index v_uk on t (v)"
	parsed, err := parser.Parse(ddl)
	if err != nil {
		t.Fatal(err)
	}
	description := ast.Format(parsed)
	var polls atomic.Int64
	polledTwice := make(chan struct{})
	srv := clienttest.NewServer(t, func(r clienttest.Request) clienttest.Reply {
		switch {
		case r.SQL == "SHOW JOBS":
			if polls.Add(1) == 2 {
				close(polledTwice)
			}
			return clienttest.Rows(
				[]clienttest.Col{{Name: "job_id", Type: 2}, {Name: "job_type", Type: 3}, {Name: "description", Type: 3},
					{Name: "status", Type: 3}, {Name: "fraction_completed", Type: 5}, {Name: "rows_processed", Type: 2}},
				[]any{7, "CREATE INDEX", "CREATE INDEX other ON u (w)", "running", 0.9, 1},
				[]any{8, "CREATE INDEX", description, "running", 0.5, 12345},
			)
		case r.SQL == ddl:
			// The statement waits for its job: until the shell polled twice.
			select {
			case <-polledTwice:
			case <-time.After(20 * time.Second):
			}
			return clienttest.OK()
		}
		return clienttest.Affected(1)
	})
	c := client.New([]string{srv.URL})
	t.Cleanup(c.Close)
	var out, errOut bytes.Buffer
	s := &shellSession{client: c, database: "test", out: &out, errOut: &errOut, format: shellFormatTable,
		now: time.Now, progress: true, progressEvery: 5 * time.Millisecond}
	if err := s.runStatement(context.Background(), ddl, nil); err != nil {
		t.Fatal(err)
	}
	got := errOut.String()
	want := "\rCREATE INDEX [===============               ]  50%  12345 rows"
	if !strings.Contains(got, want) {
		t.Fatalf("progress line missing:\n%q\nwant it to contain %q", got, want)
	}
	if !strings.HasSuffix(got, "\r"+strings.Repeat(" ", shellProgressWidth)+"\r") {
		t.Fatalf("the progress line is not cleared at the end: %q", got)
	}
	if strings.Contains(got, "90%") {
		t.Fatalf("another statement's job was drawn: %q", got)
	}
	// Not a schema change: no polling, nothing drawn.
	errOut.Reset()
	before := polls.Load()
	if err := s.runStatement(context.Background(), "INSERT INTO t VALUES (1)", nil); err != nil {
		t.Fatal(err)
	}
	if errOut.Len() != 0 || polls.Load() != before {
		t.Fatalf("an INSERT drew %q after %d polls", errOut.String(), polls.Load()-before)
	}
}
