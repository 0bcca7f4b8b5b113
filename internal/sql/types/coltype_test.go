package types

import (
	"strconv"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestParseTypeNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		want T
		text string
		pg   string
	}{
		{"INTEGER", T{Kind: Int64, Mod: Mod{Width: 32}}, "INTEGER", "integer"},
		{"int4", T{Kind: Int64, Mod: Mod{Width: 32}}, "INTEGER", "integer"},
		{"smallint", T{Kind: Int64, Mod: Mod{Width: 16}}, "SMALLINT", "smallint"},
		{"int", T{Kind: Int64}, "INT64", "bigint"},
		{"bigint", T{Kind: Int64}, "INT64", "bigint"},
		{"bytea", T{Kind: Bytes}, "BYTEA", "bytea"},
		{"text", T{Kind: String}, "STRING", "text"},
		{"float4", T{Kind: Float64}, "FLOAT64", "double precision"},
	} {
		got, ok := ParseType(tc.name)
		if !ok || got != tc.want || got.String() != tc.text || got.PGFormat() != tc.pg {
			t.Errorf("%s: %+v %v %q %q", tc.name, got, ok, got.String(), got.PGFormat())
		}
		again, ok := ParseType(got.String())
		if !ok || again != got {
			t.Errorf("%s does not read back: %+v", got, again)
		}
	}
	vc, err := T{Kind: String}.WithLength(20, false)
	if err != nil || vc.String() != "VARCHAR(20)" || vc.PGFormat() != "character varying(20)" || vc.PG().OID != PGOIDVarchar || vc.PGTypmod() != 24 {
		t.Errorf("VARCHAR(20): %+v %v", vc, err)
	}
	ch, err := T{Kind: String}.WithLength(3, true)
	if err != nil || ch.String() != "CHAR(3)" || ch.PGFormat() != "character(3)" || ch.PG().OID != PGOIDBPChar {
		t.Errorf("CHAR(3): %+v %v", ch, err)
	}
	for _, n := range []int64{0, -1, MaxLength + 1} {
		if _, err := (T{Kind: String}).WithLength(n, false); err == nil {
			t.Errorf("length %d accepted", n)
		}
	}
	if _, err := (T{Kind: Int64}).WithLength(3, false); err == nil {
		t.Error("INT64(3) accepted")
	}
	if _, ok := ParseType("geometry"); ok {
		t.Error("unknown type accepted")
	}
}

func TestConform(t *testing.T) {
	smallint, _ := ParseType("smallint")
	integer, _ := ParseType("integer")
	vc3, _ := T{Kind: String}.WithLength(3, false)
	ch3, _ := T{Kind: String}.WithLength(3, true)
	for _, tc := range []struct {
		t        T
		in       Value
		explicit bool
		want     Value
		code     errcode.Code
	}{
		{smallint, NewInt(32767), false, NewInt(32767), ""},
		{smallint, NewInt(-32768), false, NewInt(-32768), ""},
		{smallint, NewInt(32768), false, Value{}, errcode.NumericOutOfRange},
		{smallint, NewInt(-32769), true, Value{}, errcode.NumericOutOfRange},
		{integer, NewInt(1 << 31), false, Value{}, errcode.NumericOutOfRange},
		{integer, NewInt(-1 << 31), false, NewInt(-1 << 31), ""},
		{vc3, NewString("abc"), false, NewString("abc"), ""},
		{vc3, NewString("ab  "), false, NewString("ab "), ""},
		{vc3, NewString("abcd"), false, Value{}, errcode.StringTooLong},
		{vc3, NewString("abcd"), true, NewString("abc"), ""},
		{vc3, NewString("日本語"), false, NewString("日本語"), ""},
		{vc3, NewString("日本語x"), true, NewString("日本語"), ""},
		{ch3, NewString("a"), false, NewString("a  "), ""},
		{ch3, NewString(""), false, NewString("   "), ""},
		{ch3, NewString("ü"), false, NewString("ü  "), ""},
		{ch3, NewString("abcd"), false, Value{}, errcode.StringTooLong},
		{ch3, NullValue, false, NullValue, ""},
	} {
		got, err := tc.t.Conform(tc.in, tc.explicit)
		if tc.code != "" {
			if errcode.Of(err) != tc.code {
				t.Errorf("%s ← %v: err %v, want %s", tc.t, tc.in, err, tc.code)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s ← %v: %q %v, want %q", tc.t, tc.in, got.String(), err, tc.want.String())
		}
	}
}

func TestBytea(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`\x`, ""},
		{`\x0102ff`, "\x01\x02\xff"},
		{`\XABcd`, "\xab\xcd"},
		{`\x 01 02`, "\x01\x02"},
		{`abc`, "abc"},
		{`a\\b`, `a\b`},
		{`\001\377`, "\x01\xff"},
		{``, ""},
	} {
		got, err := ParseBytea(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseBytea(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`\x0`, `\xzz`, `\x0g`, `a\b`, `\400`, `\`, `\x 0 1`} {
		if _, err := ParseBytea(bad); errcode.Of(err) != errcode.InvalidTextRepresentation || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("ParseBytea(%q): %v", bad, err)
		}
	}
	if got := FormatBytea("\x00\xab"); got != `\x00ab` {
		t.Errorf("FormatBytea: %q", got)
	}
}

// FuzzParseBytea checks that bytea input never panics and that the hex
// output reads back as the same bytes.
func FuzzParseBytea(f *testing.F) {
	for _, s := range []string{`\x0102`, `\x`, `a\\b\001`, `\xZ`, `\x0 1`, "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBytea(s)
		if err != nil {
			if errcode.Of(err) != errcode.InvalidTextRepresentation {
				t.Fatalf("%q: error without 22P02: %v", s, err)
			}
			return
		}
		again, err := ParseBytea(FormatBytea(b))
		if err != nil || again != b {
			t.Fatalf("%q: %q does not round-trip: %q %v", s, b, again, err)
		}
	})
}

func TestUUIDText(t *testing.T) {
	for in, out := range map[string]string{
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11":    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11":    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}":   "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"a0eebc999c0b4ef8bb6d6bb9bd380a11":        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
	} {
		v, err := ParseUUID(in)
		if err != nil || v.String() != out {
			t.Errorf("%q: %q %v", in, v.String(), err)
		}
	}
	for _, bad := range []string{"", "a0eebc99", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
		"a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99--9c0b4ef8bb6d6bb9bd380a11"} {
		if _, err := ParseUUID(bad); errcode.Of(err) != errcode.InvalidTextRepresentation {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzParseUUID(f *testing.F) {
	for _, s := range []string{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "{A0EEBC999C0B4EF8BB6D6BB9BD380A11}", "-", "{}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseUUID(s)
		if err != nil {
			if errcode.Of(err) != errcode.InvalidTextRepresentation {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		again, err := ParseUUID(v.String())
		if err != nil || again != v {
			t.Fatalf("%q → %q does not read back", s, v.String())
		}
	})
}

// Every column type's PostgreSQL description is self-consistent: its OID
// is listed in PGTypes and format_type(oid, typmod) gives PGFormat.
func TestPGTypeMapping(t *testing.T) {
	vc, _ := T{Kind: String}.WithLength(20, false)
	ch, _ := T{Kind: String}.WithLength(3, true)
	num, _ := T{Kind: Numeric}.WithPrecision(10, 2)
	all := []T{vc, ch, num}
	for k := OID; k <= MaxKind; k++ {
		all = append(all, T{Kind: k})
	}
	small, _ := ParseType("smallint")
	integer, _ := ParseType("integer")
	all = append(all, small, integer)
	for _, typ := range all {
		pg := typ.PG()
		if _, ok := PGTypeByOID(pg.OID); !ok {
			t.Errorf("%s: OID %d not in PGTypes", typ, pg.OID)
		}
		if got, ok := FormatType(pg.OID, typ.PGTypmod()); !ok || got != typ.PGFormat() {
			t.Errorf("%s: format_type %q, PGFormat %q", typ, got, typ.PGFormat())
		}
	}
	if got := num.PGFormat(); got != "numeric(10,2)" {
		t.Errorf("numeric(10,2): %q", got)
	}
	if got, ok := FormatType(0, -1); ok || got != "???" {
		t.Errorf("unknown OID: %q %v", got, ok)
	}
}
