package eval

import (
	"math"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func ints(xs ...int64) []types.Value {
	out := make([]types.Value, len(xs))
	for i, x := range xs {
		out[i] = types.NewInt(x)
	}
	return out
}

func TestAggregates(t *testing.T) {
	null := types.NullValue
	mixed := []types.Value{types.NewInt(1), null, types.NewInt(3), types.NewInt(3), null}
	for _, tc := range []struct {
		name     string
		distinct bool
		star     bool
		argKind  types.Kind
		in       []types.Value
		want     types.Value
		wantCode errcode.Code // from Add or Result
	}{
		{name: "count", star: true, in: mixed, want: types.NewInt(5)},
		{name: "COUNT", star: true, in: nil, want: types.NewInt(0)},
		{name: "count", in: mixed, want: types.NewInt(3)},
		{name: "count", distinct: true, in: mixed, want: types.NewInt(2)},
		{name: "count", in: nil, want: types.NewInt(0)},
		{name: "count", in: []types.Value{null, null}, want: types.NewInt(0)},
		{name: "count", distinct: true, in: []types.Value{types.NewInt(1), types.NewFloat(1), types.NewFloat(1.5)}, want: types.NewInt(2)},
		{name: "count", distinct: true, in: []types.Value{types.NewFloat(math.NaN()), types.NewFloat(math.NaN()), types.NewFloat(math.Copysign(0, -1)), types.NewFloat(0)}, want: types.NewInt(2)},
		{name: "count", distinct: true, in: []types.Value{types.NewString("a"), types.NewString("a"), types.NewString("b")}, want: types.NewInt(2)},
		{name: "sum", in: mixed, want: types.NewInt(7)},
		{name: "sum", distinct: true, in: mixed, want: types.NewInt(4)},
		{name: "sum", in: nil, want: null},
		{name: "sum", in: []types.Value{null}, want: null},
		{name: "sum", in: []types.Value{types.NewInt(1), types.NewFloat(0.5)}, want: types.NewFloat(1.5)},
		{name: "sum", in: []types.Value{types.NewFloat(0.5), types.NewInt(1)}, want: types.NewFloat(1.5)},
		{name: "sum", in: ints(math.MaxInt64, 1), wantCode: errcode.InvalidInput},
		{name: "sum", in: ints(math.MinInt64, -1), wantCode: errcode.InvalidInput},
		{name: "sum", in: ints(math.MaxInt64, 1, -1), wantCode: errcode.InvalidInput},
		{name: "sum", in: []types.Value{types.NewString("x")}, wantCode: errcode.InvalidInput},
		{name: "sum", argKind: types.String, wantCode: errcode.InvalidInput},
		{name: "avg", in: mixed, want: types.NewFloat(7.0 / 3)},
		{name: "avg", in: ints(2, 4), want: types.NewFloat(3)},
		{name: "avg", in: nil, want: null},
		{name: "avg", in: ints(math.MaxInt64, math.MaxInt64), want: types.NewFloat(math.MaxInt64)},
		{name: "avg", in: []types.Value{types.NewInt(1), types.NewFloat(2)}, want: types.NewFloat(1.5)},
		{name: "avg", argKind: types.Bool, wantCode: errcode.InvalidInput},
		{name: "avg", in: []types.Value{types.NewBool(true)}, wantCode: errcode.InvalidInput},
		{name: "min", in: mixed, want: types.NewInt(1)},
		{name: "max", in: mixed, want: types.NewInt(3)},
		{name: "min", in: nil, want: null},
		{name: "max", in: []types.Value{null}, want: null},
		{name: "max", in: []types.Value{types.NewInt(2), types.NewFloat(2.5), types.NewInt(1)}, want: types.NewFloat(2.5)},
		{name: "min", in: []types.Value{types.NewString("b"), types.NewString("a")}, want: types.NewString("a")},
		{name: "max", in: []types.Value{types.NewString("b"), types.NewInt(1)}, wantCode: errcode.InvalidInput},
		{name: "max", distinct: true, in: ints(5, 5, 2), want: types.NewInt(5)},
		{name: "sum", star: true, wantCode: errcode.InvalidInput},
		{name: "count", star: true, distinct: true, wantCode: errcode.InvalidInput},
		{name: "median", wantCode: errcode.InvalidInput},
	} {
		agg, err := NewAggregator(tc.name, tc.distinct, tc.star, tc.argKind)
		if err == nil {
			for _, v := range tc.in {
				if err = agg.Add(v); err != nil {
					break
				}
			}
		}
		var got types.Value
		if err == nil {
			got, err = agg.Result()
		}
		if tc.wantCode != "" {
			if err == nil || errcode.Of(err) != tc.wantCode {
				t.Errorf("%s(distinct=%v,star=%v) %v: got %v, %v; want error %s", tc.name, tc.distinct, tc.star, tc.in, got, err, tc.wantCode)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s(distinct=%v) %v: %v", tc.name, tc.distinct, tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s(distinct=%v,star=%v) %v = %v, want %v", tc.name, tc.distinct, tc.star, tc.in, got, tc.want)
		}
		// Reset empties the aggregator completely.
		agg.Reset()
		empty, err := agg.Result()
		if err != nil {
			t.Fatal(err)
		}
		wantEmpty := types.NullValue
		if IsAggregate(tc.name) && lowerASCII(tc.name) == "count" {
			wantEmpty = types.NewInt(0)
		}
		if empty != wantEmpty {
			t.Errorf("%s after Reset = %v, want %v", tc.name, empty, wantEmpty)
		}
	}
}

func TestAggregateHelpers(t *testing.T) {
	for _, n := range []string{"count", "SUM", "Avg", "min", "max"} {
		if !IsAggregate(n) {
			t.Errorf("IsAggregate(%q) = false", n)
		}
	}
	for _, n := range []string{"length", "coalesce", ""} {
		if IsAggregate(n) {
			t.Errorf("IsAggregate(%q) = true", n)
		}
	}
	for _, tc := range []struct {
		name string
		arg  types.Kind
		want types.Kind
	}{
		{"count", types.String, types.Int64},
		{"sum", types.Int64, types.Int64},
		{"sum", types.Float64, types.Float64},
		{"sum", types.Null, types.Null},
		{"avg", types.Int64, types.Float64},
		{"min", types.String, types.String},
		{"max", types.OID, types.OID},
	} {
		if got := AggregateKind(tc.name, tc.arg); got != tc.want {
			t.Errorf("AggregateKind(%s, %s) = %s, want %s", tc.name, tc.arg, got, tc.want)
		}
	}
}

func BenchmarkSum(b *testing.B) {
	values := make([]types.Value, 1024)
	for i := range values {
		values[i] = types.NewInt(int64(i))
	}
	agg, err := NewAggregator("sum", false, false, types.Int64)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		agg.Reset()
		for _, v := range values {
			if err := agg.Add(v); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := agg.Result(); err != nil {
			b.Fatal(err)
		}
	}
}
