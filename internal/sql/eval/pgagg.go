package eval

import (
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// stringAgg is string_agg(x, sep): the non-NULL values joined by sep, in
// input order; NULL for none.
type stringAgg struct {
	sep string
	any bool
	b   strings.Builder
}

func (a *stringAgg) Add(v types.Value) error {
	if v.Kind == types.Null {
		return nil
	}
	if a.any {
		a.b.WriteString(a.sep)
	}
	a.any = true
	a.b.WriteString(v.String())
	return nil
}

func (a *stringAgg) Result() (types.Value, error) {
	if !a.any {
		return types.NullValue, nil
	}
	return types.NewString(a.b.String()), nil
}

func (a *stringAgg) Reset() { a.any = false; a.b.Reset() }

// arrayAgg is array_agg(x): the values (NULLs included) as an array's
// text form; NULL for none.
type arrayAgg struct{ vals []types.Value }

func (a *arrayAgg) Add(v types.Value) error { a.vals = append(a.vals, v); return nil }

func (a *arrayAgg) Result() (types.Value, error) {
	if len(a.vals) == 0 {
		return types.NullValue, nil
	}
	return types.NewString(builtins.FormatArray(a.vals)), nil
}

func (a *arrayAgg) Reset() { a.vals = a.vals[:0] }
