package builtins

import "github.com/camusdb/camusdb-go/internal/sql/types"

func convFuncs() []*Func {
	conv := func(name string, to types.Kind) *Func {
		return &Func{Name: name, MinArgs: 1, MaxArgs: 1, Result: to,
			Impl: func(_ *Context, a []types.Value) (types.Value, error) {
				return Cast(a[0], to)
			}}
	}
	toID := conv("to_id", types.OID)
	// Only text and ids convert to ids; say so before any row is read.
	toID.Args = []ArgClass{oidSourceArg}
	return []*Func{
		conv("to_string", types.String),
		conv("to_int64", types.Int64),
		conv("to_float64", types.Float64),
		conv("to_bool", types.Bool),
		toID,
		{Name: "gen_id", MinArgs: 0, MaxArgs: 0, Volatile: true, Result: types.OID,
			Impl: func(ctx *Context, _ []types.Value) (types.Value, error) {
				gen := defaultIDs()
				if ctx != nil && ctx.IDs != nil {
					gen = ctx.IDs
				}
				return gen.Next(), nil
			}},
	}
}
