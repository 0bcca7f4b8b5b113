package eval

import (
	"math"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// IsAggregate reports whether name (any case) is an aggregate function:
// count, sum, avg, min or max.
func IsAggregate(name string) bool {
	switch lowerASCII(name) {
	case "count", "sum", "avg", "min", "max", "string_agg", "array_agg":
		return true
	}
	return false
}

// AggregateKind is the static result kind of an aggregate over argKind
// (types.Null when unknown): COUNT → INT64, AVG → FLOAT64, SUM → the
// argument's numeric kind, MIN/MAX → the argument's kind.
func AggregateKind(name string, argKind types.Kind) types.Kind {
	switch lowerASCII(name) {
	case "count":
		return types.Int64
	case "avg":
		return types.Float64
	case "sum":
		if isNumeric(argKind) {
			return argKind
		}
		return types.Null
	case "min", "max":
		return argKind
	case "string_agg", "array_agg":
		return types.String
	}
	return types.Null
}

// Aggregator folds the values of one group. Not safe for concurrent use.
type Aggregator interface {
	// Add feeds one value (for COUNT(*), any value: every call counts).
	// NULLs are ignored by every other aggregate. Errors are CADB0400
	// (SUM overflow, a non-numeric SUM/AVG input, MIN/MAX over
	// incomparable kinds).
	Add(v types.Value) error
	// Result is the aggregate over the values added since the last Reset:
	// COUNT of nothing is 0, every other aggregate of nothing is NULL.
	Result() (types.Value, error)
	// Reset empties the aggregator for the next group.
	Reset()
}

// NewAggregator makes an aggregator. distinct drops repeated non-NULL
// values (equal as SQL = sees them: 1 and 1.0 are one value); star is
// COUNT(*). argKind is the argument's static kind (types.Null when
// unknown): SUM/AVG over a known non-numeric kind is CADB0400 here.
func NewAggregator(name string, distinct, star bool, argKind types.Kind) (Aggregator, error) {
	return NewAggregatorSep(name, distinct, star, argKind, "")
}

// NewAggregatorSep is NewAggregator with string_agg's separator.
func NewAggregatorSep(name string, distinct, star bool, argKind types.Kind, sep string) (Aggregator, error) {
	lname := lowerASCII(name)
	if star && lname != "count" {
		return nil, invalid("%s(*) is not valid; only count(*)", name)
	}
	if star && distinct {
		return nil, invalid("count(DISTINCT *) is not valid")
	}
	var agg Aggregator
	switch lname {
	case "count":
		if star {
			return &countAgg{star: true}, nil
		}
		agg = &countAgg{}
	case "sum", "avg":
		if argKind != types.Null && !isNumeric(argKind) {
			return nil, invalid("%s() needs a numeric argument, not %s", lname, argKind)
		}
		if lname == "sum" {
			agg = &sumAgg{}
		} else {
			agg = &avgAgg{}
		}
	case "min":
		agg = &minMaxAgg{wantLess: true}
	case "max":
		agg = &minMaxAgg{}
	case "string_agg":
		agg = &stringAgg{sep: sep}
	case "array_agg":
		agg = &arrayAgg{}
	default:
		return nil, invalid("unknown aggregate function %s()", name)
	}
	if distinct {
		return &distinctAgg{inner: agg, seen: make(map[distinctKey]struct{})}, nil
	}
	return agg, nil
}

type countAgg struct {
	star bool
	n    int64
}

func (a *countAgg) Add(v types.Value) error {
	if a.star || v.Kind != types.Null {
		a.n++
	}
	return nil
}
func (a *countAgg) Result() (types.Value, error) { return types.NewInt(a.n), nil }
func (a *countAgg) Reset()                       { a.n = 0 }

// sumAgg sums INT64 exactly (overflow is an error) and switches to
// FLOAT64 as soon as a FLOAT64 value arrives.
type sumAgg struct {
	any     bool
	isFloat bool
	i       int64
	f       float64
	dec     types.Value // the NUMERIC sum once a NUMERIC value arrived
}

func (a *sumAgg) Add(v types.Value) error {
	switch v.Kind {
	case types.Null:
		return nil
	case types.Numeric:
		a.any = true
		switch {
		case a.isFloat:
			a.f += numericToFloat(v)
		case a.dec.Kind == types.Null:
			d, err := arithNumeric(opAdd, types.NewInt(a.i), v)
			if err != nil {
				return err
			}
			a.dec = d
		default:
			d, err := arithNumeric(opAdd, a.dec, v)
			if err != nil {
				return err
			}
			a.dec = d
		}
		return nil
	case types.Int64:
		a.any = true
		if a.isFloat {
			a.f += float64(v.Int)
			return nil
		}
		if a.dec.Kind == types.Numeric {
			d, err := arithNumeric(opAdd, a.dec, v)
			if err != nil {
				return err
			}
			a.dec = d
			return nil
		}
		s := a.i + v.Int
		if (a.i^s)&(v.Int^s) < 0 {
			return invalid("sum(): INT64 overflow")
		}
		a.i = s
		return nil
	case types.Float64:
		a.any = true
		if !a.isFloat {
			a.isFloat = true
			a.f = float64(a.i)
			if a.dec.Kind == types.Numeric {
				a.f = numericToFloat(a.dec)
			}
		}
		a.f += v.Float
		return nil
	}
	return invalid("sum() needs a numeric argument, not %s", v.Kind)
}

func (a *sumAgg) Result() (types.Value, error) {
	switch {
	case !a.any:
		return types.NullValue, nil
	case a.isFloat:
		return types.NewFloat(a.f), nil
	case a.dec.Kind == types.Numeric:
		return a.dec, nil
	}
	return types.NewInt(a.i), nil
}

func (a *sumAgg) Reset() { *a = sumAgg{} }

// avgAgg keeps INT64 inputs in an exact integer sum for as long as it
// fits, so the average of large integers does not drift.
type avgAgg struct {
	n      int64
	intSum int64
	fSum   float64
}

func (a *avgAgg) Add(v types.Value) error {
	switch v.Kind {
	case types.Null:
		return nil
	case types.Int64:
		s := a.intSum + v.Int
		if (a.intSum^s)&(v.Int^s) < 0 {
			a.fSum += float64(a.intSum)
			s = v.Int
		}
		a.intSum = s
	case types.Float64:
		a.fSum += v.Float
	case types.Numeric:
		a.fSum += numericToFloat(v)
	default:
		return invalid("avg() needs a numeric argument, not %s", v.Kind)
	}
	a.n++
	return nil
}

func (a *avgAgg) Result() (types.Value, error) {
	if a.n == 0 {
		return types.NullValue, nil
	}
	return types.NewFloat((float64(a.intSum) + a.fSum) / float64(a.n)), nil
}

func (a *avgAgg) Reset() { *a = avgAgg{} }

type minMaxAgg struct {
	wantLess bool
	has      bool
	cur      types.Value
}

func (a *minMaxAgg) Add(v types.Value) error {
	if v.Kind == types.Null {
		return nil
	}
	if !a.has {
		a.cur, a.has = v, true
		return nil
	}
	cmp, err := compareValues(v, a.cur)
	if err != nil {
		return err
	}
	if (a.wantLess && cmp < 0) || (!a.wantLess && cmp > 0) {
		a.cur = v
	}
	return nil
}

func (a *minMaxAgg) Result() (types.Value, error) {
	if !a.has {
		return types.NullValue, nil
	}
	return a.cur, nil
}

func (a *minMaxAgg) Reset() { a.has, a.cur = false, types.Value{} }

// distinctKey identifies a value up to SQL equality: integral floats map
// to the integer key, -0 to 0, every NaN to one key.
type distinctKey struct {
	kind types.Kind
	i    int64
	s    string
}

func keyOf(v types.Value) distinctKey {
	switch v.Kind {
	case types.Int64:
		return distinctKey{kind: types.Int64, i: v.Int}
	case types.Float64:
		f := v.Float
		if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			return distinctKey{kind: types.Int64, i: int64(f)}
		}
		if math.IsNaN(f) {
			f = math.NaN()
		}
		return distinctKey{kind: types.Float64, i: int64(math.Float64bits(f))}
	case types.Bool:
		if v.Bool {
			return distinctKey{kind: types.Bool, i: 1}
		}
		return distinctKey{kind: types.Bool}
	}
	return distinctKey{kind: v.Kind, i: v.Int, s: v.Str}
}

type distinctAgg struct {
	inner Aggregator
	seen  map[distinctKey]struct{}
}

func (a *distinctAgg) Add(v types.Value) error {
	if v.Kind == types.Null {
		return nil
	}
	k := keyOf(v)
	if _, dup := a.seen[k]; dup {
		return nil
	}
	a.seen[k] = struct{}{}
	return a.inner.Add(v)
}

func (a *distinctAgg) Result() (types.Value, error) { return a.inner.Result() }

func (a *distinctAgg) Reset() {
	clear(a.seen)
	a.inner.Reset()
}
