package exec

import (
	"unsafe"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// DefaultMemoryLimit bounds the rows one query holds in memory at once in
// hash tables, sorts and materialised inputs (nothing spills yet).
const DefaultMemoryLimit = 256 << 20

// memAccount tracks the memory the operators of one query retain. It is
// used by one goroutine (a query runs its operators sequentially).
type memAccount struct {
	used, limit int64
}

func newMemAccount(limit int64) *memAccount { return &memAccount{limit: limit} }

// grow reserves n bytes for what; past the limit the query fails with
// CADB0400 rather than exhausting the process.
func (m *memAccount) grow(n int64, what string) error {
	if m == nil {
		return nil
	}
	m.used += n
	if m.limit > 0 && m.used > m.limit {
		return errcode.New(errcode.InvalidInput,
			"query memory limit of %d MiB exceeded by %s; add a more selective condition or an index", m.limit>>20, what)
	}
	return nil
}

// shrink releases n bytes reserved earlier.
func (m *memAccount) shrink(n int64) {
	if m != nil {
		m.used -= n
	}
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
