package builtins

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func init() {
	fnCases = append(fnCases,
		fnCase{"array_to_string", args(str(`{a,NULL,"b c"}`), str(", ")), str("a, b c"), ""},
		fnCase{"array_to_string", args(str(`{a,NULL}`), str("-"), str("*")), str("a-*"), ""},
		fnCase{"array_to_string", args(str(`{}`), str(",")), str(""), ""},
		fnCase{"array_to_string", args(str(`a,b`), str(",")), null, errcode.InvalidInput},
		fnCase{"array_upper", args(str(`{1,2,3}`), i64(1)), i64(3), ""},
		fnCase{"array_upper", args(str(`{}`), i64(1)), null, ""},
		fnCase{"array_lower", args(str(`{1,2,3}`), i64(1)), i64(1), ""},
		fnCase{"array_length", args(str(`{1,2}`), i64(1)), i64(2), ""},
		fnCase{"array_length", args(str(`{1,2}`), i64(2)), null, ""},
		fnCase{"cardinality", args(str(`{}`)), i64(0), ""},
		fnCase{"cardinality", args(str(`{"{",x}`)), i64(2), ""},
		fnCase{"array_subscript", args(str(`{10,20}`), i64(2)), str("20"), ""},
		fnCase{"array_subscript", args(str(`{10,20}`), i64(3)), null, ""},
		fnCase{"array_subscript", args(str(`{10,NULL}`), i64(2)), null, ""},
		fnCase{"pg_encoding_to_char", args(i64(6)), str("UTF8"), ""},
		fnCase{"pg_size_pretty", args(i64(8192)), str("8192 bytes"), ""},
		fnCase{"pg_size_pretty", args(i64(10240)), str("10 kB"), ""},
		fnCase{"pg_size_pretty", args(i64(3 << 20)), str("3072 kB"), ""},
		fnCase{"pg_size_pretty", args(i64(30 << 20)), str("30 MB"), ""},
		fnCase{"pg_encoding_to_char", args(i64(0)), str(""), ""},
	)
	// The catalog functions need a statement's catalog (package
	// pgcatalog tests them with one); without it they refuse.
	for _, cf := range catalogFuncList {
		a := make([]any, cf.min)
		vals := args()
		for range a {
			vals = append(vals, i64(1))
		}
		fnCases = append(fnCases, fnCase{cf.name, vals, null, errcode.Unsupported})
	}
}

func TestArrayText(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{`{}`, `{}`},
		{`{a, b}`, `{a,b}`},
		{`{"a b",NULL,"",x}`, `{"a b",NULL,"",x}`},
		{`{"q\"uote","back\\slash"}`, `{"q\"uote","back\\slash"}`},
	} {
		els, err := ParseArray(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		vals := args()
		for _, e := range els {
			if e.Null {
				vals = append(vals, null)
			} else {
				vals = append(vals, str(e.Text))
			}
		}
		if got := FormatArray(vals); got != tc.out {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.out)
		}
	}
	for _, bad := range []string{"", "{", "{a", `{"a}`, "{a,}", "{{1}}", "{a b c\"}", "x{}"} {
		if _, err := ParseArray(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseArray(f *testing.F) {
	for _, s := range []string{"{}", `{a,"b c",NULL}`, `{"\\"}`, "{,}", "{1,2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		els, err := ParseArray(s)
		if err != nil {
			return
		}
		vals := args()
		for _, e := range els {
			if e.Null {
				vals = append(vals, null)
			} else {
				vals = append(vals, str(e.Text))
			}
		}
		again, err := ParseArray(FormatArray(vals))
		if err != nil || len(again) != len(els) {
			t.Fatalf("%q: round trip %v %v", s, again, err)
		}
		for i := range els {
			if again[i] != els[i] && !(els[i].Null && again[i].Null) {
				t.Fatalf("%q: element %d %v != %v", s, i, again[i], els[i])
			}
		}
	})
}
