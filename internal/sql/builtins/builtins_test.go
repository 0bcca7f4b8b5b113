package builtins

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

var (
	null = types.NullValue
	str  = types.NewString
	i64  = types.NewInt
	f64  = types.NewFloat
	bl   = types.NewBool
)

var testCtx = &Context{Now: time.Date(2024, 6, 16, 12, 34, 56, 789_000_000, time.UTC)}

type fnCase struct {
	fn   string
	args []types.Value
	want types.Value
	code errcode.Code // expected error code, "" for success
}

func args(vs ...types.Value) []types.Value { return vs }

// The cases exercise every function (TestEveryFunctionTested checks that)
// with ordinary values, edge values and bad arguments. The datadriven
// files of package eval cover the same functions through SQL text.
var fnCases = []fnCase{
	// Session functions without a session (the HTTP API); with one they
	// are tested through pgwire (internal/pgwire/settings_test.go).
	{"current_setting", args(str("TimeZone")), null, errcode.Unsupported},
	{"set_config", args(str("a.b"), str("1"), bl(false)), null, errcode.Unsupported},
	{"version", nil, str("PostgreSQL 16.0 (CamusDB-Go)"), ""},
	{"current_database", nil, null, ""},
	{"current_schema", nil, str("public"), ""},
	// Sequence functions without a statement context; with one they are
	// tested through package session (sequence_test.go).
	{"nextval", args(str("s")), null, errcode.Unsupported},
	{"currval", args(str("s")), null, errcode.Unsupported},
	{"setval", args(str("s"), i64(1)), null, errcode.Unsupported},
	{"lastval", nil, null, errcode.Unsupported},
	{"length", args(str("ñandú")), i64(5), ""},
	{"length", args(i64(1)), null, errcode.InvalidInput},
	{"lower", args(str("ÉA")), str("éa"), ""},
	{"quote_ident", args(str("items_id_seq")), str("items_id_seq"), ""},
	{"quote_ident", args(str(`My "Seq"`)), str(`"My ""Seq"""`), ""},
	{"quote_ident", args(str("1a")), str(`"1a"`), ""},
	{"upper", args(str("éa")), str("ÉA"), ""},
	{"trim", args(str("\t x \n")), str("x"), ""},
	{"trim", args(str("--x--"), str("-")), str("x"), ""},
	{"ltrim", args(str("  x ")), str("x "), ""},
	{"ltrim", args(str("abcx"), str("cba")), str("x"), ""},
	{"rtrim", args(str(" x  ")), str(" x"), ""},
	{"substring", args(str("hello"), i64(1), i64(2)), str("he"), ""},
	{"substring", args(str("hello"), i64(6)), str(""), ""},
	{"substring", args(str("hello"), i64(math.MaxInt64)), str(""), ""},
	{"substring", args(str("hello"), i64(2), i64(math.MaxInt64)), str("ello"), ""},
	{"substring", args(str("hello"), i64(0)), null, errcode.InvalidInput},
	{"substring", args(str("hello"), i64(1), i64(-1)), null, errcode.InvalidInput},
	{"substring", args(str("hello"), str("1")), null, errcode.InvalidInput},
	{"replace", args(str("aaa"), str("a"), str("bb")), str("bbbbbb"), ""},
	{"contains", args(str("abc"), str("")), bl(true), ""},
	{"starts_with", args(str("abc"), str("ab")), bl(true), ""},
	{"ends_with", args(str("abc"), str("bc")), bl(true), ""},
	{"concat", args(null, null), null, ""},
	{"concat", args(str("a"), null, i64(-1)), str("a-1"), ""},
	{"abs", args(i64(math.MinInt64)), null, errcode.InvalidInput},
	{"abs", args(i64(-3)), i64(3), ""},
	{"abs", args(f64(-0.5)), f64(0.5), ""},
	{"abs", args(str("1")), null, errcode.InvalidInput},
	{"ceil", args(f64(-0.5)), f64(math.Copysign(0, -1)), ""},
	{"floor", args(f64(2.9)), f64(2), ""},
	{"round", args(f64(-0.5)), f64(-1), ""},
	{"round", args(i64(5), i64(-1)), f64(10), ""},
	{"round", args(f64(2.5), i64(0)), f64(3), ""},
	{"round", args(f64(1e300), i64(2)), f64(1e300), ""},
	{"round", args(f64(123.456), i64(-500)), f64(0), ""},
	{"round", args(f64(0.1), i64(1000)), f64(0.1), ""},
	{"round", args(f64(math.Inf(1)), i64(1)), f64(math.Inf(1)), ""},
	{"round", args(f64(9.995), i64(2)), f64(10), ""},
	{"round", args(f64(1), f64(1)), null, errcode.InvalidInput},
	{"round", args(f64(1.7976931348623157e308), i64(-308)), null, errcode.InvalidInput},
	{"sqrt", args(i64(9)), f64(3), ""},
	{"sqrt", args(f64(-0.1)), null, errcode.InvalidInput},
	{"pow", args(i64(2), i64(-2)), f64(0.25), ""},
	{"pow", args(f64(0), f64(-1)), null, errcode.InvalidInput},
	{"mod", args(i64(-17), i64(5)), i64(-2), ""},
	{"mod", args(i64(math.MinInt64), i64(-1)), i64(0), ""},
	{"mod", args(i64(7), f64(2)), f64(1), ""},
	{"mod", args(i64(7), i64(0)), null, errcode.InvalidInput},
	{"sign", args(i64(math.MinInt64)), i64(-1), ""},
	{"sign", args(f64(0)), f64(0), ""},
	{"current_timestamp", nil, str("2024-06-16T12:34:56.7890000+00:00"), ""},
	{"now", nil, str("2024-06-16T12:34:56.7890000+00:00"), ""},
	{"current_date", nil, str("2024-06-16"), ""},
	{"unix_timestamp", nil, i64(1718541296), ""},
	{"unix_timestamp", args(str("1970-01-01T00:00:01.9Z")), i64(1), ""},
	{"unix_timestamp", args(str("1969-12-31T23:59:59.5Z")), i64(-1), ""},
	{"unix_timestamp", args(str("yesterday")), null, errcode.InvalidInput},
	{"from_unixtime", args(i64(86400)), str("1970-01-02T00:00:00.0000000+00:00"), ""},
	{"from_unixtime", args(f64(-0.25)), str("1969-12-31T23:59:59.7500000+00:00"), ""},
	{"from_unixtime", args(f64(math.NaN())), null, errcode.InvalidInput},
	{"from_unixtime", args(i64(math.MaxInt64)), null, errcode.InvalidInput},
	{"date_add", args(str("2024-01-31T10:00:00-03:00"), i64(1), str("month")), str("2024-02-29T13:00:00.0000000+00:00"), ""},
	{"date_add", args(str("2024-06-16"), i64(-1), str("years")), str("2023-06-16T00:00:00.0000000+00:00"), ""},
	{"date_add", args(str("0001-01-01"), i64(-1), str("millisecond")), null, errcode.InvalidInput},
	{"date_add", args(str("2024-06-16"), i64(math.MinInt64), str("month")), null, errcode.InvalidInput},
	{"date_add", args(str("2024-06-16"), i64(math.MinInt64), str("millisecond")), null, errcode.InvalidInput},
	{"date_add", args(str("2024-06-16"), i64(1), str("")), null, errcode.InvalidInput},
	{"date_diff", args(str("2024-03-31"), str("2024-02-29"), str("month")), i64(-1), ""},
	{"date_diff", args(str("2024-01-01T00:00:00.9Z"), str("2024-01-01T00:00:02.1Z"), str("second")), i64(1), ""},
	{"date_diff", args(str("2024-01-01"), str("2025-01-01"), str("hour")), i64(366 * 24), ""},
	{"date_diff", args(str("2024-01-01"), str("bad"), str("day")), null, errcode.InvalidInput},
	{"date_part", args(str("Years"), str("1999-12-31T23:59:59.999Z")), i64(1999), ""},
	{"date_part", args(str("year"), str("1999-12-31T23:59:59-01:00")), i64(2000), ""},
	{"date_trunc", args(str("month"), str("2024-02-29T23:00:00-02:00")), str("2024-03-01T00:00:00.0000000+00:00"), ""},
	{"date_trunc", args(str("decade"), str("2024-02-29")), null, errcode.InvalidInput},
	{"date_trunc", args(str("quarter"), types.NewTimestamp(tsMicros("2024-05-06 07:08:09"))), types.NewTimestamp(tsMicros("2024-04-01 00:00:00")), ""},
	{"date_trunc", args(str("century"), types.NewDate(tsMicros("2024-05-06 00:00:00")/types.MicrosPerDay)), types.NewTimestamp(tsMicros("2001-01-01 00:00:00")), ""},
	{"date_trunc", args(str("fortnight"), types.NewTimestamp(0)), null, errcode.InvalidInput},
	{"date_part", args(str("doy"), types.NewTimestampTZ(tsMicros("2024-12-31 00:00:00"))), f64(366), ""},
	{"date_part", args(str("hour"), types.NewInterval(types.IntervalParts{Days: 1, Micros: 25 * types.MicrosPerHour})), f64(25), ""},
	{"date_part", args(str("fortnight"), types.NewDate(0)), null, errcode.InvalidInput},
	{"age", args(types.NewTimestamp(tsMicros("2024-03-31 00:00:00")), types.NewTimestamp(tsMicros("2024-02-29 12:00:00"))),
		types.NewInterval(types.IntervalParts{Months: 1, Days: 1, Micros: 12 * types.MicrosPerHour}), ""},
	{"age", args(types.NewDate(19000), types.NewDate(19000)), types.NewInterval(types.IntervalParts{}), ""},
	{"age", args(str("2024-01-01")), null, errcode.InvalidInput},
	{"to_char", args(types.NewTimestampTZ(tsMicros("2024-01-02 15:04:05.678")), str(`FMMonth FMDD, YYYY HH12:MI:SS.US PM TZ "at" Q`)),
		str("January 2, 2024 03:04:05.678000 PM UTC at 1"), ""},
	{"to_char", args(types.NewDate(0), str("Dy DD-MON-YY")), str("Thu 01-JAN-70"), ""},
	{"to_char", args(i64(1), str("YYYY")), null, errcode.InvalidInput},
	{"json_valid", args(str(`{"a": [1, 2]}`)), bl(true), ""},
	{"json_valid", args(null), bl(false), ""},
	{"json_valid", args(str("")), bl(false), ""},
	{"json_type", args(str(" [ ] ")), str("array"), ""},
	{"json_type", args(str(`{"a": 1}`), str("$.a")), str("number"), ""},
	{"json_extract", args(str(`{"a": {"b c": [1, {"d": 2}]}}`), str("$.a.b c[1].d")), str("2"), ""},
	{"json_extract", args(str(`[[1, 2], [3]]`), str("$[0][1]")), str("2"), ""},
	{"json_extract", args(str(`{"a": [1, 2]}`), str(`$.a[-1]`)), null, errcode.InvalidInput},
	{"json_extract", args(str(`{"a": 1}`), str("$.a.b")), null, ""},
	{"json_value", args(str(`{"a": -12}`), str("$.a")), i64(-12), ""},
	{"json_value", args(str(`{"a": 1e2}`), str("$.a")), f64(100), ""},
	{"json_value", args(str(`{"a": false}`), str("$.a")), bl(false), ""},
	{"json_value", args(str(`{"a": [1]}`), str("$.a")), null, ""},
	{"json_array_length", args(str(`{"a": [1, [2, 3]]}`), str("$.a[1]")), i64(2), ""},
	{"json_array_length", args(str(`"x"`)), null, ""},
	{"json_contains", args(str(`[{"a": 1, "b": 2}, 3]`), str(`{"a": 1}`)), bl(true), ""},
	{"json_contains", args(str(`{"a": "1"}`), str(`{"a": 1}`)), bl(false), ""},
	{"json_contains", args(str(`null`), str(`null`)), bl(true), ""},
	{"json_contains", args(str(`1`), str(`[1]`)), bl(false), ""},
	{"to_string", args(f64(0.1)), str("0.1"), ""},
	{"to_string", args(f64(math.Inf(-1))), str("-Inf"), ""},
	{"to_int64", args(str("-9223372036854775808")), i64(math.MinInt64), ""},
	{"to_int64", args(str("9223372036854775808")), null, errcode.InvalidInput},
	{"to_int64", args(f64(9.3e18)), null, errcode.InvalidInput},
	{"to_int64", args(f64(math.NaN())), null, errcode.InvalidInput},
	{"to_int64", args(f64(-9.2e18)), i64(-9200000000000000000), ""},
	{"to_float64", args(str("-Inf")), f64(math.Inf(-1)), ""},
	{"to_float64", args(bl(true)), f64(1), ""},
	{"to_bool", args(str(" TRUE ")), bl(true), ""},
	{"to_bool", args(f64(1)), null, errcode.InvalidInput},
	{"to_id", args(str("65a1b2c3d4e5f60718293a4b")), mustOID("65a1b2c3d4e5f60718293a4b"), ""},
	{"to_id", args(str("65a1b2c3d4e5f60718293a4")), null, errcode.InvalidInput},
	{"to_id", args(str("zza1b2c3d4e5f60718293a4b")), null, errcode.InvalidInput},
	{"str_id", args(str("65A1B2C3D4E5F60718293A4B")), null, errcode.InvalidInput},
	{"str_id", args(i64(1)), null, errcode.InvalidInput},
}

func tsMicros(s string) int64 {
	v, err := types.ParseTimestamp(s)
	if err != nil {
		panic(err)
	}
	return v.Int
}

func mustOID(s string) types.Value {
	v, err := types.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return v
}

func sameValue(a, b types.Value) bool {
	if a.Kind == types.Float64 && b.Kind == types.Float64 {
		return math.Float64bits(a.Float) == math.Float64bits(b.Float) || (math.IsNaN(a.Float) && math.IsNaN(b.Float))
	}
	return a == b
}

func TestFunctions(t *testing.T) {
	for _, tc := range fnCases {
		f, ok := Lookup(tc.fn)
		if !ok {
			t.Errorf("unknown function %s", tc.fn)
			continue
		}
		got, err := f.Call(testCtx, tc.args)
		if tc.code != "" {
			if err == nil || errcode.Of(err) != tc.code {
				t.Errorf("%s%v = %v, %v; want error %s", tc.fn, tc.args, got, err, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s%v: %v", tc.fn, tc.args, err)
			continue
		}
		if !sameValue(got, tc.want) {
			t.Errorf("%s%v = %v (%s), want %v (%s)", tc.fn, tc.args, got, got.Kind, tc.want, tc.want.Kind)
		}
	}
}

func TestEveryFunctionTested(t *testing.T) {
	tested := map[string]bool{}
	for _, tc := range fnCases {
		tested[tc.fn] = true
	}
	for _, name := range Names() {
		f, _ := Lookup(name)
		if !tested[f.Name] && f.Name != "gen_id" && f.Name != "random" && f.Name != "gen_random_uuid" { // see TestVolatile
			t.Errorf("no test case for %s", f.Name)
		}
	}
}

// NULL in → NULL out for every function and argument position, except
// those documented otherwise.
func TestNullPropagation(t *testing.T) {
	special := map[string]types.Value{"json_valid": bl(false), "concat": null}
	for _, name := range Names() {
		f, _ := Lookup(name)
		maxArgs := f.MaxArgs
		if maxArgs < 0 {
			maxArgs = f.MinArgs + 3
		}
		for n := max(f.MinArgs, 1); n <= maxArgs; n++ {
			for pos := range n {
				in := make([]types.Value, n)
				for i := range in {
					in[i] = sampleArg(f.argClass(i))
				}
				in[pos] = null
				got, err := f.Call(testCtx, in)
				want, isSpecial := special[f.Name]
				if !isSpecial {
					want = null
				}
				if err != nil || (got != want && !(isSpecial && f.Name == "concat")) {
					t.Errorf("%s%v = %v, %v; want %v", name, in, got, err, want)
				}
			}
		}
	}
}

func sampleArg(c ArgClass) types.Value {
	switch c {
	case StringArg:
		return str("1")
	case IntArg, NumericArg:
		return i64(1)
	case BoolArg:
		return bl(true)
	}
	return str("1")
}

func TestCheck(t *testing.T) {
	f, _ := Lookup("SUBSTRING")
	if k, err := f.Check([]types.Kind{types.String, types.Int64}); err != nil || k != types.String {
		t.Errorf("substring(STRING, INT64): %v %v", k, err)
	}
	if _, err := f.Check([]types.Kind{types.String}); errcode.Of(err) != errcode.InvalidInput {
		t.Errorf("substring with one argument: %v", err)
	}
	if _, err := f.Check([]types.Kind{types.String, types.Int64, types.Int64, types.Int64}); errcode.Of(err) != errcode.InvalidInput {
		t.Errorf("substring with four arguments: %v", err)
	}
	if _, err := f.Check([]types.Kind{types.Int64, types.Int64}); errcode.Of(err) != errcode.InvalidInput {
		t.Errorf("substring(INT64, INT64): %v", err)
	}
	if k, err := f.Check([]types.Kind{types.Null, types.Null}); err != nil || k != types.String {
		t.Errorf("unknown kinds: %v %v", k, err)
	}
	abs, _ := Lookup("abs")
	if k, _ := abs.Check([]types.Kind{types.Float64}); k != types.Float64 {
		t.Errorf("abs(FLOAT64) kind %s", k)
	}
	mod, _ := Lookup("mod")
	for _, tc := range []struct{ a, b, want types.Kind }{
		{types.Int64, types.Int64, types.Int64},
		{types.Int64, types.Float64, types.Float64},
		{types.Null, types.Int64, types.Null},
	} {
		if k, _ := mod.Check([]types.Kind{tc.a, tc.b}); k != tc.want {
			t.Errorf("mod(%s, %s) kind %s, want %s", tc.a, tc.b, k, tc.want)
		}
	}
	if _, ok := Lookup("coalesce"); ok {
		t.Errorf("coalesce is eval's special form, not a builtin")
	}
}

func TestCast(t *testing.T) {
	oid := mustOID("0102030405060708090a0b0c")
	for _, tc := range []struct {
		in   types.Value
		to   types.Kind
		want types.Value
		ok   bool
	}{
		{null, types.Int64, null, true},
		{null, types.Null, null, false},
		{i64(1), types.Kind(99), null, false},
		{i64(-3), types.String, str("-3"), true},
		{f64(1e21), types.String, str("1e+21"), true},
		{oid, types.String, str("0102030405060708090a0b0c"), true},
		{oid, types.OID, oid, true},
		{oid, types.Int64, null, false},
		{str("0102030405060708090a0b0c"), types.OID, oid, true},
		{i64(1), types.OID, null, false},
		{f64(-0.5), types.Int64, i64(-1), true},
		{f64(0.49999999999999994), types.Int64, i64(0), true},
		{f64(9223372036854775807), types.Int64, null, false},
		{f64(-9223372036854775808), types.Int64, i64(math.MinInt64), true},
		{str("+7"), types.Int64, i64(7), true},
		{str(""), types.Int64, null, false},
		{bl(false), types.Float64, f64(0), true},
		{str("nan"), types.Float64, f64(math.NaN()), true},
		{str("1e999"), types.Float64, null, false},
		{i64(-2), types.Bool, bl(true), true},
		{str("F"), types.Bool, bl(false), true},
		{oid, types.Bool, null, false},
	} {
		got, err := Cast(tc.in, tc.to)
		if !tc.ok {
			if errcode.Of(err) != errcode.InvalidInput {
				t.Errorf("Cast(%v, %s) = %v, %v; want CADB0400", tc.in, tc.to, got, err)
			}
			continue
		}
		if err != nil || !sameValue(got, tc.want) {
			t.Errorf("Cast(%v %s, %s) = %v, %v; want %v", tc.in, tc.in.Kind, tc.to, got, err, tc.want)
		}
		if !CastKind(tc.in.Kind, tc.to) {
			t.Errorf("CastKind(%s, %s) = false but the cast succeeded", tc.in.Kind, tc.to)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" = error
	}{
		{"2024-06-16", "2024-06-16T00:00:00.0000000+00:00"},
		{"2024-06-16T01:02:03Z", "2024-06-16T01:02:03.0000000+00:00"},
		{"2024-06-16t01:02:03z", "2024-06-16T01:02:03.0000000+00:00"},
		{"2024-06-16 01:02:03.123456789+05:30", "2024-06-15T19:32:03.1234567+00:00"},
		{"2024-06-16T00:00:00.0000000+00:00", "2024-06-16T00:00:00.0000000+00:00"},
		{" 2024-06-16 ", "2024-06-16T00:00:00.0000000+00:00"},
		{"2024-06-16T01:02:03", ""},
		{"2024-6-16", ""},
		{"2024-06-31", ""},
		{"2024-06-16T25:00:00Z", ""},
		{"", ""},
	} {
		got, err := ParseTimestamp(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ParseTimestamp(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || FormatTimestamp(got) != tc.want {
			t.Errorf("ParseTimestamp(%q) = %s, %v; want %s", tc.in, FormatTimestamp(got), err, tc.want)
		}
	}
}

func TestRoundScale(t *testing.T) {
	for _, tc := range []struct {
		x     float64
		scale int64
		want  float64
	}{
		{2.675, 2, 2.68},
		{-2.675, 2, -2.68},
		{1.45, 1, 1.5},
		{1.44999, 1, 1.4},
		{0.5, 0, 1},
		{0.4, 0, 0},
		{999.5, 0, 1000},
		{15, -1, 20},
		{14.9, -1, 10},
		{-15, -1, -20},
		{49, -2, 0},
		{50, -2, 100},
		{1.7976931348623157e308, -308, math.Inf(1)},
		{5e-324, 400, 5e-324},
		{123, 2, 123},
	} {
		if got := RoundScale(tc.x, tc.scale); got != tc.want {
			t.Errorf("RoundScale(%v, %d) = %v, want %v", tc.x, tc.scale, got, tc.want)
		}
	}
}

func TestIDGenerator(t *testing.T) {
	clock := time.Unix(1718496000, 0)
	now := func() time.Time { return clock }
	g := NewIDGenerator(now)
	first := g.Next()
	if first.Kind != types.OID || len(first.Str) != types.OIDLen {
		t.Fatalf("bad id %v", first)
	}
	if got := []byte(first.Str[:4]); !bytes.Equal(got, []byte{0x66, 0x6e, 0x2b, 0x00}) {
		t.Fatalf("time prefix %x, want 666e2b00", got)
	}
	seen := map[string]bool{first.Str: true}
	prev := first
	for i := range 1000 {
		if i == 500 {
			clock = clock.Add(time.Second)
		}
		id := g.Next()
		if seen[id.Str] {
			t.Fatalf("duplicate id %s", id.OIDHex())
		}
		seen[id.Str] = true
		if id.Str[4:9] != first.Str[4:9] {
			t.Fatalf("random part changed within a generator")
		}
		if i == 500 && id.Str <= prev.Str {
			t.Fatalf("ids not time-ordered: %s after %s", id.OIDHex(), prev.OIDHex())
		}
		prev = id
	}
	// Another generator (another process or node) has other random bytes.
	other := NewIDGenerator(now).Next()
	if other.Str[4:9] == first.Str[4:9] {
		t.Fatalf("two generators share their random bytes")
	}
	// The process-wide generator works and is used by gen_id().
	if a, b := GenID(), GenID(); a == b || a.Str[4:9] != b.Str[4:9] {
		t.Fatalf("GenID: %s %s", a.OIDHex(), b.OIDHex())
	}
}

func TestGenRandomUUID(t *testing.T) {
	f, _ := Lookup("gen_random_uuid")
	v, err := f.Call(testCtx, nil)
	if err != nil || v.Kind != types.UUID || len(v.Str) != 16 || v.Str[6]>>4 != 4 || v.Str[8]>>6 != 2 {
		t.Fatalf("not a version 4 UUID: %v %v", v, err)
	}
}

func TestVolatile(t *testing.T) {
	for _, name := range []string{"gen_id", "random", "gen_random_uuid"} {
		f, _ := Lookup(name)
		if !f.Volatile || f.StatementStable {
			t.Errorf("%s must be volatile and not statement-stable", name)
		}
		a, err1 := f.Call(testCtx, nil)
		b, err2 := f.Call(testCtx, nil)
		if err1 != nil || err2 != nil || a == b {
			t.Errorf("%s: %v %v %v %v", name, a, b, err1, err2)
		}
	}
	gen := NewIDGenerator(nil)
	f, _ := Lookup("gen_id")
	id, err := f.Call(&Context{IDs: gen}, nil)
	if err != nil || id.Str[4:9] != gen.Next().Str[4:9] {
		t.Errorf("gen_id ignores Context.IDs")
	}
	r, _ := Lookup("random")
	for range 100 {
		v, _ := r.Call(nil, nil)
		if v.Kind != types.Float64 || v.Float < 0 || v.Float >= 1 {
			t.Fatalf("random() = %v", v)
		}
	}
	for _, name := range []string{"now", "current_timestamp", "current_date", "unix_timestamp"} {
		f, _ := Lookup(name)
		if !f.Volatile || !f.StatementStable {
			t.Errorf("%s must be statement-stable", name)
		}
	}
}

func BenchmarkSubstring(b *testing.B) {
	f, _ := Lookup("substring")
	in := args(str("the quick brown fox"), i64(5), i64(5))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Call(testCtx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONValue(b *testing.B) {
	f, _ := Lookup("json_value")
	in := args(str(`{"a": {"b": [1, 2, {"c": "x"}]}, "d": 1.5}`), str("$.a.b[2].c"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Call(testCtx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDateAdd(b *testing.B) {
	f, _ := Lookup("date_add")
	in := args(str("2024-01-31T10:00:00Z"), i64(1), str("month"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Call(testCtx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSequenceName(t *testing.T) {
	for in, want := range map[string]string{
		"s": "s", "S": "s", " public.Seq ": "seq", `"Seq"`: "Seq", `public."a""b"`: `a"b`, `"public"."x"`: "x",
	} {
		if got, err := SequenceName(in); err != nil || got != want {
			t.Errorf("SequenceName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a.b", `"`, "other.s"} {
		if got, err := SequenceName(bad); errcode.Of(err) != errcode.InvalidInput {
			t.Errorf("SequenceName(%q) = %q, %v; want CADB0400", bad, got, err)
		}
	}
}
