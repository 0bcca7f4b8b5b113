package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/parser"
)

// shellProgressEvery is how often the shell polls SHOW JOBS while a schema
// change runs (and how long a statement runs before the first poll).
const shellProgressEvery = 500 * time.Millisecond

// watchJob draws, on the error stream, the progress of the schema-change
// job stmt waits for (CREATE INDEX, ALTER TABLE ... ADD/DROP COLUMN, DROP
// TABLE ...): it polls SHOW JOBS for the running job whose description is
// the statement and redraws one line until stop is called, which clears
// it. Statements that are no schema change, or that the shell cannot
// parse, get a stop that does nothing.
func (s *shellSession) watchJob(ctx context.Context, stmt string) (stop func()) {
	if !s.progress || s.txn != nil {
		return func() {}
	}
	first, _ := shellLeadingKeywords(stmt)
	if first != "CREATE" && first != "ALTER" && first != "DROP" {
		return func() {}
	}
	parsed, err := parser.Parse(stmt)
	if err != nil {
		return func() {}
	}
	description := ast.Format(parsed)
	every := s.progressEvery
	if every <= 0 {
		every = shellProgressEvery
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	drawn := false
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			res, err := s.client.Query(ctx, s.database, "SHOW JOBS", nil, nil)
			if err != nil {
				continue
			}
			if line, ok := jobProgressLine(res, description); ok {
				fmt.Fprintf(s.errOut, "\r%s", line)
				drawn = true
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		if drawn {
			fmt.Fprintf(s.errOut, "\r%s\r", strings.Repeat(" ", shellProgressWidth))
		}
	}
}

// shellProgressWidth is the width of a progress line (cleared at the end).
const shellProgressWidth = 72

// jobProgressLine renders the progress of the running job described as
// description in a SHOW JOBS result.
func jobProgressLine(res *client.Result, description string) (string, bool) {
	col := map[string]int{}
	for i, c := range res.Columns {
		col[c.Name] = i
	}
	for _, name := range []string{"description", "status", "fraction_completed", "rows_processed", "job_type"} {
		if _, ok := col[name]; !ok {
			return "", false
		}
	}
	for _, r := range res.Rows {
		if d, _ := r[col["description"]].(string); d != description {
			continue
		}
		if st, _ := r[col["status"]].(string); st != "running" && st != "reverting" {
			continue
		}
		frac, _ := r[col["fraction_completed"]].(float64)
		rows, _ := r[col["rows_processed"]].(int64)
		typ, _ := r[col["job_type"]].(string)
		const barWidth = 30
		filled := int(frac * barWidth)
		filled = min(max(filled, 0), barWidth)
		bar := strings.Repeat("=", filled) + strings.Repeat(" ", barWidth-filled)
		line := fmt.Sprintf("%s [%s] %3.0f%%  %d rows", typ, bar, frac*100, rows)
		if len(line) > shellProgressWidth {
			line = line[:shellProgressWidth]
		}
		return line + strings.Repeat(" ", shellProgressWidth-len(line)), true
	}
	return "", false
}
