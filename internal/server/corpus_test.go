package server

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/camusdb/camusdb-go/internal/pgwire"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/session/sessiontest"
)

// TestSQLCorpusOnRealStack runs the SQL conformance corpus (the same files
// the session package runs on its in-memory fake) through the real stack:
// Pebble, Raft, the kv transaction layer, with 1 and with 4 partitions
// (where most statements become multi-partition transactions).
func TestSQLCorpusOnRealStack(t *testing.T) {
	for _, partitions := range []int{1, 4} {
		t.Run(fmt.Sprintf("partitions=%d", partitions), func(t *testing.T) {
			sessiontest.RunFiles(t, filepath.Join(sessiontest.TestdataDir(), "*"), func(t *testing.T) session.Executor {
				c, err := openCore(context.Background(), coreConfig{DataDir: t.TempDir(), NodeID: 1, Partitions: partitions})
				if err != nil {
					t.Fatal(err)
				}
				s := session.NewServer(sqlDB{c.db}, session.Config{PGTypeOID: pgwire.TypeOID})
				t.Cleanup(func() {
					s.Close()
					c.close(context.Background())
				})
				return s
			})
		})
	}
}
