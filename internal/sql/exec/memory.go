package exec

import (
	"errors"
	"unsafe"

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

const valueSize = int64(unsafe.Sizeof(types.Value{}))

// rowSize estimates the bytes a retained row occupies.
func rowSize(row []types.Value) int64 {
	n := 24 + valueSize*int64(len(row))
	for i := range row {
		n += int64(len(row[i].Str))
	}
	return n
}
