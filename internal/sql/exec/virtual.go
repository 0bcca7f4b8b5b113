package exec

import (
	"context"
	"math"

	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// virtualOp returns a virtual table's rows (generated at plan time).
type virtualOp struct {
	n    *plan.VirtualScan
	done bool
}

func (o *virtualOp) Next(context.Context) ([][]types.Value, error) {
	if o.done {
		return nil, nil
	}
	o.done = true
	out := make([][]types.Value, len(o.n.Table.Rows))
	for i, r := range o.n.Table.Rows {
		out[i] = append([]types.Value(nil), r...)
	}
	return out, nil
}

func (o *virtualOp) Close() {}

// maxSeriesBatch is how many rows a function scan returns per Next.
const maxSeriesBatch = 1024

// funcScanOp runs a set-returning function: generate_series(start, stop[,
// step]) or unnest(array).
type funcScanOp struct {
	n       *plan.FuncScan
	started bool
	// generate_series state
	isFloat            bool
	cur, stop, step    int64
	fcur, fstop, fstep float64
	done               bool
	// unnest state
	elems  []builtins.ArrayElem
	pos    int
	unnest bool
}

func (o *funcScanOp) start() error {
	o.started = true
	args := make([]types.Value, len(o.n.Args))
	for i, a := range o.n.Args {
		v, err := a.Eval(nil)
		if err != nil {
			return err
		}
		args[i] = v
	}
	for _, a := range args {
		if a.Kind == types.Null {
			o.done = true // a NULL argument: no rows
			return nil
		}
	}
	switch o.n.Func {
	case "unnest":
		if args[0].Kind != types.String {
			return errcode.New(errcode.InvalidInput, "unnest() needs an array, not %s", args[0].Kind)
		}
		els, err := builtins.ParseArray(args[0].Str)
		if err != nil {
			return err
		}
		o.unnest, o.elems = true, els
		return nil
	case "generate_series":
		for _, a := range args {
			if a.Kind == types.Float64 {
				o.isFloat = true
			} else if a.Kind != types.Int64 {
				return errcode.New(errcode.InvalidInput, "generate_series() needs numbers, not %s", a.Kind)
			}
		}
		if o.isFloat {
			f := func(v types.Value) float64 {
				if v.Kind == types.Int64 {
					return float64(v.Int)
				}
				return v.Float
			}
			o.fcur, o.fstop, o.fstep = f(args[0]), f(args[1]), 1
			if len(args) == 3 {
				o.fstep = f(args[2])
			}
			if o.fstep == 0 || math.IsNaN(o.fstep) {
				return errcode.New(errcode.InvalidInput, "generate_series(): step size cannot equal zero")
			}
			return nil
		}
		o.cur, o.stop, o.step = args[0].Int, args[1].Int, 1
		if len(args) == 3 {
			o.step = args[2].Int
		}
		if o.step == 0 {
			return errcode.New(errcode.InvalidInput, "generate_series(): step size cannot equal zero")
		}
		return nil
	}
	return errcode.New(errcode.Internal, "exec: unknown set-returning function %s", o.n.Func)
}

func (o *funcScanOp) Next(ctx context.Context) ([][]types.Value, error) {
	if !o.started {
		if err := o.start(); err != nil {
			return nil, err
		}
	}
	if o.done {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out [][]types.Value
	for len(out) < maxSeriesBatch {
		switch {
		case o.unnest:
			if o.pos >= len(o.elems) {
				o.done = true
				return out, nil
			}
			el := o.elems[o.pos]
			o.pos++
			v := types.NullValue
			if !el.Null {
				v = types.NewString(el.Text)
			}
			out = append(out, []types.Value{v})
		case o.isFloat:
			if (o.fstep > 0 && o.fcur > o.fstop) || (o.fstep < 0 && o.fcur < o.fstop) {
				o.done = true
				return out, nil
			}
			out = append(out, []types.Value{types.NewFloat(o.fcur)})
			o.fcur += o.fstep
		default:
			if (o.step > 0 && o.cur > o.stop) || (o.step < 0 && o.cur < o.stop) {
				o.done = true
				return out, nil
			}
			out = append(out, []types.Value{types.NewInt(o.cur)})
			next := o.cur + o.step
			if (o.step > 0 && next < o.cur) || (o.step < 0 && next > o.cur) {
				o.done = true // the next value would overflow INT64
				return out, nil
			}
			o.cur = next
		}
	}
	return out, nil
}

func (o *funcScanOp) Close() {}
