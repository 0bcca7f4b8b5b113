package session_test

import (
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/camusdb/camusdb-go/internal/pgwire"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/session/sessiontest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDataDriven(t *testing.T) {
	sessiontest.RunFiles(t, filepath.Join(sessiontest.TestdataDir(), "*"), func(t *testing.T) session.Executor {
		// The node's configuration: the catalogs show pgwire's types.
		s, _ := sessiontest.NewMemServerWith(t, session.Config{PGTypeOID: pgwire.TypeOID})
		return s
	})
}
