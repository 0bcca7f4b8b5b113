package httpapi

import (
	"math"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestQuoteIdent(t *testing.T) {
	good := map[string]string{"robots": "`robots`", "Select": "`Select`", "with space": "`with space`", "ünï": "`ünï`"}
	for in, want := range good {
		if got, err := quoteIdent("name", in); err != nil || got != want {
			t.Errorf("quoteIdent(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	long := make([]byte, maxIdentLen+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, in := range []string{"", "a`b", "a\x00", "a\nb", "\xff", "a\x7f", string(long)} {
		if _, err := quoteIdent("name", in); errcode.Of(err) != errcode.InvalidInput {
			t.Errorf("quoteIdent(%q): want CADB0400, got %v", in, err)
		}
	}
}

func TestSQLLiteral(t *testing.T) {
	oid, _ := types.ParseOID(oidHex)
	cases := []struct {
		v    types.Value
		want string
	}{
		{types.NullValue, "NULL"},
		{types.NewInt(-42), "-42"},
		{types.NewInt(math.MinInt64), "-9223372036854775808"},
		{types.NewFloat(2), "2.0"},
		{types.NewFloat(-0.5), "-0.5"},
		{types.NewFloat(1e300), "1e300"},
		{types.NewFloat(1.5e-7), "1.5e-7"},
		{types.NewBool(true), "true"},
		{types.NewBool(false), "false"},
		{types.NewString(`it's a \ test`), `'it''s a \\ test'`},
		{oid, "STR_ID('" + oidHex + "')"},
	}
	for _, c := range cases {
		if got, err := sqlLiteral(c.v); err != nil || got != c.want {
			t.Errorf("sqlLiteral(%#v) = %q, %v; want %q", c.v, got, err, c.want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1)} {
		if _, err := sqlLiteral(types.NewFloat(f)); errcode.Of(err) != errcode.InvalidInput {
			t.Errorf("sqlLiteral(%v): want CADB0400, got %v", f, err)
		}
	}
}

func TestFirstKeyword(t *testing.T) {
	cases := map[string]string{
		"":                              "",
		"   ":                           "",
		"select 1":                      "SELECT",
		"  \n\tInsert into t":           "INSERT",
		"-- comment\nSHOW TABLES":       "SHOW",
		"/* a */ /* b */ (SELECT 1)":    "SELECT",
		"-- only a comment":             "",
		"/* unterminated":               "",
		"create_table":                  "CREATE_TABLE",
		"BEGIN;":                        "BEGIN",
		"with x as (select 1) select 1": "WITH",
		"\"quoted\"":                    "",
	}
	for in, want := range cases {
		if got := firstKeyword(in); got != want {
			t.Errorf("firstKeyword(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzFirstKeyword(f *testing.F) {
	f.Add("/* x */ -- y\n select")
	f.Fuzz(func(t *testing.T, sql string) {
		kw := firstKeyword(sql)
		for i := 0; i < len(kw); i++ {
			if !isWordByte(kw[i]) {
				t.Fatalf("keyword %q has a non-word byte", kw)
			}
		}
	})
}

func FuzzWireValue(f *testing.F) {
	f.Add(`{"type":3,"strValue":"x"}`)
	f.Add(`{"type":5,"floatValue":"NaN"}`)
	f.Add(`12345678901234567890`)
	f.Fuzz(func(t *testing.T, data string) {
		var v wireValue
		if err := v.UnmarshalJSON([]byte(data)); err != nil {
			if errcode.Of(err) != errcode.InvalidInput {
				t.Fatalf("error without CADB0400: %v", err)
			}
			return
		}
		if v.Kind > types.Float64 {
			t.Fatalf("decoded kind %d", v.Kind)
		}
	})
}
