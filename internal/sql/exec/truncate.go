package exec

import (
	"context"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
)

// truncate deletes every row and index entry of the named tables in the
// statement's transaction (catalog.ClearTableData); the tables and their
// schema stay. Every table is resolved before anything is deleted, so an
// unknown name changes nothing.
func truncate(ctx context.Context, p *plan.Planner, buf *WriteBuffer, s *ast.Truncate, stats *Stats) error {
	tables := make([]*catalog.TableDesc, 0, len(s.Tables))
	for _, name := range s.Tables {
		t, err := p.Table(name)
		if err != nil {
			return err
		}
		tables = append(tables, t)
	}
	for _, t := range tables {
		if err := catalog.ClearTableData(ctx, buf, t); err != nil {
			return err
		}
		stats.Changed(t, -1)
		if s.RestartIdentity {
			if err := restartOwnedSequences(ctx, buf, t); err != nil { // sequence.go
				return err
			}
		}
	}
	return nil
}
