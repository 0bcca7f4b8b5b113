package exec

import (
	"context"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
)

// truncate empties the named tables; their schema stays. With dropData
// (the session's background deletion job) it costs one descriptor write
// per table whatever its size: the table gets a fresh data id, so its
// rows start in empty spans, and the job clears the old spans once no
// transaction can read them (catalog.NewTableData). Without it, every row
// and index entry is deleted in the statement's transaction
// (catalog.ClearTableData). Every table is resolved before anything
// changes, so an unknown name changes nothing.
func truncate(ctx context.Context, p *plan.Planner, buf *WriteBuffer, s *ast.Truncate, stats *Stats,
	dropData func(context.Context, catalog.KV, *catalog.TableDesc) error) error {
	tables := make([]*catalog.TableDesc, 0, len(s.Tables))
	seen := make(map[uint32]bool, len(s.Tables))
	for _, name := range s.Tables {
		t, err := p.Table(name)
		if err != nil {
			return err
		}
		if !seen[t.ID] { // TRUNCATE a, a empties a once
			seen[t.ID] = true
			tables = append(tables, t)
		}
	}
	for _, t := range tables {
		if dropData == nil {
			if err := catalog.ClearTableData(ctx, buf, t); err != nil {
				return err
			}
		} else {
			before := t.Clone()
			if _, err := catalog.NewTableData(ctx, buf, t); err != nil {
				return err
			}
			if err := dropData(ctx, buf, before); err != nil {
				return err
			}
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
