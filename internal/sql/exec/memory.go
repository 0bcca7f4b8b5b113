package exec

import (
	"errors"
	"unsafe"

	"github.com/camusdb/camusdb-go/internal/sql/exec/spill"
	"github.com/camusdb/camusdb-go/internal/sql/mon"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// DefaultMemoryLimit is the query budget when Env gives neither an
// account nor a limit (mon.DefaultQueryBudget, 256 MiB).
const DefaultMemoryLimit = mon.DefaultQueryBudget

// budgetError attaches the CADB code to a memory budget error: CADB0510
// when the node's budget is exhausted, CADB0511 when an operator that
// cannot spill passed the query's budget.
func budgetError(err error) error {
	var be *mon.BudgetError
	if err == nil || !errors.As(err, &be) {
		return err
	}
	var coded *errcode.Error
	if errors.As(err, &coded) {
		return err
	}
	code := errcode.QueryMemoryExceeded
	if be.Node {
		code = errcode.NodeMemoryExhausted
	}
	return &errcode.Error{Code: code, Message: be.Error(), Cause: err}
}

// spiller gives a statement's operators run files: a spill.Store under
// the node's temp directory, created on the first file and removed when
// the statement ends. A nil or dir-less spiller means nothing may spill.
type spiller struct {
	dir   string
	store *spill.Store
}

func (s *spiller) enabled() bool { return s != nil && s.dir != "" }

// create starts a run file whose writer buffers bufSize bytes.
func (s *spiller) create(bufSize int) (*spill.Writer, error) {
	if s.store == nil {
		s.store = spill.NewStore(s.dir)
	}
	w, err := s.store.Create(bufSize)
	return w, spillErr(err)
}

// written is the bytes the statement has written to run files.
func (s *spiller) written() int64 {
	if s == nil || s.store == nil {
		return 0
	}
	return s.store.Written
}

func (s *spiller) close() {
	if s != nil && s.store != nil {
		_ = s.store.Close() // best effort: the node's start clears the rest
		s.store = nil
	}
}

// spillErr codes a temp-store failure CADB0512.
func spillErr(err error) error {
	if err == nil {
		return nil
	}
	var coded *errcode.Error
	if errors.As(err, &coded) {
		return err
	}
	return &errcode.Error{Code: errcode.TempStorageFailed,
		Message: "a query's temporary spill files failed: " + err.Error(), Cause: err}
}

const valueSize = int64(unsafe.Sizeof(types.Value{}))

// rowSize estimates the bytes a retained row occupies.
func rowSize(row []types.Value) int64 {
	n := 24 + valueSize*int64(len(row))
	for i := range row {
		n += int64(len(row[i].Str))
	}
	return n
}
